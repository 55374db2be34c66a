public import Foundation

/// A report `thugate report --mail-to` put into the outbox: the content the CLI rendered (the
/// table form and the HTML file), carried in the notice row so that the gateway's notice service
/// sends it as it sends any notice (claim, retry, back-off, dead) without rendering anything.
public struct ReportMail: Sendable, Equatable, Codable {
    /// Reports are at most a few hundred KB; more than this (table and HTML together, UTF-8) is
    /// refused before anything is written, so one row never holds an unbounded blob.
    public static let maxBytes = 5 * 1024 * 1024

    /// The period as `--period` says it (`2026-11`, `2026-Q4`, `2026-10-01..2026-10-15`).
    public var period: String
    /// The table form (text/plain part).
    public var text: String
    /// The self-contained HTML file (the attachment), byte for byte as `--format html` writes it.
    public var html: String

    public init(period: String, text: String, html: String) {
        self.period = period
        self.text = text
        self.html = html
    }

    /// The size that counts against ``maxBytes``.
    public var byteCount: Int { period.utf8.count + text.utf8.count + html.utf8.count }

    /// The attachment's file name, `bao-cao-<period>.html`, with anything but letters, digits,
    /// `.`, `-` and `_` of the period made `_` (it goes into a header parameter as it is).
    public var fileName: String {
        let safe = period.unicodeScalars.map { scalar -> String in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || ".-_".unicodeScalars.contains(scalar))
                ? String(scalar) : "_"
        }.joined()
        return "bao-cao-\(safe.prefix(64)).html"
    }

    /// Whether `address` can be the envelope recipient of a report: `local@domain` with exactly
    /// one `@`, both sides non-empty, no control characters (CR and LF above all), spaces, angle
    /// brackets, quotes or commas, at most 254 bytes (RFC 5321 4.5.3.1.3 with the brackets).
    /// Stricter than RFC 5321's quoted local parts on purpose: the address goes into `RCPT TO`
    /// and the `To:` field as it is.
    /// - SeeAlso: RFC 5321 4.1.2 (Mailbox), RFC 5322 3.4.1.
    public static func isValidAddress(_ address: String) -> Bool {
        guard !address.isEmpty, address.utf8.count <= 254 else { return false }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0].utf8.count <= 64 else { return false }
        let forbidden: Set<Unicode.Scalar> = ["<", ">", "\"", ",", ";", ":", "(", ")", "[", "]", "\\", " "]
        for scalar in address.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) || forbidden.contains(scalar) {
                return false
            }
            if scalar.properties.generalCategory == .lineSeparator || scalar.properties.generalCategory == .paragraphSeparator {
                return false
            }
        }
        let domain = parts[1]
        return !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.contains("..") && !parts[0].hasPrefix(".")
            && !parts[0].hasSuffix(".")
    }
}

/// What a notice row carries: a message's event (held, refused: template parameters) or a report.
public enum NoticeKind: String, Sendable, Equatable, CaseIterable {
    case event
    case report
}

extension Notice {
    public var kind: NoticeKind { request.report == nil ? .event : .report }
}

extension NoticeRequest {
    /// The row for mailing `report` to `recipient`: on its own (never in a digest), due `now`.
    /// Its event says only what `notify list` shows (rule `report`, the period as queue id).
    public static func report(_ report: ReportMail, to recipient: String, now: Date) -> NoticeRequest {
        var request = NoticeRequest(
            recipient: recipient,
            role: .address,
            mode: .immediate,
            event: NoticeEvent(
                outcome: "report",
                queueID: "report-\(report.period)",
                receivedAt: now,
                sender: "<>",
                recipients: ["<\(recipient)>"],
                headerFrom: nil,
                subject: nil,
                rule: "report",
                findings: []
            ),
            dueAt: now
        )
        request.report = report
        return request
    }
}
