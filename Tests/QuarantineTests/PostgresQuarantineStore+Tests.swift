import Foundation
import Logging
import PostgresNIO
import Quarantine
import Testing

@testable import PostgresStore

/// What only the shared store has: several nodes on one database (two `PostgresClient`s are two
/// nodes), the outbox's wake-ups, cluster-wide job locks, a server that goes away and comes
/// back, migrations run by two nodes at once, and the copy of an embedded store.
@Suite struct PostgresStoreTests {
    typealias Store = QuarantineStoreTests

    /// A second node (its own pool) on the fixture's database.
    static func secondNode(_ fixture: StoreFixture) async throws -> PostgresQuarantineStore {
        try #require(try await fixture.other(Actor(user: "officer", sudoUser: nil)) as? PostgresQuarantineStore)
    }

    @Test func fiftyConcurrentReleasesFromTwoNodesClaimEachRecipientOnce() async throws {
        try await Store.withStore(.postgres) { store, fixture in
            let other = try await Self.secondNode(fixture)
            let recipients = (0..<10).map { "<r\($0)@q.vn>" }
            let held = try await store.hold(Store.request(recipients: recipients), content: HeldBytes([1, 2, 3]))
            let claims = try await withThrowingTaskGroup(of: [ClaimedRecipient].self) { group in
                for i in 0..<50 {
                    let node: any ContractStore = i % 2 == 0 ? store : other
                    // Half of them ask for every recipient, half for a few.
                    let positions: [Int]? = i % 4 < 2 ? nil : [i % 10, (i + 3) % 10]
                    group.addTask { try await node.claimRelease(of: held.id, positions: positions, reason: "race \(i)") }
                }
                var all: [ClaimedRecipient] = []
                for try await claimed in group { all += claimed }
                return all
            }
            #expect(claims.map(\.position).sorted() == Array(0..<10))
            #expect(try await store.message(held.id).recipients.allSatisfy { $0.state == .releasing })
            let verification = try await store.verifyAudit()
            #expect(verification.problem == nil)
            // One hold row, then one claim row per claim that took something.
            #expect(verification.rows == 1 + (try await store.audit(messageID: held.id).filter { $0.action == "release-claim" }.count))
        }
    }

    @Test func twoNodesClaimingNoticesNeverGetOneTwice() async throws {
        try await Store.withStore(.postgres) { store, fixture in
            let other = try await Self.secondNode(fixture)
            let start = OutboxTests.start
            _ = try await store.enqueueNotices((0..<200).map { OutboxTests.notice("o\($0)@q.vn", due: start) }, messageID: nil)
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for i in 0..<20 {
                    let node: any ContractStore = i % 2 == 0 ? store : other
                    group.addTask {
                        try await node.claimDueNotices(now: start, owner: "sender \(i)", lease: 600, limit: 15).map(\.id)
                    }
                }
                var all: [String] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(Set(claimed).count == claimed.count)
            #expect(claimed.count == 200)
            let sending = try await store.notices(NoticeQuery(states: [.sending]))
            #expect(sending.count == 200 && sending.allSatisfy { $0.attempts == 1 })
        }
    }

    @Test func aClusterJobRunsOnOneNodeAtATime() async throws {
        try await Store.withStore(.postgres) { store, fixture in
            let other = try await Self.secondNode(fixture)
            let (started, startedContinuation) = AsyncStream<Void>.makeStream()
            let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
            let running = Task {
                try await store.withClusterLock("purge") {
                    startedContinuation.yield()
                    for await _ in release { break }
                    return 42
                }
            }
            for await _ in started { break }
            // While the first node's job runs: the other node, and this node again, get nil.
            #expect(try await other.withClusterLock("purge") { 1 } == nil)
            #expect(try await store.withClusterLock("purge") { 1 } == nil)
            // Another job is not held.
            #expect(try await other.withClusterLock("expire-verdicts") { 7 } == 7)
            releaseContinuation.yield()
            #expect(try await running.value == 42)
            // Unlocked on its connection: the other node gets it now.
            #expect(try await other.withClusterLock("purge") { 2 } == 2)
            // A job that throws gives the lock back too.
            struct Failed: Error {}
            await #expect(throws: Failed.self) { try await other.withClusterLock("purge") { () throws -> Int in throw Failed() } }
            #expect(try await store.withClusterLock("purge") { 3 } == 3)
        }
    }

    @Test func aNodeIsWokenWhenAnotherWritesNotices() async throws {
        try await Store.withStore(.postgres) { store, fixture in
            let other = try await Self.secondNode(fixture)
            let wakeups = other.outboxWakeups()
            let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
            let woken = Task {
                var iterator = wakeups.makeAsyncIterator()
                // The first is the listen's own (for whatever came before it), once it listens.
                guard await iterator.next() != nil else { return false }
                readyContinuation.yield()
                return await iterator.next() != nil
            }
            let watchdog = Task {
                try await Task.sleep(for: .seconds(15))
                woken.cancel()
                readyContinuation.finish()
            }
            for await _ in ready { break }
            _ = try await store.enqueueNotices([OutboxTests.notice("antoan@q.vn", due: OutboxTests.start)], messageID: nil)
            #expect(await woken.value, "no wake-up after the other node's enqueue")
            watchdog.cancel()
        }
    }

