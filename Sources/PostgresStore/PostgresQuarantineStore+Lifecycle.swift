public import Foundation
import Logging
import PostgresNIO
public import Quarantine

/// The life cycle on PostgreSQL: legal hold, the two-person release, recipients left
/// `releasing`, the purge, the Maildir import. Each one transaction with its audit row.
extension PostgresQuarantineStore {
    // MARK: Legal hold

    public func liftLegalHold(of id: String, reason: String) async throws -> Bool {
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        return try await transaction { connection in
            guard try await connection.run("SELECT 1 FROM messages WHERE id = \(id)", logger: logger) > 0 else {
                throw QuarantineError(.notFound, "no held message \(id)")
            }
            let changed = try await connection.run(
                "UPDATE messages SET legal_hold = false WHERE id = \(id) AND legal_hold RETURNING 1",
                logger: logger
            )
            guard changed == 1 else { return false }
            _ = try await Self.appendAudit(
                connection,
                actor: actor,
                node: node,
                action: "lift-hold",
                messageID: id,
                detail: "legal hold lifted; reason: \(reason)",
                logger: logger
            )
            return true
        }
    }

    // MARK: Two-person release

    public func requestRelease(of id: String, positions: [Int]?, reason: String) async throws -> ReleaseRequest {
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        let now = Self.milliseconds(Date())
        return try await transaction { connection in
            // The message's row locked first: two requests at once are one after the other.
            guard try await connection.run("SELECT 1 FROM messages WHERE id = \(id) FOR UPDATE", logger: logger) > 0 else {
                throw QuarantineError(.notFound, "no held message \(id)")
            }
            if let pending = try await Self.releaseRequest(connection, id, logger: logger), pending.approvedBy == nil { return pending }
            let addresses = try await Self.addresses(connection, id, positions: positions, logger: logger)
            let list = positions.map { $0.map(String.init).joined(separator: ",") }
            try await connection.query(
                """
                INSERT INTO release_requests (message_id, positions, requested_by, requested_by_name, requested_at, reason)
                VALUES (\(id), \(list), \(actor.person), \(actor.name), \(now), \(reason))
                ON CONFLICT (message_id) DO UPDATE SET positions = excluded.positions, requested_by = excluded.requested_by,
                    requested_by_name = excluded.requested_by_name, requested_at = excluded.requested_at, reason = excluded.reason,
                    approved_by = NULL, approved_at = NULL
                """,
                logger: logger
            )
            _ = try await Self.appendAudit(
                connection,
                actor: actor,
                node: node,
                action: "release-request",
                messageID: id,
                detail: "release to \(addresses.joined(separator: ", ")) requested, awaiting a second person; reason: \(reason)",
                logger: logger
            )
            return try await Self.releaseRequest(connection, id, logger: logger)!
        }
    }

    public func releaseRequest(of id: String) async throws -> ReleaseRequest? {
        let logger = logger
        return try await withConnection { connection in try await Self.releaseRequest(connection, id, logger: logger) }
    }

    public func approveRelease(of id: String, reason: String) async throws -> ReleaseRequest {
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        let now = Self.milliseconds(Date())
        return try await transaction { connection in
            guard let request = try await Self.releaseRequest(connection, id, forUpdate: true, logger: logger) else {
                throw QuarantineError(.notFound, "no release request for \(id): one person asks with `release --force`, another approves")
            }
            guard request.requestedBy != actor.person else {
                throw QuarantineError(
                    .secondPersonRequired,
                    "\(id): \(actor.person) requested this release and cannot also approve it; a different person must run approve"
                )
            }
            // Compare-and-set on the requester, so an approval never applies to a newer request by someone else.
            try await connection.query(
                """
                UPDATE release_requests SET approved_by = \(actor.person), approved_at = \(now)
                WHERE message_id = \(id) AND requested_by = \(request.requestedBy)
                """,
                logger: logger
            )
            let addresses = try await Self.addresses(connection, id, positions: request.positions, logger: logger)
            _ = try await Self.appendAudit(
                connection,
                actor: actor,
                node: node,
                action: "approve",
                messageID: id,
                detail:
                    "release to \(addresses.joined(separator: ", ")) requested by \(request.requestedByName) approved; reason: \(reason)",
                logger: logger
            )
            return try await Self.releaseRequest(connection, id, logger: logger)!
        }
    }

