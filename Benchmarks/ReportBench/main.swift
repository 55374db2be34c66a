// Report benchmark. Makes a year of synthetic mail (deterministic: 90 % delivered, 6 % refused,
// 2.5 % tempfailed, 1.5 % held; a tenth converted from a legacy encoding; one or two of N agencies
// each) and either
//
// - folds it into roll-up rows as the verdict log keys them and times building the report and each
//   renderer (`--write DIR` writes the four forms there, for Scripts/report-screenshot), or
// - with `--store PATH`, records it through the real SQLite verdict log (one batch a day) and holds
//   `--held N` messages with decisions, for Benchmarks/report_year.py to time `thugate report` on.
//
//   thugate-reportbench [--days 365] [--agencies 30] [--rules 12] [--per-day 3000] [--runs 5]
//                       [--write DIR | --store PATH [--held 2000]]

import Foundation
import Quarantine
import Reports

var days = 365
var agencyCount = 30
var ruleCount = 12
var perDay = 3000
var runs = 5
var heldCount = 2000
var writeDirectory: String?
var storePath: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else { break }
    switch flag {
    case "--days": days = Int(value) ?? days
    case "--agencies": agencyCount = Int(value) ?? agencyCount
    case "--rules": ruleCount = Int(value) ?? ruleCount
    case "--per-day": perDay = Int(value) ?? perDay
    case "--runs": runs = Int(value) ?? runs
    case "--held": heldCount = Int(value) ?? heldCount
    case "--write": writeDirectory = value
    case "--store": storePath = value
    default: break
    }
}

