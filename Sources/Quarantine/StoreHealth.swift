/// What a health probe asks of a store (`/readyz`, the store gauges): a write, rolled back, so a
/// store that cannot take one (read-only, locked, gone) shows before a held message needs it;
/// and the counts the metrics show.
public protocol StoreHealth: Sendable {
    /// Starts a write transaction, writes, rolls back; then counts. Throws why it could not.
    func probe() async throws -> StoreCounts
}

/// The store's numbers for the metrics.
public struct StoreCounts: Sendable, Equatable {
    /// Messages with at least one recipient still held, by category.
    public var heldByCategory: [String: Int]
    /// Notices pending or being sent.
    public var outboxPending: Int
    public init(heldByCategory: [String: Int], outboxPending: Int) {
        self.heldByCategory = heldByCategory
        self.outboxPending = outboxPending
    }
}