    static func releaseRequest(
        _ connection: PostgresConnection,
        _ id: String,
        forUpdate: Bool = false,
        logger: Logger
    ) async throws -> ReleaseRequest? {
        let query: PostgresQuery =
            forUpdate
            ? """
            SELECT positions, requested_by, requested_by_name, requested_at, reason, approved_by, approved_at
            FROM release_requests WHERE message_id = \(id) FOR UPDATE
            """
            : """
            SELECT positions, requested_by, requested_by_name, requested_at, reason, approved_by, approved_at
            FROM release_requests WHERE message_id = \(id)
            """
        let rows = try await connection.query(query, logger: logger)
            .decode((String?, String, String, Int64, String, String?, Int64?).self).all()
        guard let (positions, by, byName, at, reason, approvedBy, approvedAt) = rows.first else { return nil }
        return ReleaseRequest(
            messageID: id,
            positions: positions.map { $0.split(separator: ",").compactMap { Int($0) } },
            requestedBy: by,
            requestedByName: byName,
            requestedAt: date(at),
            reason: reason,
            approvedBy: approvedBy,
            approvedAt: approvedAt.map(date)
        )
    }

    /// The addresses at `positions` (nil: all); `.notFound` for an unknown message.
    static func addresses(_ connection: PostgresConnection, _ id: String, positions: [Int]?, logger: Logger) async throws -> [String] {
        let rows = try await connection.query(
            "SELECT position, address FROM recipients WHERE message_id = \(id) ORDER BY position",
            logger: logger
        )
        .decode((Int, String).self).all()
        guard !rows.isEmpty else { throw QuarantineError(.notFound, "no held message \(id)") }
        return rows.filter { positions?.contains($0.0) ?? true }.map(\.1)
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
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        let now = Self.milliseconds(Date())
        return try await transaction { connection in
            try await Self.requireRecipients(connection, id, logger: logger)
            return try await Self.changeRecipients(
                connection,
                """
                UPDATE recipients SET state = \(state.rawValue), changed_by = \(actor.name), changed_at = \(now),
                    last_reply = \("resolved by hand: \(reason)")
                WHERE message_id = \(id) AND (\(positions == nil) OR position = ANY(\(positions ?? []))) AND state = 'releasing'
                RETURNING position, address
                """,
                audit: (actor, node, "resolve", id),
                detail: { "\($0.map(\.address).joined(separator: ", ")) releasing → \(state.rawValue); reason: \(reason)" },
                logger: logger
            )
        }
    }

    // MARK: Purge

    /// What makes a message purgeable, for `m` in messages, with `$1` the decided-before and `$2`
    /// the now in milliseconds: the same condition lists the candidates and checks one again in
    /// its purge transaction. Mail under legal hold keeps its bytes whatever its recipients' states.
    private static let purgeable = """
        m.purged_at IS NULL
        AND NOT m.legal_hold
        AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'releasing')
        AND (
            (NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('held', 'failed'))
                AND m.received_at < $1)
            OR (EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('held', 'failed'))
                AND m.expires_at <= $2)
        )
        """

    private static let undecided = "EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('held', 'failed'))"

