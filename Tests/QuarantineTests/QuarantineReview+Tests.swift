import Foundation
import GRDB
import Logging
import Quarantine
import Testing

/// The reviewing side of the store: the one sanitizer, filtered lists, audit rows for reading,
/// the audit chain's verification, the store check and the audit rows mirrored to the log.
@Suite struct QuarantineReviewTests {
    typealias Store = QuarantineStoreTests

    // MARK: The sanitizer

    @Test(arguments: [
        // Clear the screen, then text.
        ("\u{1B}[2JBáo cáo", "Báo cáo"),
        // OSC 8 hyperlink, terminated by ST (ESC \) and by BEL: only the visible text stays.
        ("\u{1B}]8;;https://evil.example/\u{1B}\\bấm vào\u{1B}]8;;\u{1B}\\", "bấm vào"),
        ("\u{1B}]0;owned\u{07}Tiêu đề", "Tiêu đề"),
        // C1 CSI (U+009B) with parameters, C1 NEL and OSC, DEL.
        ("a\u{9B}31;1mb\u{85}c\u{9D}title\u{9C}d\u{7F}e", "abcde"),
        // A CSI with private parameters and intermediates; a three-byte ESC sequence (charset).
        ("x\u{1B}[?1049hy\u{1B}(Bz", "xyz"),
        // Bidi overrides, isolates and marks.
        ("\u{202E}exe.pdf\u{202C} \u{2066}a\u{2069}\u{200F}\u{061C}", "exe.pdf a"),
        // Line breaks and tabs become spaces; CAN cancels a sequence and is removed.
        ("a\r\nb\tc\u{1B}[12\u{18}d", "a  b cd"),
        // An OSC left open ends at a line break instead of swallowing the rest.
        ("\u{1B}]0;no end\nrest", " rest"),
    ])
    func controlsAndEscapeSequencesAreStripped(input: String, expected: String) {
        #expect(HoldRequest.stripped(input) == expected)
    }

    @Test func aPreviewKeepsItsLinesAndNothingElse() {
        let text = "Dòng 1\r\nDòng 2\rDòng 3\n\u{1B}[31mđỏ\u{1B}[0m\u{2028}cuối"
        #expect(HoldRequest.stripped(text, keepingLineBreaks: true) == "Dòng 1\nDòng 2\nDòng 3\nđỏ\ncuối")
    }