/// Deterministic pseudo-random numbers (SplitMix64), so every run makes the same mail.
struct Random {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

/// One synthetic message.
struct Message {
    var dayIndex: Int
    var second: Int
    var outcome: Outcome
    var rules: [String]
    var agencies: [String]
    var direction: String
    var size: Int
    var sender: String
}

let ruleNames = [
    "tcvn-conversion", "mime-irregular", "encrypted-document", "office-macro", "encrypted-archive", "executable", "virus",
    "attachment-size", "mime-ambiguous", "encrypted-message", "archive-limit", "malformed", "state-secret", "forwarding",
]
let rules = Array(ruleNames.prefix(ruleCount))
let agencies = (0..<agencyCount).map { (id: "agency\($0)", name: "Sở ban ngành số \($0 + 1) — UBND tỉnh Quảng Ninh") }
let first = Reports.LocalDay("2026-01-01")!
let period = try ReportPeriod.range(from: first.description, to: first.adding(days: days - 1).description)

/// The messages of day `dayIndex`.
@MainActor func messages(day dayIndex: Int, _ random: inout Random) -> [Message] {
    let directions = ["in", "out", "internal", "transit"]
    return (0..<perDay).map { _ in
        let roll = random.next(1000)
        let outcome: Outcome = roll < 900 ? .delivered : roll < 960 ? .refused : roll < 985 ? .tempfailed : .held
        var messageRules: [String] = []
        if random.next(10) == 0 { messageRules.append(rules[0]) }
        if outcome == .refused || outcome == .held || random.next(20) == 0 {
            messageRules.append(rules[1 + random.next(rules.count - 1)])
        }
        let count = random.next(8) == 0 ? 2 : 1
        let messageAgencies = Set((0..<count).map { _ in agencies[random.next(agencies.count)].id }).sorted()
        let sender = outcome == .refused ? "<spam\(random.next(300))@example.com>" : "<user\(random.next(5000))@example.vn>"
        return Message(
            dayIndex: dayIndex,
            second: random.next(86400),
            outcome: outcome,
            rules: messageRules,
            agencies: messageAgencies,
            direction: directions[random.next(10) < 6 ? 0 : random.next(4)],
            size: 2000 + random.next(200_000),
            sender: sender
        )
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

if let storePath {
    // The real store: every message through the verdict log, one transaction a day.
    let store = try SQLiteQuarantineStore(path: storePath, actor: Actor(user: "bench", sudoUser: nil))
    var random = Random(state: 42)
    let start = DispatchTime.now().uptimeNanoseconds
    for dayIndex in 0..<days {
        let dayStart = Double(first.adding(days: dayIndex).startMilliseconds) / 1000
        let entries = messages(day: dayIndex, &random).enumerated().map { index, m in
            VerdictEntry(
                at: Date(timeIntervalSince1970: dayStart + Double(m.second)),
                queueID: "B\(dayIndex)x\(index)",
                node: "bench",
                clientAddress: "192.0.2.1",
                sender: m.sender,
                recipients: 1,
                size: m.size,
                direction: m.direction,
                agencies: m.agencies,
                outcome: VerdictOutcome(rawValue: m.outcome.rawValue)!,
                rules: m.rules
            )
        }
        try await store.record(entries)
    }
    let recorded = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    // Held mail over the year, a third released, a third deleted, the rest left held.
    for index in 0..<heldCount {
        let at = Date(
            timeIntervalSince1970: Double(period.startMilliseconds) / 1000 + Double(index) * Double(days) * 86400 / Double(heldCount)
        )
        let held = try await store.hold(
            HoldRequest(
                queueID: "H\(index)",
                node: "bench",
                receivedAt: at,
                clientAddress: "192.0.2.1",
                helo: "bench",
                sender: "<user@example.vn>",
                recipients: ["<a@agency0.gov.vn>", "<b@agency1.gov.vn>"],
                findings: [HeldFinding(rule: "encrypted-archive", detail: "a.zip: encrypted", part: "2")],
                category: "encrypted-archive",
                expiresAt: at.addingTimeInterval(30 * 86400)
            ),
            content: HeldBytes(Array(repeating: 0x41, count: 3000))
        )
        switch index % 3 {
        case 0:
            let claimed = try await store.claimRelease(of: held.id, positions: nil, reason: "bench")
            try await store.finishRelease(
                of: held.id,
                claimed.map { ReleaseOutcome(position: $0.position, state: .released, reply: "250 ok") },
                reason: "bench"
            )
        case 1: _ = try await store.delete(held.id, positions: nil, reason: "bench")
        default: break
        }
    }
    print("recorded \(days * perDay) messages in \(String(format: "%.1f", recorded)) s; held \(heldCount)")
} else {
    // Roll-up rows as the verdict log keys them: every (agency, rule) of {*} ∪ agencies × {*} ∪ rules.
    struct Key: Hashable {
        var day: String
        var direction: String
        var agency: String
        var rule: String
        var outcome: Outcome
    }
    var counts: [Key: (Int, Int64)] = [:]
    var random = Random(state: 42)
    for dayIndex in 0..<days {
        let day = first.adding(days: dayIndex).description
        for m in messages(day: dayIndex, &random) {
            for agency in ["*"] + (m.agencies.isEmpty ? [""] : m.agencies) {
                for rule in ["*"] + m.rules {
                    let key = Key(day: day, direction: m.direction, agency: agency, rule: rule, outcome: m.outcome)
                    let old = counts[key] ?? (0, 0)
                    counts[key] = (old.0 + 1, old.1 + Int64(m.size))
                }
            }
        }
    }
    let rows = counts.map {
        RollupRow(
            day: $0.key.day,
            direction: $0.key.direction,
            agency: $0.key.agency,
            rule: $0.key.rule,
            outcome: $0.key.outcome,
            messages: $0.value.0,
            bytes: $0.value.1
        )
    }
    let decisions = (0..<(days * perDay / 70)).map { index -> HeldDecision in
        let held = period.startMilliseconds + Int64(index) * 60_000
        let state = HeldDecision.State.allCases[random.next(4)]
        return HeldDecision(heldAt: held, decidedAt: state == .pending ? nil : held + Int64(random.next(72 * 3_600_000)), state: state)
    }
    let senders = (0..<10).map { SenderTotal(sender: "<spam\($0)@example.com>", messages: 1000 - $0 * 37) }
    print(
        "\(days) days, \(agencyCount) agencies, \(rules.count) rules, \(perDay) messages a day: \(rows.count) roll-up rows, \(decisions.count) held recipients"
    )
    var report = UsageReport(period: period, generatedAt: 0, rows: [], agencies: agencies)
    var best: [String: Double] = [:]
    var outputs: [String: String] = [:]
    let renderers: [(String, (UsageReport) -> String)] = [
        ("table", TableRenderer.render), ("csv", CSVRenderer.render), ("json", JSONRenderer.render), ("html", HTMLRenderer.render),
    ]
    for _ in 0..<runs {
        let build = seconds {
            report = UsageReport(
                period: period,
                by: .day,
                generatedAt: 1_790_787_600_000,
                rows: rows,
                refusedSenders: senders,
                decisions: decisions,
                agencies: agencies
            )
        }
        best["build"] = min(best["build"] ?? .infinity, build)
        for (name, render) in renderers {
            var text = ""
            let time = seconds { text = render(report) }
            best[name] = min(best[name] ?? .infinity, time)
            outputs[name] = text
        }
    }
    for name in ["build", "table", "csv", "json", "html"] {
        let size = outputs[name].map { " (\($0.utf8.count / 1024) KiB)" } ?? ""
        print("\(name): \(String(format: "%.1f", best[name]! * 1000)) ms\(size)")
    }
    if let writeDirectory {
        try FileManager.default.createDirectory(atPath: writeDirectory, withIntermediateDirectories: true)
        for (name, text) in outputs {
            let file = URL(fileURLWithPath: writeDirectory).appendingPathComponent("report.\(name == "table" ? "txt" : name)")
            try Data(text.utf8).write(to: file)
        }
    }
}
