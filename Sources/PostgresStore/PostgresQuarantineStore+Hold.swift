public import Foundation
import Logging
import PostgresNIO
public import Quarantine

/// Holding a message, reading it back, and the release and delete actions, on PostgreSQL.
extension PostgresQuarantineStore {
    // MARK: Hold

    public func hold(_ request: HoldRequest, content: any HeldContent) async throws -> HeldMessage {
        // Times are stored to the millisecond: the row handed back says what a read will say.
        var normalized = request
        normalized.receivedAt = Self.date(Self.milliseconds(request.receivedAt))
        normalized.expiresAt = Self.date(Self.milliseconds(request.expiresAt))
        let request = normalized
        let id = HeldID.make(at: request.receivedAt)
        let (actor, node, logger, beforeCommit) = (actor, settings.nodeID, logger, beforeCommit)
        return try await transaction { connection in
            let (stored, sha256) = try await Self.insertHeld(
                connection,
                id: id,
                request,
                content: content,
                node: node,
                what: "message \(request.queueID)",
                logger: logger
            )
            try await Self.insertNotices(connection, request.notices, messageID: id, logger: logger)
            // Last, so the chain's lock is held for the commit only, not while the bytes go in.
            _ = try await Self.appendAudit(
                connection,
                actor: actor,
                node: node,
                action: "hold",
                messageID: id,
                detail: "queue \(request.queueID) from \(request.sender): \(request.findings.map(\.summary).joined(separator: "; "))",
                logger: logger
            )
            try beforeCommit?()
            return HeldMessage(
                id: id,
                request: request,
                recipients: request.recipients.map { HeldRecipient(address: $0, state: .held) },
                size: stored,
                sha256: sha256
            )
        }
    }

    /// Inserts a held message's rows (message, recipients `held`, findings) and its bytes in
    /// chunks, each hashed, read from `content` one chunk at a time; sets the message's sha256.
    /// Inside the caller's transaction. Returns the bytes stored and the sha256.
    static func insertHeld(
        _ connection: PostgresConnection,
        id: String,
        _ request: HoldRequest,
        content: any HeldContent,
        node: String,
        what: String,
        logger: Logger
    ) async throws -> (stored: Int, sha256: String) {
        try await insertMessageRow(connection, id: id, request, size: content.size, sha256: "", node: node, logger: logger)
        try await insertRecipients(
            connection,
            id: id,
            request.recipients.map { HeldRecipient(address: $0, state: .held) },
            claims: [],
            logger: logger
        )
        try await insertFindings(connection, id: id, request.findings, logger: logger)
        var whole = SHA256()
        var seq = 0
        let stored = try await ChunkPump.forEachChunk(of: content, maxLength: SQLiteQuarantineStore.chunkSize) { chunk in
            let hex = chunk.withUnsafeReadableBytes { bytes in
                whole.update(bytes)
                return SHA256.hex(bytes)
            }
            try await connection.query(
                "INSERT INTO chunks (message_id, seq, data, sha256) VALUES (\(id), \(seq), \(chunk), \(hex))",
                logger: logger
            )
            seq += 1
        }
        guard stored == content.size else { throw QuarantineError(.corrupt, "\(what): read \(stored) of \(content.size) bytes") }
        let sha256 = whole.finalize().hex
        try await connection.query("UPDATE messages SET sha256 = \(sha256) WHERE id = \(id)", logger: logger)
        return (stored, sha256)
    }

