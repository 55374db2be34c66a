public import Foundation
import GRDB

/// The verdict log in the quarantine's SQLite file: one row per message (`verdicts`, kept for
/// `[reports] verdict_days`) and the daily roll-ups the reports read (`daily_counts`,
/// `daily_senders`, kept for years). The roll-ups are added to in the same transaction as the
/// rows, so a report never counts a message its log does not have.
extension SQLiteQuarantineStore: VerdictLog {
    static func registerVerdicts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-verdicts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE verdicts (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        day TEXT NOT NULL,
                        queue_id TEXT NOT NULL,
                        node TEXT NOT NULL,
                        client_address TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        recipients INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        direction TEXT NOT NULL,
                        agencies TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        rules TEXT NOT NULL,
                        held_id TEXT
                    );
                    CREATE INDEX verdicts_at ON verdicts(at);
                    CREATE TABLE daily_counts (
                        day TEXT NOT NULL,
                        direction TEXT NOT NULL,
                        agency TEXT NOT NULL,
                        rule TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        messages INTEGER NOT NULL,
                        bytes INTEGER NOT NULL,
                        PRIMARY KEY (day, direction, agency, rule, outcome)
                    ) WITHOUT ROWID;
                    CREATE TABLE daily_senders (
                        day TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        messages INTEGER NOT NULL,
                        PRIMARY KEY (day, outcome, sender)
                    ) WITHOUT ROWID;
                    """
            )
        }
    }

    public func record(_ entries: [VerdictEntry]) async throws {
        guard !entries.isEmpty else { return }
        // Summed first: a batch of a second's mail touches a few roll-up rows, many times each.
        let rollups = DailyRollups(entries)
        try await write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO verdicts (at, day, queue_id, node, client_address, sender, recipients, size,
                        direction, agencies, outcome, rules, held_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """
            )
            for (entry, day) in zip(entries, rollups.days) {
                try insert.execute(arguments: [
                    Self.milliseconds(entry.at), day, entry.queueID, entry.node, entry.clientAddress, entry.sender,
                    entry.recipients, entry.size, entry.direction, entry.agencies.joined(separator: ","),
                    entry.outcome.rawValue, entry.rules.joined(separator: ","), entry.heldID,
                ])
            }
            for entry in entries where !entry.notices.isEmpty {
                try Self.insertNotices(db, entry.notices, messageID: nil)
            }
            let count = try db.cachedStatement(
                sql: """
                    INSERT INTO daily_counts (day, direction, agency, rule, outcome, messages, bytes) VALUES (?,?,?,?,?,?,?)
                    ON CONFLICT (day, direction, agency, rule, outcome)
                    DO UPDATE SET messages = messages + excluded.messages, bytes = bytes + excluded.bytes
                    """
            )
            for (key, sum) in rollups.counts {
                try count.execute(arguments: [key.day, key.direction, key.agency, key.rule, key.outcome.rawValue, sum.messages, sum.bytes])
            }
            let sender = try db.cachedStatement(
                sql: """
                    INSERT INTO daily_senders (day, outcome, sender, messages) VALUES (?,?,?,?)
                    ON CONFLICT (day, outcome, sender) DO UPDATE SET messages = messages + excluded.messages
                    """
            )
            for (key, messages) in rollups.senders {
                try sender.execute(arguments: [key.day, key.outcome.rawValue, key.sender, messages])
            }
        }
    }

    public func dailyCounts(first: String, last: String) async throws -> [DailyCount] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT day, direction, agency, rule, outcome, messages, bytes FROM daily_counts
                    WHERE day BETWEEN ? AND ? ORDER BY day, direction, agency, rule, outcome
                    """,
                arguments: [first, last]
            )
            .compactMap { row in
                guard let outcome = VerdictOutcome(rawValue: row["outcome"]) else { return nil }
                return DailyCount(
                    day: row["day"],
                    direction: row["direction"],
                    agency: row["agency"],
                    rule: row["rule"],
                    outcome: outcome,
                    messages: row["messages"],
                    bytes: row["bytes"]
                )
            }
        }
    }

    public func topSenders(outcome: VerdictOutcome, first: String, last: String, limit: Int) async throws -> [SenderCount] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT sender, SUM(messages) AS total FROM daily_senders
                    WHERE outcome = ? AND day BETWEEN ? AND ?
                    GROUP BY sender ORDER BY total DESC, sender LIMIT ?
                    """,
                arguments: [outcome.rawValue, first, last, max(0, limit)]
            )
            .map { SenderCount(sender: $0["sender"], messages: $0["total"]) }
        }
    }

    public func expireVerdicts(before perMessage: Date, rollupsBefore rollups: Date) async throws -> Int {
        let day = LocalDay.of(rollups)
        let cutoff = Self.milliseconds(perMessage)
        // In short transactions of `expiryBatch` rows: after a long downtime or a shorter
        // retention there may be millions, and the gateway's holds must not wait behind them.
        // The roll-up tables have no rowid: their rows are named by their keys.
        let deletions: [(String, DatabaseValue)] = [
            ("DELETE FROM verdicts WHERE seq IN (SELECT seq FROM verdicts WHERE at < ? LIMIT \(Self.expiryBatch))", cutoff.databaseValue),
            (
                """
                DELETE FROM daily_counts WHERE (day, direction, agency, rule, outcome) IN
                    (SELECT day, direction, agency, rule, outcome FROM daily_counts WHERE day < ? LIMIT \(Self.expiryBatch))
                """,
                day.databaseValue
            ),
            (
                """
                DELETE FROM daily_senders WHERE (day, outcome, sender) IN
                    (SELECT day, outcome, sender FROM daily_senders WHERE day < ? LIMIT \(Self.expiryBatch))
                """,
                day.databaseValue
            ),
        ]
        var removed = 0
        for (sql, argument) in deletions {
            while true {
                let count = try await write { db in
                    try db.execute(sql: sql, arguments: [argument])
                    return db.changesCount
                }
                removed += count
                if count < Self.expiryBatch { break }
            }
        }
        return removed
    }

    /// Rows deleted per expiry transaction.
    static let expiryBatch = 10_000

    /// The entries' verdict rows as they are stored: `(at, day, queue id, outcome, rules, held id)`,
    /// oldest first (tests, `thugate report` checks).
    public func verdictRows(
        limit: Int
    ) async throws -> [(at: Date, day: String, queueID: String, outcome: String, rules: String, heldID: String?)] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT at, day, queue_id, outcome, rules, held_id FROM verdicts ORDER BY seq LIMIT ?",
                arguments: [limit]
            )
            .map { (Self.date($0["at"]), $0["day"], $0["queue_id"], $0["outcome"], $0["rules"], $0["held_id"]) }
        }
    }
}

