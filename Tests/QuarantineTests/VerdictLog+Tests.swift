import Foundation
import Quarantine
import Testing

/// The verdict log's contract on the SQLite store: entries in, daily roll-ups out, local days in
/// Asia/Ho_Chi_Minh.
@Suite struct VerdictLogTests {
    /// 2026-09-30 23:59:59 +07:00, the last second of the third quarter in Hà Nội (16:59:59 UTC).
    static let lastSecondOfQ3 = Date(timeIntervalSince1970: 1_790_787_599)

    static func entry(
        at date: Date = lastSecondOfQ3,
        sender: String = "vanthu@example.vn",
        direction: String = "in",
        agencies: [String] = ["ubnd"],
        outcome: VerdictOutcome = .delivered,
        rules: [String] = [],
        size: Int = 1000
    ) -> VerdictEntry {
        VerdictEntry(
            at: date,
            queueID: "Q",
            node: "gw",
            clientAddress: "192.0.2.1",
            sender: sender,
            recipients: 1,
            size: size,
            direction: direction,
            agencies: agencies,
            outcome: outcome,
            rules: rules
        )
    }

    @Test func localDaysAreHanoiDaysAcrossTheQuarterBoundary() throws {
        #expect(LocalDay.of(Self.lastSecondOfQ3) == "2026-09-30")
        #expect(LocalDay.of(Self.lastSecondOfQ3.addingTimeInterval(1)) == "2026-10-01")
        // The UTC day there is still 30 September until 17:00 UTC.
        #expect(LocalDay.of(Date(timeIntervalSince1970: 1_790_787_600 + 6 * 3600)) == "2026-10-01")
        #expect(LocalDay.of(Date(timeIntervalSince1970: 0)) == "1970-01-01")
        #expect(LocalDay.of(Date(timeIntervalSince1970: -7 * 3600 - 1)) == "1969-12-31")
        #expect(LocalDay.of(Date(timeIntervalSince1970: 951_757_200)) == "2000-02-29")
        #expect(LocalDay.start(of: "2026-10-01") == Self.lastSecondOfQ3.addingTimeInterval(1))
        #expect(LocalDay.start(of: "2024-02-29") != nil)
        for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "26-01-01", "2026-00-10", "2026-04-31", "x"] {
            #expect(LocalDay.start(of: bad) == nil, "\(bad)")
        }
        // Every day of four years round-trips.
        var day = try #require(LocalDay.start(of: "2024-01-01"))
        var previous = ""
        for _ in 0..<(4 * 366) {
            let name = LocalDay.of(day)
            #expect(name > previous && LocalDay.start(of: name) == day)
            previous = name
            day.addTimeInterval(86400)
        }
    }

    @Test func anEntryKeepsEachAgencySortedAndEachRuleInOrderOnce() {
        let entry = Self.entry(agencies: ["ubnd", "sotttt", "ubnd"], rules: ["virus", "executable", "virus"])
        #expect(entry.agencies == ["sotttt", "ubnd"])
        #expect(entry.rules == ["virus", "executable"])
    }

    @Test(arguments: StoreKind.allCases) func entriesAreRolledUpPerDayAgencyRuleAndOutcome(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            try await store.record([
                Self.entry(),
                Self.entry(
                    at: Self.lastSecondOfQ3.addingTimeInterval(1),
                    agencies: ["ubnd", "sotttt"],
                    outcome: .refused,
                    rules: ["virus"]
                ),
                Self.entry(agencies: [], outcome: .held, rules: ["executable", "tcvn-conversion"], size: 10),
            ])
            try await store.record([Self.entry(size: 5)])
            let september = try await store.dailyCounts(first: "2026-09-01", last: "2026-09-30")
            func count(_ rows: [DailyCount], agency: String, rule: String, outcome: VerdictOutcome) -> (Int, Int64) {
                let match = rows.filter { $0.agency == agency && $0.rule == rule && $0.outcome == outcome }
                return (match.reduce(0) { $0 + $1.messages }, match.reduce(0) { $0 + $1.bytes })
            }
            #expect(count(september, agency: "*", rule: "*", outcome: .delivered) == (2, 1005))
            #expect(count(september, agency: "*", rule: "*", outcome: .held) == (1, 10))
            #expect(count(september, agency: "", rule: "executable", outcome: .held) == (1, 10))
            #expect(count(september, agency: "*", rule: "tcvn-conversion", outcome: .held) == (1, 10))
            #expect(count(september, agency: "ubnd", rule: "*", outcome: .delivered) == (2, 1005))
            #expect(september.allSatisfy { $0.day == "2026-09-30" })
            let october = try await store.dailyCounts(first: "2026-10-01", last: "2026-12-31")
            #expect(october.count == 6)
            #expect(count(october, agency: "sotttt", rule: "virus", outcome: .refused) == (1, 1000))
            #expect(count(october, agency: "*", rule: "*", outcome: .refused) == (1, 1000))
            #expect(try await store.verdictRows(limit: 10).map(\.day) == ["2026-09-30", "2026-10-01", "2026-09-30", "2026-09-30"])
        }
    }

    @Test(arguments: StoreKind.allCases) func topSendersRankRefusedMailNotDelivered(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            var entries: [VerdictEntry] = []
            for _ in 0..<3 { entries.append(Self.entry(sender: "spam@bad.example", outcome: .refused)) }
            entries.append(Self.entry(sender: "a@bad.example", outcome: .refused))
            entries.append(Self.entry(sender: "b@bad.example", outcome: .refused))
            for _ in 0..<5 { entries.append(Self.entry(sender: "many@good.example", outcome: .delivered)) }
            try await store.record(entries)
            let top = try await store.topSenders(outcome: .refused, first: "2026-09-30", last: "2026-09-30", limit: 2)
            #expect(top == [SenderCount(sender: "spam@bad.example", messages: 3), SenderCount(sender: "a@bad.example", messages: 1)])
            #expect(try await store.topSenders(outcome: .delivered, first: "2026-01-01", last: "2026-12-31", limit: 5).isEmpty)
            #expect(try await store.topSenders(outcome: .refused, first: "2026-10-01", last: "2026-12-31", limit: 5).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func expiryRemovesOldRowsAndOldRollupsOnly(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            let old = Self.lastSecondOfQ3.addingTimeInterval(-400 * 86400)
            try await store.record([Self.entry(at: old, outcome: .refused), Self.entry()])
            let removed = try await store.expireVerdicts(before: Self.lastSecondOfQ3.addingTimeInterval(-86400), rollupsBefore: old)
            #expect(removed == 1)
            #expect(try await store.verdictRows(limit: 10).count == 1)
            #expect(try await store.dailyCounts(first: "2000-01-01", last: "2099-12-31").contains { $0.outcome == .refused })
            _ = try await store.expireVerdicts(before: old, rollupsBefore: Self.lastSecondOfQ3)
            #expect(try await store.dailyCounts(first: "2000-01-01", last: "2099-12-31").allSatisfy { $0.day == "2026-09-30" })
        }
    }
}