    static func insertMessageRow(
        _ connection: PostgresConnection,
        id: String,
        _ request: HoldRequest,
        size: Int,
        sha256: String,
        node: String,
        chunkSize: Int = SQLiteQuarantineStore.chunkSize,
        purgedAt: Date? = nil,
        logger: Logger
    ) async throws {
        var sql = SQLText()
        let values = [
            sql.bind(id), sql.bind(request.queueID), sql.bind(request.node), sql.bind(node), sql.bind(milliseconds(request.receivedAt)),
            sql.bind(request.clientAddress), sql.bind(request.clientName), sql.bind(request.helo), sql.bind(request.sender),
            sql.bind(request.sender.lowercased()), sql.bind(request.headerFrom), sql.bind(request.headerFrom?.lowercased()),
            sql.bind(request.subject), sql.bind(request.messageID), sql.bind(Int64(size)), sql.bind(sha256), sql.bind(request.category),
            sql.bind(request.action), sql.bind(milliseconds(request.expiresAt)), sql.bind(request.legalHold), sql.bind(chunkSize),
            sql.bind(purgedAt.map(milliseconds)),
        ]
        sql.text = """
            INSERT INTO messages (id, queue_id, node, stored_by, received_at, client_address, client_name, helo, sender, sender_folded,
                header_from, header_from_folded, subject, message_id, size, sha256, category, action, expires_at, legal_hold,
                chunk_size, purged_at)
            VALUES (\(values.joined(separator: ", ")))
            """
        try await connection.query(sql.query, logger: logger)
    }

    static func insertRecipients(
        _ connection: PostgresConnection,
        id: String,
        _ recipients: [HeldRecipient],
        claims: [RecipientClaim],
        logger: Logger
    ) async throws {
        for (position, recipient) in recipients.enumerated() {
            let claim = position < claims.count ? claims[position] : nil
            try await connection.query(
                """
                INSERT INTO recipients (message_id, position, address, address_folded, state, changed_by, changed_at, last_reply,
                    claimed_by, lease_until)
                VALUES (\(id), \(position), \(recipient.address), \(recipient.address.lowercased()), \(recipient.state.rawValue),
                    \(recipient.changedBy), \(recipient.changedAt.map(milliseconds)), \(recipient.lastReply), \(claim?.owner),
                    \(claim?.leaseUntil.map(milliseconds)))
                """,
                logger: logger
            )
        }
    }

    static func insertFindings(_ connection: PostgresConnection, id: String, _ findings: [HeldFinding], logger: Logger) async throws {
        for (seq, finding) in findings.enumerated() {
            try await connection.query(
                "INSERT INTO findings (message_id, seq, rule, detail, part) VALUES (\(id), \(seq), \(finding.rule), \(finding.detail), \(finding.part))",
                logger: logger
            )
        }
    }

