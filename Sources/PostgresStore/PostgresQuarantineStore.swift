import Foundation
public import Logging
import PostgresNIO
public import Quarantine
public import ServiceLifecycle

/// The quarantine, verdict log, audit chain and outbox on PostgreSQL (issue 16), shared by
/// several gateway nodes: the same contract as `SQLiteQuarantineStore` (`Tests/QuarantineTests`
/// run on both), with the bytes of every held message in the database (bytea chunks of
/// `SQLiteQuarantineStore.chunkSize`, each with its sha256), so any node can show, release or
/// purge any message.
///
/// Every change of several rows is one transaction; audit rows are appended under a
/// transaction-level advisory lock, so the chain never forks however many nodes write; release
/// and notice claims are compare-and-set updates with a lease.
///
/// It is a `Service`: ``run()`` runs its `PostgresClient`, which must be running for any call
/// to get a connection (``withStore(_:logger:actor:auditLogger:migrating:_:)`` does that for the command line).
public final class PostgresQuarantineStore: QuarantineStore, Service {
    public let settings: PostgresStoreSettings
    let client: PostgresClient
    let logger: Logger
    let actor: Actor
    /// What this store's claims record as their owner: the node and this process.
    let owner: String
    /// Called inside the hold transaction once every row is written, just before the commit
    /// (the tests inject failures with it).
    let beforeCommit: (@Sendable () throws -> Void)?
    /// Where every audit row goes once its transaction committed (a rolled-back row never).
    let auditLogger: Logger?

    /// A store on `settings`'s database; nothing connects until ``run()`` runs. With
    /// `auditLogger`, every audit row is also logged once committed (its line names its chain
    /// hash, so the log anchors the chain), as the SQLite store does.
    public init(
        _ settings: PostgresStoreSettings,
        logger: Logger,
        actor: Actor = .current,
        auditLogger: Logger? = nil,
        beforeCommit: (@Sendable () throws -> Void)? = nil
    ) {
        self.settings = settings
        self.auditLogger = auditLogger
        self.logger = logger
        self.actor = actor
        self.owner = ClaimOwner.current(node: settings.nodeID)
        self.beforeCommit = beforeCommit
        self.client = PostgresClient(configuration: Self.configuration(settings), backgroundLogger: logger)
    }

    /// The same database, client and node as `other` acting as `actor` (a second reviewer: its
    /// claims are its own).
    public init(sharing other: PostgresQuarantineStore, actor: Actor) {
        self.settings = other.settings
        self.logger = other.logger
        self.actor = actor
        self.owner = ClaimOwner.current(node: other.settings.nodeID)
        self.auditLogger = other.auditLogger
        self.beforeCommit = nil
        self.client = other.client
    }

