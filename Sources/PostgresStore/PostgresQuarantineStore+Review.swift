import Foundation
import Logging
import PostgresNIO
public import Quarantine

/// The reviewing side on PostgreSQL: filtered lists, the audit chain's verification, the check.
extension PostgresQuarantineStore {
    /// Messages per batch when their recipients and findings are read with `= ANY(...)`.
    static let batchSize = 500

    // MARK: List

    public func messages(_ query: MessageQuery) async throws -> [HeldMessage] {
        let logger = logger
        return try await transaction(readOnlySnapshot: true) { connection in
            var sql = SQLText()
            var conditions: [String] = []
            if let since = query.since { conditions.append("m.received_at >= \(sql.bind(Self.milliseconds(since)))") }
            if let until = query.until { conditions.append("m.received_at < \(sql.bind(Self.milliseconds(until)))") }
            if let category = query.category { conditions.append("m.category = \(sql.bind(category))") }
            if let rule = query.rule { conditions.append("m.id IN (SELECT f.message_id FROM findings f WHERE f.rule = \(sql.bind(rule)))") }
            if let state = query.state {
                conditions.append("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = \(sql.bind(state.rawValue)))")
            }
            // Ignoring case over all of Unicode, whatever the database's locale: the folded
            // columns were lowercased by Swift when written; strpos takes no wildcards.
            if let from = query.from {
                let needle = sql.bind(from.lowercased())
                conditions.append("(strpos(m.sender_folded, \(needle)) > 0 OR strpos(m.header_from_folded, \(needle)) > 0)")
            }
            if let to = query.to {
                let needle = sql.bind(to.lowercased())
                conditions.append(
                    "EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND strpos(r.address_folded, \(needle)) > 0)"
                )
            }
            var patterns: [String] = []
            if let party = query.party {
                if party.domainEndings.isEmpty {
                    conditions.append("false")
                } else {
                    // The endings narrow in SQL; the directory's own answer decides, below.
                    patterns = party.domainEndings.flatMap { ["%" + Self.likeEscaped($0) + ">", "%" + Self.likeEscaped($0) + ".>"] }
                    let bound = sql.bind(patterns)
                    conditions.append(
                        """
                        (m.sender_folded LIKE ANY(\(bound))
                         OR EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.address_folded LIKE ANY(\(bound))))
                        """
                    )
                }
            }
            sql.text = "SELECT m.id, m.sender FROM messages m"
            if !conditions.isEmpty { sql.text += " WHERE " + conditions.joined(separator: " AND ") }
            sql.text += " ORDER BY m.received_at DESC, m.id DESC"
            if let limit = query.limit, query.party == nil { sql.text += " LIMIT \(sql.bind(limit))" }
            var found = try await connection.query(sql.query, logger: logger).decode((String, String).self).all()
            if let party = query.party, !patterns.isEmpty {
                found = try await Self.filter(found, by: party, connection, logger: logger)
                if let limit = query.limit { found = Array(found.prefix(max(0, limit))) }
            }
            return try await Self.loadMessages(connection, ids: found.map(\.0), logger: logger)
        }
    }

    /// The messages of `found` (id, sender) whose sender or a recipient the party has (its
    /// endings match and its directory says so), in order.
    private static func filter(
        _ found: [(String, String)],
        by party: PartyFilter,
        _ connection: PostgresConnection,
        logger: Logger
    ) async throws -> [(String, String)] {
        func ends(_ address: String) -> Bool {
            let lower = address.lowercased()
            return party.domainEndings.contains { lower.hasSuffix($0 + ">") || lower.hasSuffix($0 + ".>") }
        }
        var kept: [(String, String)] = []
        var start = 0
        while start < found.count {
            let batch = Array(found[start..<min(found.count, start + batchSize)])
            start += batch.count
            var recipients: [String: [String]] = [:]
            for try await (id, address) in try await connection.query(
                "SELECT message_id, address FROM recipients WHERE message_id = ANY(\(batch.map(\.0)))",
                logger: logger
            )
            .decode((String, String).self) {
                recipients[id, default: []].append(address)
            }
            for (id, sender) in batch {
                if (ends(sender) && party.contains(sender)) || (recipients[id] ?? []).contains(where: { ends($0) && party.contains($0) }) {
                    kept.append((id, sender))
                }
            }
        }
        return kept
    }

