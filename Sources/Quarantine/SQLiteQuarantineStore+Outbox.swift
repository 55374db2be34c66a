public import Foundation
import GRDB

/// The outbox: notices written in the transaction of what they tell about (a hold, a verdict
/// log entry), sent later by the gateway's notice service. One row per notice and address.
extension SQLiteQuarantineStore {
    /// Notices in one digest message at most.
    public static let maxDigestNotices = 500

    /// Migration `v5-outbox`: the `notices` table.
    static func registerOutbox(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE notices (
                        id TEXT PRIMARY KEY NOT NULL,
                        created_at INTEGER NOT NULL,
                        message_id TEXT REFERENCES messages(id),
                        queue_id TEXT NOT NULL,
                        rule TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        role TEXT NOT NULL,
                        mode TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),
                        event TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
                        due_at INTEGER NOT NULL,
                        digest_at INTEGER,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        claimed_by TEXT,
                        last_reply TEXT,
                        sent_at INTEGER,
                        mail_id TEXT
                    );
                    CREATE INDEX notices_due ON notices(state, due_at);
                    CREATE INDEX notices_message ON notices(message_id);
                    CREATE INDEX notices_digest ON notices(recipient, digest_at);
                    """
            )
        }
    }

    /// Inserts `notices` inside the caller's transaction (the hold's, or the verdict log's).
    static func insertNotices(_ db: Database, _ notices: [NoticeRequest], messageID: String?, now: Date = Date()) throws {
        guard !notices.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO notices (id, created_at, message_id, queue_id, rule, recipient, role, mode, event, state, due_at, digest_at, report)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
                """
        )
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        for notice in notices {
            let event = String(decoding: try encoder.encode(notice.event), as: UTF8.self)
            let due = milliseconds(notice.dueAt)
            try statement.execute(arguments: [
                HeldID.make(at: now), milliseconds(now), messageID, notice.event.queueID, notice.event.rule, notice.recipient,
                notice.role.rawValue, notice.mode.rawValue, event, due, notice.mode == .digest ? due : nil, try reportColumn(notice),
            ])
        }
    }

    public func enqueueNotices(_ notices: [NoticeRequest], messageID: String?) async throws -> [Notice] {
        try await outboxWrite { db in
            let before = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM notices") ?? 0
            try Self.insertNotices(db, notices, messageID: messageID)
            return try Self.fetchNotices(db, sql: "SELECT * FROM notices WHERE rowid > ? ORDER BY rowid", arguments: [before])
        }
    }

    public func claimDueNotices(now: Date, owner: String, lease: TimeInterval, limit: Int) async throws -> [Notice] {
        let nowMS = Self.milliseconds(now)
        let until = Self.milliseconds(now.addingTimeInterval(lease))
        return try await outboxWrite { db in
            let due = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, recipient, digest_at FROM notices
                    WHERE state IN ('pending', 'sending') AND due_at <= ? ORDER BY due_at, rowid LIMIT ?
                    """,
                arguments: [nowMS, limit]
            )
            var ids: [String] = []
            var seen = Set<String>()
            for row in due {
                let id: String = row["id"]
                guard !seen.contains(id) else { continue }
                if let digest = row["digest_at"] as Int64? {
                    // The digest goes in one message: its notices still pending, at most
                    // `maxDigestNotices` (a flood of refusals makes several digests, each of a
                    // size an upstream takes, not one that is refused and lost).
                    let group = try String.fetchAll(
                        db,
                        sql: """
                            SELECT id FROM notices WHERE recipient = ? AND digest_at = ?
                                AND (state = 'pending' OR (state = 'sending' AND due_at <= ?))
                            ORDER BY rowid LIMIT ?
                            """,
                        arguments: [row["recipient"] as String, digest, nowMS, Self.maxDigestNotices]
                    )
                    for member in group where seen.insert(member).inserted { ids.append(member) }
                } else if seen.insert(id).inserted {
                    ids.append(id)
                }
            }
            var claimed: [String] = []
            for id in ids {
                // Compare-and-set: pending, or a claim whose lease ran out; never a live claim.
                try db.execute(
                    sql: """
                        UPDATE notices SET state = 'sending', claimed_by = ?, due_at = ?, attempts = attempts + 1
                        WHERE id = ? AND (state = 'pending' OR (state = 'sending' AND due_at <= ?))
                        """,
                    arguments: [owner, until, id, nowMS]
                )
                if db.changesCount == 1 { claimed.append(id) }
            }
            guard !claimed.isEmpty else { return [] }
            let placeholders = claimed.map { _ in "?" }.joined(separator: ", ")
            return try Self.fetchNotices(
                db,
                sql: "SELECT * FROM notices WHERE id IN (\(placeholders)) ORDER BY rowid",
                arguments: StatementArguments(claimed)
            )
        }
    }

    public func finishNotices(_ results: [NoticeResult], owner: String, now: Date) async throws {
        let nowMS = Self.milliseconds(now)
        try await outboxWrite { db in
            for result in results {
                let reply = HoldRequest.stripped(result.reply)
                switch result.outcome {
                case .sent(let mailID):
                    try db.execute(
                        sql: """
                            UPDATE notices SET state = 'sent', sent_at = ?, last_reply = ?, mail_id = ?, claimed_by = NULL
                            WHERE id = ? AND state = 'sending' AND claimed_by = ?
                            """,
                        arguments: [nowMS, reply, mailID, result.id, owner]
                    )
                case .retry(let at):
                    try db.execute(
                        sql: """
                            UPDATE notices SET state = 'pending', due_at = ?, last_reply = ?, claimed_by = NULL
                            WHERE id = ? AND state = 'sending' AND claimed_by = ?
                            """,
                        arguments: [Self.milliseconds(at), reply, result.id, owner]
                    )
                case .dead:
                    try db.execute(
                        sql: """
                            UPDATE notices SET state = 'dead', last_reply = ?, claimed_by = NULL
                            WHERE id = ? AND state = 'sending' AND claimed_by = ?
                            """,
                        arguments: [reply, result.id, owner]
                    )
                }
            }
        }
    }

    public func releaseNoticeClaims(now: Date, where isStale: @Sendable (String) -> Bool) async throws -> Int {
        let nowMS = Self.milliseconds(now)
        return try await outboxWrite { db in
            let owners = try String.fetchAll(
                db,
                sql: "SELECT DISTINCT claimed_by FROM notices WHERE state = 'sending' AND claimed_by IS NOT NULL"
            )
            var released = 0
            for owner in owners where isStale(owner) {
                try db.execute(
                    sql: "UPDATE notices SET state = 'pending', due_at = ?, claimed_by = NULL WHERE state = 'sending' AND claimed_by = ?",
                    arguments: [nowMS, owner]
                )
                released += db.changesCount
            }
            return released
        }
    }

    public func notices(_ query: NoticeQuery) async throws -> [Notice] {
        try await outboxRead { db in
            var sql = "SELECT * FROM notices"
            var arguments: StatementArguments = []
            if let states = query.states {
                sql += " WHERE state IN (\(states.map { _ in "?" }.joined(separator: ", ")))"
                arguments += StatementArguments(states.map(\.rawValue))
            }
            sql += " ORDER BY created_at DESC, rowid DESC"
            if let limit = query.limit {
                sql += " LIMIT ?"
                arguments += [limit]
            }
            return try Self.fetchNotices(db, sql: sql, arguments: arguments)
        }
    }

    public func notices(messageID: String) async throws -> [Notice] {
        try await outboxRead { db in
            try Self.fetchNotices(db, sql: "SELECT * FROM notices WHERE message_id = ? ORDER BY rowid", arguments: [messageID])
        }
    }

    public func retryNotice(_ id: String, now: Date) async throws -> Notice {
        let prefix = id.lowercased()
        guard HeldID.isPrefix(prefix) else { throw QuarantineError(.notFound, "no notice \(id)") }
        let nowMS = Self.milliseconds(now)
        return try await outboxWrite { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM notices WHERE id LIKE ? || '%' LIMIT 2", arguments: [prefix])
            guard let full = ids.first else { throw QuarantineError(.notFound, "no notice \(id)") }
            guard ids.count == 1 else { throw QuarantineError(.ambiguous, "\(id) names more than one notice; give more of its id") }
            // A digest notice is sent again on its own: its day's digest has gone.
            try db.execute(
                sql: """
                    UPDATE notices SET state = 'pending', due_at = ?, attempts = 0, digest_at = NULL, mode = 'immediate'
                    WHERE id = ? AND state IN ('dead', 'pending')
                    """,
                arguments: [nowMS, full]
            )
            guard let notice = try Self.fetchNotices(db, sql: "SELECT * FROM notices WHERE id = ?", arguments: [full]).first else {
                throw QuarantineError(.notFound, "no notice \(id)")
            }
            return notice
        }
    }

    public func nextNoticeDue() async throws -> Date? {
        try await outboxRead { db in
            try (Int64.fetchOne(db, sql: "SELECT MIN(due_at) FROM notices WHERE state IN ('pending', 'sending')")).map(Self.date)
        }
    }

    private static func fetchNotices(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Notice] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let eventText: String = row["event"]
            let event = try decoder.decode(NoticeEvent.self, from: Data(eventText.utf8))
            return Notice(
                id: row["id"],
                createdAt: date(row["created_at"]),
                messageID: row["message_id"],
                request: NoticeRequest(
                    recipient: row["recipient"],
                    role: NoticeRole(rawValue: row["role"]) ?? .address,
                    mode: NoticeMode(rawValue: row["mode"]) ?? .immediate,
                    event: event,
                    dueAt: date((row["digest_at"] as Int64?) ?? row["created_at"]),
                    report: try reportValue(row)
                ),
                state: NoticeState(rawValue: row["state"]) ?? .pending,
                attempts: row["attempts"],
                dueAt: date(row["due_at"]),
                digestAt: (row["digest_at"] as Int64?).map(date),
                claimedBy: row["claimed_by"],
                lastReply: row["last_reply"],
                sentAt: (row["sent_at"] as Int64?).map(date),
                mailID: row["mail_id"]
            )
        }
    }

    private func outboxWrite<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    private func outboxRead<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw Self.mapped(error, path: path)
        }
    }
}