    static func configuration(_ settings: PostgresStoreSettings) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch settings.endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS =
                switch settings.tls {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            configuration = PostgresClient.Configuration(
                host: host,
                port: port,
                username: settings.user,
                password: settings.password,
                database: settings.database,
                tls: tls
            )
        case .unixSocket:
            configuration = PostgresClient.Configuration(
                unixSocketPath: settings.endpoint.description,
                username: settings.user,
                password: settings.password,
                database: settings.database
            )
        }
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.connectTimeout = settings.connectTimeout
        configuration.options.additionalStartupParameters = [("application_name", "thugate \(settings.nodeID)")]
        return configuration
    }

    /// Runs the connection pool until the task is cancelled or a graceful shutdown.
    public func run() async {
        await client.run()
    }

    /// Runs `body` with a running store on `settings` (the command line): the client runs in a
    /// task beside it and is shut down when `body` returns or throws. Migrates first unless
    /// `migrating` is false.
    public static func withStore<T: Sendable>(
        _ settings: PostgresStoreSettings,
        logger: Logger,
        actor: Actor = .current,
        auditLogger: Logger? = nil,
        migrating: Bool = true,
        _ body: (PostgresQuarantineStore) async throws -> T
    ) async throws -> T {
        let store = PostgresQuarantineStore(settings, logger: logger, actor: actor, auditLogger: auditLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            if migrating { try await store.migrate() }
            return try await body(store)
        }
    }

    // MARK: Connections

    /// A connection for `body`, waited for at most ``PostgresStoreSettings/connectTimeout``
    /// (the pool keeps retrying a server that is down; the caller must not wait for it).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let gate = LeaseGate()
        let client = client
        let timeout = settings.connectTimeout
        let name = settings.displayName
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        guard gate.leased() else { throw CancellationError() }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    if gate.timedOut() {
                        throw QuarantineError(.unavailable, "quarantine store \(name): no connection within \(timeout) (is the server up?)")
                    }
                    return nil
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw mapped(error)
        }
    }

    /// `body` in one transaction (READ COMMITTED); rolled back when it throws. A connection whose
    /// rollback failed is closed, so it never goes back to the pool inside a transaction.
    func transaction<T: Sendable>(
        readOnlySnapshot: Bool = false,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let (logger, auditLogger) = (logger, auditLogger)
        return try await withConnection { connection in
            try await connection.query(readOnlySnapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", logger: logger)
            do {
                let appended = AppendedAudit()
                let value = try await Self.$appendedAudit.withValue(appended) { try await body(connection) }
                try await connection.query("COMMIT", logger: logger)
                if let auditLogger { for entry in appended.entries { auditLogger.notice("\(entry.logLine)") } }
                return value
            } catch {
                do {
                    try await connection.query("ROLLBACK", logger: logger)
                } catch {
                    try? await connection.close()
                }
                throw error
            }
        }
    }

    /// Errors as the store's: no connection, a server gone or shutting down, a pool closed are
    /// `unavailable`; a lock or serialization conflict `busy`; one line, no SQL, no bound values.
    func mapped(_ error: any Error) -> QuarantineError {
        if let error = error as? QuarantineError { return error }
        let name = settings.displayName
        if let error = error as? PSQLError {
            logger.debug("quarantine store \(name): \(String(reflecting: error))")
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? "?"
                if ["55P03", "40001", "40P01"].contains(state) {
                    return QuarantineError(.busy, "quarantine store \(name) is busy (a lock or a conflicting update); try again")
                }
                if state.hasPrefix("57P") || state.hasPrefix("08") || state == "53300" {
                    return QuarantineError(.unavailable, "quarantine store \(name): the server is shutting down or refuses connections")
                }
                return QuarantineError(.unavailable, "quarantine store \(name): the server refused the request (SQLSTATE \(state))")
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                return QuarantineError(.unavailable, "quarantine store \(name): not connected (is the server up?)")
            default:
                return QuarantineError(.unavailable, "quarantine store \(name): \(error.code)")
            }
        }
        if error is PostgresDecodingError { return QuarantineError(.corrupt, "quarantine store \(name): a row cannot be read") }
        if error is CancellationError { return QuarantineError(.unavailable, "quarantine store \(name): cancelled") }
        logger.debug("quarantine store \(name): \(String(reflecting: error))")
        return QuarantineError(.unavailable, "quarantine store \(name): not connected (is the server up?)")
    }

    /// The running transaction's audit rows (set by ``transaction(readOnlySnapshot:_:)``).
    @TaskLocal static var appendedAudit: AppendedAudit?

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

/// The audit rows a transaction appended, logged once it committed.
final class AppendedAudit: @unchecked Sendable {
    // Unchecked: `rows` is only touched while `lock` is held.
    private let lock = NSLock()
    private var rows: [AuditEntry] = []

    func append(_ entry: AuditEntry) { lock.withLock { rows.append(entry) } }
    var entries: [AuditEntry] { lock.withLock { rows } }
}

/// Who won the race between a connection and its timeout: set once, by the first to ask.
final class LeaseGate: @unchecked Sendable {
    // Unchecked: `state` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var state: Bool?

    /// True when the lease came first (the body may run).
    func leased() -> Bool { decide(true) }

    /// True when the timeout came first (the lease, if it comes, gives up).
    func timedOut() -> Bool { !decide(false) }

    private func decide(_ leased: Bool) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if state == nil { state = leased }
        return state!
    }
}

/// SQL text with its bound values, numbered as they are added.
struct SQLText {
    var text = ""
    var binds = PostgresBindings()

    /// `$n` for `value`, bound.
    mutating func bind<Value: PostgresEncodable & Sendable>(_ value: Value) -> String {
        try! binds.append(value)
        return "$\(binds.count)"
    }

    /// `$n` for `value` or NULL.
    mutating func bind<Value: PostgresEncodable & Sendable>(_ value: Value?) -> String {
        guard let value else {
            binds.appendNull()
            return "$\(binds.count)"
        }
        return bind(value)
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: binds) }
}

extension PostgresRandomAccessRow {
    /// Column `name` as `T` (an optional for a NULL-able column).
    func value<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try self[name].decode(T.self)
    }
}

extension PostgresConnection {
    /// All rows of `query`, each as random access by name.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await self.query(query, logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// Runs `query`; returns how many rows it gave (an update's `RETURNING` rows: those it changed).
    @discardableResult
    func run(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }
}

extension AsyncSequence {
    /// Every element, in order (a query's decoded rows).
    func all() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}
