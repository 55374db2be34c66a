import PostgresNIO
public import Quarantine

extension PostgresQuarantineStore: StoreHealth {
    /// A write in a transaction that is rolled back (a read-only server, a standby, a full disk
    /// or a server in recovery refuses it), then the counts, in one read.
    public func probe() async throws -> StoreCounts {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("UPDATE notices SET attempts = attempts WHERE false", logger: logger)
                try await connection.query("SELECT txid_current()", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            try await connection.query("ROLLBACK", logger: logger)
            var held: [String: Int] = [:]
            let rows = try await connection.query(
                """
                SELECT category, COUNT(*) FROM messages m
                WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'held')
                GROUP BY category
                """,
                logger: logger
            )
            for try await (category, count) in rows.decode((String, Int64).self) { held[category] = Int(count) }
            let pending =
                try await connection.query(
                    "SELECT COUNT(*) FROM notices WHERE state IN ('pending', 'sending')",
                    logger: logger
                ).decode(Int64.self).all().first ?? 0
            return StoreCounts(heldByCategory: held, outboxPending: Int(pending))
        }
    }
}
