// Quarantine store benchmark: holds `--messages` messages of `--size` bytes through the real
// SQLiteQuarantineStore (`synchronous = FULL`, one transaction each) from `--concurrency` tasks,
// and times each `hold` as its caller waits for it (the transaction, plus the wait for the one
// writer when tasks hold at once). Then times the reads `thugate quarantine list` and `show` make
// on that store, in process. Prints Markdown rows for Benchmarks/RESULTS.md.
//
//   thugate-storebench [--messages 10000] [--concurrency 1,20] [--size 4096] [--notices 0]
//                      [--store PATH] [--keep]

import Foundation
import Histogram
import Quarantine

struct Settings: Sendable {
    var messages = 10_000
    var concurrencies = [1, 20]
    var size = 4096
    var noticesPerHold = 0
    var storePath: String?
    var keep = false

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            if flag == "--keep" {
                keep = true
                continue
            }
            guard let value = iterator.next() else { break }
            switch flag {
            case "--messages": messages = Int(value) ?? messages
            case "--concurrency": concurrencies = value.split(separator: ",").compactMap { Int($0) }
            case "--size": size = Int(value) ?? size
            case "--notices": noticesPerHold = Int(value) ?? noticesPerHold
            case "--store": storePath = value
            default: break
            }
        }
    }
}

let settings = Settings(Array(CommandLine.arguments.dropFirst()))
let messages = settings.messages
let concurrencies = settings.concurrencies
let storePath = settings.storePath
let keep = settings.keep

func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// One held message: a plain text of `size` bytes, a different body each.
func request(_ n: Int, now: Date) -> (HoldRequest, HeldBytes) {
    var text = "From: Van thu <vanthu@quangninh.gov.vn>\r\nTo: lanhdao@quangninh.gov.vn\r\nSubject: Ho so \(n)\r\n"
    text += "Message-ID: <bench-\(n)@quangninh.gov.vn>\r\n\r\n"
    let line = "Kinh gui cac don vi, so lieu \(n).\r\n"
    while text.utf8.count < settings.size { text += line }
    var held = HoldRequest(
        queueID: String(format: "B%011d", n),
        node: "bench",
        receivedAt: now,
        clientAddress: "192.0.2.1",
        helo: "client.test",
        sender: "<vanthu@quangninh.gov.vn>",
        recipients: ["<lanhdao@quangninh.gov.vn>", "<ketoan@quangninh.gov.vn>"],
        headerFrom: "Van thu <vanthu@quangninh.gov.vn>",
        subject: "Ho so \(n)",
        messageID: "<bench-\(n)@quangninh.gov.vn>",
        findings: [HeldFinding(rule: "encrypted-archive", detail: "a.zip (zip, ZipCrypto)", part: "2")],
        category: "archive",
        expiresAt: now.addingTimeInterval(30 * 86400)
    )
    let event = NoticeEvent(
        outcome: "held",
        queueID: held.queueID,
        receivedAt: now,
        sender: held.sender,
        recipients: held.recipients,
        headerFrom: held.headerFrom,
        subject: held.subject,
        rule: "encrypted-archive",
        findings: held.findings
    )
    held.notices = (0..<settings.noticesPerHold).map {
        NoticeRequest(recipient: "antoan\($0)@quangninh.gov.vn", role: .officer, mode: .immediate, event: event, dueAt: now)
    }
    return (held, HeldBytes(Array(text.utf8)))
}

func microseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    return UInt64(max(0, seconds)) * 1_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000_000
}

func milliseconds(_ value: UInt64) -> String { String(format: "%.2f", Double(value) / 1000) }

print("| concurrency | held | messages/s | hold p50 ms | p99 ms | max ms | store MB |")
print("|---|---|---|---|---|---|---|")
var lastStore: SQLiteQuarantineStore?
var lastPath = ""
for concurrency in concurrencies {
    let directory =
        storePath.map { ($0 as NSString).deletingLastPathComponent }
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("storebench-\(UUID().uuidString)").path
    let path = storePath ?? directory + "/quarantine.sqlite"
    let store = try SQLiteQuarantineStore(path: path)
    let started = ContinuousClock.now
    let histogram = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                var n = worker
                while n < messages {
                    let (held, bytes) = request(n, now: Date())
                    let begin = ContinuousClock.now
                    _ = try await store.hold(held, content: bytes)
                    _ = histogram.record(microseconds(ContinuousClock.now - begin))
                    n += concurrency
                }
                return histogram
            }
        }
        var all = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for try await part in group { all.add(part) }
        return all
    }
    let seconds = Double(microseconds(ContinuousClock.now - started)) / 1e6
    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print(
        "| \(concurrency) | \(messages) | \(Int(Double(messages) / seconds)) | \(milliseconds(histogram.valueAtPercentile(50))) "
            + "| \(milliseconds(histogram.valueAtPercentile(99))) | \(milliseconds(histogram.max)) | \(String(format: "%.1f", Double(bytes) / 1e6)) |"
    )
    log("concurrency \(concurrency): \(messages) held in \(String(format: "%.1f", seconds)) s")
    lastStore = store
    lastPath = path
    if !keep && storePath == nil && concurrency != concurrencies.last {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

if let store = lastStore {
    // The reads the command line makes, in process (the CLI adds its start and its printing).
    let reader = try SQLiteQuarantineStore(path: lastPath, readOnly: true)
    var timings: [(String, Duration)] = []
    func time(_ name: String, _ body: () async throws -> Void) async throws {
        let begin = ContinuousClock.now
        try await body()
        timings.append((name, ContinuousClock.now - begin))
    }
    let newest = try await reader.messages(MessageQuery(limit: 1)).first?.id ?? ""
    try await time("list --limit 50") { _ = try await reader.messages(MessageQuery(limit: 50)) }
    try await time("list (all)") { _ = try await reader.messages(MessageQuery()) }
    try await time("show (one message's rows)") { _ = try await reader.message(newest) }
    try await time("show --raw (read and check its chunks)") {
        try await reader.readContent(of: newest) { _ in }
    }
    print("")
    print("| read on the \(messages)-message store | ms |")
    print("|---|---|")
    for (name, duration) in timings { print("| \(name) | \(milliseconds(microseconds(duration))) |") }
    _ = store
    if !keep && storePath == nil { try? FileManager.default.removeItem(atPath: (lastPath as NSString).deletingLastPathComponent) }
}
