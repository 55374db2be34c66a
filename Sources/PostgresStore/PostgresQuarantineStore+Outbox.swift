public import Foundation
import Logging
import PostgresNIO
public import Quarantine

/// The outbox on PostgreSQL: notices written in the transaction of what they tell about, with a
/// `NOTIFY thugate_outbox` in it (delivered at the commit), claimed with `FOR UPDATE SKIP
/// LOCKED` so the senders of several nodes never wait for each other nor take one notice twice.
extension PostgresQuarantineStore {
    /// The channel the outbox's wake-ups go on.
    public static let outboxChannel = "thugate_outbox"

    /// Inserts `notices` inside the caller's transaction, and the wake-up; returns their ids.
    @discardableResult
    static func insertNotices(
        _ connection: PostgresConnection,
        _ notices: [NoticeRequest],
        messageID: String?,
        now: Date = Date(),
        logger: Logger
    ) async throws -> [String] {
        guard !notices.isEmpty else { return [] }
        var ids: [String] = []
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        for notice in notices {
            let event = String(decoding: try encoder.encode(notice.event), as: UTF8.self)
            let due = milliseconds(notice.dueAt)
            let report = try ReportMail.storedJSON(of: notice).map { String(decoding: $0, as: UTF8.self) }
            let id = HeldID.make(at: now)
            ids.append(id)
            try await connection.query(
                """
                INSERT INTO notices (id, created_at, message_id, queue_id, rule, recipient, role, mode, event, state, due_at, digest_at, report)
                VALUES (\(id), \(milliseconds(now)), \(messageID), \(notice.event.queueID), \(notice.event.rule),
                    \(notice.recipient), \(notice.role.rawValue), \(notice.mode.rawValue), \(event), 'pending', \(due),
                    \(notice.mode == .digest ? due : nil), \(report))
                """,
                logger: logger
            )
        }
        try await notifyOutbox(connection, logger: logger)
        return ids
    }

    static func notifyOutbox(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_notify(\(outboxChannel), '')", logger: logger)
    }

    public func enqueueNotices(_ notices: [NoticeRequest], messageID: String?) async throws -> [Notice] {
        let logger = logger
        return try await transaction { connection in
            let ids = try await Self.insertNotices(connection, notices, messageID: messageID, logger: logger)
            guard !ids.isEmpty else { return [] }
            return try await Self.fetchNotices(connection, where: "id = ANY(\(ids)) ORDER BY seq", logger: logger)
        }
    }

