import Foundation
import Quarantine
import Testing

/// The decisions query `thugate report` uses: recipients of the messages held in a period, with
/// their state and when it changed.
@Suite struct HeldDecisionsTests {
    @Test(arguments: StoreKind.allCases) func recipientsOfMessagesHeldInThePeriodWithTheirDecisions(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            // 2026-09-30T17:00:00Z is 2026-10-01 00:00:00 +07:00, the first instant of Q4 in Vietnam.
            let q4 = Date(timeIntervalSince1970: 1_790_787_600)
            let before = try await store.hold(
                QuarantineStoreTests.request(queueID: "Q3LAST", at: q4.addingTimeInterval(-1)),
                content: HeldBytes([1])
            )
            let first = try await store.hold(
                QuarantineStoreTests.request(queueID: "Q4FIRST", at: q4, recipients: ["<a@x.vn>", "<b@x.vn>", "<c@x.vn>"]),
                content: HeldBytes([2])
            )
            let claimed = try await store.claimRelease(of: first.id, positions: [0], reason: "false positive")
            try await store.finishRelease(
                of: first.id,
                [ReleaseOutcome(position: claimed[0].position, state: .released, reply: "250 2.0.0 ok")],
                reason: "false positive"
            )
            _ = try await store.delete(first.id, positions: [1], reason: "spam")
            _ = try await store.delete(before.id, positions: nil, reason: "spam")

            let decisions = try await store.heldDecisions(receivedFrom: q4, before: q4.addingTimeInterval(92 * 86400))
            #expect(decisions.map(\.messageID) == [first.id, first.id, first.id])
            #expect(decisions.map(\.state) == [.released, .deleted, .held])
            #expect(decisions.allSatisfy { $0.receivedAt == q4 })
            #expect(decisions[0].changedAt != nil && decisions[1].changedAt != nil && decisions[2].changedAt == nil)
            #expect(decisions[0].changedAt! >= q4)

            let q3 = try await store.heldDecisions(receivedFrom: q4.addingTimeInterval(-92 * 86400), before: q4)
            #expect(q3.map(\.messageID) == [before.id, before.id])
            #expect(q3.map(\.state) == [.deleted, .deleted])
        }
    }
}
