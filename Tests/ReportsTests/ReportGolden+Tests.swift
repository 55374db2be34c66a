import Foundation
import GRDB
import Quarantine
import Reports
import Testing

/// Golden files of the report forms (`Golden/`), made from entries recorded through the real
/// SQLite verdict log and messages held in the real store, on both sides of the Q3/Q4 boundary in
/// Vietnam's time: 2026-09-30 23:59:59 +07:00 is in Q3 and September, 2026-10-01 00:00:00 +07:00
/// (still 2026-09-30 in UTC) in Q4 and October.
///
/// To regenerate after a deliberate change of a form: `THUGATE_UPDATE_GOLDEN=1 swift test --skip-build
/// --filter ReportGoldenTests`, then read the diff (`git diff Tests/ReportsTests/Golden`) before
/// committing it.
@Suite struct ReportGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    /// 2026-10-01 00:00:00 +07:00.
    static let q4 = Date(timeIntervalSince1970: 1_790_787_600)
    static let agencies = [(id: "quangninh", name: "UBND tỉnh Quảng Ninh"), (id: "quan4", name: "UBND Quận 4 <Văn phòng & \"HĐND\">")]
    /// When the reports say they were made: 2027-01-05 09:00:00 +07:00.
    static let generated: Int64 = 1_799_114_400_000

    static func at(_ secondsFromQ4: TimeInterval) -> Date { q4.addingTimeInterval(secondsFromQ4) }

    static func entry(
        _ at: Date,
        _ outcome: VerdictOutcome,
        direction: String = "in",
        agencies: [String] = ["quangninh"],
        rules: [String] = [],
        sender: String = "<vanthu@example.vn>",
        size: Int = 2048
    ) -> VerdictEntry {
        VerdictEntry(
            at: at,
            queueID: "Q\(Int(at.timeIntervalSince1970))",
            node: "thugate.test",
            clientAddress: "192.0.2.7",
            sender: sender,
            recipients: 1,
            size: size,
            direction: direction,
            agencies: agencies,
            outcome: outcome,
            rules: rules
        )
    }

    static let day: TimeInterval = 86400

    static let entries: [VerdictEntry] = [
        // Q2 → Q3: the last second of June, the first of July.
        entry(at(-92 * day - 1), .delivered),
        entry(at(-92 * day), .delivered, direction: "out"),
        entry(at(-40 * day), .refused, rules: ["executable"], sender: "<a@spam.example>"),
        entry(at(-1), .delivered, agencies: ["quangninh", "quan4"], rules: ["tcvn-conversion"], size: 5000),
        entry(at(-1), .refused, agencies: [], rules: ["virus"], sender: "<b@spam.example>"),
        // Q4 (and October) starts here, at 17:00 UTC on 2026-09-30.
        entry(at(0), .refused, agencies: ["quan4"], rules: ["virus", "executable"], sender: "<b@spam.example>"),
        entry(at(0), .held, direction: "internal", rules: ["encrypted-archive"], size: 300_000),
        entry(at(30_600), .delivered, rules: ["tcvn-conversion"], size: 4096),
        entry(at(30_601), .delivered, direction: "out"),
        entry(at(3 * day), .refused, agencies: [], rules: ["virus"], sender: "<b@spam.example>"),
        entry(at(3 * day), .refused, agencies: [], rules: ["attachment-size"], sender: ""),
        entry(at(14 * day + 3600), .tempfailed, direction: "transit", agencies: [], sender: "<c@example.org>"),
        entry(at(45 * day), .held, agencies: ["quan4"], rules: ["encrypted-archive", "office-macro"]),
        entry(at(91 * day + 43_200), .delivered, agencies: ["quan4"]),
        // The last second of Q4, then the first of 2027.
        entry(at(92 * day - 1), .delivered, direction: "internal", agencies: ["quangninh", "quan4"]),
        entry(at(92 * day), .refused, rules: ["virus"], sender: "<late@spam.example>"),
    ]

    /// A store holding `entries` and three held messages, with their decisions pinned to known
    /// times: released after 90 minutes, deleted after 2 days, one left held; and one held in Q3.
    static func withStore<T>(_ body: (SQLiteQuarantineStore) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reports-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/quarantine.sqlite"
        let store = try SQLiteQuarantineStore(path: path, actor: Actor(user: "thugate", sudoUser: "postmaster"))
        try await store.record(entries)
        func request(_ at: Date, _ recipients: [String]) -> HoldRequest {
            HoldRequest(
                queueID: "H\(Int(at.timeIntervalSince1970))",
                node: "thugate.test",
                receivedAt: at,
                clientAddress: "192.0.2.7",
                helo: "mail.example.vn",
                sender: "<vanthu@example.vn>",
                recipients: recipients,
                findings: [HeldFinding(rule: "encrypted-archive", detail: "a.zip: encrypted", part: "2")],
                category: "encrypted-archive",
                expiresAt: at.addingTimeInterval(30 * day)
            )
        }
        let inQ3 = try await store.hold(request(at(-1), ["<x@quangninh.gov.vn>"]), content: HeldBytes([1]))
        let first = try await store.hold(request(at(0), ["<a@quangninh.gov.vn>", "<b@quangninh.gov.vn>"]), content: HeldBytes([2]))
        let later = try await store.hold(request(at(45 * day), ["<c@tphcm.gov.vn>"]), content: HeldBytes([3]))
        let claimed = try await store.claimRelease(of: first.id, positions: [0], reason: "false positive")
        try await store.finishRelease(
            of: first.id,
            [ReleaseOutcome(position: claimed[0].position, state: .released, reply: "250 ok")],
            reason: "ok"
        )
        _ = try await store.delete(first.id, positions: [1], reason: "not needed")
        _ = try await store.delete(inQ3.id, positions: nil, reason: "not needed")
        _ = later
        // The decisions happened now; pin them to fixed times so the golden files are stable.
        let pinned = try DatabaseQueue(path: path)
        try await pinned.write { db in
            let pin = "UPDATE recipients SET changed_at = ? WHERE message_id = ? AND position = ?"
            try db.execute(sql: pin, arguments: [Self.milliseconds(at(5400)), first.id, 0])
            try db.execute(sql: pin, arguments: [Self.milliseconds(at(2 * day)), first.id, 1])
            try db.execute(sql: pin, arguments: [Self.milliseconds(at(600)), inQ3.id, 0])
        }
        try pinned.close()
        return try await body(store)
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// What `thugate report` does: read the roll-ups, the senders and the decisions, map them to
    /// the Reports rows, build the report.
    static func report(_ store: SQLiteQuarantineStore, _ period: ReportPeriod, by: Breakdown = .day) async throws -> UsageReport {
        let first = period.first.description
        let last = period.last.description
        let counts = try await store.dailyCounts(first: first, last: last)
        let senders = try await store.topSenders(outcome: .refused, first: first, last: last, limit: 10)
        let held = try await store.heldDecisions(
            receivedFrom: Date(timeIntervalSince1970: Double(period.startMilliseconds) / 1000),
            before: Date(timeIntervalSince1970: Double(period.endMilliseconds) / 1000)
        )
        return UsageReport(
            period: period,
            by: by,
            generatedAt: generated,
            rows: counts.map {
                RollupRow(
                    day: $0.day,
                    direction: $0.direction,
                    agency: $0.agency,
                    rule: $0.rule,
                    outcome: Outcome(rawValue: $0.outcome.rawValue)!,
                    messages: $0.messages,
                    bytes: $0.bytes
                )
            },
            refusedSenders: senders.map { SenderTotal(sender: $0.sender, messages: $0.messages) },
            decisions: held.map { r in
                let state: HeldDecision.State =
                    switch r.state {
                    case .released: .released
                    case .deleted: .deleted
                    case .failed: .failed
                    case .held, .releasing: .pending
                    }
                return HeldDecision(
                    heldAt: milliseconds(r.receivedAt),
                    decidedAt: state == .pending ? nil : r.changedAt.map(milliseconds),
                    state: state
                )
            },
            agencies: agencies
        )
    }

    /// Compares `text` with `Golden/name`, or writes it there under THUGATE_UPDATE_GOLDEN=1.
    static func check(_ text: String, _ name: String) throws {
        let url = golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["THUGATE_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        if expected != text {
            let actual = FileManager.default.temporaryDirectory.appendingPathComponent("actual-\(name)")
            try Data(text.utf8).write(to: actual)
            Issue.record("\(name) differs from the golden file: diff \(url.path) \(actual.path) (THUGATE_UPDATE_GOLDEN=1 regenerates)")
        }
    }

    @Test func theQuarterBoundaryIsVietnamMidnight() async throws {
        try await Self.withStore { store in
            // The first entry of Q4 is still 2026-09-30 in UTC.
            let utc = ISO8601DateFormatter()
            #expect(utc.string(from: Self.q4) == "2026-09-30T17:00:00Z")
            let q3 = try await Self.report(store, try ReportPeriod.parse("2026-Q3"))
            let q4 = try await Self.report(store, try ReportPeriod.parse("2026-Q4"))
            let september = try await Self.report(store, try ReportPeriod.parse("2026-09"))
            let october = try await Self.report(store, try ReportPeriod.parse("2026-10"))
            #expect(q3.totals.handled == 4)
            #expect(q4.totals.handled == 10)
            #expect(september.totals.handled == 2 && september.days.last?.counts.handled == 2)
            #expect(september.days.last?.key == "2026-09-30")
            #expect(october.days.first?.key == "2026-10-01" && october.days.first?.counts.handled == 4)
            #expect(october.totals == OutcomeCounts(delivered: 2, refused: 3, tempfailed: 1, held: 1, bytes: 2048 * 5 + 300_000 + 4096))
            // Held mail follows the same boundary: Q3's one recipient was deleted 10 minutes and 1 second after.
            #expect(q3.decisions.recipients == 1 && q3.decisions.deleted == 1 && q3.decisions.medianToDecision == 601_000)
            let d = q4.decisions
            #expect((d.recipients, d.released, d.deleted, d.pending) == (3, 1, 1, 1))
            #expect(d.medianToRelease == 5_400_000 && d.medianToDelete == 172_800_000)
            #expect(d.medianToDecision == Int64(89_100_000))
            // The last second of Q4 is in it (with the noon message of that day), the first of 2027 is not.
            #expect(q4.days.last?.key == "2026-12-31" && q4.days.last?.counts.handled == 2)
            #expect(q4.topRefusedSenders == [SenderTotal(sender: "<b@spam.example>", messages: 2), SenderTotal(sender: "", messages: 1)])
            #expect(
                q3.topRefusedSenders == [
                    SenderTotal(sender: "<a@spam.example>", messages: 1), SenderTotal(sender: "<b@spam.example>", messages: 1),
                ]
            )
            #expect(q3.conversions.handled == 1 && q4.conversions.handled == 1)
            let agencies = Dictionary(uniqueKeysWithValues: q4.agencies.map { ($0.key, $0.counts.handled) })
            #expect(agencies == ["quangninh": 4, "quan4": 4, "": 3])
        }
    }

    @Test func goldenFiles() async throws {
        try await Self.withStore { store in
            let q3 = try ReportPeriod.parse("2026-Q3")
            let q4 = try ReportPeriod.parse("2026-Q4")
            try Self.check(JSONRenderer.render(try await Self.report(store, q3)), "2026-Q3.json")
            try Self.check(JSONRenderer.render(try await Self.report(store, q4, by: .agency)), "2026-Q4-by-agency.json")
            try Self.check(CSVRenderer.render(try await Self.report(store, q4, by: .rule)), "2026-Q4-by-rule.csv")
            try Self.check(CSVRenderer.render(try await Self.report(store, try ReportPeriod.parse("2026-10"))), "2026-10.csv")
            try Self.check(TableRenderer.render(try await Self.report(store, q4, by: .agency)), "2026-Q4-by-agency.txt")
            try Self.check(HTMLRenderer.render(try await Self.report(store, q4)), "2026-Q4.html")
            try Self.check(HTMLRenderer.render(try await Self.report(store, try ReportPeriod.parse("2026-09"), by: .rule)), "2026-09.html")
        }
    }
}