    @Test func nothingDangerousSurvivesAnyInput() {
        // Every scalar that could start or be part of a sequence, in a pseudo-random mix.
        let alphabet: [Unicode.Scalar] = [
            "\u{1B}", "\u{9B}", "\u{9D}", "\u{07}", "[", "]", "\\", "8", ";", "m", "a", "ư", "\u{202E}", "\r", "\n", "\u{90}", "\u{9C}",
        ]
        var state: UInt64 = 7
        for _ in 0..<2000 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int(state % 40) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                scalars.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1
            for keep in [false, true] {
                let out = HoldRequest.stripped(String(scalars), keepingLineBreaks: keep)
                #expect(
                    !out.unicodeScalars.contains {
                        ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) || $0 == "\u{202E}"
                    },
                    "\(Array(String(scalars).unicodeScalars))"
                )
                if !keep { #expect(!out.contains("\n")) }
            }
        }
    }

    // MARK: Filters

    static func request(
        _ queueID: String,
        at date: Date,
        sender: String = "<vanthu@quangninh.gov.vn>",
        from: String? = "Văn thư <vanthu@quangninh.gov.vn>",
        recipients: [String] = ["<lanhdao@quangninh.gov.vn>"],
        rules: [String] = ["encrypted-archive"]
    ) -> HoldRequest {
        HoldRequest(
            queueID: queueID,
            node: "thugate.test",
            receivedAt: date,
            clientAddress: "192.0.2.7",
            helo: "mail.test",
            sender: sender,
            recipients: recipients,
            headerFrom: from,
            subject: "Hồ sơ \(queueID)",
            findings: rules.map { HeldFinding(rule: $0, detail: "x", part: "2") },
            category: rules[0],
            expiresAt: date.addingTimeInterval(86400)
        )
    }

    @Test(arguments: StoreKind.allCases) func everyFilterIsAppliedInTheStore(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, _ in
            let now = Date()
            let hours = { (n: Double) in now.addingTimeInterval(-n * 3600) }
            let held = [
                try await store.hold(Self.request("A", at: hours(50)), content: HeldBytes([1])),
                try await store.hold(
                    Self.request(
                        "B",
                        at: hours(20),
                        sender: "<Ke.Toan@Dongnai.gov.vn>",
                        from: "Kế Toán <ke.toan@dongnai.gov.vn>",
                        rules: ["virus", "executable"]
                    ),
                    content: HeldBytes([2])
                ),
                try await store.hold(
                    Self.request(
                        "C",
                        at: hours(5),
                        sender: "<>",
                        from: nil,
                        recipients: ["<an.q4@tphcm.gov.vn>", "<x@example.com>"],
                        rules: ["executable"]
                    ),
                    content: HeldBytes([3])
                ),
                try await store.hold(
                    Self.request(
                        "D",
                        at: hours(1),
                        sender: "<a@example.com>",
                        from: "ĐẶNG <a@example.com>",
                        recipients: ["<Q4@TPHCM.gov.vn>"]
                    ),
                    content: HeldBytes([4])
                ),
            ]
            let ids = Dictionary(uniqueKeysWithValues: held.map { ($0.request.queueID, $0.id) })
            func queues(_ query: MessageQuery) async throws -> [String] {
                try await store.messages(query).map(\.request.queueID)
            }
            #expect(try await queues(MessageQuery()) == ["D", "C", "B", "A"])
            #expect(try await queues(MessageQuery(limit: 2)) == ["D", "C"])
            #expect(try await queues(MessageQuery(since: hours(24))) == ["D", "C", "B"])
            #expect(try await queues(MessageQuery(until: hours(5))) == ["B", "A"])
            #expect(try await queues(MessageQuery(since: hours(24), until: hours(2))) == ["C", "B"])
            #expect(try await queues(MessageQuery(rule: "executable")) == ["C", "B"])
            #expect(try await queues(MessageQuery(category: "executable")) == ["C"])
            #expect(try await queues(MessageQuery(category: "nothing")) == [])
            // Sender or header From, ignoring case, ASCII and not.
            #expect(try await queues(MessageQuery(from: "KE.TOAN@")) == ["B"])
            #expect(try await queues(MessageQuery(from: "kế toán")) == ["B"])
            #expect(try await queues(MessageQuery(from: "đặng")) == ["D"])
            // LIKE's own wildcards are literal.
            #expect(try await queues(MessageQuery(from: "%")) == [])
            #expect(try await queues(MessageQuery(from: "_")) == [])
            #expect(try await queues(MessageQuery(to: "TPHCM")) == ["D", "C"])
            #expect(try await queues(MessageQuery(rule: "executable", to: "example.com")) == ["C"])

            // State: any recipient in it.
            _ = try await store.delete(ids["C"]!, positions: [1], reason: "spam")
            #expect(try await queues(MessageQuery(state: .deleted)) == ["C"])
            #expect(try await queues(MessageQuery(state: .held)) == ["D", "C", "B", "A"])
            #expect(try await queues(MessageQuery(state: .released)) == [])

            // A party: narrowed by domain endings, decided by the closure.
            let quan4 = PartyFilter(name: "quan4", domainEndings: ["@tphcm.gov.vn"]) { address in
                let lower = address.lowercased()
                return lower.hasSuffix(".q4@tphcm.gov.vn>") || lower == "<q4@tphcm.gov.vn>"
            }
            #expect(try await queues(MessageQuery(party: quan4)) == ["D", "C"])
            let dongnai = PartyFilter(name: "dongnai", domainEndings: ["@dongnai.gov.vn", ".dongnai.gov.vn"]) { _ in true }
            #expect(try await queues(MessageQuery(party: dongnai)) == ["B"])
            // The closure decides: an address the endings let through but the directory refuses.
            let nobody = PartyFilter(name: "nobody", domainEndings: ["@quangninh.gov.vn"]) { _ in false }
            #expect(try await queues(MessageQuery(party: nobody)) == [])
            #expect(try await queues(MessageQuery(party: PartyFilter(name: "none", domainEndings: []) { _ in true })) == [])

            // The rows come back whole: recipients and findings with each message.
            let b = try await store.messages(MessageQuery(rule: "virus"))
            #expect(b.map(\.request.findings.count) == [2])
            #expect(try await store.messages(MessageQuery(state: .deleted)).first?.recipients.map(\.state) == [.held, .deleted])
        }
    }

    @Test func theFilterIndexesExist() async throws {
        try await Store.withSQLiteStore { store, path in
            _ = try await store.hold(Store.request(), content: HeldBytes([1]))
            let indexes = try await DatabasePool(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
            }
            #expect(Set(indexes).isSuperset(of: ["messages_category", "findings_rule", "recipients_state", "messages_received"]))
        }
    }

    @Test(arguments: StoreKind.allCases) func aListOfManyMessagesHasEveryRecipientAndFinding(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, _ in
            // More than one batch of the IN (...) reads.
            for i in 0..<1203 {
                _ = try await store.hold(
                    Self.request(
                        "M\(i)",
                        at: Date(timeIntervalSince1970: 1_700_000_000 + Double(i)),
                        recipients: ["<a\(i)@x.vn>", "<b\(i)@x.vn>"]
                    ),
                    content: HeldBytes([UInt8(i & 0xFF)])
                )
            }
            let all = try await store.messages(MessageQuery())
            #expect(all.count == 1203)
            for (offset, message) in all.enumerated() {
                let i = 1202 - offset
                #expect(message.request.queueID == "M\(i)")
                #expect(message.recipients.map(\.address) == ["<a\(i)@x.vn>", "<b\(i)@x.vn>"])
                #expect(message.request.findings.count == 1)
            }
        }
    }

    // MARK: Audit

    /// Runs SQL on the store's file from outside, as someone with the file would.
    static func tamper(_ path: String, _ sql: String) async throws {
        let queue = try DatabaseQueue(path: path)
        try await queue.write { try $0.execute(sql: sql) }
    }

    @Test(arguments: StoreKind.allCases) func readingIsAuditedAndTheChainVerifies(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, _ in
            let held = try await store.hold(Store.request(), content: HeldBytes([1]))
            let view = try await store.appendAudit(action: "view", messageID: held.id, detail: "show \u{1B}[2J")
            #expect(view.sequence == 2 && view.action == "view" && view.actor == "thugate" && view.sudoUser == "postmaster")
            #expect(view.detail == "show ")
            #expect(try await store.audit(messageID: held.id).map(\.action) == ["hold", "view"])
            let verified = try await store.verifyAudit()
            #expect(verified == AuditVerification(rows: 2, problem: nil))
        }
    }

    @Test(arguments: StoreKind.allCases) func aChangedDetailIsFound(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, fixture in
            let held = try await store.hold(Store.request(), content: HeldBytes([1]))
            for i in 0..<3 { _ = try await store.appendAudit(action: "view", messageID: held.id, detail: "show \(i)") }
            try await fixture.execute("UPDATE audit SET detail = 'nothing to see' WHERE seq = 3")
            let result = try await store.verifyAudit()
            #expect(result.problem?.kind == .changed)
            #expect(result.problem?.sequence == 3)
        }
    }

    @Test(arguments: StoreKind.allCases) func aRemovedRowIsFound(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, fixture in
            let held = try await store.hold(Store.request(), content: HeldBytes([1]))
            for i in 0..<3 { _ = try await store.appendAudit(action: "view", messageID: held.id, detail: "show \(i)") }
            try await fixture.execute("DELETE FROM audit WHERE seq = 2")
            let result = try await store.verifyAudit()
            #expect(result.problem?.kind == .removed)
            #expect(result.problem?.sequence == 2)
            #expect(result.problem?.message == "row 2 is missing (removed)")
        }
    }

    @Test(arguments: StoreKind.allCases) func aRowWithARecomputedHashBreaksTheLinkAfterIt(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, fixture in
            let held = try await store.hold(Store.request(), content: HeldBytes([1]))
            for i in 0..<2 { _ = try await store.appendAudit(action: "view", messageID: held.id, detail: "show \(i)") }
            let rows = try await store.audit(messageID: nil)
            // Row 2 rewritten with a hash that fits its new fields: row 3 no longer follows it.
            let forged = AuditEntry.chainHash(
                previousHash: rows[1].previousHash,
                sequence: 2,
                atMilliseconds: Int64((rows[1].at.timeIntervalSince1970 * 1000).rounded()),
                actor: rows[1].actor,
                sudoUser: rows[1].sudoUser,
                action: "view",
                messageID: held.id,
                detail: "forged"
            )
            try await fixture.execute("UPDATE audit SET detail = 'forged', hash = '\(forged)' WHERE seq = 2")
            let result = try await store.verifyAudit()
            #expect(result.problem?.kind == .relinked)
            #expect(result.problem?.sequence == 3)
        }
    }

    @Test(arguments: StoreKind.allCases) func theLastHoldRowRemovedIsFoundToo(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, fixture in
            _ = try await store.hold(Store.request(), content: HeldBytes([1]))
            let last = try await store.hold(Store.request(), content: HeldBytes([2]))
            try await fixture.execute("DELETE FROM audit WHERE seq = 2")
            let result = try await store.verifyAudit()
            #expect(result.problem?.kind == .removed)
            #expect(result.problem?.message.contains(last.id) == true)
        }
    }

    @Test func auditRowsAreMirroredToTheLogOnlyOnceCommitted() async throws {
        let lines = Locked<[String]>([])
        let logger = Logger(label: "test.audit") { _ in CollectingHandler(lines: lines) }
        struct Injected: Error {}
        let fail = Locked(false)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quarantine-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteQuarantineStore(
            path: directory + "/q.sqlite",
            actor: Actor(user: "alice", sudoUser: nil),
            beforeCommit: { if fail.withLockedValue({ $0 }) { throw Injected() } },
            auditLogger: logger
        )
        let held = try await store.hold(Store.request(), content: HeldBytes([1]))
        _ = try await store.appendAudit(action: "export", messageID: held.id, detail: "to /tmp/x.eml")
        fail.withLockedValue { $0 = true }
        await #expect(throws: (any Error).self) { try await store.hold(Store.request(), content: HeldBytes([2])) }
        let logged = lines.withLockedValue { $0 }
        #expect(logged.count == 2, "\(logged)")
        #expect(logged.first?.hasPrefix("audit 1 hold \(held.id) by alice: queue 0B1C2D3F4G5H") == true)
        // With the row's chain hash, so the log anchors the chain.
        let trail = try await store.audit(messageID: held.id)
        #expect(logged.last == "audit 2 export \(held.id) by alice: to /tmp/x.eml [chain \(trail.last?.hash ?? "")]")
    }

    // MARK: Check

    @Test(arguments: StoreKind.allCases) func theCheckNamesEachDamagedMessage(kind: StoreKind) async throws {
        try await Store.withStore(kind) { store, fixture in
            let good = try await store.hold(Store.request(), content: HeldBytes(Store.bytes(1000)))
            let big = try await store.hold(Store.request(), content: HeldBytes(Store.bytes(2 * SQLiteQuarantineStore.chunkSize + 5)))
            let small = try await store.hold(Store.request(), content: HeldBytes(Store.bytes(10)))
            let progress = Locked<[Int]>([])
            let clean = try await store.check { done, _ in progress.withLockedValue { $0.append(done) } }
            #expect(clean.isClean && clean.messages == 3)
            #expect(clean.bytes == 1000 + 2 * SQLiteQuarantineStore.chunkSize + 5 + 10)
            #expect(progress.withLockedValue { $0 }.last == 3)

            try await fixture.execute(
                fixture.dialect(
                    sqlite: "UPDATE chunks SET data = zeroblob(length(data)) WHERE message_id = '\(big.id)' AND seq = 1",
                    postgres:
                        "UPDATE chunks SET data = decode(repeat('00', length(data)), 'hex') WHERE message_id = '\(big.id)' AND seq = 1"
                )
            )
            try await fixture.execute("DELETE FROM chunks WHERE message_id = '\(small.id)'")
            let report = try await store.check { _, _ in }
            #expect(report.integrity.isEmpty)
            #expect(!report.bad.contains { $0.id == good.id })
            let byID = Dictionary(uniqueKeysWithValues: report.bad.map { ($0.id, $0.problems) })
            #expect(byID[big.id] == ["chunk 1 does not match its sha256", "the message does not match its sha256"])
            #expect(byID[small.id] == ["0 bytes stored, 10 in its row", "the message does not match its sha256"])
        }
    }
}

/// Collects the messages logged, for the mirror's test.
struct CollectingHandler: LogHandler {
    let lines: Locked<[String]>
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { lines.withLockedValue { $0.append(event.message.description) } }
}

/// A value behind a lock, for the closures the store calls.
final class Locked<Value>: @unchecked Sendable {
    // Unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLockedValue<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
