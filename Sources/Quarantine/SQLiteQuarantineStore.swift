public import Foundation
import GRDB
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The quarantine in one SQLite file through GRDB: a `DatabasePool` in WAL mode, so the command
/// line reads while the gateway writes. Each held message is one transaction (its row, its
/// recipients, its original bytes in chunks, its findings, its audit row), committed with
/// `synchronous = FULL`: once ``hold(_:content:)`` returned, a power cut does not lose it.
///
/// - SeeAlso: https://www.sqlite.org/wal.html, https://www.sqlite.org/pragma.html#pragma_synchronous
public final class SQLiteQuarantineStore: QuarantineStore {
    /// Bytes per chunk of the original message (each chunk has its own sha256).
    public static let chunkSize = 256 * 1024

    let pool: DatabasePool
    let actor: Actor
    /// What a release claim records as its owner: this host and process.
    let owner = ClaimOwner.current(node: ClaimOwner.hostName)
    /// Called inside the hold transaction once every row is written, just before the commit;
    /// what it throws rolls the transaction back (the tests inject failures with it).
    private let beforeCommit: (@Sendable () throws -> Void)?
    public let path: String

    /// Opens the store at `path`. A writer (the gateway) creates it and its directory and
    /// migrates the schema; a reader (`readOnly`, the command line) never changes the file.
    /// `busyTimeout` is how long a writer waits for another process's lock.
    public init(
        path: String,
        readOnly: Bool = false,
        busyTimeout: TimeInterval = 10,
        actor: Actor = .current,
        beforeCommit: (@Sendable () throws -> Void)? = nil,
        auditLogger: Logger? = nil
    ) throws {
        self.path = path
        self.actor = actor
        self.beforeCommit = beforeCommit
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "quarantine"
        configuration.prepareDatabase { db in
            // Every connection; the writer's is set again below, after GRDB's switch to WAL
            // (which sets NORMAL).
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if !db.configuration.readonly { try Self.prepareIncrementalVacuum(db) }
        }
        do {
            if !readOnly {
                let directory = (path as NSString).deletingLastPathComponent
                if !directory.isEmpty {
                    try FileManager.default.createDirectory(
                        atPath: directory,
                        withIntermediateDirectories: true,
                        attributes: [.posixPermissions: 0o750]
                    )
                }
                // Held mail is readable by the gateway's user and group only, whatever the umask;
                // SQLite gives the -wal and -shm files the same mode as the database.
                // An existing file is not opened here: closing a descriptor of it would drop the POSIX
                // locks of every SQLite connection this process already has to it (fcntl locks are
                // per process), and another process could then checkpoint and remove the WAL under them.
                // A link in its place is refused (the gateway may run as root): the store is a file.
                var info = stat()
                if lstat(path, &info) == 0 {
                    guard info.st_mode & S_IFMT == S_IFREG else {
                        throw QuarantineError(.unavailable, "quarantine store \(path): not a regular file (a link or a directory?)")
                    }
                    chmod(path, 0o640)
                } else {
                    let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
                    guard fd >= 0 else {
                        throw QuarantineError(.unavailable, "quarantine store \(path): \(String(cString: strerror(errno)))")
                    }
                    fchmod(fd, 0o640)
                    close(fd)
                }
            } else if !FileManager.default.fileExists(atPath: path) {
                throw QuarantineError(.unavailable, "quarantine store \(path): no such file")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            if !readOnly {
                try pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                }
                try Self.migrator.migrate(pool)
                if let auditLogger { pool.add(transactionObserver: AuditMirror(logger: auditLogger), extent: .databaseLifetime) }
            }
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    /// The `synchronous` setting of the writer and of `readers` reader connections, held open
    /// at once (for the tests: 2 is FULL).
    public func synchronousSettings(readers: Int) async throws -> [Int] {
        var settings = [try await pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }]
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<readers {
                group.addTask {
                    try await self.pool.read { db in
                        // Held for a while, so the readers are distinct connections.
                        usleep(50_000)
                        return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
                    }
                }
            }
            for try await setting in group { settings.append(setting) }
        }
        return settings
    }

