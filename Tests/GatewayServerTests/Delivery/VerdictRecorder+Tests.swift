import Foundation
import Logging
import Policy
import Quarantine
import SMTPCore
import Testing

@testable import GatewayServer

/// A finished message becomes one verdict entry, written in batches; a failing log keeps the
/// entries for the next try, within its bound.
@Suite struct VerdictRecorderTests {
    final class MemoryLog: VerdictLog, @unchecked Sendable {
        // Unchecked: guarded by `lock`.
        let lock = NSLock()
        var batches: [[VerdictEntry]] = []
        var failing = false
        struct Down: Error {}

        func record(_ entries: [VerdictEntry]) async throws {
            try lock.withLock {
                if failing { throw Down() }
                batches.append(entries)
            }
        }
        func dailyCounts(first: String, last: String) async throws -> [DailyCount] { [] }
        func topSenders(outcome: VerdictOutcome, first: String, last: String, limit: Int) async throws -> [SenderCount] { [] }
        func expireVerdicts(before perMessage: Date, rollupsBefore rollups: Date) async throws -> Int { 0 }
    }

    static func outcome(_ disposition: MessageOutcome.Disposition, findings: [Finding] = [], transforms: [String] = []) -> MessageOutcome {
        var outcome = AddedHeadersTests.outcome(recipients: ["x@y.z", "w@y.z"])
        outcome.disposition = disposition
        outcome.findings = findings
        outcome.transforms = transforms
        outcome.size = 42
        return outcome
    }

    @Test func eachDispositionIsCountedAsWhatTheClientWasTold() throws {
        let virus = Finding(.virus, detail: "Eicar", part: "2")
        let cases: [(MessageOutcome.Disposition, VerdictOutcome)] = [
            (.relayed(Reply(code: 250, status: EnhancedStatus(2, 0, 0), lines: ["Ok"])), .delivered),
            (.relayed(Reply(code: 550, status: EnhancedStatus(5, 1, 1), lines: ["No such user"])), .refused),
            (.relayed(Reply(code: 451, status: EnhancedStatus(4, 3, 0), lines: ["Later"])), .tempfailed),
            (.refused(PolicyReplies.reject(virus)), .refused),
            (.deferred(PolicyReplies.scanFailed), .tempfailed),
            (.held(id: "0123", PolicyReplies.quarantined("0123")), .held),
        ]
        for (disposition, expected) in cases {
            let entry = try #require(
                VerdictEntry(Self.outcome(disposition, findings: [virus, virus], transforms: ["tcvn-6909"]), at: Date())
            )
            #expect(entry.outcome == expected)
            #expect(entry.rules == ["virus", VerdictEntry.conversionRule])
            #expect(entry.recipients == 2 && entry.size == 42 && entry.sender == "a@b.c")
            #expect(entry.heldID == (expected == .held ? "0123" : nil))
        }
        #expect(VerdictEntry(AddedHeadersTests.outcome(recipients: ["x@y.z"]), at: Date()) == nil)
    }

    @Test func entriesAreWrittenInOneBatchAndKeptWhenTheLogFails() async throws {
        let log = MemoryLog()
        let recorder = VerdictRecorder(log: log, logger: Logger(label: "test"), maxPending: 3)
        log.failing = true
        for _ in 0..<2 { recorder.record(Self.outcome(.relayed(Reply(code: 250, status: EnhancedStatus(2, 0, 0), lines: ["Ok"])))) }
        await recorder.flush()
        #expect(log.batches.isEmpty)
        // Two kept, one more fits, the fourth is dropped (and logged).
        for _ in 0..<2 { recorder.record(Self.outcome(.refused(Reply(code: 550, status: EnhancedStatus(5, 7, 1), lines: ["No"])))) }
        log.failing = false
        await recorder.flush()
        #expect(log.batches.map(\.count) == [3])
        #expect(log.batches[0].map(\.outcome) == [.delivered, .delivered, .refused])
        await recorder.flush()
        #expect(log.batches.count == 1)
    }
}