    /// `text` as a LIKE pattern that matches only itself (PostgreSQL's default escape is `\`).
    static func likeEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// The messages `ids`, in that order, each with its recipients and findings (read in batches).
    static func loadMessages(_ connection: PostgresConnection, ids: [String], logger: Logger) async throws -> [HeldMessage] {
        var messages: [HeldMessage] = []
        messages.reserveCapacity(ids.count)
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(ids.count, start + batchSize)])
            start += batch.count
            var recipients: [String: [HeldRecipient]] = [:]
            for try await (id, address, state, changedBy, changedAt, lastReply) in try await connection.query(
                """
                SELECT message_id, address, state, changed_by, changed_at, last_reply FROM recipients
                WHERE message_id = ANY(\(batch)) ORDER BY message_id, position
                """,
                logger: logger
            )
            .decode((String, String, String, String?, Int64?, String?).self) {
                recipients[id, default: []].append(
                    HeldRecipient(
                        address: address,
                        state: RecipientState(rawValue: state) ?? .held,
                        changedBy: changedBy,
                        changedAt: changedAt.map(date),
                        lastReply: lastReply
                    )
                )
            }
            var findings: [String: [HeldFinding]] = [:]
            for try await (id, rule, detail, part) in try await connection.query(
                "SELECT message_id, rule, detail, part FROM findings WHERE message_id = ANY(\(batch)) ORDER BY message_id, seq",
                logger: logger
            )
            .decode((String, String, String, String?).self) {
                findings[id, default: []].append(HeldFinding(rule: rule, detail: detail, part: part))
            }
            var rows: [String: HeldMessage] = [:]
            for try await row in try await connection.query(
                """
                SELECT id, queue_id, node, received_at, client_address, client_name, helo, sender, header_from, subject, message_id,
                    size, sha256, category, action, expires_at, legal_hold, purged_at
                FROM messages WHERE id = ANY(\(batch))
                """,
                logger: logger
            ) {
                let (id, queueID, node, receivedAt, clientAddress, clientName, helo, sender, headerFrom, subject, messageID) =
                    try row.decode((String, String, String, Int64, String, String?, String, String, String?, String?, String?).self)
                let columns = row.makeRandomAccess()
                let held = recipients[id] ?? []
                let request = HoldRequest(
                    queueID: queueID,
                    node: node,
                    receivedAt: date(receivedAt),
                    clientAddress: clientAddress,
                    clientName: clientName,
                    helo: helo,
                    sender: sender,
                    recipients: held.map(\.address),
                    headerFrom: headerFrom,
                    subject: subject,
                    messageID: messageID,
                    findings: findings[id] ?? [],
                    category: try columns.value("category"),
                    action: try columns.value("action"),
                    expiresAt: date(try columns.value("expires_at")),
                    legalHold: try columns.value("legal_hold")
                )
                rows[id] = HeldMessage(
                    id: id,
                    request: request,
                    recipients: held,
                    size: Int(try columns.value("size", as: Int64.self)),
                    sha256: try columns.value("sha256"),
                    purgedAt: (try columns.value("purged_at", as: Int64?.self)).map(date)
                )
            }
            for id in batch { if let message = rows[id] { messages.append(message) } }
        }
        return messages
    }

    // MARK: Audit

    public func verifyAudit() async throws -> AuditVerification {
        let logger = logger
        return try await transaction(readOnlySnapshot: true) { connection in
            var expected: Int64 = 1
            var previous = AuditEntry.genesis
            var count = 0
            // Streamed: the whole table is never in memory.
            for try await row in try await connection.query(
                "SELECT seq, at, actor, sudo_user, action, message_id, detail, previous_hash, hash FROM audit ORDER BY seq",
                logger: logger
            ) {
                count += 1
                let entry = try Self.auditEntry(row)
                let sequence = entry.sequence
                if sequence != expected {
                    let missing = expected == sequence - 1 ? "row \(expected) is" : "rows \(expected)–\(sequence - 1) are"
                    return AuditVerification(
                        rows: count,
                        problem: AuditProblem(kind: .removed, sequence: expected, message: "\(missing) missing (removed)")
                    )
                }
                let hash = AuditEntry.chainHash(
                    previousHash: entry.previousHash,
                    sequence: sequence,
                    atMilliseconds: Self.milliseconds(entry.at),
                    actor: entry.actor,
                    sudoUser: entry.sudoUser,
                    action: entry.action,
                    messageID: entry.messageID,
                    detail: entry.detail
                )
                if hash != entry.hash {
                    return AuditVerification(
                        rows: count,
                        problem: AuditProblem(
                            kind: .changed,
                            sequence: sequence,
                            message: "row \(sequence) was changed: its hash does not match its fields"
                        )
                    )
                }
                if entry.previousHash != previous {
                    return AuditVerification(
                        rows: count,
                        problem: AuditProblem(
                            kind: .relinked,
                            sequence: sequence,
                            message: "row \(sequence) does not follow row \(sequence - 1): one of them was replaced or inserted"
                        )
                    )
                }
                previous = entry.hash
                expected = sequence + 1
            }
            // The chain alone cannot show its last rows removed; every message's hold row can.
            let orphans = try await connection.query(
                """
                SELECT m.id FROM messages m
                WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.message_id = m.id AND a.action IN ('hold', 'import'))
                ORDER BY m.id LIMIT 1
                """,
                logger: logger
            )
            .decode(String.self).all()
            if let id = orphans.first {
                return AuditVerification(
                    rows: count,
                    problem: AuditProblem(kind: .removed, sequence: expected, message: "the hold row of message \(id) is missing (removed)")
                )
            }
            return AuditVerification(rows: count, problem: nil)
        }
    }

    // MARK: Check

    /// PostgreSQL has no `integrity_check`: its own checksums (when the cluster has them) and
    /// `amcheck` are the operator's; the store checks what it owns: every message's chunks in
    /// order against their sha256, the whole against its row's sha256 and size. `integrity`
    /// stays empty.
    public func check(progress: @Sendable (Int, Int) -> Void) async throws -> StoreCheckReport {
        let logger = logger
        let messages = try await withConnection { connection in
            try await connection.query("SELECT id, size, sha256 FROM messages WHERE purged_at IS NULL ORDER BY id", logger: logger)
                .decode((String, Int64, String).self).all()
        }
        var bad: [BadMessage] = []
        var bytes = 0
        progress(0, messages.count)
        for (done, message) in messages.enumerated() {
            let (id, size, sha256) = message
            let result = try await withConnection { connection in
                var problems: [String] = []
                var whole = SHA256()
                var total = 0
                var expected = 0
                for try await (seq, data, stored) in try await connection.query(
                    "SELECT seq, data, sha256 FROM chunks WHERE message_id = \(id) ORDER BY seq",
                    logger: logger
                )
                .decode((Int, ByteBuffer, String).self) {
                    if seq != expected {
                        problems.append(expected == seq - 1 ? "chunk \(expected) is missing" : "chunks \(expected)–\(seq - 1) are missing")
                    }
                    expected = seq + 1
                    data.withUnsafeReadableBytes { chunk in
                        if SHA256.hex(chunk) != stored { problems.append("chunk \(seq) does not match its sha256") }
                        whole.update(chunk)
                    }
                    total += data.readableBytes
                }
                if total != Int(size) { problems.append("\(total) bytes stored, \(size) in its row") }
                if whole.finalize().hex != sha256 { problems.append("the message does not match its sha256") }
                return (total, problems)
            }
            bytes += result.0
            if !result.1.isEmpty { bad.append(BadMessage(id: id, problems: result.1)) }
            progress(done + 1, messages.count)
        }
        return StoreCheckReport(integrity: [], messages: messages.count, bytes: bytes, bad: bad)
    }
}