/// A batch of entries summed into the roll-up rows they add to.
struct DailyRollups {
    struct CountKey: Hashable {
        var day: String
        var direction: String
        var agency: String
        var rule: String
        var outcome: VerdictOutcome
    }
    struct SenderKey: Hashable {
        var day: String
        var outcome: VerdictOutcome
        var sender: String
    }

    /// The local day of each entry, in order.
    var days: [String] = []
    var counts: [CountKey: (messages: Int, bytes: Int64)] = [:]
    var senders: [SenderKey: Int] = [:]

    init(_ entries: [VerdictEntry]) {
        days.reserveCapacity(entries.count)
        // A batch is a second or so of mail: one day name, made once.
        var last: (number: Int64, name: String)?
        for entry in entries {
            let number = LocalDay.number(of: entry.at)
            let day: String
            if let last, last.number == number {
                day = last.name
            } else {
                day = LocalDay.name(ofDay: number)
                last = (number, day)
            }
            days.append(day)
            // A message of no configured agency is counted under "" so the agencies add up.
            let agencies = [DailyCount.all] + (entry.agencies.isEmpty ? [""] : entry.agencies)
            let rules = [DailyCount.all] + entry.rules
            for agency in agencies {
                for rule in rules {
                    let key = CountKey(day: day, direction: entry.direction, agency: agency, rule: rule, outcome: entry.outcome)
                    counts[key, default: (0, 0)].messages += 1
                    counts[key, default: (0, 0)].bytes += Int64(entry.size)
                }
            }
            // The senders of delivered mail are not ranked: only refused, deferred and held ones are.
            if entry.outcome != .delivered {
                senders[SenderKey(day: day, outcome: entry.outcome, sender: entry.sender), default: 0] += 1
            }
        }
    }
}
