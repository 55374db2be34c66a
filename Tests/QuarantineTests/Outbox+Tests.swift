import Foundation
import Quarantine
import Testing

/// The outbox's contract (`QuarantineStore`'s notice requirements), on the SQLite store: notices
/// are written with the hold or not at all, claimed by one owner at a time, finished only by
/// their owner, and due again after a lease or a retry.
@Suite struct OutboxTests {
    static let event = NoticeEvent(
        outcome: "held",
        queueID: "0B1C2D3F4G5H",
        receivedAt: Date(timeIntervalSince1970: 1_800_000_000),
        sender: "<vanthu@quangninh.gov.vn>",
        recipients: ["<lanhdao@quangninh.gov.vn>"],
        headerFrom: "Văn thư <vanthu@quangninh.gov.vn>",
        subject: "Hồ sơ",
        rule: "encrypted-archive",
        findings: [HeldFinding(rule: "encrypted-archive", detail: "a.zip", part: "2")]
    )

    static func notice(_ to: String, mode: NoticeMode = .immediate, due: Date) -> NoticeRequest {
        NoticeRequest(recipient: to, role: .officer, mode: mode, event: event, dueAt: due)
    }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreKind.allCases) func noticesAreWrittenInTheHoldsTransactionOrNotAtAll(kind: StoreKind) async throws {
        struct Injected: Error {}
        let failing: @Sendable () throws -> Void = { throw Injected() }
        try await QuarantineStoreTests.withStore(kind, beforeCommit: failing) { (store, _) async throws in
            var request = QuarantineStoreTests.request()
            request.notices = [Self.notice("antoan@quangninh.gov.vn", due: Self.start)]
            await #expect(throws: (any Error).self) { try await store.hold(request, content: HeldBytes([1, 2, 3])) }
            #expect(try await store.notices(NoticeQuery()).isEmpty)
        }
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            var request = QuarantineStoreTests.request()
            request.notices = [Self.notice("antoan@quangninh.gov.vn", due: Self.start), Self.notice("b@quangninh.gov.vn", due: Self.start)]
            let held = try await store.hold(request, content: HeldBytes([1, 2, 3]))
            let stored = try await store.notices(messageID: held.id)
            #expect(stored.map(\.request.recipient) == ["antoan@quangninh.gov.vn", "b@quangninh.gov.vn"])
            #expect(stored.allSatisfy { $0.state == .pending && $0.attempts == 0 && $0.messageID == held.id })
            #expect(stored[0].request.event == Self.event)
        }
    }

    @Test(arguments: StoreKind.allCases) func aNoticeIsClaimedByOneOwnerAndFinishedOnlyByIt(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            _ = try await store.enqueueNotices((0..<20).map { Self.notice("o\($0)@quangninh.gov.vn", due: Self.start) }, messageID: nil)
            // Two senders at once: every notice is claimed exactly once.
            async let a = store.claimDueNotices(now: Self.start, owner: "a", lease: 600, limit: 100)
            async let b = store.claimDueNotices(now: Self.start, owner: "b", lease: 600, limit: 100)
            let (claimedA, claimedB) = try await (a, b)
            #expect(claimedA.count + claimedB.count == 20)
            #expect(Set(claimedA.map(\.id)).isDisjoint(with: claimedB.map(\.id)))
            // Nothing is due while the claims hold.
            #expect(try await store.claimDueNotices(now: Self.start.addingTimeInterval(599), owner: "c", lease: 600, limit: 100).isEmpty)
            let mine = claimedA.isEmpty ? claimedB : claimedA
            let owner = claimedA.isEmpty ? "b" : "a"
            // Another owner's result changes nothing.
            try await store.finishNotices(
                [NoticeResult(id: mine[0].id, outcome: .sent(mailID: "<x@y>"), reply: "250 ok")],
                owner: "intruder",
                now: Self.start
            )
            #expect(try await store.notices(NoticeQuery(states: [.sent])).isEmpty)
            try await store.finishNotices(
                [NoticeResult(id: mine[0].id, outcome: .sent(mailID: "<x@y>"), reply: "250 ok")],
                owner: owner,
                now: Self.start
            )
            let sent = try await store.notices(NoticeQuery(states: [.sent]))
            #expect(sent.map(\.id) == [mine[0].id] && sent[0].mailID == "<x@y>" && sent[0].attempts == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func aClaimWhoseLeaseRanOutIsTakenAgainAndTheOldOwnerCannotFinishIt(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            _ = try await store.enqueueNotices([Self.notice("antoan@quangninh.gov.vn", due: Self.start)], messageID: nil)
            let firsts = try await store.claimDueNotices(now: Self.start, owner: "dead", lease: 60, limit: 10)
            try #require(firsts.count == 1)
            let first = firsts[0]
            let agains = try await store.claimDueNotices(now: Self.start.addingTimeInterval(60), owner: "live", lease: 60, limit: 10)
            try #require(agains.count == 1)
            let again = agains[0]
            #expect(again.id == first.id && again.attempts == 2 && again.claimedBy == "live")
            try await store.finishNotices([NoticeResult(id: first.id, outcome: .dead, reply: "late")], owner: "dead", now: Self.start)
            #expect(try await store.notices(NoticeQuery(states: [.sending])).count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func aRetryIsDueAtItsTimeAndADeadNoticeOnlyByHand(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            let writtens = try await store.enqueueNotices([Self.notice("antoan@quangninh.gov.vn", due: Self.start)], messageID: nil)
            try #require(writtens.count == 1)
            let written = writtens[0]
            _ = try await store.claimDueNotices(now: Self.start, owner: "a", lease: 600, limit: 10)
            let later = Self.start.addingTimeInterval(300)
            try await store.finishNotices(
                [NoticeResult(id: written.id, outcome: .retry(at: later), reply: "451 4.3.0 later")],
                owner: "a",
                now: Self.start
            )
            #expect(try await store.nextNoticeDue() == later)
            #expect(try await store.claimDueNotices(now: later.addingTimeInterval(-1), owner: "a", lease: 600, limit: 10).isEmpty)
            let retrieds = try await store.claimDueNotices(now: later, owner: "a", lease: 600, limit: 10)
            try #require(retrieds.count == 1)
            let retried = retrieds[0]
            #expect(retried.lastReply == "451 4.3.0 later" && retried.attempts == 2)
            try await store.finishNotices([NoticeResult(id: written.id, outcome: .dead, reply: "550 5.1.1 no")], owner: "a", now: later)
            #expect(try await store.claimDueNotices(now: later.addingTimeInterval(86400 * 30), owner: "a", lease: 600, limit: 10).isEmpty)
            #expect(try await store.nextNoticeDue() == nil)
            let revived = try await store.retryNotice(String(written.id.prefix(14)), now: later)
            #expect(revived.state == .pending && revived.attempts == 0)
            #expect(try await store.claimDueNotices(now: later, owner: "a", lease: 600, limit: 10).map(\.id) == [written.id])
            await #expect(throws: QuarantineError.self) { try await store.retryNotice("zzzz", now: later) }
        }
    }

    @Test(arguments: StoreKind.allCases) func aDigestIsClaimedWholeForOneRecipientAndDay(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            let digest = Self.start.addingTimeInterval(3600)
            _ = try await store.enqueueNotices(
                [
                    Self.notice("vanthu@quangninh.gov.vn", mode: .digest, due: digest),
                    Self.notice("vanthu@quangninh.gov.vn", mode: .digest, due: digest),
                    Self.notice("other@quangninh.gov.vn", mode: .digest, due: digest),
                    Self.notice("vanthu@quangninh.gov.vn", mode: .digest, due: digest.addingTimeInterval(86400)),
                ],
                messageID: nil
            )
            #expect(try await store.claimDueNotices(now: digest.addingTimeInterval(-1), owner: "a", lease: 60, limit: 10).isEmpty)
            // A limit of one still takes the whole digest of the first notice due.
            let claimed = try await store.claimDueNotices(now: digest, owner: "a", lease: 60, limit: 1)
            #expect(claimed.count == 2 && claimed.allSatisfy { $0.request.recipient == "vanthu@quangninh.gov.vn" && $0.digestAt == digest })
            let rest = try await store.claimDueNotices(now: digest, owner: "a", lease: 60, limit: 10)
            #expect(rest.map(\.request.recipient) == ["other@quangninh.gov.vn"])
        }
    }

    @Test(arguments: StoreKind.allCases) func aFloodOfDigestNoticesIsClaimedInDigestsOfBoundedSize(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            let digest = Self.start.addingTimeInterval(3600)
            let many = SQLiteQuarantineStore.maxDigestNotices + 7
            _ = try await store.enqueueNotices(
                (0..<many).map { _ in Self.notice("antoan@quangninh.gov.vn", mode: .digest, due: digest) },
                messageID: nil
            )
            let first = try await store.claimDueNotices(now: digest, owner: "a", lease: 60, limit: 1)
            #expect(first.count == SQLiteQuarantineStore.maxDigestNotices)
            let second = try await store.claimDueNotices(now: digest, owner: "a", lease: 60, limit: 1)
            #expect(second.count == 7 && Set(second.map(\.id)).isDisjoint(with: first.map(\.id)))
        }
    }

    @Test(arguments: StoreKind.allCases) func claimsOfAProcessThatIsGoneArePutBack(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            _ = try await store.enqueueNotices(
                [Self.notice("a@quangninh.gov.vn", due: Self.start), Self.notice("b@quangninh.gov.vn", due: Self.start)],
                messageID: nil
            )
            _ = try await store.claimDueNotices(now: Self.start, owner: "node 1 gone", lease: 3600, limit: 1)
            _ = try await store.claimDueNotices(now: Self.start, owner: "node 2 alive", lease: 3600, limit: 1)
            let released = try await store.releaseNoticeClaims(now: Self.start) { $0.hasSuffix("gone") }
            #expect(released == 1)
            let dues = try await store.claimDueNotices(now: Self.start, owner: "new", lease: 3600, limit: 10)
            try #require(dues.count == 1)
            let due = dues[0]
            #expect(due.request.recipient == "a@quangninh.gov.vn" && due.attempts == 2)
        }
    }
}
