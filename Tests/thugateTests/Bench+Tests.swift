import ArgumentParser
import Configuration
import Foundation
import Inspection
import NIOCore
import Testing

@testable import thugate

#if canImport(Glibc)
import Glibc
#endif

/// `thugate bench`'s pure parts: which arguments go together, the manifest, the tallies; and the
/// load client against the built-in sink over a real socket.
@Suite struct BenchTests {
    static func parse(_ arguments: [String]) throws -> Bench {
        try Bench.parse(["--corpus", "/nonexistent"] + arguments)
    }

    @Test(arguments: [
        ["--workers", "0"],
        ["--connections", "5"],
        ["--duration", "3"],
        ["--per-connection", "2"],
        ["--smtp", "self", "--workers", "2"],
        ["--smtp", "127.0.0.1:25", "--duration", "1", "--messages", "2"],
        ["--smtp", "127.0.0.1:25", "--warm-up", "1"],
        ["--smtp", "127.0.0.1:25", "--connections", "0"],
        ["--smtp", "127.0.0.1:25", "--duration", "0"],
        ["--smtp", "127.0.0.1:25", "--messages", "0"],
        ["--smtp", "127.0.0.1:25", "--per-connection", "0"],
        ["--smtp", "no port here"],
    ])
    func argumentsThatDoNotGoTogetherAreRefused(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try Self.parse(arguments) }
    }

    @Test func theTargetIsSelfOrAnAddress() throws {
        #expect(try Self.parse([]).target == nil)
        #expect(try Self.parse(["--smtp", "self"]).target == .local)
        #expect(
            try Self.parse(["--smtp", "127.0.0.1:2525", "--duration", "2", "--warm-up", "1"]).target
                == .remote(HostPort(host: "127.0.0.1", port: 2525))
        )
        #expect(try Self.parse(["--workers", "3", "--format", "json"]).workers == 3)
    }

    @Test func manifestLinesDecodeWithDefaults() throws {
        let text = """
            {"file": "a.eml", "mail_from": "<vanthu@quangninh.gov.vn>", "rcpt_to": ["x@quangninh.gov.vn"], "kind": "notice", "expected": {"action": "accept", "rules": []}}

            {"file": "sub/b.eml", "expected": {"action": "reject"}}
            {"file": "c.eml", "mail_from": ""}
            """
        let entries = try BenchCorpus.parseManifest(text)
        #expect(entries.count == 3)
        #expect(
            entries[0]
                == ManifestEntry(
                    file: "a.eml",
                    mailFrom: "<vanthu@quangninh.gov.vn>",
                    rcptTo: ["x@quangninh.gov.vn"],
                    kind: "notice",
                    expected: .init(action: "accept")
                )
        )
        #expect(entries[1].expected == .init(action: "reject", rules: []))
        #expect(entries[1].rcptTo.isEmpty && entries[1].mailFrom == nil)
        #expect(entries[2].mailFrom == "" && entries[2].expected == nil)
    }

    @Test(arguments: [
        ("{\"file\": \"a.eml\"}\nnot json", 2),
        ("{\"kind\": \"x\"}", 1),
        ("{\"file\": \"a.eml\"}\n{\"file\": \"a.eml\"}", 2),
        ("{\"file\": \"../a.eml\"}", 1),
        ("{\"file\": \"/etc/a.eml\"}", 1),
        ("{\"file\": \"a.eml\", \"rcpt_to\": \"x@y\"}", 1),
        ("{\"file\": \"a.eml\", \"expected\": {\"rules\": []}}", 1),
    ])
    func badManifestLinesAreNamed(_ text: String, line: Int) {
        #expect(throws: BenchCorpus.ManifestError.self) { try BenchCorpus.parseManifest(text) }
        do {
            _ = try BenchCorpus.parseManifest(text)
        } catch {
            #expect(error.line == line)
        }
    }

    @Test func aCorpusDirectoryPairsFilesWithTheirEntries() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["a.eml", "b.eml"] {
            try Data("Subject: x\r\n\r\nhi\r\n".utf8).write(to: directory.appendingPathComponent(name))
        }
        let plain = try BenchCorpus.load(directory.path)
        #expect(!plain.hasManifest && plain.messages.map { ($0.path as NSString).lastPathComponent } == ["a.eml", "b.eml"])
        try Data(#"{"file": "b.eml", "expected": {"action": "reject", "rules": ["virus"]}}"#.utf8)
            .write(to: directory.appendingPathComponent("manifest.jsonl"))
        let listed = try BenchCorpus.load(directory.path)
        #expect(listed.hasManifest)
        #expect(listed.messages[0].entry == nil)
        #expect(listed.messages[1].entry?.expected == .init(action: "reject", rules: ["virus"]))
        // An entry naming a file that is not there is an error, not a silent skip.
        try Data(#"{"file": "gone.eml"}"#.utf8).write(to: directory.appendingPathComponent("manifest.jsonl"))
        #expect(throws: BenchCorpus.ManifestError.self) { try BenchCorpus.load(directory.path) }
    }

    @Test func offlineTallyChecksActionsAndRulesAndMerges() {
        var one = OfflineTally()
        one.record(file: "a", bytes: 10, action: "accept", rules: [], expected: .init(action: "accept"))
        one.record(file: "b", bytes: 20, action: "accept", rules: [], expected: .init(action: "reject", rules: ["virus"]))
        one.record(file: "c", bytes: 30, action: "reject", rules: ["virus"], expected: .init(action: "reject", rules: ["virus"]))
        var two = OfflineTally()
        // The right action for the wrong reason is wrong.
        two.record(file: "d", bytes: 40, action: "reject", rules: ["executable"], expected: .init(action: "reject", rules: ["virus"]))
        two.record(file: "e", bytes: 0, action: "error", rules: [], expected: nil)
        two.record(file: "f", bytes: 5, action: "quarantine", rules: ["state_secret"], expected: nil)
        one.merge(two)
        #expect(one.messages == 6 && one.bytes == 105 && one.errors == 1)
        #expect(one.verdicts == ["accept": 2, "reject": 2, "error": 1, "quarantine": 1])
        #expect(one.correct == 2 && one.wrongCount == 2)
        #expect(one.checked == ["accept": .init(right: 1, wrong: 0), "reject": .init(right: 1, wrong: 2)])
        #expect(one.wrong.map(\.file) == ["b", "d"])
        #expect(one.wrong[1].missingRules == ["virus"] && one.wrong[1].actual == "reject")
    }

    @Test func offlineReportListsAtMostTwentyWrongFiles() {
        var tally = OfflineTally()
        for index in 0..<25 {
            tally.record(
                file: String(format: "m%02d", 24 - index),
                bytes: 1,
                action: "accept",
                rules: [],
                expected: .init(action: "reject")
            )
        }
        let report = OfflineReport(tally, corpus: "c", workers: 1, elapsed: .seconds(2))
        #expect(report.wrong == 25 && report.correct == 0 && report.checked == 25)
        #expect(report.wrongFiles.count == 20 && report.wrongFiles.first?.file == "m00")
        #expect(report.messagesPerSecond == 12.5)
        #expect(report.json.contains("\"messages_per_second\":12.5"))
        #expect(report.text.contains("… and 5 more"))
    }

    @Test func loadTallyCountsEveryMessageOnce() {
        var one = LoadTally()
        one.record(reply: 250, bytes: 100, latencyMicros: 1_000)
        one.record(reply: 550, bytes: 100, latencyMicros: 2_000)
        var two = LoadTally()
        two.record(reply: 250, bytes: 100, latencyMicros: 3_000)
        two.record(error: "connection closed")
        one.merge(two)
        #expect(one.messages == 4 && one.accepted == 2 && one.failures == 2)
        #expect(one.replies == [250: 2, 550: 1] && one.errors == ["connection closed": 1])
        #expect(one.latenciesMicros.sorted() == [1_000, 2_000, 3_000])
    }

    @Test func aMessagePlanHandsOutExactlyThatManyRoundRobin() {
        let state = PlanState(plan: .messages(7), count: 3)
        var taken: [Int] = []
        while let index = state.next() { taken.append(index) }
        #expect(taken == [0, 1, 2, 0, 1, 2, 0])
        #expect(state.taken == 7 && state.measures(.now))
        // In a duration plan, what starts in the warm-up is not measured.
        let timed = PlanState(plan: .duration(warmUp: .seconds(60), measured: .seconds(1)), count: 1)
        #expect(timed.next() == 0 && !timed.measures(.now))
    }

    @Test func preparedMessagesAreDotStuffedWithTheManifestEnvelope() {
        let bytes = Array("Subject: x\r\n\r\n.leading dot\r\nđ\r\n".utf8)
        let plain = LoadBench.prepare(bytes, entry: nil)
        #expect(plain.sender == LoadBench.defaultSender && plain.recipients == [LoadBench.defaultRecipient])
        #expect(String(buffer: plain.data) == "Subject: x\r\n\r\n..leading dot\r\nđ\r\n.\r\n")
        #expect(plain.eightBit && !plain.needsSMTPUTF8 && plain.bytes == bytes.count)
        let listed = LoadBench.prepare(
            bytes,
            entry: ManifestEntry(file: "a", mailFrom: "<>", rcptTo: ["<thư@quangninh.gov.vn>", "b@x.vn"])
        )
        #expect(listed.sender == "" && listed.recipients == ["thư@quangninh.gov.vn", "b@x.vn"] && listed.needsSMTPUTF8)
    }

    @Test func latencyPercentilesComeFromTheHistogram() throws {
        var tally = LoadTally()
        for ms in 1...100 { tally.record(reply: 250, bytes: 1_000, latencyMicros: UInt64(ms) * 1_000) }
        let bench = try LoadBench(
            corpus: BenchCorpus(path: "x", messages: [], hasManifest: false),
            server: HostPort(host: "127.0.0.1", port: 1),
            connections: 2,
            perConnection: 1,
            plan: .messages(100),
            timeout: .seconds(1)
        )
        let report = LoadReport(.init(tally: tally, elapsed: .seconds(4), started: 100), bench: bench, gateway: nil)
        #expect(report.messagesPerSecond == 25 && report.messageBytes == 1_000 && report.failures == 0)
        // HdrHistogram at 3 significant digits: within 0.1 % of the exact values.
        #expect(abs(report.latencyMs.p50 - 50) < 0.1 && abs(report.latencyMs.p99 - 99) < 0.1 && abs(report.latencyMs.max - 100) < 0.1)
        #expect(report.json.contains("\"replies\":{\"250\":100}"))
    }

    @Test func theGatewaysListeningLineGivesItsPort() {
        #expect(
            LocalGateway.listeningPort("x\n2026-12-01 notice thugate: listening on 127.0.0.1:40123, upstream smtp://127.0.0.1:1\n") == 40123
        )
        #expect(LocalGateway.listeningPort("starting\n") == nil)
        let config = LocalGateway.configText(directory: "/tmp/a \"b\"", connections: 2_000)
        #expect(config.contains("max_connections_per_ip = 4010") && config.contains(#"spool_directory = "/tmp/a \"b\"/spool""#))
    }

    /// The load client and the built-in sink over a real socket: every message is sent, one
    /// connection per two, and the sink counts each.
    @Test func theClientSendsEveryMessageToTheSink() async throws {
        let sink = try await BenchSink.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A line of a single dot must be stuffed, or the sink would end the message early.
        let body = "Subject: x\r\n\r\n" + String(repeating: "dòng\r\n.\r\n", count: 20_000)
        try Data(body.utf8).write(to: directory.appendingPathComponent("a.eml"))
        try Data("Subject: y\r\n\r\nhi\r\n".utf8).write(to: directory.appendingPathComponent("b.eml"))
        let bench = try LoadBench(
            corpus: try BenchCorpus.load(directory.path),
            server: HostPort(host: "127.0.0.1", port: sink.port),
            connections: 3,
            perConnection: 2,
            plan: .messages(11),
            timeout: .seconds(30)
        )
        let result = await bench.run()
        await sink.stop()
        #expect(result.tally.replies == [250: 11] && result.tally.errors.isEmpty)
        #expect(sink.received.messages == 11)
    }

    /// A port bound and never listened on: connections to it are refused, and no other test can
    /// take it while the socket is open (a port freed by a stopped server could be reused).
    static func boundPortThatRefuses() throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func aServerThatIsNotThereCountsErrors() async throws {
        let (descriptor, port) = try Self.boundPortThatRefuses()
        defer { close(descriptor) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-none-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("Subject: y\r\n\r\nhi\r\n".utf8).write(to: directory.appendingPathComponent("b.eml"))
        let bench = try LoadBench(
            corpus: try BenchCorpus.load(directory.path),
            server: HostPort(host: "127.0.0.1", port: port),
            connections: 2,
            perConnection: 1,
            plan: .messages(4),
            timeout: .seconds(5)
        )
        let result = await bench.run()
        #expect(result.tally.messages == 4 && result.tally.accepted == 0 && result.tally.errors == ["connect failed": 4])
    }
}