    @Test func aStoppedServerMakesHoldsUnavailableUntilItIsBack() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.tearDown() }
        // Long enough for a loaded CI machine to connect; the hold with the server down waits this long.
        let settings = cluster.settings(database: "postgres", node: "node-a", timeout: .seconds(6))
        try await Store.withPostgresStore(settings) { store, _ in
            _ = try await store.hold(Store.request(), content: HeldBytes([1]))
            try cluster.stop()
            let started = ContinuousClock.now
            do {
                _ = try await store.hold(Store.request(), content: HeldBytes([2]))
                Issue.record("held with the server stopped")
            } catch let error as QuarantineError {
                #expect(error.kind == .unavailable)
                #expect(!error.message.contains("INSERT") && !error.message.contains("\n"))
            }
            #expect(ContinuousClock.now - started < .seconds(30))
            try cluster.start()
            var held: HeldMessage?
            for _ in 0..<20 where held == nil {
                held = try? await store.hold(Store.request(), content: HeldBytes([3]))
                if held == nil { try await Task.sleep(for: .milliseconds(250)) }
            }
            let back = try #require(held)
            #expect(try await Store.content(of: back.id, in: store) == [3])
            #expect(try await store.messages(MessageQuery()).count == 2)
            #expect(try await store.verifyAudit().problem == nil)
        }
    }

    @Test func theCommandLineHelperRunsAMigratedStoreAndLogsCommittedAuditRows() async throws {
        let (cluster, database) = try await SharedCluster.shared.makeDatabase()
        let lines = Locked<[String]>([])
        let auditLogger = Logger(label: "test.audit") { _ in CollectingHandler(lines: lines) }
        let settings = cluster.settings(database: database)
        let id = try await PostgresQuarantineStore.withStore(
            settings,
            logger: Store.logger,
            actor: Store.testActor,
            auditLogger: auditLogger
        ) {
            store in
            let held = try await store.hold(Store.request(), content: HeldBytes([1, 2]))
            // A transaction rolled back logs nothing.
            await #expect(throws: QuarantineError.self) { try await store.delete("zzzz", positions: nil, reason: "x") }
            _ = try await store.appendAudit(action: "view", messageID: held.id, detail: "show")
            return held.id
        }
        let logged = lines.withLockedValue { $0 }
        #expect(logged.count == 2)
        #expect(logged.first?.hasPrefix("audit 1 hold \(id) by postmaster (as thugate): queue ") == true)
        #expect(logged.last?.hasPrefix("audit 2 view \(id) by postmaster (as thugate): show [chain ") == true)
        // Migrated once: a second run finds nothing to do, and the store reads back what the first wrote.
        let again = try await PostgresQuarantineStore.withStore(settings, logger: Store.logger) { store in
            (try await store.migrate(), try await store.message(id).size)
        }
        #expect(again.0.isEmpty && again.1 == 2)
    }

    @Test func theBytesAreChunksWithTheirOwnHashesAndAChangedOneIsCaught() async throws {
        try await Store.withStore(.postgres) { store, fixture in
            let bytes = Store.bytes(2 * SQLiteQuarantineStore.chunkSize + 10)
            let held = try await store.hold(Store.request(), content: HeldBytes(bytes))
            #expect(try await fixture.count("chunks WHERE message_id = '\(held.id)'") == 3)
            #expect(
                try await fixture.count("chunks WHERE message_id = '\(held.id)' AND length(data) = \(SQLiteQuarantineStore.chunkSize)") == 2
            )
            #expect(try await fixture.count("messages WHERE stored_by = 'node-a'") == 1)
            #expect(try await fixture.count("audit WHERE node = 'node-a'") == 1)
            try await fixture.execute("UPDATE chunks SET data = '\\x00'::bytea WHERE message_id = '\(held.id)' AND seq = 2")
            do {
                _ = try await Store.content(of: held.id, in: store)
                Issue.record("a changed chunk was read back")
            } catch let error as QuarantineError {
                #expect(error.kind == .corrupt)
            }
        }
    }

    @Test func twoNodesMigratingAtOnceApplyEachMigrationOnce() async throws {
        let (cluster, database) = try await SharedCluster.shared.makeDatabase()
        let nodes = Nodes()
        let a = try await nodes.start(PostgresQuarantineStore(cluster.settings(database: database, node: "a"), logger: Store.logger))
        let b = try await nodes.start(PostgresQuarantineStore(cluster.settings(database: database, node: "b"), logger: Store.logger))
        do {
            #expect(try await a.schemaVersion() == 0)
            async let first = a.migrate()
            async let second = b.migrate()
            let applied = try await [first, second]
            #expect(applied.flatMap { $0 } == ["v1"])
            #expect(try await a.migrate().isEmpty)
            #expect(try await b.schemaVersion() == PostgresStoreSchema.version)
        } catch {
            await nodes.stop()
            throw error
        }
        await nodes.stop()
    }

    @Test func anEmbeddedStoreIsCopiedWholeAndAnswersTheSame() async throws {
        try await Store.withSQLiteStore { sqlite, _ in
            // Held, released, deleted, asked for, noticed, recorded, viewed.
            let big = Store.bytes(2 * SQLiteQuarantineStore.chunkSize + 77)
            var request = Store.request(queueID: "BIG")
            request.notices = [OutboxTests.notice("antoan@quangninh.gov.vn", due: OutboxTests.start)]
            let first = try await sqlite.hold(request, content: HeldBytes(big))
            let second = try await sqlite.hold(Store.request(queueID: "TWO"), content: HeldBytes([1, 2]))
            let third = try await sqlite.importHeld(
                Store.request(queueID: "OLD"),
                content: HeldBytes([9]),
                source: "maildir:1",
                sourceSHA256: "ab"
            )
            _ = try await sqlite.claimRelease(of: first.id, positions: [0], reason: "ok")
            try await sqlite.finishRelease(of: first.id, [ReleaseOutcome(position: 0, state: .released, reply: "250 ok")], reason: "ok")
            _ = try await sqlite.claimRelease(of: second.id, positions: [1], reason: "killed")
            _ = try await sqlite.delete(second.id, positions: [0], reason: "spam")
            _ = try await sqlite.requestRelease(of: first.id, positions: [1], reason: "mật")
            _ = try await sqlite.appendAudit(action: "view", messageID: first.id, detail: "show")
            _ = try await sqlite.enqueueNotices(
                [.report(ReportMailStoreTests.report, to: "lanhdao@quangninh.gov.vn", now: OutboxTests.start)],
                messageID: nil
            )
            _ = try await sqlite.claimDueNotices(now: OutboxTests.start, owner: "a", lease: 60, limit: 1)
            try await sqlite.record([
                VerdictLogTests.entry(), VerdictLogTests.entry(outcome: .refused, rules: ["virus"]),
                VerdictLogTests.entry(outcome: .held, rules: ["executable"]),
            ])

            try await Store.withStore(.postgres) { store, fixture in
                let postgres = try #require(store as? PostgresQuarantineStore)
                let progress = Locked<[Int]>([])
                let report = try await postgres.copy(from: sqlite) { done, all in progress.withLockedValue { $0.append(done * 100 + all) } }
                #expect(report.messages == 3 && report.bytes == big.count + 3)
                #expect(progress.withLockedValue { $0 } == [3, 103, 203, 303])

                #expect(try await store.messages(MessageQuery()) == (try await sqlite.messages(MessageQuery())))
                for id in [first.id, second.id, third?.id ?? ""] {
                    #expect(try await Store.content(of: id, in: store) == (try await Store.content(of: id, in: sqlite)))
                    #expect(try await store.notices(messageID: id) == (try await sqlite.notices(messageID: id)))
                }
                #expect(try await store.audit(messageID: nil) == (try await sqlite.audit(messageID: nil)))
                let verified = try await store.verifyAudit()
                #expect(verified == (try await sqlite.verifyAudit()) && verified.problem == nil)
                #expect(try await store.notices(NoticeQuery()) == (try await sqlite.notices(NoticeQuery())))
                #expect(try await store.releaseRequest(of: first.id) == (try await sqlite.releaseRequest(of: first.id)))
                let days = ("2000-01-01", "2099-12-31")
                #expect(
                    try await store.dailyCounts(first: days.0, last: days.1) == (try await sqlite.dailyCounts(first: days.0, last: days.1))
                )
                #expect(
                    try await store.topSenders(outcome: .refused, first: days.0, last: days.1, limit: 5)
                        == (try await sqlite.topSenders(outcome: .refused, first: days.0, last: days.1, limit: 5))
                )
                #expect(try await store.verdictRows(limit: 10).map(\.queueID) == (try await sqlite.verdictRows(limit: 10)).map(\.queueID))
                let span = (Date().addingTimeInterval(-86400), Date().addingTimeInterval(86400))
                #expect(
                    try await store.heldDecisions(receivedFrom: span.0, before: span.1)
                        == (try await sqlite.heldDecisions(receivedFrom: span.0, before: span.1))
                )
                #expect(try await store.check { _, _ in }.isClean)
                // The copy goes on as the original would: the import runs once, the chain continues.
                #expect(
                    try await store.importHeld(Store.request(), content: HeldBytes([9]), source: "maildir:1", sourceSHA256: "cd") == nil
                )
                _ = try await store.appendAudit(action: "view", messageID: second.id, detail: "after the copy")
                #expect(try await store.verifyAudit().problem == nil)
                // A store with anything in it is refused.
                do {
                    _ = try await postgres.copy(from: sqlite) { _, _ in }
                    Issue.record("copied into a store that is not empty")
                } catch let error as QuarantineError {
                    #expect(error.kind == .unavailable && error.message.contains("not empty"))
                }
                _ = fixture
            }
        }
    }
}
