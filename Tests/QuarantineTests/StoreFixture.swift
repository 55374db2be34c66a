import Foundation
import GRDB
import Logging
import PostgresNIO
import Quarantine
import Testing

@testable import PostgresStore

/// What the contract tests need of a store: the protocol, the verdict log and what reports read.
typealias ContractStore = QuarantineStore & QuarantineReportSource & VerdictLog

/// The stores every contract test runs on.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// A store under test with what the tests do around it: another store on the same data (a second
/// reviewer, a second node), and SQL run from outside (as someone with the file or the database).
struct StoreFixture: Sendable {
    let kind: StoreKind
    let store: any ContractStore
    /// A store on the same data acting as `actor`: another process (SQLite), another node with a
    /// pool of its own (PostgreSQL).
    let other: @Sendable (Actor) async throws -> any ContractStore
    /// Runs `sql` on the store's data from outside.
    let execute: @Sendable (String) async throws -> Void
    /// The rows in `table`.
    let count: @Sendable (String) async throws -> Int

    /// `sql` for this store's dialect: SQLite's `zeroblob(n)` as PostgreSQL's zero bytes.
    func dialect(sqlite: String, postgres: String) -> String { kind == .sqlite ? sqlite : postgres }
}

extension QuarantineStoreTests {
    static let testActor = Actor(user: "thugate", sudoUser: "postmaster")

    /// A fresh store of `kind`, removed afterwards (SQLite: a file in a fresh directory;
    /// PostgreSQL: a fresh database in the shared cluster).
    static func withStore<T>(
        _ kind: StoreKind,
        beforeCommit: (@Sendable () throws -> Void)? = nil,
        _ body: (any ContractStore, StoreFixture) async throws -> T
    ) async throws -> T {
        switch kind {
        case .sqlite:
            return try await withSQLiteStore(beforeCommit: beforeCommit) { store, path in
                let fixture = StoreFixture(
                    kind: .sqlite,
                    store: store,
                    other: { actor in try SQLiteQuarantineStore(path: path, actor: actor) },
                    execute: { sql in try await DatabaseQueue(path: path).write { try $0.execute(sql: sql) } },
                    count: { table in
                        try await DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table)") ?? -1 }
                    }
                )
                return try await body(store, fixture)
            }
        case .postgres:
            let (cluster, database) = try await SharedCluster.shared.makeDatabase()
            return try await withPostgresStore(cluster.settings(database: database), beforeCommit: beforeCommit) { store, nodes in
                let fixture = StoreFixture(
                    kind: .postgres,
                    store: store,
                    other: { actor in
                        var settings = store.settings
                        settings.nodeID = "node-b"
                        return try await nodes.start(PostgresQuarantineStore(settings, logger: Self.logger, actor: actor))
                    },
                    execute: { sql in try await store.execute(sql) },
                    count: { table in try await store.count(table) }
                )
                return try await body(store, fixture)
            }
        }
    }

    /// Quiet: the stopped server's test makes the pool log every failed connection.
    static let logger = {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error
        return logger
    }()

    /// A migrated PostgreSQL store on `settings`, running while `body` runs, with the runner of
    /// any other node `body` starts; every client is shut down afterwards.
    static func withPostgresStore<T>(
        _ settings: PostgresStoreSettings,
        actor: Actor = testActor,
        beforeCommit: (@Sendable () throws -> Void)? = nil,
        _ body: (PostgresQuarantineStore, Nodes) async throws -> T
    ) async throws -> T {
        let nodes = Nodes()
        let store = PostgresQuarantineStore(settings, logger: logger, actor: actor, beforeCommit: beforeCommit)
        do {
            _ = try await nodes.start(store)
            try await store.migrate()
            let result = try await body(store, nodes)
            await nodes.stop()
            return result
        } catch {
            await nodes.stop()
            throw error
        }
    }
}

/// The running clients of a test's PostgreSQL stores.
final class Nodes: @unchecked Sendable {
    // Unchecked: `tasks` is only touched while `lock` is held.
    private let lock = NSLock()
    private var tasks: [Task<Void, Never>] = []

    /// Runs `store`'s client until ``stop()``; returns it.
    func start(_ store: PostgresQuarantineStore) async throws -> PostgresQuarantineStore {
        let task = Task { await store.run() }
        lock.withLock { tasks.append(task) }
        return store
    }

    func stop() async {
        let all = lock.withLock {
            let all = tasks
            tasks = []
            return all
        }
        for task in all { task.cancel() }
        for task in all { await task.value }
    }
}

extension PostgresQuarantineStore {
    /// The rows in `table`.
    func count(_ table: String) async throws -> Int {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger).decode(Int.self).all()
                .first ?? -1
        }
    }

    /// Runs `sql` on the database from outside the store's API (the tests' tampering).
    func execute(_ sql: String) async throws {
        let logger = logger
        try await withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            return ()
        }
    }
}
