import Foundation
import Logging
import PostgresNIO
import Quarantine

/// The schema on PostgreSQL: versioned migrations recorded in `thugate_migrations`, applied by
/// ``PostgresQuarantineStore/migrate()`` under a session advisory lock, so two nodes starting at
/// once apply each exactly once. Times are epoch milliseconds in `BIGINT` columns, as the SQLite
/// store keeps them (the audit chain hashes those very numbers); ids and sorted keys are
/// `COLLATE "C"`, so they sort byte by byte as in SQLite, whatever the database's locale.
public enum PostgresStoreSchema {
    /// The schema version this build writes.
    public static var version: Int { migrations.count }

    /// The advisory lock key of migrations (`thugate` in ASCII).
    static let migrationLock: Int64 = 0x7468_7567_6174_6501
    /// The advisory lock key the audit chain's appends serialize on.
    static let auditLock: Int64 = 0x7468_7567_6174_6502

    static let migrations: [(name: String, sql: [String])] = [
        (
            "v1",
            [
                """
                CREATE TABLE messages (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    queue_id TEXT NOT NULL,
                    node TEXT NOT NULL,
                    stored_by TEXT NOT NULL,
                    received_at BIGINT NOT NULL,
                    client_address TEXT NOT NULL,
                    client_name TEXT,
                    helo TEXT NOT NULL,
                    sender TEXT NOT NULL,
                    sender_folded TEXT NOT NULL,
                    header_from TEXT,
                    header_from_folded TEXT,
                    subject TEXT,
                    message_id TEXT,
                    size BIGINT NOT NULL,
                    sha256 TEXT NOT NULL,
                    category TEXT NOT NULL,
                    action TEXT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    legal_hold BOOLEAN NOT NULL DEFAULT false,
                    chunk_size INTEGER NOT NULL,
                    purged_at BIGINT
                )
                """,
                "CREATE INDEX messages_received ON messages(received_at)",
                "CREATE INDEX messages_category ON messages(category, received_at)",
                "CREATE INDEX messages_expires ON messages(expires_at)",
                """
                CREATE TABLE recipients (
                    message_id TEXT COLLATE "C" NOT NULL REFERENCES messages(id),
                    position INTEGER NOT NULL,
                    address TEXT NOT NULL,
                    address_folded TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('held', 'releasing', 'released', 'failed', 'deleted')),
                    changed_by TEXT,
                    changed_at BIGINT,
                    last_reply TEXT,
                    claimed_by TEXT,
                    claimed_node TEXT,
                    lease_until BIGINT,
                    PRIMARY KEY (message_id, position)
                )
                """,
                "CREATE INDEX recipients_state ON recipients(state, message_id)",
                """
                CREATE TABLE chunks (
                    message_id TEXT COLLATE "C" NOT NULL REFERENCES messages(id),
                    seq INTEGER NOT NULL,
                    data BYTEA NOT NULL,
                    sha256 TEXT NOT NULL,
                    PRIMARY KEY (message_id, seq)
                )
                """,
                // Mail is mostly compressed already (archives, images, base64 of them): no TOAST compression.
                "ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL",
                """
                CREATE TABLE findings (
                    message_id TEXT COLLATE "C" NOT NULL REFERENCES messages(id),
                    seq INTEGER NOT NULL,
                    rule TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    part TEXT,
                    PRIMARY KEY (message_id, seq)
                )
                """,
                "CREATE INDEX findings_rule ON findings(rule, message_id)",
                """
                CREATE TABLE audit (
                    seq BIGINT PRIMARY KEY,
                    at BIGINT NOT NULL,
                    actor TEXT NOT NULL,
                    sudo_user TEXT,
                    action TEXT NOT NULL,
                    message_id TEXT COLLATE "C",
                    detail TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    node TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_message ON audit(message_id)",
                """
                CREATE TABLE release_requests (
                    message_id TEXT COLLATE "C" PRIMARY KEY REFERENCES messages(id),
                    positions TEXT,
                    requested_by TEXT NOT NULL,
                    requested_by_name TEXT NOT NULL,
                    requested_at BIGINT NOT NULL,
                    reason TEXT NOT NULL,
                    approved_by TEXT,
                    approved_at BIGINT
                )
                """,
                """
                CREATE TABLE imports (
                    source TEXT PRIMARY KEY,
                    source_sha256 TEXT NOT NULL UNIQUE,
                    message_id TEXT COLLATE "C" NOT NULL REFERENCES messages(id)
                )
                """,
                """
                CREATE TABLE notices (
                    seq BIGSERIAL UNIQUE,
                    id TEXT COLLATE "C" PRIMARY KEY,
                    created_at BIGINT NOT NULL,
                    message_id TEXT COLLATE "C" REFERENCES messages(id),
                    queue_id TEXT NOT NULL,
                    rule TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    role TEXT NOT NULL,
                    mode TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),
                    event TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
                    due_at BIGINT NOT NULL,
                    digest_at BIGINT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    claimed_by TEXT,
                    claimed_node TEXT,
                    last_reply TEXT,
                    sent_at BIGINT,
                    mail_id TEXT,
                    report TEXT
                )
                """,
                "CREATE INDEX notices_due ON notices(state, due_at)",
                "CREATE INDEX notices_message ON notices(message_id)",
                "CREATE INDEX notices_digest ON notices(recipient, digest_at)",
                """
                CREATE TABLE verdicts (
                    seq BIGSERIAL PRIMARY KEY,
                    at BIGINT NOT NULL,
                    day TEXT COLLATE "C" NOT NULL,
                    queue_id TEXT NOT NULL,
                    node TEXT NOT NULL,
                    client_address TEXT NOT NULL,
                    sender TEXT NOT NULL,
                    recipients INTEGER NOT NULL,
                    size BIGINT NOT NULL,
                    direction TEXT NOT NULL,
                    agencies TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    rules TEXT NOT NULL,
                    held_id TEXT
                )
                """,
                "CREATE INDEX verdicts_at ON verdicts(at)",
                """
                CREATE TABLE daily_counts (
                    day TEXT COLLATE "C" NOT NULL,
                    direction TEXT COLLATE "C" NOT NULL,
                    agency TEXT COLLATE "C" NOT NULL,
                    rule TEXT COLLATE "C" NOT NULL,
                    outcome TEXT COLLATE "C" NOT NULL,
                    messages BIGINT NOT NULL,
                    bytes BIGINT NOT NULL,
                    PRIMARY KEY (day, direction, agency, rule, outcome)
                )
                """,
                """
                CREATE TABLE daily_senders (
                    day TEXT COLLATE "C" NOT NULL,
                    outcome TEXT COLLATE "C" NOT NULL,
                    sender TEXT COLLATE "C" NOT NULL,
                    messages BIGINT NOT NULL,
                    PRIMARY KEY (day, outcome, sender)
                )
                """,
            ]
        )
    ]
}

extension PostgresQuarantineStore {
    /// Brings the database's schema to ``PostgresStoreSchema/version``: each migration not yet
    /// recorded in `thugate_migrations` runs in a transaction of its own with its row there.
    /// Under `pg_advisory_lock`, so nodes starting together wait for each other and none applies
    /// a migration twice. Idempotent. Returns the migrations applied now.
    @discardableResult
    public func migrate() async throws -> [String] {
        let logger = logger
        let node = settings.nodeID
        return try await withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(PostgresStoreSchema.migrationLock))", logger: logger)
            do {
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS thugate_migrations (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL, node TEXT NOT NULL)
                    """,
                    logger: logger
                )
                var applied = Set<Int>()
                for try await version in try await connection.query("SELECT version FROM thugate_migrations", logger: logger)
                    .decode(Int.self)
                {
                    applied.insert(version)
                }
                var ran: [String] = []
                for (index, migration) in PostgresStoreSchema.migrations.enumerated() where !applied.contains(index + 1) {
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                        let now = Self.milliseconds(Date())
                        try await connection.query(
                            "INSERT INTO thugate_migrations (version, name, applied_at, node) VALUES (\(index + 1), \(migration.name), \(now), \(node))",
                            logger: logger
                        )
                        try await connection.query("COMMIT", logger: logger)
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                    ran.append(migration.name)
                }
                try await connection.query("SELECT pg_advisory_unlock(\(PostgresStoreSchema.migrationLock))", logger: logger)
                return ran
            } catch {
                // The session lock goes with the connection.
                try? await connection.close()
                throw error
            }
        }
    }

    /// The schema version the database has (0: not migrated).
    public func schemaVersion() async throws -> Int {
        let logger = logger
        return try await withConnection { connection in
            let exists =
                try await connection.query("SELECT to_regclass('thugate_migrations') IS NOT NULL", logger: logger)
                .decode(Bool.self).first { _ in true } ?? false
            guard exists else { return 0 }
            return try await connection.query("SELECT COALESCE(MAX(version), 0) FROM thugate_migrations", logger: logger)
                .decode(Int.self).first { _ in true } ?? 0
        }
    }
}