    // MARK: Schema

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE messages (
                        id TEXT PRIMARY KEY NOT NULL,
                        queue_id TEXT NOT NULL,
                        node TEXT NOT NULL,
                        received_at INTEGER NOT NULL,
                        client_address TEXT NOT NULL,
                        client_name TEXT,
                        helo TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        header_from TEXT,
                        subject TEXT,
                        message_id TEXT,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        category TEXT NOT NULL,
                        action TEXT NOT NULL,
                        expires_at INTEGER NOT NULL,
                        legal_hold INTEGER NOT NULL DEFAULT 0,
                        chunk_size INTEGER NOT NULL
                    );
                    CREATE INDEX messages_received ON messages(received_at);
                    CREATE TABLE recipients (
                        message_id TEXT NOT NULL REFERENCES messages(id),
                        position INTEGER NOT NULL,
                        address TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('held', 'releasing', 'released', 'failed', 'deleted')),
                        changed_by TEXT,
                        changed_at INTEGER,
                        last_reply TEXT,
                        PRIMARY KEY (message_id, position)
                    );
                    CREATE TABLE chunks (
                        message_id TEXT NOT NULL REFERENCES messages(id),
                        seq INTEGER NOT NULL,
                        data BLOB NOT NULL,
                        sha256 TEXT NOT NULL,
                        PRIMARY KEY (message_id, seq)
                    );
                    CREATE TABLE findings (
                        message_id TEXT NOT NULL REFERENCES messages(id),
                        seq INTEGER NOT NULL,
                        rule TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        part TEXT,
                        PRIMARY KEY (message_id, seq)
                    );
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        sudo_user TEXT,
                        action TEXT NOT NULL,
                        message_id TEXT,
                        detail TEXT NOT NULL,
                        previous_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    CREATE INDEX audit_message ON audit(message_id);
                    """
            )
        }
        registerReview(&migrator)
        registerLifecycle(&migrator)
        Self.registerVerdicts(&migrator)
        registerOutbox(&migrator)
        registerReportMail(&migrator)
        registerReleaseLease(&migrator)
        return migrator
    }

    // MARK: Hold

    public func hold(_ request: HoldRequest, content: any HeldContent) async throws -> HeldMessage {
        // Times are stored to the millisecond: the row handed back says what a read will say.
        var normalized = request
        normalized.receivedAt = Self.date(Self.milliseconds(request.receivedAt))
        normalized.expiresAt = Self.date(Self.milliseconds(request.expiresAt))
        let request = normalized
        let id = HeldID.make(at: request.receivedAt)
        let actor = actor
        let beforeCommit = beforeCommit
        do {
            return try await pool.write { db in
                let (stored, sha256) = try Self.insertHeld(db, id: id, request, content: content, what: "message \(request.queueID)")
                try Self.appendAudit(
                    db,
                    actor: actor,
                    action: "hold",
                    messageID: id,
                    detail: "queue \(request.queueID) from \(request.sender): \(request.findings.map(\.summary).joined(separator: "; "))"
                )
                try Self.insertNotices(db, request.notices, messageID: id)
                try beforeCommit?()
                return HeldMessage(
                    id: id,
                    request: request,
                    recipients: request.recipients.map { HeldRecipient(address: $0, state: .held) },
                    size: stored,
                    sha256: sha256
                )
            }
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    /// Inserts a held message's rows (message, recipients `held`, findings) and its bytes in
    /// chunks, each hashed, read from `content` one chunk at a time; sets the message's sha256.
    /// Inside the caller's transaction (a hold, an import). Returns the bytes stored and the sha256.
    static func insertHeld(
        _ db: Database,
        id: String,
        _ request: HoldRequest,
        content: any HeldContent,
        what: String
    ) throws -> (stored: Int, sha256: String) {
        try db.execute(
            sql: """
                INSERT INTO messages (id, queue_id, node, received_at, client_address, client_name, helo, sender,
                    header_from, subject, message_id, size, sha256, category, action, expires_at, legal_hold, chunk_size)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, request.queueID, request.node, milliseconds(request.receivedAt), request.clientAddress,
                request.clientName, request.helo, request.sender, request.headerFrom, request.subject, request.messageID,
                content.size, request.category, request.action, milliseconds(request.expiresAt), request.legalHold, chunkSize,
            ]
        )
        let recipientRow = try db.cachedStatement(
            sql: "INSERT INTO recipients (message_id, position, address, state) VALUES (?, ?, ?, 'held')"
        )
        for (position, address) in request.recipients.enumerated() {
            try recipientRow.execute(arguments: [id, position, address])
        }
        let findingRow = try db.cachedStatement(sql: "INSERT INTO findings (message_id, seq, rule, detail, part) VALUES (?, ?, ?, ?, ?)")
        for (seq, finding) in request.findings.enumerated() {
            try findingRow.execute(arguments: [id, seq, finding.rule, finding.detail, finding.part])
        }
        // The bytes go in chunk by chunk from the buffer (memory or spool file): one chunk at a
        // time in memory, hashed as it goes.
        let chunkRow = try db.cachedStatement(sql: "INSERT INTO chunks (message_id, seq, data, sha256) VALUES (?, ?, ?, ?)")
        var whole = SHA256()
        var seq = 0
        var stored = 0
        try content.forEachChunk(maxLength: chunkSize) { chunk in
            guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
            whole.update(chunk)
            // Not copied: SQLite copies it while binding, before the chunk's memory is reused.
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: chunk.count, deallocator: .none)
            try chunkRow.execute(arguments: [id, seq, data, SHA256.hex(chunk)])
            seq += 1
            stored += chunk.count
        }
        guard stored == content.size else { throw QuarantineError(.corrupt, "\(what): read \(stored) of \(content.size) bytes") }
        let sha256 = whole.finalize().hex
        try db.execute(sql: "UPDATE messages SET sha256 = ? WHERE id = ?", arguments: [sha256, id])
        return (stored, sha256)
    }

    /// Appends one audit row chained to the last; inside the caller's transaction, which the
    /// single writer serializes, so the chain has no fork.
    static func appendAudit(_ db: Database, actor: Actor, action: String, messageID: String?, detail: String) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        let sequence: Int64 = (last?["seq"] as Int64? ?? 0) + 1
        let previous: String = last?["hash"] ?? AuditEntry.genesis
        let at = milliseconds(Date())
        let detail = HoldRequest.stripped(detail)
        let hash = AuditEntry.chainHash(
            previousHash: previous,
            sequence: sequence,
            atMilliseconds: at,
            actor: actor.user,
            sudoUser: actor.sudoUser,
            action: action,
            messageID: messageID,
            detail: detail
        )
        try db.execute(
            sql: """
                INSERT INTO audit (seq, at, actor, sudo_user, action, message_id, detail, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [sequence, at, actor.user, actor.sudoUser, action, messageID, detail, previous, hash]
        )
    }

    // MARK: Read

    public func messages(_ query: MessageQuery) async throws -> [HeldMessage] {
        try await read { db in try Self.messages(matching: query, db) }
    }

    public func message(_ id: String) async throws -> HeldMessage {
        guard HeldID.isPrefix(id.lowercased()) else { throw QuarantineError(.notFound, "no held message \(id)") }
        let prefix = id.lowercased()
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM messages WHERE id LIKE ? || '%' LIMIT 2", arguments: [prefix])
            guard let row = rows.first else { throw QuarantineError(.notFound, "no held message \(id)") }
            guard rows.count == 1 else { throw QuarantineError(.ambiguous, "\(id) names more than one held message; give more of its id") }
            return try Self.message(from: row, db)
        }
    }

    public func readContent(of id: String, _ body: @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws {
        try await read { db in
            guard let expected = try String.fetchOne(db, sql: "SELECT sha256 FROM messages WHERE id = ?", arguments: [id]) else {
                throw QuarantineError(.notFound, "no held message \(id)")
            }
            try Self.checkNotPurged(db, id)
            var whole = SHA256()
            let chunks = try Row.fetchCursor(
                db,
                sql: "SELECT seq, data, sha256 FROM chunks WHERE message_id = ? ORDER BY seq",
                arguments: [id]
            )
            while let row = try chunks.next() {
                let data: Data = row["data"]
                let stored: String = row["sha256"]
                let seq: Int = row["seq"]
                try data.withUnsafeBytes { chunk in
                    guard SHA256.hex(chunk) == stored else {
                        throw QuarantineError(.corrupt, "message \(id): chunk \(seq) does not match its sha256")
                    }
                    whole.update(chunk)
                    try body(chunk)
                }
            }
            guard whole.finalize().hex == expected else { throw QuarantineError(.corrupt, "message \(id) does not match its sha256") }
        }
    }

    public func audit(messageID: String?) async throws -> [AuditEntry] {
        try await read { db in
            let rows =
                if let messageID {
                    try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE message_id = ? ORDER BY seq", arguments: [messageID])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq")
                }
            return rows.map { row in
                AuditEntry(
                    sequence: row["seq"],
                    at: Self.date(row["at"]),
                    actor: row["actor"],
                    sudoUser: row["sudo_user"],
                    action: row["action"],
                    messageID: row["message_id"],
                    detail: row["detail"],
                    previousHash: row["previous_hash"],
                    hash: row["hash"]
                )
            }
        }
    }

    // MARK: Actions

    public func claimRelease(
        of id: String,
        positions: [Int]?,
        reason: String,
        lease: TimeInterval,
        now: Date
    ) async throws -> [ClaimedRecipient] {
        try await transition(
            id,
            positions: positions,
            from: ["held"],
            to: "releasing",
            action: "release-claim",
            reason: reason,
            claim: (owner: owner, now: Self.milliseconds(now), until: Self.milliseconds(now.addingTimeInterval(lease)))
        )
    }

    public func finishRelease(of id: String, _ outcomes: [ReleaseOutcome], reason: String) async throws {
        let actor = actor
        let owner = owner
        let now = Self.milliseconds(Date())
        try await write { db in
            var lines: [String] = []
            for outcome in outcomes {
                guard [.released, .failed, .held].contains(outcome.state) else { continue }
                try db.execute(
                    sql: """
                        UPDATE recipients SET state = ?, changed_by = ?, changed_at = ?, last_reply = ?
                        WHERE message_id = ? AND position = ? AND state = 'releasing' AND (claimed_by IS NULL OR claimed_by = ?)
                        """,
                    arguments: [outcome.state.rawValue, actor.name, now, outcome.reply, id, outcome.position, owner]
                )
                if db.changesCount == 1 {
                    let address = try String.fetchOne(
                        db,
                        sql: "SELECT address FROM recipients WHERE message_id = ? AND position = ?",
                        arguments: [id, outcome.position]
                    )
                    lines.append("\(address ?? "?") \(outcome.state.rawValue): \(outcome.reply)")
                }
            }
            try Self.appendAudit(
                db,
                actor: actor,
                action: "release",
                messageID: id,
                detail: "\(lines.joined(separator: "; ")); reason: \(reason)"
            )
        }
    }

    public func delete(_ id: String, positions: [Int]?, reason: String) async throws -> [ClaimedRecipient] {
        try await transition(id, positions: positions, from: ["held", "failed"], to: "deleted", action: "delete", reason: reason)
    }

    /// Moves the recipients in a `from` state to `to`, each by a compare-and-set update, and
    /// writes the audit row, in one transaction.
    private func transition(
        _ id: String,
        positions: [Int]?,
        from: [String],
        to: String,
        action: String,
        reason: String,
        claim: (owner: String, now: Int64, until: Int64)? = nil
    ) async throws -> [ClaimedRecipient] {
        let actor = actor
        let now = claim?.now ?? Self.milliseconds(Date())
        return try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT position, address FROM recipients WHERE message_id = ? ORDER BY position",
                arguments: [id]
            )
            guard !rows.isEmpty else { throw QuarantineError(.notFound, "no held message \(id)") }
            let states = from.map { "'\($0)'" }.joined(separator: ", ")
            var taken: [ClaimedRecipient] = []
            for row in rows {
                let position: Int = row["position"]
                if let positions, !positions.contains(position) { continue }
                if let claim {
                    // A claim whose lease ran out (its process died) is taken again; one without a
                    // lease (made before leases) only by hand.
                    try db.execute(
                        sql: """
                            UPDATE recipients SET state = ?, changed_by = ?, changed_at = ?, claimed_by = ?, lease_until = ?
                            WHERE message_id = ? AND position = ?
                                AND (state IN (\(states)) OR (state = 'releasing' AND lease_until <= ?))
                            """,
                        arguments: [to, actor.name, now, claim.owner, claim.until, id, position, claim.now]
                    )
                } else {
                    try db.execute(
                        sql: """
                            UPDATE recipients SET state = ?, changed_by = ?, changed_at = ?
                            WHERE message_id = ? AND position = ? AND state IN (\(states))
                            """,
                        arguments: [to, actor.name, now, id, position]
                    )
                }
                if db.changesCount == 1 { taken.append(ClaimedRecipient(position: position, address: row["address"])) }
            }
            if !taken.isEmpty {
                try Self.appendAudit(
                    db,
                    actor: actor,
                    action: action,
                    messageID: id,
                    detail: "\(taken.map(\.address).joined(separator: ", ")); reason: \(reason)"
                )
            }
            return taken
        }
    }

    /// Migration `v8-release-lease`: who holds a recipient's release claim and until when.
    static func registerReleaseLease(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-release-lease") { db in
            try db.execute(
                sql: """
                    ALTER TABLE recipients ADD COLUMN claimed_by TEXT;
                    ALTER TABLE recipients ADD COLUMN lease_until INTEGER;
                    """
            )
        }
    }

    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    static func message(from row: Row, _ db: Database) throws -> HeldMessage {
        let id: String = row["id"]
        let findings = try Row.fetchAll(
            db,
            sql: "SELECT rule, detail, part FROM findings WHERE message_id = ? ORDER BY seq",
            arguments: [id]
        )
        .map { HeldFinding(rule: $0["rule"], detail: $0["detail"], part: $0["part"]) }
        let recipients = try Row.fetchAll(db, sql: "SELECT * FROM recipients WHERE message_id = ? ORDER BY position", arguments: [id])
            .map { r in
                HeldRecipient(
                    address: r["address"],
                    state: RecipientState(rawValue: r["state"]) ?? .held,
                    changedBy: r["changed_by"],
                    changedAt: (r["changed_at"] as Int64?).map(date),
                    lastReply: r["last_reply"]
                )
            }
        let request = HoldRequest(
            queueID: row["queue_id"],
            node: row["node"],
            receivedAt: date(row["received_at"]),
            clientAddress: row["client_address"],
            clientName: row["client_name"],
            helo: row["helo"],
            sender: row["sender"],
            recipients: recipients.map(\.address),
            headerFrom: row["header_from"],
            subject: row["subject"],
            messageID: row["message_id"],
            findings: findings,
            category: row["category"],
            action: row["action"],
            expiresAt: date(row["expires_at"]),
            legalHold: row["legal_hold"]
        )
        return HeldMessage(
            id: id,
            request: request,
            recipients: recipients,
            size: row["size"],
            sha256: row["sha256"],
            purgedAt: (row["purged_at"] as Int64?).map(date)
        )
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// SQLite's errors as the store's: a lock held past the timeout is `busy`, the rest
    /// `unavailable`, with SQLite's message (no SQL, no bound values).
    static func mapped(_ error: any Error, path: String) -> QuarantineError {
        guard let error = error as? DatabaseError else { return QuarantineError(.unavailable, "quarantine store \(path): \(error)") }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return QuarantineError(.busy, "quarantine store \(path) is busy (locked by another process); try again")
        default:
            return QuarantineError(.unavailable, "quarantine store \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }
}

extension HeldFinding {
    /// `rule(part): detail`, as the log and `X-ThuGate-Findings` write a finding.
    public var summary: String { part.map { "\(rule)(\($0.isEmpty ? "message" : $0)): \(detail)" } ?? "\(rule): \(detail)" }
}
