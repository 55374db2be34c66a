public import Foundation
import GRDB

extension SQLiteQuarantineStore: QuarantineReportSource {
    /// The recipients of the messages received at or after `start` and before `end`, with their
    /// state and when it changed: what `thugate report` needs for "held → released / deleted"
    /// and the median time to decision. One read (a snapshot), on the `messages_received` index.
    public func heldDecisions(receivedFrom start: Date, before end: Date) async throws -> [HeldRecipientDecision] {
        let from = Self.milliseconds(start)
        let until = Self.milliseconds(end)
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.received_at, r.state, r.changed_at
                    FROM messages m JOIN recipients r ON r.message_id = m.id
                    WHERE m.received_at >= ? AND m.received_at < ?
                    ORDER BY m.received_at, m.id, r.position
                    """,
                arguments: [from, until]
            )
            .map { row in
                HeldRecipientDecision(
                    messageID: row["id"],
                    receivedAt: Self.date(row["received_at"]),
                    state: RecipientState(rawValue: row["state"]) ?? .held,
                    changedAt: (row["changed_at"] as Int64?).map(Self.date)
                )
            }
        }
    }
}
