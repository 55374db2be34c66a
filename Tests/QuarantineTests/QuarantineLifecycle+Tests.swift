import Foundation
import GRDB
import Quarantine
import Testing

/// The life cycle of a held message, as the protocol promises it: legal hold, two-person
/// release, recipients left releasing, purge, import; then the SQLite store's space reclaiming.
@Suite struct QuarantineLifecycleTests {
    static let day: TimeInterval = 86400

    static func request(at date: Date, expires: TimeInterval = 30 * day, legalHold: Bool = false, queueID: String = "L1") -> HoldRequest {
        var request = QuarantineStoreTests.request(queueID: queueID, at: date)
        request.expiresAt = date.addingTimeInterval(expires)
        request.legalHold = legalHold
        return request
    }

    @Test(arguments: StoreKind.allCases) func aLegalHoldIsLiftedOnceAndAudited(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            let held = try await store.hold(Self.request(at: Date(), legalHold: true), content: HeldBytes([1]))
            #expect(try await store.liftLegalHold(of: held.id, reason: "đã xử lý"))
            #expect(try await store.message(held.id).request.legalHold == false)
            #expect(try await store.liftLegalHold(of: held.id, reason: "again") == false)
            let audit = try await store.audit(messageID: held.id)
            #expect(audit.map(\.action) == ["hold", "lift-hold"])
            #expect(audit[1].detail == "legal hold lifted; reason: đã xử lý")
            await #expect(throws: QuarantineError.self) { try await store.liftLegalHold(of: "zzzz", reason: "x") }
        }
    }

    @Test(arguments: StoreKind.allCases) func aReleaseRequestNeedsASecondPersonToApprove(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, fixture in
            // The fixture's actor is root-like "thugate" under sudo as "postmaster".
            let held = try await store.hold(Self.request(at: Date()), content: HeldBytes([1]))
            await #expect(
                throws: QuarantineError(
                    .notFound,
                    "no release request for \(held.id): one person asks with `release --force`, another approves"
                )
            ) {
                try await store.approveRelease(of: held.id, reason: "early")
            }
            let request = try await store.requestRelease(of: held.id, positions: [1], reason: "văn bản thật")
            #expect(request.requestedBy == "postmaster" && request.requestedByName == "postmaster (as thugate)")
            #expect(request.positions == [1] && request.approvedBy == nil)
            // Nothing is claimed: the recipients stay held.
            #expect(try await store.message(held.id).recipients.map(\.state) == [.held, .held])
            // Asking again changes nothing while it is pending.
            #expect(try await store.requestRelease(of: held.id, positions: nil, reason: "again") == request)

            // The same person (under another OS account through sudo, too) may not approve.
            let samePerson = try await fixture.other(Actor(user: "root", sudoUser: "postmaster"))
            do {
                _ = try await samePerson.approveRelease(of: held.id, reason: "me")
                Issue.record("the requester approved their own release")
            } catch let error as QuarantineError {
                #expect(error.kind == .secondPersonRequired)
            }
            // The OS user without sudo is that user.
            let officer = try await fixture.other(Actor(user: "antoan", sudoUser: nil))
            let approved = try await officer.approveRelease(of: held.id, reason: "đồng ý")
            #expect(approved.approvedBy == "antoan" && approved.positions == [1])
            #expect(try await store.releaseRequest(of: held.id)?.approvedBy == "antoan")
            let audit = try await store.audit(messageID: held.id)
            #expect(audit.map(\.action) == ["hold", "release-request", "approve"])
            #expect(audit[1].detail.contains("<b@quangninh.gov.vn> requested, awaiting a second person"))
            #expect(audit[2].actor == "antoan" && audit[2].detail.contains("requested by postmaster (as thugate) approved"))
            #expect(QuarantineActionTests.chainIsIntact(try await store.audit(messageID: nil)))
            // Once approved, a new request may be made (another recipient later).
            let next = try await store.requestRelease(of: held.id, positions: [0], reason: "người còn lại")
            #expect(next.positions == [0] && next.approvedBy == nil)
        }
    }

    @Test func theActorsPersonIsTheSudoUserElseTheOSUser() {
        #expect(Actor(user: "root", sudoUser: "alice").person == "alice")
        #expect(Actor(user: "root", sudoUser: nil).person == "root")
        #expect(Actor(user: "bob", sudoUser: nil).person == "bob")
        // Only root's SUDO_USER is believed: anyone else can set it in their environment.
        if geteuid() != 0 { #expect(Actor.current.sudoUser == nil) }
        // The kernel's login user wins over both: alice in a `sudo -i` shell with SUDO_USER
        // unset or set to bob is still alice.
        #expect(Actor(user: "root", sudoUser: nil, loginUser: "alice").person == "alice")
        #expect(Actor(user: "root", sudoUser: "bob", loginUser: "alice").person == "alice")
        let loginuid = (try? String(contentsOfFile: "/proc/self/loginuid", encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        #expect((Actor.current.loginUser == nil) == (loginuid == nil || loginuid == "4294967295"))
    }

    @Test(arguments: StoreKind.allCases) func aRecipientLeftReleasingIsResolvedByHandWithACompareAndSet(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            let held = try await store.hold(
                QuarantineStoreTests.request(recipients: ["<a@q.vn>", "<b@q.vn>", "<c@q.vn>"]),
                content: HeldBytes([1])
            )
            _ = try await store.claimRelease(of: held.id, positions: [0, 1], reason: "killed mid-send")
            // Only releasing ones change: c is held and stays so.
            let released = try await store.resolveReleasing(of: held.id, positions: [0, 2], as: .released, reason: "upstream log: queued")
            #expect(released == [ClaimedRecipient(position: 0, address: "<a@q.vn>")])
            let back = try await store.resolveReleasing(of: held.id, positions: nil, as: .held, reason: "not in the log")
            #expect(back == [ClaimedRecipient(position: 1, address: "<b@q.vn>")])
            let recipients = try await store.message(held.id).recipients
            #expect(recipients.map(\.state) == [.released, .held, .held])
            #expect(recipients[0].lastReply == "resolved by hand: upstream log: queued")
            // Held again, it may be released again.
            #expect(try await store.claimRelease(of: held.id, positions: [1], reason: "again").count == 1)
            #expect(try await store.resolveReleasing(of: held.id, positions: [2], as: .held, reason: "x").isEmpty)
            await #expect(throws: QuarantineError.self) {
                try await store.resolveReleasing(of: held.id, positions: nil, as: .deleted, reason: "x")
            }
            let actions = try await store.audit(messageID: held.id).map(\.action)
            #expect(actions == ["hold", "release-claim", "resolve", "resolve", "release-claim"])
        }
    }

    @Test(arguments: StoreKind.allCases) func aPurgeRemovesTheBytesOfDecidedAndExpiredMailOnly(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            let now = Date()
            let old = now.addingTimeInterval(-40 * Self.day)
            let bytes = QuarantineStoreTests.bytes(2 * SQLiteQuarantineStore.chunkSize + 10)
            // Decided (released and deleted) 40 days ago; decided yesterday; expired; expired under
            // legal hold; expired but left releasing; not expired.
            let decided = try await store.hold(Self.request(at: old, queueID: "D"), content: HeldBytes(bytes))
            _ = try await store.claimRelease(of: decided.id, positions: [0], reason: "r")
            try await store.finishRelease(of: decided.id, [ReleaseOutcome(position: 0, state: .released, reply: "250 ok")], reason: "r")
            _ = try await store.delete(decided.id, positions: [1], reason: "d")
            let recent = try await store.hold(Self.request(at: now.addingTimeInterval(-Self.day), queueID: "R"), content: HeldBytes([2]))
            _ = try await store.delete(recent.id, positions: nil, reason: "d")
            let expired = try await store.hold(Self.request(at: old, queueID: "E"), content: HeldBytes([3]))
            let legal = try await store.hold(Self.request(at: old, legalHold: true, queueID: "L"), content: HeldBytes([4]))
            let stuck = try await store.hold(Self.request(at: old, queueID: "S"), content: HeldBytes([5]))
            _ = try await store.claimRelease(of: stuck.id, positions: [0], reason: "killed")
            let fresh = try await store.hold(Self.request(at: old, expires: 60 * Self.day, queueID: "F"), content: HeldBytes([6]))

            let cutoff = now.addingTimeInterval(-30 * Self.day)
            let candidates = try await store.purgeCandidates(decidedBefore: cutoff, now: now)
            #expect(candidates.map(\.id) == [decided.id, expired.id].sorted())
            #expect(candidates.first { $0.id == decided.id }?.reason == .decided)
            #expect(candidates.first { $0.id == expired.id }?.reason == .expired)

            // Each purge checks the condition again in its transaction: a second one does nothing.
            #expect(try await store.purge(candidates, decidedBefore: cutoff, now: now) == candidates.map(\.id))
            #expect(try await store.purge(candidates, decidedBefore: cutoff, now: now).isEmpty)

            for id in [decided.id, expired.id] {
                let message = try await store.message(id)
                #expect(message.purgedAt != nil)
                do {
                    _ = try await QuarantineStoreTests.content(of: id, in: store)
                    Issue.record("a purged message was read")
                } catch let error as QuarantineError {
                    #expect(error.kind == .purged)
                }
                // Rows, findings and audit stay.
                #expect(message.request.findings.count == 2 && message.recipients.count == 2)
                #expect(try await store.audit(messageID: id).last?.action == "purge")
            }
            // Expired held recipients can no longer be released: the purge marked them deleted.
            let expiredRecipients = try await store.message(expired.id).recipients
            #expect(expiredRecipients.allSatisfy { $0.state == .deleted && $0.lastReply == "purged: retention expired" })
            #expect(try await store.message(decided.id).recipients.map(\.state) == [.released, .deleted])
            for id in [recent.id, legal.id, stuck.id, fresh.id] {
                #expect(try await store.message(id).purgedAt == nil)
                _ = try await QuarantineStoreTests.content(of: id, in: store)
            }
            // A lifted legal hold makes it a candidate.
            _ = try await store.liftLegalHold(of: legal.id, reason: "xong")
            #expect(try await store.purgeCandidates(decidedBefore: cutoff, now: now).map(\.id) == [legal.id])
            #expect(QuarantineActionTests.chainIsIntact(try await store.audit(messageID: nil)))
        }
    }

    @Test func aNewStoreGivesPurgedSpaceBackInSteps() async throws {
        try await QuarantineStoreTests.withSQLiteStore { store, path in
            let before = try await store.storage()
            #expect(before.incremental, "a new store has auto_vacuum = INCREMENTAL")
            let old = Date().addingTimeInterval(-40 * Self.day)
            var ids: [String] = []
            for i in 0..<4 {
                let held = try await store.hold(
                    Self.request(at: old, expires: Self.day, queueID: "V\(i)"),
                    content: HeldBytes(QuarantineStoreTests.bytes(SQLiteQuarantineStore.chunkSize, seed: UInt64(i)))
                )
                ids.append(held.id)
            }
            let full = try await store.storage()
            _ = try await store.purge(
                try await store.purgeCandidates(decidedBefore: Date(), now: Date()),
                decidedBefore: Date(),
                now: Date()
            )
            #expect(try await store.storage().freePages > 200)
            let freed = try await store.reclaim(stepPages: 64)
            let after = try await store.storage()
            #expect(freed > 200 && after.freePages == 0)
            #expect(after.pages < full.pages - 200)
            #expect(try await store.message(ids[0]).purgedAt != nil)
            _ = path
        }
    }

    @Test func anOlderStoreIsVacuumedOnceAndThenReclaimsInSteps() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vacuum-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/q.sqlite"
        // A file made before this version: a table exists, so auto_vacuum can no longer be chosen.
        try await DatabaseQueue(path: path).write { try $0.execute(sql: "CREATE TABLE earlier (x)") }
        let store = try SQLiteQuarantineStore(path: path)
        #expect(try await store.storage().incremental == false)
        let old = Date().addingTimeInterval(-40 * Self.day)
        for i in 0..<3 {
            _ = try await store.hold(
                Self.request(at: old, expires: Self.day, queueID: "O\(i)"),
                content: HeldBytes(QuarantineStoreTests.bytes(SQLiteQuarantineStore.chunkSize, seed: UInt64(i)))
            )
        }
        let candidates = try await store.purgeCandidates(decidedBefore: Date(), now: Date())
        #expect(try await store.purge(candidates, decidedBefore: Date(), now: Date()).count == 3)
        let purged = try await store.storage()
        #expect(purged.freePages > 150)
        try await store.vacuum()
        let after = try await store.storage()
        #expect(after.incremental && after.freePages == 0 && after.pages < purged.pages - 150)
        #expect(try await store.messages(MessageQuery()).count == 3)
    }

    @Test(arguments: StoreKind.allCases) func anImportIsKeyedByItsSourceAndItsHash(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            let bytes = QuarantineStoreTests.bytes(SQLiteQuarantineStore.chunkSize + 5)
            let request = Self.request(at: Date())
            let first = try #require(
                try await store.importHeld(request, content: HeldBytes(bytes), source: "maildir:1.M2P3Q4_Q.host", sourceSHA256: "aa")
            )
            #expect(first.sha256 == (try QuarantineStoreTests.sha256sum(bytes)))
            #expect(try await QuarantineStoreTests.content(of: first.id, in: store) == bytes)
            #expect(
                try await store.importHeld(request, content: HeldBytes(bytes), source: "maildir:1.M2P3Q4_Q.host", sourceSHA256: "bb") == nil
            )
            #expect(try await store.importHeld(request, content: HeldBytes(bytes), source: "maildir:other", sourceSHA256: "aa") == nil)
            #expect(try await store.messages(MessageQuery()).count == 1)
            let audit = try await store.audit(messageID: first.id)
            #expect(audit.map(\.action) == ["import"] && audit[0].detail.hasPrefix("from maildir:1.M2P3Q4_Q.host, queue L1"))
            // An imported message's first row is its import: the chain check takes it for a hold.
            #expect(try await store.verifyAudit().problem == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func mailUnderLegalHoldKeepsItsBytesWhenDeletedUntilTheHoldIsLifted(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { store, _ in
            let old = Date().addingTimeInterval(-90 * Self.day)
            let held = try await store.hold(Self.request(at: old, expires: Self.day, legalHold: true), content: HeldBytes([1, 2]))
            _ = try await store.delete(held.id, positions: nil, reason: "xoá")
            #expect(try await store.purgeCandidates(decidedBefore: Date(), now: Date()).isEmpty)
            #expect(try await store.purge([], decidedBefore: Date(), now: Date()).isEmpty)
            #expect(try await store.liftLegalHold(of: held.id, reason: "đã giải mật"))
            #expect(try await store.purgeCandidates(decidedBefore: Date(), now: Date()).map(\.id) == [held.id])
        }
    }
}