    /// Appends one audit row chained to the last, inside the caller's transaction: the
    /// transaction-level advisory lock serializes appends of every node until the commit, and
    /// the row before is read after it was taken, so the chain never forks.
    static func appendAudit(
        _ connection: PostgresConnection,
        actor: Actor,
        node: String,
        action: String,
        messageID: String?,
        detail: String,
        logger: Logger
    ) async throws -> AuditEntry {
        try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresStoreSchema.auditLock))", logger: logger)
        var sequence: Int64 = 1
        var previous = AuditEntry.genesis
        for try await (seq, hash) in try await connection.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", logger: logger)
            .decode((Int64, String).self)
        {
            sequence = seq + 1
            previous = hash
        }
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
        let entry = AuditEntry(
            sequence: sequence,
            at: date(at),
            actor: actor.user,
            sudoUser: actor.sudoUser,
            action: action,
            messageID: messageID,
            detail: detail,
            previousHash: previous,
            hash: hash
        )
        try await insertAudit(connection, entry, node: node, logger: logger)
        appendedAudit?.append(entry)
        return entry
    }

    static func insertAudit(_ connection: PostgresConnection, _ entry: AuditEntry, node: String, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO audit (seq, at, actor, sudo_user, action, message_id, detail, previous_hash, hash, node)
            VALUES (\(entry.sequence), \(milliseconds(entry.at)), \(entry.actor), \(entry.sudoUser), \(entry.action), \(entry.messageID),
                \(entry.detail), \(entry.previousHash), \(entry.hash), \(node))
            """,
            logger: logger
        )
    }

    // MARK: Read

    public func message(_ id: String) async throws -> HeldMessage {
        let prefix = id.lowercased()
        guard HeldID.isPrefix(prefix) else { throw QuarantineError(.notFound, "no held message \(id)") }
        let logger = logger
        return try await transaction(readOnlySnapshot: true) { connection in
            // The prefix is of the id alphabet only (no LIKE wildcards); `id` is COLLATE "C", so the index serves it.
            let ids = try await connection.query(
                "SELECT id FROM messages WHERE id LIKE \(prefix + "%") ORDER BY id LIMIT 2",
                logger: logger
            )
            .decode(String.self).all()
            guard let full = ids.first else { throw QuarantineError(.notFound, "no held message \(id)") }
            guard ids.count == 1 else { throw QuarantineError(.ambiguous, "\(id) names more than one held message; give more of its id") }
            guard let message = try await Self.loadMessages(connection, ids: [full], logger: logger).first else {
                throw QuarantineError(.notFound, "no held message \(id)")
            }
            return message
        }
    }

    public func readContent(of id: String, _ body: @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws {
        let logger = logger
        // The body is called while the read runs; it goes into the connection's closure, never beyond this call.
        try await withoutActuallyEscaping(body) { body in
            try await transaction(readOnlySnapshot: true) { connection in
                let rows = try await connection.query(
                    "SELECT sha256, purged_at FROM messages WHERE id = \(id)",
                    logger: logger
                )
                .decode((String, Int64?).self).all()
                guard let first = rows.first else { throw QuarantineError(.notFound, "no held message \(id)") }
                let (expected, purgedAt) = first
                if let purgedAt {
                    throw QuarantineError(
                        .purged,
                        "message \(id) was purged (its original bytes were removed \(Self.utc(Self.date(purgedAt))))"
                    )
                }
                var whole = SHA256()
                for try await (seq, data, stored) in try await connection.query(
                    "SELECT seq, data, sha256 FROM chunks WHERE message_id = \(id) ORDER BY seq",
                    logger: logger
                )
                .decode((Int, ByteBuffer, String).self) {
                    try data.withUnsafeReadableBytes { chunk in
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
    }

    public func audit(messageID: String?) async throws -> [AuditEntry] {
        let logger = logger
        return try await withConnection { connection in
            let query: PostgresQuery =
                if let messageID {
                    "SELECT seq, at, actor, sudo_user, action, message_id, detail, previous_hash, hash FROM audit WHERE message_id = \(messageID) ORDER BY seq"
                } else {
                    "SELECT seq, at, actor, sudo_user, action, message_id, detail, previous_hash, hash FROM audit ORDER BY seq"
                }
            var entries: [AuditEntry] = []
            for try await row in try await connection.query(query, logger: logger) { entries.append(try Self.auditEntry(row)) }
            return entries
        }
    }

    static func auditEntry(_ row: PostgresRow) throws -> AuditEntry {
        let (seq, at, actor, sudo, action, message, detail, previous, hash) = try row.decode(
            (Int64, Int64, String, String?, String, String?, String, String, String).self
        )
        return AuditEntry(
            sequence: seq,
            at: date(at),
            actor: actor,
            sudoUser: sudo,
            action: action,
            messageID: message,
            detail: detail,
            previousHash: previous,
            hash: hash
        )
    }

    public func appendAudit(action: String, messageID: String?, detail: String) async throws -> AuditEntry {
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        return try await transaction { connection in
            try await Self.appendAudit(
                connection,
                actor: actor,
                node: node,
                action: action,
                messageID: messageID,
                detail: detail,
                logger: logger
            )
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
        let (actor, node, owner, logger) = (actor, settings.nodeID, owner, logger)
        let nowMS = Self.milliseconds(now)
        let until = Self.milliseconds(now.addingTimeInterval(lease))
        return try await transaction { connection in
            try await Self.requireRecipients(connection, id, logger: logger)
            // Compare-and-set: held, or a claim whose lease ran out (its process died); one
            // without a lease (made before leases) only by hand.
            return try await Self.changeRecipients(
                connection,
                """
                UPDATE recipients SET state = 'releasing', changed_by = \(actor.name), changed_at = \(nowMS), claimed_by = \(owner),
                    claimed_node = \(node), lease_until = \(until)
                WHERE message_id = \(id) AND (\(positions == nil) OR position = ANY(\(positions ?? [])))
                    AND (state = 'held' OR (state = 'releasing' AND lease_until <= \(nowMS)))
                RETURNING position, address
                """,
                audit: (actor, node, "release-claim", id),
                detail: { "\($0.map(\.address).joined(separator: ", ")); reason: \(reason)" },
                logger: logger
            )
        }
    }

    public func finishRelease(of id: String, _ outcomes: [ReleaseOutcome], reason: String) async throws {
        let (actor, node, owner, logger) = (actor, settings.nodeID, owner, logger)
        let now = Self.milliseconds(Date())
        try await transaction { connection in
            var lines: [String] = []
            for outcome in outcomes {
                guard [.released, .failed, .held].contains(outcome.state) else { continue }
                let changed = try await connection.query(
                    """
                    UPDATE recipients SET state = \(outcome.state.rawValue), changed_by = \(actor.name), changed_at = \(now),
                        last_reply = \(outcome.reply)
                    WHERE message_id = \(id) AND position = \(outcome.position) AND state = 'releasing'
                        AND (claimed_by IS NULL OR claimed_by = \(owner))
                    RETURNING address
                    """,
                    logger: logger
                )
                .decode(String.self).all()
                if let address = changed.first { lines.append("\(address) \(outcome.state.rawValue): \(outcome.reply)") }
            }
            _ = try await Self.appendAudit(
                connection,
                actor: actor,
                node: node,
                action: "release",
                messageID: id,
                detail: "\(lines.joined(separator: "; ")); reason: \(reason)",
                logger: logger
            )
        }
    }

    public func delete(_ id: String, positions: [Int]?, reason: String) async throws -> [ClaimedRecipient] {
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        let now = Self.milliseconds(Date())
        return try await transaction { connection in
            try await Self.requireRecipients(connection, id, logger: logger)
            return try await Self.changeRecipients(
                connection,
                """
                UPDATE recipients SET state = 'deleted', changed_by = \(actor.name), changed_at = \(now)
                WHERE message_id = \(id) AND (\(positions == nil) OR position = ANY(\(positions ?? [])))
                    AND state IN ('held', 'failed')
                RETURNING position, address
                """,
                audit: (actor, node, "delete", id),
                detail: { "\($0.map(\.address).joined(separator: ", ")); reason: \(reason)" },
                logger: logger
            )
        }
    }

    /// Runs `query` (an `UPDATE recipients ... RETURNING position, address`: a compare-and-set)
    /// and, when it changed any, appends the audit row `audit` names with `detail` of those
    /// changed; returns them in envelope order.
    static func changeRecipients(
        _ connection: PostgresConnection,
        _ query: PostgresQuery,
        audit: (actor: Actor, node: String, action: String, messageID: String),
        detail: ([ClaimedRecipient]) -> String,
        logger: Logger
    ) async throws -> [ClaimedRecipient] {
        var changed: [ClaimedRecipient] = []
        for try await (position, address) in try await connection.query(query, logger: logger).decode((Int, String).self) {
            changed.append(ClaimedRecipient(position: position, address: address))
        }
        changed.sort { $0.position < $1.position }
        if !changed.isEmpty {
            _ = try await appendAudit(
                connection,
                actor: audit.actor,
                node: audit.node,
                action: audit.action,
                messageID: audit.messageID,
                detail: detail(changed),
                logger: logger
            )
        }
        return changed
    }

    /// `.notFound` when message `id` has no recipients (is not there).
    static func requireRecipients(_ connection: PostgresConnection, _ id: String, logger: Logger) async throws {
        let found = try await connection.run("SELECT 1 FROM recipients WHERE message_id = \(id) LIMIT 1", logger: logger)
        guard found > 0 else { throw QuarantineError(.notFound, "no held message \(id)") }
    }

    static func utc(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
