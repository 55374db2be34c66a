public import Foundation
import Logging
import PostgresNIO
public import Quarantine

/// The verdict log and its daily roll-ups on PostgreSQL, and what the reports read: the same
/// rows and answers as the SQLite store's. A batch and its roll-ups are one transaction; the
/// roll-ups are upserts (`INSERT ... ON CONFLICT DO UPDATE`), so nodes add to one row.
extension PostgresQuarantineStore: VerdictLog, QuarantineReportSource {
    /// Rows deleted per expiry transaction.
    static let expiryBatch = 10_000

    public func record(_ entries: [VerdictEntry]) async throws {
        guard !entries.isEmpty else { return }
        let logger = logger
        try await transaction { connection in
            for entry in entries {
                try await Self.insertVerdict(connection, entry, logger: logger)
                if !entry.notices.isEmpty { try await Self.insertNotices(connection, entry.notices, messageID: nil, logger: logger) }
            }
            try await Self.addRollups(connection, entries, logger: logger)
        }
    }

    static func insertVerdict(_ connection: PostgresConnection, _ entry: VerdictEntry, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO verdicts (at, day, queue_id, node, client_address, sender, recipients, size, direction, agencies, outcome,
                rules, held_id)
            VALUES (\(milliseconds(entry.at)), \(LocalDay.of(entry.at)), \(entry.queueID), \(entry.node), \(entry.clientAddress),
                \(entry.sender), \(entry.recipients), \(Int64(entry.size)), \(entry.direction), \(entry.agencies.joined(separator: ",")),
                \(entry.outcome.rawValue), \(entry.rules.joined(separator: ",")), \(entry.heldID))
            """,
            logger: logger
        )
    }

    /// Adds `entries` to the roll-ups, as the SQLite store does: each in every agency of
    /// `{"*"} ∪ agencies` (`""` for none) and every rule of `{"*"} ∪ rules`; senders of mail not delivered.
    static func addRollups(_ connection: PostgresConnection, _ entries: [VerdictEntry], logger: Logger) async throws {
        struct Key: Hashable {
            var day, direction, agency, rule, outcome: String
        }
        struct SenderKey: Hashable {
            var day, outcome, sender: String
        }
        var counts: [Key: (messages: Int64, bytes: Int64)] = [:]
        var senders: [SenderKey: Int64] = [:]
        for entry in entries {
            let day = LocalDay.of(entry.at)
            for agency in [DailyCount.all] + (entry.agencies.isEmpty ? [""] : entry.agencies) {
                for rule in [DailyCount.all] + entry.rules {
                    let key = Key(day: day, direction: entry.direction, agency: agency, rule: rule, outcome: entry.outcome.rawValue)
                    counts[key, default: (0, 0)].messages += 1
                    counts[key, default: (0, 0)].bytes += Int64(entry.size)
                }
            }
            if entry.outcome != .delivered {
                senders[SenderKey(day: day, outcome: entry.outcome.rawValue, sender: entry.sender), default: 0] += 1
            }
        }
        // Sorted, so two nodes adding to the same rows lock them in one order (no deadlock).
        for (key, sum) in counts.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            try await connection.query(
                """
                INSERT INTO daily_counts (day, direction, agency, rule, outcome, messages, bytes)
                VALUES (\(key.day), \(key.direction), \(key.agency), \(key.rule), \(key.outcome), \(sum.messages), \(sum.bytes))
                ON CONFLICT (day, direction, agency, rule, outcome)
                DO UPDATE SET messages = daily_counts.messages + excluded.messages, bytes = daily_counts.bytes + excluded.bytes
                """,
                logger: logger
            )
        }
        for (key, messages) in senders.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            try await connection.query(
                """
                INSERT INTO daily_senders (day, outcome, sender, messages) VALUES (\(key.day), \(key.outcome), \(key.sender), \(messages))
                ON CONFLICT (day, outcome, sender) DO UPDATE SET messages = daily_senders.messages + excluded.messages
                """,
                logger: logger
            )
        }
    }

    public func dailyCounts(first: String, last: String) async throws -> [DailyCount] {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(
                """
                SELECT day, direction, agency, rule, outcome, messages, bytes FROM daily_counts
                WHERE day BETWEEN \(first) AND \(last) ORDER BY day, direction, agency, rule, outcome
                """,
                logger: logger
            )
            .decode((String, String, String, String, String, Int64, Int64).self).all()
            .compactMap { row in
                guard let outcome = VerdictOutcome(rawValue: row.4) else { return nil }
                return DailyCount(
                    day: row.0,
                    direction: row.1,
                    agency: row.2,
                    rule: row.3,
                    outcome: outcome,
                    messages: Int(row.5),
                    bytes: row.6
                )
            }
        }
    }

    public func topSenders(outcome: VerdictOutcome, first: String, last: String, limit: Int) async throws -> [SenderCount] {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query(
                """
                SELECT sender, SUM(messages)::BIGINT AS total FROM daily_senders
                WHERE outcome = \(outcome.rawValue) AND day BETWEEN \(first) AND \(last)
                GROUP BY sender ORDER BY total DESC, sender LIMIT \(max(0, limit))
                """,
                logger: logger
            )
            .decode((String, Int64).self).all()
            .map { SenderCount(sender: $0.0, messages: Int($0.1)) }
        }
    }

    public func expireVerdicts(before perMessage: Date, rollupsBefore rollups: Date) async throws -> Int {
        let day = LocalDay.of(rollups)
        let cutoff = Self.milliseconds(perMessage)
        let logger = logger
        // In short transactions: after a long downtime there may be millions of rows, and the
        // gateways' holds must not wait behind them.
        let deletions: [PostgresQuery] = [
            "DELETE FROM verdicts WHERE seq IN (SELECT seq FROM verdicts WHERE at < \(cutoff) LIMIT \(Self.expiryBatch)) RETURNING 1",
            """
            DELETE FROM daily_counts WHERE (day, direction, agency, rule, outcome) IN
                (SELECT day, direction, agency, rule, outcome FROM daily_counts WHERE day < \(day) LIMIT \(Self.expiryBatch)) RETURNING 1
            """,
            """
            DELETE FROM daily_senders WHERE (day, outcome, sender) IN
                (SELECT day, outcome, sender FROM daily_senders WHERE day < \(day) LIMIT \(Self.expiryBatch)) RETURNING 1
            """,
        ]
        var removed = 0
        for query in deletions {
            while true {
                let count = try await withConnection { connection in try await connection.run(query, logger: logger) }
                removed += count
                if count < Self.expiryBatch { break }
            }
        }
        return removed
    }

    public func verdictRows(
        limit: Int
    ) async throws -> [(at: Date, day: String, queueID: String, outcome: String, rules: String, heldID: String?)] {
        let logger = logger
        let rows = try await withConnection { connection in
            try await connection.query(
                "SELECT at, day, queue_id, outcome, rules, held_id FROM verdicts ORDER BY seq LIMIT \(max(0, limit))",
                logger: logger
            )
            .decode((Int64, String, String, String, String, String?).self).all()
        }
        return rows.map { (Self.date($0.0), $0.1, $0.2, $0.3, $0.4, $0.5) }
    }

    public func heldDecisions(receivedFrom start: Date, before end: Date) async throws -> [HeldRecipientDecision] {
        let logger = logger
        let (from, until) = (Self.milliseconds(start), Self.milliseconds(end))
        return try await withConnection { connection in
            try await connection.query(
                """
                SELECT m.id, m.received_at, r.state, r.changed_at
                FROM messages m JOIN recipients r ON r.message_id = m.id
                WHERE m.received_at >= \(from) AND m.received_at < \(until)
                ORDER BY m.received_at, m.id, r.position
                """,
                logger: logger
            )
            .decode((String, Int64, String, Int64?).self).all()
            .map {
                HeldRecipientDecision(
                    messageID: $0.0,
                    receivedAt: Self.date($0.1),
                    state: RecipientState(rawValue: $0.2) ?? .held,
                    changedAt: $0.3.map(Self.date)
                )
            }
        }
    }
}