    public func purgeCandidates(decidedBefore: Date, now: Date) async throws -> [PurgeCandidate] {
        let logger = logger
        var sql = SQLText()
        _ = sql.bind(Self.milliseconds(decidedBefore))
        _ = sql.bind(Self.milliseconds(now))
        sql.text = """
            SELECT m.id, m.received_at, m.expires_at, m.category, m.size, \(Self.undecided) AS expired
            FROM messages m WHERE \(Self.purgeable) ORDER BY m.received_at, m.id
            """
        let query = sql.query
        return try await withConnection { connection in
            try await connection.query(query, logger: logger).decode((String, Int64, Int64, String, Int64, Bool).self).all().map {
                PurgeCandidate(
                    id: $0.0,
                    receivedAt: Self.date($0.1),
                    expiresAt: Self.date($0.2),
                    category: $0.3,
                    size: Int($0.4),
                    reason: $0.5 ? .expired : .decided
                )
            }
        }
    }

    public func purge(_ candidates: [PurgeCandidate], decidedBefore: Date, now: Date) async throws -> [String] {
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        let nowMS = Self.milliseconds(now)
        let decidedMS = Self.milliseconds(decidedBefore)
        return try await transaction { connection in
            var purged: [(String, String)] = []
            for candidate in candidates {
                let id = candidate.id
                // Checked again here, the row locked: a release or a lifted hold since the listing changes the answer.
                var sql = SQLText()
                _ = sql.bind(decidedMS)
                _ = sql.bind(nowMS)
                sql.text = "SELECT \(Self.undecided) FROM messages m WHERE m.id = \(sql.bind(id)) AND \(Self.purgeable) FOR UPDATE"
                guard let expired = try await connection.query(sql.query, logger: logger).decode(Bool.self).all().first else { continue }
                try await connection.query("DELETE FROM chunks WHERE message_id = \(id)", logger: logger)
                try await connection.query("UPDATE messages SET purged_at = \(nowMS) WHERE id = \(id)", logger: logger)
                var detail = "original bytes removed (\(candidate.size) bytes)"
                if expired {
                    // Past its retention nobody can release it any more: its held recipients say so.
                    try await connection.query(
                        """
                        UPDATE recipients SET state = 'deleted', changed_by = \(actor.name), changed_at = \(nowMS),
                            last_reply = 'purged: retention expired'
                        WHERE message_id = \(id) AND state IN ('held', 'failed')
                        """,
                        logger: logger
                    )
                    detail += ", held past its expiry \(Self.utc(candidate.expiresAt)) (category \(candidate.category))"
                } else {
                    detail += ", every recipient released or deleted, received \(Self.utc(candidate.receivedAt))"
                }
                purged.append((id, detail))
            }
            // The audit rows last, so the chain's lock is taken once every row lock is held (no
            // deadlock with a release of one of these messages on another node).
            for (id, detail) in purged {
                _ = try await Self.appendAudit(
                    connection,
                    actor: actor,
                    node: node,
                    action: "purge",
                    messageID: id,
                    detail: detail,
                    logger: logger
                )
            }
            return purged.map(\.0)
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
        let (actor, node, logger) = (actor, settings.nodeID, logger)
        return try await transaction { connection -> HeldMessage? in
            // Two nodes importing one file at once: the unique keys fail the second, which rolls back.
            let request = normalized
            let seen = try await connection.run(
                "SELECT 1 FROM imports WHERE source = \(source) OR source_sha256 = \(sourceSHA256)",
                logger: logger
            )
            guard seen == 0 else { return nil }
            let (stored, sha256) = try await Self.insertHeld(
                connection,
                id: id,
                request,
                content: content,
                node: node,
                what: source,
                logger: logger
            )
            try await connection.query(
                "INSERT INTO imports (source, source_sha256, message_id) VALUES (\(source), \(sourceSHA256), \(id))",
                logger: logger
            )
            _ = try await Self.appendAudit(
                connection,
                actor: actor,
                node: node,
                action: "import",
                messageID: id,
                detail:
                    "from \(source), queue \(request.queueID) from \(request.sender): \(request.findings.map(\.summary).joined(separator: "; "))",
                logger: logger
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
