public import Foundation
import GRDB

/// The life cycle of a held message in the SQLite store: legal hold, the two-person release,
/// recipients left `releasing`, the purge and its reclaiming of space, the Maildir import.
extension SQLiteQuarantineStore {
    // MARK: Schema

    /// Migration "v3-lifecycle": when the bytes were purged, release requests awaiting a second
    /// person, and the files imported from the Maildir quarantine (so an import runs once).
    static func registerLifecycle(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-lifecycle") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN purged_at INTEGER;
                    CREATE INDEX messages_expires ON messages(expires_at);
                    CREATE TABLE release_requests (
                        message_id TEXT PRIMARY KEY NOT NULL REFERENCES messages(id),
                        positions TEXT,
                        requested_by TEXT NOT NULL,
                        requested_by_name TEXT NOT NULL,
                        requested_at INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        approved_by TEXT,
                        approved_at INTEGER
                    );
                    CREATE TABLE imports (
                        source TEXT PRIMARY KEY NOT NULL,
                        source_sha256 TEXT NOT NULL UNIQUE,
                        message_id TEXT NOT NULL REFERENCES messages(id)
                    );
                    """
            )
        }
    }

    /// On the writer's connection, before GRDB switches the file to WAL: a new store gets
    /// `auto_vacuum = INCREMENTAL` (it can only be chosen before the first table exists), so a
    /// purge gives freed pages back to the file system in short steps. On an existing store it
    /// changes nothing until a `VACUUM`.
    /// - SeeAlso: https://www.sqlite.org/pragma.html#pragma_auto_vacuum
    static func prepareIncrementalVacuum(_ db: Database) throws {
        try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
    }

    static func checkNotPurged(_ db: Database, _ id: String) throws {
        if let purged = try Int64.fetchOne(db, sql: "SELECT purged_at FROM messages WHERE id = ?", arguments: [id]) {
            throw QuarantineError(.purged, "message \(id) was purged (its original bytes were removed \(Self.utc(Self.date(purged))))")
        }
    }

    static func utc(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    // MARK: Legal hold

    public func liftLegalHold(of id: String, reason: String) async throws -> Bool {
        let actor = actor
        return try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT legal_hold FROM messages WHERE id = ?", arguments: [id]) != nil else {
                throw QuarantineError(.notFound, "no held message \(id)")
            }
            try db.execute(sql: "UPDATE messages SET legal_hold = 0 WHERE id = ? AND legal_hold = 1", arguments: [id])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(db, actor: actor, action: "lift-hold", messageID: id, detail: "legal hold lifted; reason: \(reason)")
            return true
        }
    }

    // MARK: Two-person release

    public func requestRelease(of id: String, positions: [Int]?, reason: String) async throws -> ReleaseRequest {
        let actor = actor
        let now = Self.milliseconds(Date())
        return try await write { db in
            if let pending = try Self.releaseRequest(db, id), pending.approvedBy == nil { return pending }
            let addresses = try Self.addresses(db, id, positions: positions)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO release_requests (message_id, positions, requested_by, requested_by_name, requested_at, reason)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, positions.map { $0.map(String.init).joined(separator: ",") }, actor.person, actor.name, now, reason]
            )
            try Self.appendAudit(
                db,
                actor: actor,
                action: "release-request",
                messageID: id,
                detail: "release to \(addresses.joined(separator: ", ")) requested, awaiting a second person; reason: \(reason)"
            )
            return try Self.releaseRequest(db, id)!
        }
    }

    public func releaseRequest(of id: String) async throws -> ReleaseRequest? {
        try await read { db in try Self.releaseRequest(db, id) }
    }

    public func approveRelease(of id: String, reason: String) async throws -> ReleaseRequest {
        let actor = actor
        let now = Self.milliseconds(Date())
        return try await write { db in
            guard let request = try Self.releaseRequest(db, id) else {
                throw QuarantineError(.notFound, "no release request for \(id): one person asks with `release --force`, another approves")
            }
            guard request.requestedBy != actor.person else {
                throw QuarantineError(
                    .secondPersonRequired,
                    "\(id): \(actor.person) requested this release and cannot also approve it; a different person must run approve"
                )
            }
            // Compare-and-set on the requester, so an approval never applies to a newer request by someone else.
            try db.execute(
                sql: "UPDATE release_requests SET approved_by = ?, approved_at = ? WHERE message_id = ? AND requested_by = ?",
                arguments: [actor.person, now, id, request.requestedBy]
            )
            let addresses = try Self.addresses(db, id, positions: request.positions)
            try Self.appendAudit(
                db,
                actor: actor,
                action: "approve",
                messageID: id,
                detail:
                    "release to \(addresses.joined(separator: ", ")) requested by \(request.requestedByName) approved; reason: \(reason)"
            )
            return try Self.releaseRequest(db, id)!
        }
    }

    private static func releaseRequest(_ db: Database, _ id: String) throws -> ReleaseRequest? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM release_requests WHERE message_id = ?", arguments: [id]) else {
            return nil
        }
        let positions = (row["positions"] as String?).map { $0.split(separator: ",").compactMap { Int($0) } }
        return ReleaseRequest(
            messageID: id,
            positions: positions,
            requestedBy: row["requested_by"],
            requestedByName: row["requested_by_name"],
            requestedAt: date(row["requested_at"]),
            reason: row["reason"],
            approvedBy: row["approved_by"],
            approvedAt: (row["approved_at"] as Int64?).map(date)
        )
    }

    /// The addresses at `positions` (nil: all); `.notFound` for an unknown message.
    private static func addresses(_ db: Database, _ id: String, positions: [Int]?) throws -> [String] {
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT position, address FROM recipients WHERE message_id = ? ORDER BY position",
            arguments: [id]
        )
        guard !rows.isEmpty else { throw QuarantineError(.notFound, "no held message \(id)") }
        return rows.filter { positions?.contains($0["position"]) ?? true }.map { $0["address"] }
    }

    // MARK: Recovery

    public func resolveReleasing(
        of id: String,
        positions: [Int]?,
        as state: RecipientState,
        reason: String
    ) async throws -> [ClaimedRecipient] {
        guard state == .released || state == .held else {
            throw QuarantineError(.unavailable, "a recipient left releasing is resolved as released or held, not \(state.rawValue)")
        }
        let actor = actor
        let now = Self.milliseconds(Date())
        return try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT position, address FROM recipients WHERE message_id = ? ORDER BY position",
                arguments: [id]
            )
            guard !rows.isEmpty else { throw QuarantineError(.notFound, "no held message \(id)") }
            var changed: [ClaimedRecipient] = []
            for row in rows {
                let position: Int = row["position"]
                if let positions, !positions.contains(position) { continue }
                try db.execute(
                    sql: """
                        UPDATE recipients SET state = ?, changed_by = ?, changed_at = ?, last_reply = ?
                        WHERE message_id = ? AND position = ? AND state = 'releasing'
                        """,
                    arguments: [state.rawValue, actor.name, now, "resolved by hand: \(reason)", id, position]
                )
                if db.changesCount == 1 { changed.append(ClaimedRecipient(position: position, address: row["address"])) }
            }
            if !changed.isEmpty {
                try Self.appendAudit(
                    db,
                    actor: actor,
                    action: "resolve",
                    messageID: id,
                    detail: "\(changed.map(\.address).joined(separator: ", ")) releasing → \(state.rawValue); reason: \(reason)"
                )
            }
            return changed
        }
    }

    // MARK: Purge

    /// What makes a message purgeable, for `m` in messages: the same condition lists the
    /// candidates and checks one again in its purge transaction.
    /// Mail under legal hold keeps its bytes whatever its recipients' states (deleting it does not
    /// let a purge take the evidence): only `lift-hold` makes it purgeable.
    private static let purgeable = """
        m.purged_at IS NULL
        AND m.legal_hold = 0
        AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'releasing')
        AND (
            (NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('held', 'failed'))
                AND m.received_at < :decidedBefore)
            OR (EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('held', 'failed'))
                AND m.expires_at <= :now)
        )
        """

    private static let undecided = "EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('held', 'failed'))"

    public func purgeCandidates(decidedBefore: Date, now: Date) async throws -> [PurgeCandidate] {
        let arguments: StatementArguments = ["decidedBefore": Self.milliseconds(decidedBefore), "now": Self.milliseconds(now)]
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.received_at, m.expires_at, m.category, m.size, \(Self.undecided) AS expired
                    FROM messages m WHERE \(Self.purgeable) ORDER BY m.received_at, m.id
                    """,
                arguments: arguments
            )
            .map { row in
                PurgeCandidate(
                    id: row["id"],
                    receivedAt: Self.date(row["received_at"]),
                    expiresAt: Self.date(row["expires_at"]),
                    category: row["category"],
                    size: row["size"],
                    reason: row["expired"] ? .expired : .decided
                )
            }
        }
    }

    public func purge(_ candidates: [PurgeCandidate], decidedBefore: Date, now: Date) async throws -> [String] {
        let actor = actor
        let nowMS = Self.milliseconds(now)
        let decidedMS = Self.milliseconds(decidedBefore)
        return try await write { db in
            var purged: [String] = []
            for candidate in candidates {
                let id = candidate.id
                // Checked again here: a release or a lifted hold since the listing changes the answer.
                guard
                    let expired = try Bool.fetchOne(
                        db,
                        sql: "SELECT \(Self.undecided) FROM messages m WHERE m.id = :id AND \(Self.purgeable)",
                        arguments: ["id": id, "decidedBefore": decidedMS, "now": nowMS]
                    )
                else { continue }
                try db.execute(sql: "DELETE FROM chunks WHERE message_id = ?", arguments: [id])
                try db.execute(sql: "UPDATE messages SET purged_at = ? WHERE id = ?", arguments: [nowMS, id])
                var detail = "original bytes removed (\(candidate.size) bytes)"
                if expired {
                    // Past its retention nobody can release it any more: its held recipients say so.
                    try db.execute(
                        sql: """
                            UPDATE recipients SET state = 'deleted', changed_by = ?, changed_at = ?, last_reply = 'purged: retention expired'
                            WHERE message_id = ? AND state IN ('held', 'failed')
                            """,
                        arguments: [actor.name, nowMS, id]
                    )
                    detail += ", held past its expiry \(Self.utc(candidate.expiresAt)) (category \(candidate.category))"
                } else {
                    detail += ", every recipient released or deleted, received \(Self.utc(candidate.receivedAt))"
                }
                try Self.appendAudit(db, actor: actor, action: "purge", messageID: id, detail: detail)
                purged.append(id)
            }
            return purged
        }
    }

    /// Free space inside the file and how it can be given back.
    public struct Storage: Sendable, Equatable {
        public var pageSize: Int
        public var pages: Int
        public var freePages: Int
        /// `auto_vacuum = INCREMENTAL`: ``reclaim(stepPages:)`` gives free pages back in steps.
        public var incremental: Bool
        public var freeBytes: Int { pageSize * freePages }
        public var fileBytes: Int { pageSize * pages }
    }

    public func storage() async throws -> Storage {
        try await read { db in
            Storage(
                pageSize: try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096,
                pages: try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                freePages: try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0,
                incremental: try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2
            )
        }
    }

    /// Gives free pages back to the file system, `stepPages` per write transaction, so the
    /// gateway's holds wait at most one short step; then a passive WAL checkpoint (it never
    /// waits for the gateway's readers or writer). Returns the pages given back. Only with
    /// `auto_vacuum = INCREMENTAL` (new stores); see ``vacuum()`` for the others.
    /// - SeeAlso: https://www.sqlite.org/pragma.html#pragma_incremental_vacuum
    public func reclaim(stepPages: Int = 256) async throws -> Int {
        var freed = 0
        while true {
            let started = ContinuousClock.now
            let step = try await write { db -> Int in
                let before = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
                guard before > 0 else { return 0 }
                // The pragma returns a row per page freed: read them all, or it stops at the first.
                _ = try Row.fetchAll(db, sql: "PRAGMA incremental_vacuum(\(max(1, stepPages)))")
                return before - (try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
            }
            freed += step
            if step <= 0 { break }
            try await Self.yieldWriteLock(after: ContinuousClock.now - started)
        }
        try await checkpoint()
        return freed
    }

    /// Waits as long as the last write transaction took (at least 10 ms) before the next one:
    /// back-to-back transactions would starve the gateway, whose busy handler polls the lock with
    /// sleeps of up to 100 ms and could miss every gap between them.
    public static func yieldWriteLock(after busy: Duration) async throws {
        try await Task.sleep(for: max(.milliseconds(10), busy))
    }

    /// `VACUUM`, after choosing `auto_vacuum = INCREMENTAL`: the file is rewritten without its
    /// free pages and later purges reclaim in steps. It holds the write lock while it runs (the
    /// gateway's holds wait, and past their busy timeout answer 451): for a quiet time.
    public func vacuum() async throws {
        do {
            try await pool.barrierWriteWithoutTransaction { db in
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
        try await checkpoint()
    }

    private func checkpoint() async throws {
        do {
            // Outside a transaction, as a checkpoint must be.
            _ = try await pool.writeWithoutTransaction { db in try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)").count }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    // MARK: Import

    public func importHeld(
        _ message: HoldRequest,
        content: any HeldContent,
        source: String,
        sourceSHA256: String
    ) async throws -> HeldMessage? {
        var request = message
        request.receivedAt = Self.date(Self.milliseconds(message.receivedAt))
        request.expiresAt = Self.date(Self.milliseconds(message.expiresAt))
        let normalized = request
        let id = HeldID.make(at: normalized.receivedAt)
        let actor = actor
        return try await write { db -> HeldMessage? in
            let seen = try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM imports WHERE source = ? OR source_sha256 = ?",
                arguments: [source, sourceSHA256]
            )
            guard seen == 0 else { return nil }
            let request = normalized
            let (stored, sha256) = try Self.insertHeld(db, id: id, request, content: content, what: source)
            try db.execute(
                sql: "INSERT INTO imports (source, source_sha256, message_id) VALUES (?, ?, ?)",
                arguments: [source, sourceSHA256, id]
            )
            try Self.appendAudit(
                db,
                actor: actor,
                action: "import",
                messageID: id,
                detail:
                    "from \(source), queue \(request.queueID) from \(request.sender): \(request.findings.map(\.summary).joined(separator: "; "))"
            )
            return HeldMessage(
                id: id,
                request: request,
                recipients: request.recipients.map { HeldRecipient(address: $0, state: .held) },
                size: stored,
                sha256: sha256
            )
        }
    }
}
