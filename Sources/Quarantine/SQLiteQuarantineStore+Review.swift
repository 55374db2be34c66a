import Foundation
import GRDB
public import Logging

/// The reviewing side of the store: filtered lists done in SQL, audit rows for reading, the
/// audit chain's verification, the store check, and the audit rows mirrored to the log.
extension SQLiteQuarantineStore {
    // MARK: Schema

    /// Indexes for the `list` filters on a large store (100,000 messages): by category, by a
    /// finding's rule and by a recipient's state, each with the message so the filter is an
    /// index lookup, not a scan.
    static func registerReview(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-review") { db in
            try db.execute(
                sql: """
                    CREATE INDEX messages_category ON messages(category, received_at);
                    CREATE INDEX findings_rule ON findings(rule, message_id);
                    CREATE INDEX recipients_state ON recipients(state, message_id);
                    """
            )
        }
    }

    // MARK: List

    /// Messages per batch when their recipients and findings are read with `IN (...)`.
    private static let batchSize = 500

    /// The messages that match every filter of `query`, newest first, each with its recipients
    /// and findings (read in batches, not one query per message).
    static func messages(matching query: MessageQuery, _ db: Database) throws -> [HeldMessage] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let since = query.since {
            conditions.append("m.received_at >= ?")
            arguments += [milliseconds(since)]
        }
        if let until = query.until {
            conditions.append("m.received_at < ?")
            arguments += [milliseconds(until)]
        }
        if let category = query.category {
            conditions.append("m.category = ?")
            arguments += [category]
        }
        if let rule = query.rule {
            conditions.append("m.id IN (SELECT f.message_id FROM findings f WHERE f.rule = ?)")
            arguments += [rule]
        }
        if let state = query.state {
            conditions.append("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = ?)")
            arguments += [state.rawValue]
        }
        var functions: [DatabaseFunction] = []
        if let from = query.from {
            let (sender, senderArguments) = containsCondition("m.sender", from, &functions)
            let (header, headerArguments) = containsCondition("m.header_from", from, &functions)
            conditions.append("(\(sender) OR \(header))")
            arguments += senderArguments
            arguments += headerArguments
        }
        if let to = query.to {
            let (match, matchArguments) = containsCondition("r.address", to, &functions)
            conditions.append("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND \(match))")
            arguments += matchArguments
        }
        if let party = query.party {
            if party.domainEndings.isEmpty {
                conditions.append("0")
            } else {
                // The endings narrow in SQL (LIKE is cheap); the directory's own answer decides.
                let belongs = party.contains
                let function = DatabaseFunction("thugate_party", argumentCount: 1, pure: true) { values in
                    guard let address = String.fromDatabaseValue(values[0]) else { return false }
                    return belongs(address)
                }
                functions.append(function)
                let patterns = party.domainEndings.flatMap { ending -> [String] in
                    // Stored as `<a@b.vn>`; a final dot on the domain is the same domain.
                    ["%" + likeEscaped(ending) + ">", "%" + likeEscaped(ending) + ".>"]
                }
                func endings(_ column: String) -> String {
                    "(" + patterns.map { _ in "\(column) LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")"
                }
                conditions.append(
                    """
                    ((\(endings("m.sender")) AND thugate_party(m.sender))
                     OR EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND \(endings("r.address")) AND thugate_party(r.address)))
                    """
                )
                arguments += StatementArguments(patterns)
                arguments += StatementArguments(patterns)
            }
        }
        for function in functions { db.add(function: function) }
        defer { for function in functions { db.remove(function: function) } }
        var sql = "SELECT \(messageColumns) FROM messages m"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY m.received_at DESC, m.id DESC"
        if let limit = query.limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        return try withParts(rows, db)
    }

    /// `column` contains `needle`, ignoring case: LIKE (SQLite folds ASCII) when the needle is
    /// ASCII, else a function that folds all of Unicode. Adds that function to `functions`.
    private static func containsCondition(
        _ column: String,
        _ needle: String,
        _ functions: inout [DatabaseFunction]
    ) -> (
        String, StatementArguments
    ) {
        if needle.utf8.allSatisfy({ $0 < 0x80 }) {
            return ("\(column) LIKE ? ESCAPE '\\'", ["%" + likeEscaped(needle) + "%"])
        }
        if !functions.contains(where: { $0.name == "thugate_fold" }) {
            functions.append(
                DatabaseFunction("thugate_fold", argumentCount: 1, pure: true) { values in
                    String.fromDatabaseValue(values[0]).map { $0.lowercased() }
                }
            )
        }
        return ("instr(thugate_fold(\(column)), ?) > 0", [needle.lowercased()])
    }

    /// `text` as a LIKE pattern that matches only itself (with `ESCAPE '\'`).
    static func likeEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// The columns ``withParts(_:_:)`` reads, by position.
    static let messageColumns = """
        m.id, m.queue_id, m.node, m.received_at, m.client_address, m.client_name, m.helo, m.sender, m.header_from, m.subject, \
        m.message_id, m.size, m.sha256, m.category, m.action, m.expires_at, m.legal_hold, m.purged_at
        """

    /// The messages of `rows` (``messageColumns``) with their recipients and findings.
    static func withParts(_ rows: [Row], _ db: Database) throws -> [HeldMessage] {
        var messages: [HeldMessage] = []
        messages.reserveCapacity(rows.count)
        var start = 0
        while start < rows.count {
            let batch = rows[start..<min(rows.count, start + batchSize)]
            start += batch.count
            let ids = batch.map { $0[0] as String }
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            var recipients: [String: [HeldRecipient]] = [:]
            // Columns by position (named lookups cost a third of a 100,000-row list).
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT message_id, address, state, changed_by, changed_at, last_reply FROM recipients
                    WHERE message_id IN (\(marks)) ORDER BY message_id, position
                    """,
                arguments: StatementArguments(ids)
            ) {
                recipients[r[0], default: []].append(
                    HeldRecipient(
                        address: r[1],
                        state: RecipientState(rawValue: r[2]) ?? .held,
                        changedBy: r[3],
                        changedAt: (r[4] as Int64?).map(date),
                        lastReply: r[5]
                    )
                )
            }
            var findings: [String: [HeldFinding]] = [:]
            for f in try Row.fetchAll(
                db,
                sql: "SELECT message_id, rule, detail, part FROM findings WHERE message_id IN (\(marks)) ORDER BY message_id, seq",
                arguments: StatementArguments(ids)
            ) {
                findings[f[0], default: []].append(HeldFinding(rule: f[1], detail: f[2], part: f[3]))
            }
            for row in batch {
                let id: String = row[0]
                let held = recipients[id] ?? []
                let request = HoldRequest(
                    queueID: row[1],
                    node: row[2],
                    receivedAt: date(row[3]),
                    clientAddress: row[4],
                    clientName: row[5],
                    helo: row[6],
                    sender: row[7],
                    recipients: held.map(\.address),
                    headerFrom: row[8],
                    subject: row[9],
                    messageID: row[10],
                    findings: findings[id] ?? [],
                    category: row[13],
                    action: row[14],
                    expiresAt: date(row[15]),
                    legalHold: row[16]
                )
                messages.append(
                    HeldMessage(
                        id: id,
                        request: request,
                        recipients: held,
                        size: row[11],
                        sha256: row[12],
                        purgedAt: (row[17] as Int64?).map(date)
                    )
                )
            }
        }
        return messages
    }

    // MARK: Audit

    public func appendAudit(action: String, messageID: String?, detail: String) async throws -> AuditEntry {
        let actor = actor
        return try await write { db in
            try Self.appendAudit(db, actor: actor, action: action, messageID: messageID, detail: detail)
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM audit ORDER BY seq DESC LIMIT 1") else {
                throw QuarantineError(.unavailable, "quarantine store \(self.path): the audit row was not written")
            }
            return Self.auditEntry(row)
        }
    }

    static func auditEntry(_ row: Row) -> AuditEntry {
        AuditEntry(
            sequence: row["seq"],
            at: date(row["at"]),
            actor: row["actor"],
            sudoUser: row["sudo_user"],
            action: row["action"],
            messageID: row["message_id"],
            detail: row["detail"],
            previousHash: row["previous_hash"],
            hash: row["hash"]
        )
    }

    public func verifyAudit() async throws -> AuditVerification {
        try await read { db in
            var expected: Int64 = 1
            var previous = AuditEntry.genesis
            var count = 0
            // A cursor: the whole table is never in memory.
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT seq, at, actor, sudo_user, action, message_id, detail, previous_hash, hash FROM audit ORDER BY seq"
            )
            while let row = try rows.next() {
                count += 1
                let sequence: Int64 = row["seq"]
                if sequence != expected {
                    let missing = expected == sequence - 1 ? "row \(expected) is" : "rows \(expected)–\(sequence - 1) are"
                    return AuditVerification(
                        rows: count,
                        problem: AuditProblem(kind: .removed, sequence: expected, message: "\(missing) missing (removed)")
                    )
                }
                let stored: String = row["hash"]
                let hash = AuditEntry.chainHash(
                    previousHash: row["previous_hash"],
                    sequence: sequence,
                    atMilliseconds: row["at"],
                    actor: row["actor"],
                    sudoUser: row["sudo_user"],
                    action: row["action"],
                    messageID: row["message_id"],
                    detail: row["detail"]
                )
                if hash != stored {
                    return AuditVerification(
                        rows: count,
                        problem: AuditProblem(
                            kind: .changed,
                            sequence: sequence,
                            message: "row \(sequence) was changed: its hash does not match its fields"
                        )
                    )
                }
                if (row["previous_hash"] as String) != previous {
                    return AuditVerification(
                        rows: count,
                        problem: AuditProblem(
                            kind: .relinked,
                            sequence: sequence,
                            message: "row \(sequence) does not follow row \(sequence - 1): one of them was replaced or inserted"
                        )
                    )
                }
                previous = stored
                expected = sequence + 1
            }
            // The chain alone cannot show its last rows removed; every message's hold row can.
            if let orphan = try Row.fetchOne(
                db,
                sql: """
                    SELECT m.id FROM messages m
                    WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.message_id = m.id AND a.action IN ('hold', 'import'))
                    ORDER BY m.id LIMIT 1
                    """
            ) {
                let id: String = orphan["id"]
                return AuditVerification(
                    rows: count,
                    problem: AuditProblem(kind: .removed, sequence: expected, message: "the hold row of message \(id) is missing (removed)")
                )
            }
            return AuditVerification(rows: count, problem: nil)
        }
    }

    // MARK: Check

    /// Messages per read transaction in ``check(progress:)``: short snapshots, so the gateway's
    /// checkpoints are not held back for the whole check.
    private static let checkBatch = 64

    public func check(progress: @Sendable (Int, Int) -> Void) async throws -> StoreCheckReport {
        let integrity = try await read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
        }
        let messages = try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, size, sha256 FROM messages WHERE purged_at IS NULL ORDER BY id").map {
                (id: $0["id"] as String, size: $0["size"] as Int, sha256: $0["sha256"] as String)
            }
        }
        var bad: [BadMessage] = []
        var bytes = 0
        var done = 0
        progress(0, messages.count)
        while done < messages.count {
            let batch = Array(messages[done..<min(messages.count, done + Self.checkBatch)])
            let results = try await read { db in
                try batch.map { message in try Self.checkContent(of: message.id, size: message.size, sha256: message.sha256, db) }
            }
            for (message, result) in zip(batch, results) {
                bytes += result.bytes
                if !result.problems.isEmpty { bad.append(BadMessage(id: message.id, problems: result.problems)) }
            }
            done += batch.count
            progress(done, messages.count)
        }
        return StoreCheckReport(integrity: integrity, messages: messages.count, bytes: bytes, bad: bad)
    }

    /// One message's chunks, in order, against their sha256, then the whole against the row's
    /// sha256 and size.
    private static func checkContent(
        of id: String,
        size: Int,
        sha256: String,
        _ db: Database
    ) throws -> (
        bytes: Int, problems: [String]
    ) {
        var problems: [String] = []
        var whole = SHA256()
        var total = 0
        var expected = 0
        let chunks = try Row.fetchCursor(db, sql: "SELECT seq, data, sha256 FROM chunks WHERE message_id = ? ORDER BY seq", arguments: [id])
        while let row = try chunks.next() {
            let seq: Int = row["seq"]
            if seq != expected {
                problems.append(expected == seq - 1 ? "chunk \(expected) is missing" : "chunks \(expected)–\(seq - 1) are missing")
            }
            expected = seq + 1
            let data: Data = row["data"]
            let stored: String = row["sha256"]
            data.withUnsafeBytes { chunk in
                if SHA256.hex(chunk) != stored { problems.append("chunk \(seq) does not match its sha256") }
                whole.update(chunk)
            }
            total += data.count
        }
        if total != size { problems.append("\(total) bytes stored, \(size) in its row") }
        if whole.finalize().hex != sha256 { problems.append("the message does not match its sha256") }
        return (total, problems)
    }
}

/// Mirrors every audit row to the log once its transaction committed (a rolled-back row is never
/// logged): one line each with the action, the message id, the actor and the detail. Watches the
/// writer connection, so every action that appends an audit row is mirrored, whichever code
/// path wrote it.
final class AuditMirror: TransactionObserver, @unchecked Sendable {
    // Unchecked: GRDB calls a transaction observer only on the writer's serialized queue, so
    // `pending` is never touched by two threads at once.
    private let logger: Logger
    private var pending: [Int64] = []

    init(logger: Logger) {
        self.logger = logger
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == "audit" }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {
        // `seq` is the audit table's INTEGER PRIMARY KEY, so the row id.
        pending.append(event.rowID)
    }

    func databaseDidCommit(_ db: Database) {
        let sequences = pending
        pending = []
        guard let first = sequences.min(), let last = sequences.max() else { return }
        do {
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq BETWEEN ? AND ? ORDER BY seq", arguments: [first, last])
            for row in rows where sequences.contains(row["seq"]) {
                let entry = SQLiteQuarantineStore.auditEntry(row)
                logger.notice("\(entry.logLine)")
            }
        } catch {
            logger.error("audit rows \(first)–\(last) committed but not mirrored to the log: \(error)")
        }
    }

    func databaseDidRollback(_ db: Database) {
        pending = []
    }
}

extension AuditEntry {
    /// The log line of the row: `audit 42 view 01kb… by alice (as root): show [chain 9f2c…]`. The
    /// row's chain hash is in it, so the log (kept elsewhere) anchors the chain: rows removed from
    /// the end of the table, or the whole table recomputed, no longer match the last hash logged.
    public var logLine: String {
        let who = sudoUser.map { "\($0) (as \(actor))" } ?? actor
        return
            "audit \(sequence) \(action) \(messageID ?? "-") by \(HoldRequest.stripped(who)): \(HoldRequest.stripped(detail)) [chain \(hash)]"
    }
}