    public func claimDueNotices(now: Date, owner: String, lease: TimeInterval, limit: Int) async throws -> [Notice] {
        let (node, logger) = (settings.nodeID, logger)
        let nowMS = Self.milliseconds(now)
        let until = Self.milliseconds(now.addingTimeInterval(lease))
        let maxDigest = SQLiteQuarantineStore.maxDigestNotices
        return try await transaction { connection in
            // Rows another node is claiming right now are skipped, not waited for.
            let due = try await connection.query(
                """
                SELECT id, recipient, digest_at FROM notices
                WHERE state IN ('pending', 'sending') AND due_at <= \(nowMS) ORDER BY due_at, seq LIMIT \(max(0, limit))
                FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            .decode((String, String, Int64?).self).all()
            var ids: [String] = []
            var seen = Set<String>()
            for (id, recipient, digest) in due {
                guard !seen.contains(id) else { continue }
                if let digest {
                    // The digest goes in one message: its notices still pending, at most
                    // `maxDigestNotices`.
                    let group = try await connection.query(
                        """
                        SELECT id FROM notices WHERE recipient = \(recipient) AND digest_at = \(digest)
                            AND (state = 'pending' OR (state = 'sending' AND due_at <= \(nowMS)))
                        ORDER BY seq LIMIT \(maxDigest)
                        FOR UPDATE SKIP LOCKED
                        """,
                        logger: logger
                    )
                    .decode(String.self).all()
                    for member in group where seen.insert(member).inserted { ids.append(member) }
                    // The notice itself is locked by this transaction already (SKIP LOCKED skips
                    // only other transactions' locks), so it is in the group unless it went past the cap.
                } else if seen.insert(id).inserted {
                    ids.append(id)
                }
            }
            guard !ids.isEmpty else { return [] }
            // Compare-and-set: pending, or a claim whose lease ran out; never a live claim.
            let claimed = try await connection.query(
                """
                UPDATE notices SET state = 'sending', claimed_by = \(owner), claimed_node = \(node), due_at = \(until),
                    attempts = attempts + 1
                WHERE id = ANY(\(ids)) AND (state = 'pending' OR (state = 'sending' AND due_at <= \(nowMS)))
                RETURNING id
                """,
                logger: logger
            )
            .decode(String.self).all()
            guard !claimed.isEmpty else { return [] }
            return try await Self.fetchNotices(connection, where: "id = ANY(\(claimed)) ORDER BY seq", logger: logger)
        }
    }

    public func finishNotices(_ results: [NoticeResult], owner: String, now: Date) async throws {
        let logger = logger
        let nowMS = Self.milliseconds(now)
        try await transaction { connection in
            for result in results {
                let reply = HoldRequest.stripped(result.reply)
                switch result.outcome {
                case .sent(let mailID):
                    try await connection.query(
                        """
                        UPDATE notices SET state = 'sent', sent_at = \(nowMS), last_reply = \(reply), mail_id = \(mailID), claimed_by = NULL
                        WHERE id = \(result.id) AND state = 'sending' AND claimed_by = \(owner)
                        """,
                        logger: logger
                    )
                case .retry(let at):
                    try await connection.query(
                        """
                        UPDATE notices SET state = 'pending', due_at = \(Self.milliseconds(at)), last_reply = \(reply), claimed_by = NULL
                        WHERE id = \(result.id) AND state = 'sending' AND claimed_by = \(owner)
                        """,
                        logger: logger
                    )
                case .dead:
                    try await connection.query(
                        """
                        UPDATE notices SET state = 'dead', last_reply = \(reply), claimed_by = NULL
                        WHERE id = \(result.id) AND state = 'sending' AND claimed_by = \(owner)
                        """,
                        logger: logger
                    )
                }
            }
        }
    }

    public func releaseNoticeClaims(now: Date, where isStale: @Sendable (String) -> Bool) async throws -> Int {
        let logger = logger
        let nowMS = Self.milliseconds(now)
        let owners = try await withConnection { connection in
            try await connection.query(
                "SELECT DISTINCT claimed_by FROM notices WHERE state = 'sending' AND claimed_by IS NOT NULL",
                logger: logger
            )
            .decode(String.self).all()
        }
        let stale = owners.filter(isStale)
        guard !stale.isEmpty else { return 0 }
        return try await transaction { connection in
            let released = try await connection.run(
                """
                UPDATE notices SET state = 'pending', due_at = \(nowMS), claimed_by = NULL
                WHERE state = 'sending' AND claimed_by = ANY(\(stale)) RETURNING 1
                """,
                logger: logger
            )
            if released > 0 { try await Self.notifyOutbox(connection, logger: logger) }
            return released
        }
    }

    public func notices(_ query: NoticeQuery) async throws -> [Notice] {
        let logger = logger
        return try await withConnection { connection in
            var sql = SQLText()
            var text = ""
            if let states = query.states { text += "state = ANY(\(sql.bind(states.map(\.rawValue)))) " } else { text += "true " }
            text += "ORDER BY created_at DESC, seq DESC"
            if let limit = query.limit { text += " LIMIT \(sql.bind(limit))" }
            sql.text = text
            return try await Self.fetchNotices(connection, where: sql, logger: logger)
        }
    }

    public func notices(messageID: String) async throws -> [Notice] {
        let logger = logger
        return try await withConnection { connection in
            try await Self.fetchNotices(connection, where: "message_id = \(messageID) ORDER BY seq", logger: logger)
        }
    }

    public func retryNotice(_ id: String, now: Date) async throws -> Notice {
        let prefix = id.lowercased()
        guard HeldID.isPrefix(prefix) else { throw QuarantineError(.notFound, "no notice \(id)") }
        let logger = logger
        let nowMS = Self.milliseconds(now)
        return try await transaction { connection in
            let ids = try await connection.query("SELECT id FROM notices WHERE id LIKE \(prefix + "%") ORDER BY id LIMIT 2", logger: logger)
                .decode(String.self).all()
            guard let full = ids.first else { throw QuarantineError(.notFound, "no notice \(id)") }
            guard ids.count == 1 else { throw QuarantineError(.ambiguous, "\(id) names more than one notice; give more of its id") }
            // A digest notice is sent again on its own: its day's digest has gone.
            let changed = try await connection.run(
                """
                UPDATE notices SET state = 'pending', due_at = \(nowMS), attempts = 0, digest_at = NULL, mode = 'immediate'
                WHERE id = \(full) AND state IN ('dead', 'pending') RETURNING 1
                """,
                logger: logger
            )
            if changed > 0 { try await Self.notifyOutbox(connection, logger: logger) }
            guard let notice = try await Self.fetchNotices(connection, where: "id = \(full)", logger: logger).first else {
                throw QuarantineError(.notFound, "no notice \(id)")
            }
            return notice
        }
    }

    public func nextNoticeDue() async throws -> Date? {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query("SELECT MIN(due_at) FROM notices WHERE state IN ('pending', 'sending')", logger: logger)
                .decode(Int64?.self).all().first.flatMap { $0 }.map(Self.date)
        }
    }

    private static let noticeColumns = """
        id, created_at, message_id, recipient, role, mode, event, state, attempts, due_at, digest_at, claimed_by, last_reply,
        sent_at, mail_id, report
        """

    /// The notices `SELECT ... FROM notices WHERE <condition>` gives.
    static func fetchNotices(_ connection: PostgresConnection, where condition: PostgresQuery, logger: Logger) async throws -> [Notice] {
        var sql = SQLText()
        sql.text = "SELECT \(noticeColumns) FROM notices WHERE \(condition.sql)"
        sql.binds = condition.binds
        return try await fetchNotices(connection, where: sql, logger: logger)
    }

    static func fetchNotices(_ connection: PostgresConnection, where sql: SQLText, logger: Logger) async throws -> [Notice] {
        var query = sql
        if !query.text.hasPrefix("SELECT ") { query.text = "SELECT \(noticeColumns) FROM notices WHERE \(sql.text)" }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        var notices: [Notice] = []
        for try await row in try await connection.query(query.query, logger: logger) {
            let columns = row.makeRandomAccess()
            let id: String = try columns.value("id")
            let eventText: String = try columns.value("event")
            let event = try decoder.decode(NoticeEvent.self, from: Data(eventText.utf8))
            let createdAt: Int64 = try columns.value("created_at")
            let digestAt: Int64? = try columns.value("digest_at")
            let reportText: String? = try columns.value("report")
            notices.append(
                Notice(
                    id: id,
                    createdAt: date(createdAt),
                    messageID: try columns.value("message_id"),
                    request: NoticeRequest(
                        recipient: try columns.value("recipient"),
                        role: NoticeRole(rawValue: try columns.value("role")) ?? .address,
                        mode: NoticeMode(rawValue: try columns.value("mode")) ?? .immediate,
                        event: event,
                        dueAt: date(digestAt ?? createdAt),
                        report: try reportText.map { try ReportMail.fromStored(Data($0.utf8), notice: id) }
                    ),
                    state: NoticeState(rawValue: try columns.value("state")) ?? .pending,
                    attempts: try columns.value("attempts"),
                    dueAt: date(try columns.value("due_at")),
                    digestAt: digestAt.map(date),
                    claimedBy: try columns.value("claimed_by"),
                    lastReply: try columns.value("last_reply"),
                    sentAt: (try columns.value("sent_at", as: Int64?.self)).map(date),
                    mailID: try columns.value("mail_id")
                )
            )
        }
        return notices
    }

    // MARK: Wake-ups

    /// A wake-up soon after any node committed notices (`LISTEN thugate_outbox` on a connection
    /// of its own, taken from the pool while the stream is iterated, listened on again after the
    /// connection is lost). A hint only: the sender keeps polling ``nextNoticeDue()``.
    public func outboxWakeups() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let client = client
        let logger = logger
        let task = Task {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.outboxChannel) { notifications in
                            // Listening now: whatever was written before may not have been seen.
                            continuation.yield()
                            for try await _ in notifications { continuation.yield() }
                        }
                    }
                } catch {
                    logger.debug("outbox wake-ups: \(error); listening again")
                }
                try? await Task.sleep(for: .seconds(1))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
