import Foundation
import Logging
import PostgresNIO
public import Quarantine

/// What ``PostgresQuarantineStore/copy(from:progress:)`` copied.
public struct StoreCopyReport: Sendable, Equatable {
    public var messages = 0
    public var bytes = 0
    public var auditRows = 0
    public var notices = 0
    public var verdicts = 0
    public var rollups = 0
}

/// Moving an embedded store into the shared one: everything the SQLite store holds, copied as
/// it is, so the copy answers as the original did and its audit chain verifies.
extension PostgresQuarantineStore {
    /// Copies everything of `source` into this store, which must be migrated and empty (it is
    /// refused otherwise, before anything is written): each message with its recipients and
    /// their states and claims, findings and bytes (read and written a chunk at a time, never
    /// a message whole, one transaction per message); release requests, imports; the audit rows
    /// as they are (same sequence numbers, times and hashes); the outbox; the verdict rows and
    /// roll-ups. `progress` is called with (messages copied, messages in all). Stop the gateway
    /// writing to `source` first: rows written during the copy may be missed.
    public func copy(from source: SQLiteQuarantineStore, progress: @Sendable (Int, Int) -> Void) async throws -> StoreCopyReport {
        let logger = logger
        let node = settings.nodeID
        let name = settings.displayName
        let tables = ["messages", "audit", "notices", "verdicts", "daily_counts", "daily_senders", "release_requests", "imports"]
        let used = try await withConnection { connection in
            var used: [String] = []
            for table in tables
            where try await connection.run(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), logger: logger) > 0 {
                used.append(table)
            }
            return used
        }
        guard used.isEmpty else {
            throw QuarantineError(
                .unavailable,
                "quarantine store \(name) is not empty (\(used.joined(separator: ", "))): a copy goes into an empty store"
            )
        }
        var report = StoreCopyReport()

        let ids = try await source.exportMessageIDs()
        progress(0, ids.count)
        for (index, id) in ids.enumerated() {
            let exported = try await source.exportMessage(id)
            let bytes = try await transaction { connection in
                let message = exported.message
                try await Self.insertMessageRow(
                    connection,
                    id: id,
                    message.request,
                    size: message.size,
                    sha256: message.sha256,
                    node: node,
                    chunkSize: exported.chunkSize,
                    purgedAt: message.purgedAt,
                    logger: logger
                )
                try await Self.insertRecipients(connection, id: id, message.recipients, claims: exported.claims, logger: logger)
                try await Self.insertFindings(connection, id: id, message.request.findings, logger: logger)
                var bytes = 0
                for seq in exported.chunkSeqs {
                    guard let chunk = try await source.exportChunk(of: id, seq: seq) else { continue }
                    // As stored, hash and all: a damaged chunk stays one (`check` names it on either store).
                    try await connection.query(
                        "INSERT INTO chunks (message_id, seq, data, sha256) VALUES (\(id), \(seq), \(chunk.data), \(chunk.sha256))",
                        logger: logger
                    )
                    bytes += chunk.data.count
                }
                return bytes
            }
            report.messages += 1
            report.bytes += bytes
            progress(index + 1, ids.count)
        }

        let requests = try await source.exportReleaseRequests()
        let imports = try await source.exportImports()
        try await transaction { connection in
            for request in requests {
                let positions = request.positions.map { $0.map(String.init).joined(separator: ",") }
                try await connection.query(
                    """
                    INSERT INTO release_requests (message_id, positions, requested_by, requested_by_name, requested_at, reason,
                        approved_by, approved_at)
                    VALUES (\(request.messageID), \(positions), \(request.requestedBy), \(request.requestedByName),
                        \(Self.milliseconds(request.requestedAt)), \(request.reason), \(request.approvedBy),
                        \(request.approvedAt.map(Self.milliseconds)))
                    """,
                    logger: logger
                )
            }
            for row in imports {
                try await connection.query(
                    "INSERT INTO imports (source, source_sha256, message_id) VALUES (\(row.source), \(row.sourceSHA256), \(row.messageID))",
                    logger: logger
                )
            }
        }

        var after: Int64 = 0
        while true {
            let page = try await source.exportAudit(after: after, limit: 1000)
            guard let last = page.last else { break }
            try await transaction { connection in
                for entry in page { try await Self.insertAudit(connection, entry, node: node, logger: logger) }
            }
            report.auditRows += page.count
            after = last.sequence
        }

        let notices = try await source.exportNotices()
        try await transaction { connection in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .millisecondsSince1970
            encoder.outputFormatting = .sortedKeys
            for notice in notices {
                let event = String(decoding: try encoder.encode(notice.request.event), as: UTF8.self)
                let reportJSON = try ReportMail.storedJSON(of: notice.request).map { String(decoding: $0, as: UTF8.self) }
                try await connection.query(
                    """
                    INSERT INTO notices (id, created_at, message_id, queue_id, rule, recipient, role, mode, event, state, due_at,
                        digest_at, attempts, claimed_by, last_reply, sent_at, mail_id, report)
                    VALUES (\(notice.id), \(Self.milliseconds(notice.createdAt)), \(notice.messageID), \(notice.request.event.queueID),
                        \(notice.request.event.rule), \(notice.request.recipient), \(notice.request.role.rawValue),
                        \(notice.request.mode.rawValue), \(event), \(notice.state.rawValue), \(Self.milliseconds(notice.dueAt)),
                        \(notice.digestAt.map(Self.milliseconds)), \(notice.attempts), \(notice.claimedBy), \(notice.lastReply),
                        \(notice.sentAt.map(Self.milliseconds)), \(notice.mailID), \(reportJSON))
                    """,
                    logger: logger
                )
            }
        }
        report.notices = notices.count

        var verdictsAfter: Int64 = 0
        while true {
            let page = try await source.exportVerdicts(after: verdictsAfter, limit: 5000)
            guard let last = page.last else { break }
            try await transaction { connection in
                for (_, entry) in page { try await Self.insertVerdict(connection, entry, logger: logger) }
            }
            report.verdicts += page.count
            verdictsAfter = last.seq
        }

        let counts = try await source.exportDailyCounts()
        let senders = try await source.exportDailySenders()
        try await transaction { connection in
            for row in counts {
                try await connection.query(
                    """
                    INSERT INTO daily_counts (day, direction, agency, rule, outcome, messages, bytes)
                    VALUES (\(row.day), \(row.direction), \(row.agency), \(row.rule), \(row.outcome.rawValue), \(Int64(row.messages)), \(row.bytes))
                    """,
                    logger: logger
                )
            }
            for row in senders {
                try await connection.query(
                    """
                    INSERT INTO daily_senders (day, outcome, sender, messages)
                    VALUES (\(row.day), \(row.outcome.rawValue), \(row.sender), \(Int64(row.messages)))
                    """,
                    logger: logger
                )
            }
        }
        report.rollups = counts.count + senders.count
        return report
    }
}
