public import Foundation
import GRDB

/// A recipient's release claim as stored: who holds it and until when (nil: none, or one made
/// before leases).
public struct RecipientClaim: Sendable, Equatable {
    public var owner: String?
    public var leaseUntil: Date?

    public init(owner: String?, leaseUntil: Date?) {
        self.owner = owner
        self.leaseUntil = leaseUntil
    }
}

/// A held message's rows as stored, for a copy into another store.
public struct ExportedMessage: Sendable, Equatable {
    public var message: HeldMessage
    /// The bytes per chunk it was stored with.
    public var chunkSize: Int
    /// The sequence numbers of the chunks stored, in order (none once purged).
    public var chunkSeqs: [Int]
    /// The release claim of each recipient, in envelope order.
    public var claims: [RecipientClaim]
}

/// A chunk of a held message's bytes with its stored sha256.
public struct ExportedChunk: Sendable, Equatable {
    public var seq: Int
    public var data: Data
    public var sha256: String
}

/// A file the Maildir import took, so an import into the copy still runs once.
public struct ExportedImport: Sendable, Equatable {
    public var source: String
    public var sourceSHA256: String
    public var messageID: String
}

/// One `daily_senders` roll-up row.
public struct DailySenderCount: Sendable, Equatable {
    public var day: String
    public var outcome: VerdictOutcome
    public var sender: String
    public var messages: Int
}

/// The raw rows of the SQLite store, read in pages, for moving it into the shared PostgreSQL
/// store (`PostgresStore`'s copy): nothing is changed, nothing is audited, every page is a read
/// of its own, and a message's bytes are read a chunk at a time.
extension SQLiteQuarantineStore {
    /// The ids of all held messages, oldest first.
    public func exportMessageIDs() async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT id FROM messages ORDER BY received_at, id") }
    }

    /// Message `id` (a full id) as stored, with its chunk count and its recipients' claims.
    public func exportMessage(_ id: String) async throws -> ExportedMessage {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]) else {
                throw QuarantineError(.notFound, "no held message \(id)")
            }
            let message = try Self.message(from: row, db)
            let chunks = try Int.fetchAll(db, sql: "SELECT seq FROM chunks WHERE message_id = ? ORDER BY seq", arguments: [id])
            let claims = try Row.fetchAll(
                db,
                sql: "SELECT claimed_by, lease_until FROM recipients WHERE message_id = ? ORDER BY position",
                arguments: [id]
            )
            .map { RecipientClaim(owner: $0["claimed_by"], leaseUntil: ($0["lease_until"] as Int64?).map(Self.date)) }
            return ExportedMessage(message: message, chunkSize: row["chunk_size"], chunkSeqs: chunks, claims: claims)
        }
    }

    /// Chunk `seq` of message `id`, nil when there is none.
    public func exportChunk(of id: String, seq: Int) async throws -> ExportedChunk? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT data, sha256 FROM chunks WHERE message_id = ? AND seq = ?", arguments: [id, seq]).map {
                ExportedChunk(seq: seq, data: $0["data"], sha256: $0["sha256"])
            }
        }
    }

    /// Up to `limit` audit rows after sequence number `after`, as stored.
    public func exportAudit(after: Int64, limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit]).map(
                Self.auditEntry
            )
        }
    }

    /// Every release request, pending or approved.
    public func exportReleaseRequests() async throws -> [ReleaseRequest] {
        let ids = try await read { db in try String.fetchAll(db, sql: "SELECT message_id FROM release_requests ORDER BY message_id") }
        var requests: [ReleaseRequest] = []
        for id in ids { if let request = try await releaseRequest(of: id) { requests.append(request) } }
        return requests
    }

    /// Every file the Maildir import took.
    public func exportImports() async throws -> [ExportedImport] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT source, source_sha256, message_id FROM imports ORDER BY source").map {
                ExportedImport(source: $0["source"], sourceSHA256: $0["source_sha256"], messageID: $0["message_id"])
            }
        }
    }

    /// Every notice in the outbox, in the order written.
    public func exportNotices() async throws -> [Notice] {
        try await notices(NoticeQuery()).reversed()
    }

    /// Up to `limit` verdict rows after row `after` (their `seq`), with it.
    public func exportVerdicts(after: Int64, limit: Int) async throws -> [(seq: Int64, entry: VerdictEntry)] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM verdicts WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit]).map { row in
                let agencies: String = row["agencies"]
                let rules: String = row["rules"]
                let entry = VerdictEntry(
                    at: Self.date(row["at"]),
                    queueID: row["queue_id"],
                    node: row["node"],
                    clientAddress: row["client_address"],
                    sender: row["sender"],
                    recipients: row["recipients"],
                    size: row["size"],
                    direction: row["direction"],
                    agencies: agencies.split(separator: ",", omittingEmptySubsequences: true).map(String.init),
                    outcome: VerdictOutcome(rawValue: row["outcome"]) ?? .delivered,
                    rules: rules.split(separator: ",", omittingEmptySubsequences: true).map(String.init),
                    heldID: row["held_id"]
                )
                return (row["seq"], entry)
            }
        }
    }

    /// Every `daily_counts` roll-up row.
    public func exportDailyCounts() async throws -> [DailyCount] {
        try await dailyCounts(first: "", last: "\u{10FFFF}")
    }

    /// Every `daily_senders` roll-up row.
    public func exportDailySenders() async throws -> [DailySenderCount] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT day, outcome, sender, messages FROM daily_senders ORDER BY day, outcome, sender").compactMap {
                guard let outcome = VerdictOutcome(rawValue: $0["outcome"]) else { return nil }
                return DailySenderCount(day: $0["day"], outcome: outcome, sender: $0["sender"], messages: $0["messages"])
            }
        }
    }
}
