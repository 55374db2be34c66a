public import Foundation
import GRDB

/// Reports mailed through the outbox (`thugate report --mail-to`): the notice row carries the
/// rendered report in a column of its own; rows without it (every row written before this
/// migration) are a message's notices as before.
extension SQLiteQuarantineStore {
    /// Migration `v7-report-mail`: `notices.report`, the JSON of a ``ReportMail`` (NULL for the
    /// notice of a message).
    static func registerReportMail(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-report-mail") { db in
            try db.execute(sql: "ALTER TABLE notices ADD COLUMN report BLOB")
        }
    }

    /// The `report` column's value for `request`: nil for a message's notice.
    static func reportColumn(_ request: NoticeRequest) throws -> Data? {
        try ReportMail.storedJSON(of: request)
    }

    /// The report a row carries, if any; a store from before `v7-report-mail` (opened read-only,
    /// so not migrated) has no such column and only notices of messages.
    static func reportValue(_ row: Row) throws -> ReportMail? {
        guard row.hasColumn("report"), let data = row["report"] as Data? else { return nil }
        return try ReportMail.fromStored(data, notice: row["id"] as String? ?? "?")
    }
}

extension ReportMail {
    /// The JSON a notice row keeps of `request`'s report (either store): nil for a message's
    /// notice. A report larger than ``ReportMail/maxBytes`` or to an address that is not one is
    /// refused (the CLI says so first; this keeps any other writer bounded too).
    public static func storedJSON(of request: NoticeRequest) throws -> Data? {
        guard let report = request.report else { return nil }
        guard report.byteCount <= ReportMail.maxBytes else {
            throw QuarantineError(
                .unavailable,
                "the report of \(report.period) is \(report.byteCount) bytes, more than the \(ReportMail.maxBytes) a mailed report may be"
            )
        }
        guard ReportMail.isValidAddress(request.recipient) else {
            throw QuarantineError(.unavailable, "not an address to mail a report to: \(HoldRequest.stripped(request.recipient))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report)
    }

    /// The report of notice `id` from the JSON its row keeps, bounded.
    public static func fromStored(_ data: Data, notice id: String) throws -> ReportMail {
        // JSON escapes make it longer than the report, never more than twice for this text.
        guard data.count <= 2 * ReportMail.maxBytes + 1024 else {
            throw QuarantineError(.corrupt, "notice \(id): its report is \(data.count) bytes, more than a report may be")
        }
        do {
            return try JSONDecoder().decode(ReportMail.self, from: data)
        } catch {
            throw QuarantineError(.corrupt, "notice \(id): its report cannot be read: \(error)")
        }
    }
}
