import Foundation
import Quarantine
import Testing

/// The contract of release and delete: claims are compare-and-set, every action is audited in
/// the chain. Any ``QuarantineStore`` must pass these.
@Suite struct QuarantineActionTests {
    /// The audit chain links every row to the one before it and each hash is its row's.
    static func chainIsIntact(_ audit: [AuditEntry]) -> Bool {
        var previous = AuditEntry.genesis
        for entry in audit {
            let recomputed = AuditEntry.chainHash(
                previousHash: entry.previousHash,
                sequence: entry.sequence,
                atMilliseconds: Int64((entry.at.timeIntervalSince1970 * 1000).rounded()),
                actor: entry.actor,
                sudoUser: entry.sudoUser,
                action: entry.action,
                messageID: entry.messageID,
                detail: entry.detail
            )
            guard entry.previousHash == previous, entry.hash == recomputed else { return false }
            previous = entry.hash
        }
        return true
    }

    @Test(arguments: StoreKind.allCases) func aReleaseClaimsHeldRecipientsOnceAndRecordsTheUpstreamsReply(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            let request = QuarantineStoreTests.request(recipients: ["<a@q.vn>", "<b@q.vn>", "<c@q.vn>"])
            let held = try await store.hold(request, content: HeldBytes([1, 2, 3]))
            let claimed = try await store.claimRelease(of: held.id, positions: [1], reason: "false positive")
            #expect(claimed == [ClaimedRecipient(position: 1, address: "<b@q.vn>")])
            #expect(try await store.message(held.id).recipients.map(\.state) == [.held, .releasing, .held])
            // A second claim of the same recipient gets nothing while the first is under way.
            #expect(try await store.claimRelease(of: held.id, positions: [1], reason: "again").isEmpty)
            try await store.finishRelease(
                of: held.id,
                [ReleaseOutcome(position: 1, state: .released, reply: "250 2.0.0 OK")],
                reason: "false positive"
            )
            let after = try await store.message(held.id).recipients
            #expect(after.map(\.state) == [.held, .released, .held])
            #expect(after[1].lastReply == "250 2.0.0 OK" && after[1].changedBy == "postmaster (as thugate)")
            #expect(try await store.claimRelease(of: held.id, positions: [1], reason: "again").isEmpty)

            // A temporary failure puts it back to held, a permanent one marks it failed.
            let rest = try await store.claimRelease(of: held.id, positions: nil, reason: "rest")
            #expect(rest.map(\.position) == [0, 2])
            try await store.finishRelease(
                of: held.id,
                [
                    ReleaseOutcome(position: 0, state: .held, reply: "451 4.3.0 later"),
                    ReleaseOutcome(position: 2, state: .failed, reply: "550 5.1.1 no such user"),
                ],
                reason: "rest"
            )
            #expect(try await store.message(held.id).recipients.map(\.state) == [.held, .released, .failed])

            let deleted = try await store.delete(held.id, positions: nil, reason: "spam")
            #expect(deleted.map(\.position) == [0, 2])
            #expect(try await store.message(held.id).recipients.map(\.state) == [.deleted, .released, .deleted])
            #expect(try await store.claimRelease(of: held.id, positions: nil, reason: "late").isEmpty)
            // The bytes stay until a purge.
            #expect(try await QuarantineStoreTests.content(of: held.id, in: store) == [1, 2, 3])

            let audit = try await store.audit(messageID: nil)
            #expect(audit.map(\.action) == ["hold", "release-claim", "release", "release-claim", "release", "delete"])
            #expect(audit.allSatisfy { $0.messageID == held.id && $0.actor == "thugate" && $0.sudoUser == "postmaster" })
            #expect(audit[2].detail == "<b@q.vn> released: 250 2.0.0 OK; reason: false positive")
            #expect(Self.chainIsIntact(audit))
        }
    }

    @Test(arguments: StoreKind.allCases) func twoConcurrentReleasesOfOneRecipientHaveExactlyOneWinner(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, fixture in
            // Two reviewers: two stores (two connection pools) on one file, as two processes, or two nodes.
            let other = try await fixture.other(Actor(user: "officer", sudoUser: nil))
            for round in 0..<25 {
                let held = try await store.hold(QuarantineStoreTests.request(queueID: "R\(round)"), content: HeldBytes([UInt8(round)]))
                async let first = store.claimRelease(of: held.id, positions: [0], reason: "one")
                async let second = other.claimRelease(of: held.id, positions: [0], reason: "two")
                let claims = try await [first, second]
                #expect(claims.map(\.count).sorted() == [0, 1], "round \(round)")
                #expect(try await store.message(held.id).recipients.map(\.state) == [.releasing, .held])
            }
            #expect(Self.chainIsIntact(try await store.audit(messageID: nil)))
        }
    }

    @Test(arguments: StoreKind.allCases) func aReleaseClaimWhoseLeaseRanOutIsTakenAgainAndNotBefore(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, fixture in
            let held = try await store.hold(
                QuarantineStoreTests.request(recipients: ["<a@q.vn>", "<b@q.vn>", "<c@q.vn>"]),
                content: HeldBytes([1])
            )
            let start = Date()
            // A process claims two recipients and dies (SIGKILL) before it finishes.
            let first = try await store.claimRelease(of: held.id, positions: [0, 1], reason: "killed", lease: 60, now: start)
            #expect(first.map(\.position) == [0, 1])
            // Another process, before the lease ran out: only the recipient still held.
            let other = try await fixture.other(Actor(user: "officer", sudoUser: nil))
            let early = try await other.claimRelease(
                of: held.id,
                positions: nil,
                reason: "early",
                lease: 60,
                now: start.addingTimeInterval(59)
            )
            #expect(early == [ClaimedRecipient(position: 2, address: "<c@q.vn>")])
            // After it: the dead process's claims are taken again; c's (leased until start + 119) is not.
            let again = try await other.claimRelease(
                of: held.id,
                positions: nil,
                reason: "again",
                lease: 60,
                now: start.addingTimeInterval(60)
            )
            #expect(again.map(\.position) == [0, 1])
            #expect(try await store.message(held.id).recipients.map(\.state) == [.releasing, .releasing, .releasing])
            #expect(try await store.message(held.id).recipients[0].changedBy == "officer")
            // The dead process's late outcome is ignored: the claim is the other's now.
            try await store.finishRelease(of: held.id, [ReleaseOutcome(position: 0, state: .released, reply: "250 late")], reason: "late")
            #expect(try await store.message(held.id).recipients[0].state == .releasing)
            try await other.finishRelease(of: held.id, [ReleaseOutcome(position: 0, state: .released, reply: "250 ok")], reason: "ok")
            #expect(try await store.message(held.id).recipients[0].state == .released)
            // The default lease is long: a claim now is not taken by a claim a minute later.
            let fresh = try await store.hold(QuarantineStoreTests.request(queueID: "F"), content: HeldBytes([2]))
            #expect(try await store.claimRelease(of: fresh.id, positions: [0], reason: "now").count == 1)
            #expect(
                try await other.claimRelease(of: fresh.id, positions: [0], reason: "x", lease: 60, now: Date().addingTimeInterval(60))
                    .isEmpty
            )
            let actions = try await store.audit(messageID: held.id).map(\.action)
            #expect(actions == ["hold", "release-claim", "release-claim", "release-claim", "release", "release"])
            #expect(try await store.verifyAudit().problem == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func anUnknownMessageIsNotFound(kind: StoreKind) async throws {
        _ = try await QuarantineStoreTests.withStore(kind) { store, _ in
            await #expect(throws: QuarantineError.self) { try await store.delete("zzzz", positions: nil, reason: "x") }
        }
    }
}
