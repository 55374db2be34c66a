import GRDB

extension SQLiteQuarantineStore: StoreHealth {
    /// `BEGIN IMMEDIATE` (the write lock), an update that changes nothing, `ROLLBACK`; then the
    /// counts, in one read.
    public func probe() async throws -> StoreCounts {
        do {
            try await pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try db.execute(sql: "UPDATE notices SET attempts = attempts WHERE 0")
                    return .rollback
                }
            }
            return try await pool.read { db in
                var held: [String: Int] = [:]
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT category, COUNT(*) AS n FROM messages
                        WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = messages.id AND r.state = 'held')
                        GROUP BY category
                        """
                )
                for row in rows { held[row["category"]] = row["n"] }
                let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notices WHERE state IN ('pending', 'sending')") ?? 0
                return StoreCounts(heldByCategory: held, outboxPending: pending)
            }
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw Self.mapped(error, path: path)
        }
    }
}
