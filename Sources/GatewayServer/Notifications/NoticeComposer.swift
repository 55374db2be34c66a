public import Foundation
import MIMECore
public import Quarantine

/// The bilingual (Vietnamese, English) templates of the notices, plain text files in the
/// configuration's `notices/` directory: `held.txt`, `refused.txt`, `refused-kept.txt` (a refused
/// message whose copy is kept in the quarantine; one message each),
/// `digest.txt` (a day's notices for one address, with `{items}`) and `digest-item.txt` (one
/// entry of it). Each of the first three starts with a `Subject:` line and an empty line.
/// Placeholders are `{name}`; an unknown one is refused when the templates are loaded, with the
/// file and line.
public struct NoticeTemplates: Sendable, Equatable {
    public struct Template: Sendable, Equatable {
        public var subject: String
        public var body: String
    }

    public var held: Template
    public var refused: Template
    public var refusedKept: Template
    public var digest: Template
    public var digestItem: String

    /// The placeholders of one message's notice (and of a digest's items).
    public static let eventPlaceholders: Set<String> = [
        "id", "rule", "detail", "sender", "from", "recipients", "subject", "time", "queue_id", "review", "outcome", "notice_id",
    ]
    public static let digestPlaceholders: Set<String> = ["day", "count", "items"]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(held: Template, refused: Template, refusedKept: Template, digest: Template, digestItem: String) {
        self.held = held
        self.refused = refused
        self.refusedKept = refusedKept
        self.digest = digest
        self.digestItem = digestItem
    }

    /// Reads and checks the five templates in `directory`.
    public static func load(directory: String) throws(Failure) -> NoticeTemplates {
        func read(_ name: String) throws(Failure) -> (String, String) {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024 else {
                throw Failure(description: "notice template \(path): cannot read it")
            }
            guard let text = String(data: data, encoding: .utf8) else { throw Failure(description: "notice template \(path): not UTF-8") }
            return (path, text.replacingOccurrences(of: "\r\n", with: "\n"))
        }
        func message(_ name: String, _ allowed: Set<String>) throws(Failure) -> Template {
            let (path, text) = try read(name)
            guard text.hasPrefix("Subject:"), let end = text.range(of: "\n\n") else {
                throw Failure(description: "notice template \(path):1: expected a \"Subject: ...\" line, then an empty line, then the text")
            }
            let subject = String(text[text.index(text.startIndex, offsetBy: 8)..<end.lowerBound]).trimmingCharacters(in: .whitespaces)
            let template = Template(subject: subject, body: String(text[end.upperBound...]))
            try check(path, text, allowed)
            return template
        }
        let held = try message("held.txt", eventPlaceholders)
        let refused = try message("refused.txt", eventPlaceholders)
        let refusedKept = try message("refused-kept.txt", eventPlaceholders)
        let digest = try message("digest.txt", digestPlaceholders)
        let (itemPath, item) = try read("digest-item.txt")
        try check(itemPath, item, eventPlaceholders)
        return NoticeTemplates(held: held, refused: refused, refusedKept: refusedKept, digest: digest, digestItem: item)
    }

    private static func check(_ path: String, _ text: String, _ allowed: Set<String>) throws(Failure) {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            for name in placeholders(in: String(line)) where !allowed.contains(name) {
                throw Failure(
                    description:
                        "notice template \(path):\(number + 1): unknown placeholder {\(name)} (known: \(allowed.sorted().joined(separator: ", ")))"
                )
            }
        }
    }

    /// Every `{name}` (letters, digits, `_`) in `text`.
    static func placeholders(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            let name = after.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            if !name.isEmpty, after.dropFirst(name.count).first == "}" { names.append(String(name)) }
            rest = after
        }
        return names
    }

    /// `text` with each known `{name}` replaced by its value; other braces stay as written.
    static func render(_ text: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            let name = after.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            if !name.isEmpty, after.dropFirst(name.count).first == "}", let value = values[String(name)] {
                out += value
                rest = after.dropFirst(name.count + 1)
            } else {
                out += "{"
                rest = after
            }
        }
        return out + rest
    }
}

/// One notice (or one digest) as a message: the bytes, the envelope recipient, its Message-ID.
public struct ComposedNotice: Sendable, Equatable {
    public var recipient: String
    public var mailID: String
    public var bytes: [UInt8]
    /// The outbox rows it carries (one, or a digest's).
    public var noticeIDs: [String]
}

/// Makes notices into messages. Only what the notice rows hold goes in: rule, findings, envelope,
/// From, Subject (unless the rule withholds it), times; never a byte of the held content. Every
/// header value is stripped of control characters (CR and LF above all) and RFC 2047-encoded when
/// not ASCII; `Auto-Submitted: auto-generated` (RFC 3834) and the MAC header mark the message as
/// ThuGate's own.
/// - SeeAlso: RFC 5322 3.6 (fields), RFC 2047, RFC 3834 5 (Auto-Submitted), RFC 2045 6.8 (base64).
public struct NoticeComposer: Sendable {
    public var templates: NoticeTemplates
    public var key: NoticeKey
    /// The `From:` address.
    public var from: String
    /// Right of the `@` in Message-IDs (the gateway's hostname).
    public var hostname: String

    public init(templates: NoticeTemplates, key: NoticeKey, from: String, hostname: String) {
        self.templates = templates
        self.key = key
        self.from = from
        self.hostname = hostname
    }

    /// The message for `notices`: one immediate notice on its own, or a digest (every notice for
    /// the same address and day). Empty input gives nil.
    public func compose(_ notices: [Notice]) -> ComposedNotice? {
        guard let first = notices.first else { return nil }
        // A report is always alone (immediate, no digest); only a lone row can carry one.
        if let report = first.request.report, notices.count == 1 { return compose(report: report, notice: first) }
        let subject: String
        let body: String
        let date: Date
        if notices.count == 1 && first.request.mode == .immediate {
            let values = Self.values(first)
            let template =
                switch first.request.event.outcome {
                case NoticePlanner.Result.held.rawValue: templates.held
                case NoticePlanner.Result.refusedKept.rawValue: templates.refusedKept
                default: templates.refused
                }
            subject = NoticeTemplates.render(template.subject, values)
            body = NoticeTemplates.render(template.body, values)
            date = first.createdAt
        } else {
            let items = notices.map { NoticeTemplates.render(templates.digestItem, Self.values($0)) }.joined()
            let day = first.digestAt ?? first.createdAt
            let values = ["day": NoticeClock.day(day), "count": String(notices.count), "items": items]
            subject = NoticeTemplates.render(templates.digest.subject, values)
            body = NoticeTemplates.render(templates.digest.body, values)
            date = day
        }
        let kind = notices.count == 1 && first.request.mode == .immediate ? "notice" : "digest"
        // Text lines end in CRLF; the body travels as base64, so no line is too long and 8-bit
        // text needs no 8BITMIME.
        let encoded = TransferEncoder.base64(Self.crlf(body))
        return message(
            kind: kind,
            notices: notices,
            subject: subject,
            date: date,
            content: ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"],
            body: encoded
        )
    }

    /// A report `thugate report --mail-to` queued: `multipart/mixed`, the table form as the text
    /// part, the HTML file as an attachment (its bytes exactly, base64), the bilingual Subject.
    /// - SeeAlso: RFC 2046 5.1 (multipart), RFC 2183 (Content-Disposition).
    func compose(report: ReportMail, notice: Notice) -> ComposedNotice {
        let subject = "Báo cáo sử dụng thư điện tử \(report.period) / E-mail usage report \(report.period)"
        let name = report.fileName
        let intro =
            "Báo cáo sử dụng thư điện tử \(report.period), bản in được (HTML, khổ A4) đính kèm: \(name).\n"
            + "E-mail usage report \(report.period); the printable form (HTML, A4) is attached: \(name).\n\n"
        // `_` is not a base64 character and `=_` cannot start a base64 line: the boundary is
        // never in a part.
        let boundary = "=_ThuGate.\(notice.id)"
        var body: [UInt8] = []
        func line(_ text: String) { body += Array((text + "\r\n").utf8) }
        line("This is a MIME message: a text part and an HTML attachment.")
        line("--\(boundary)")
        line("Content-Type: text/plain; charset=utf-8")
        line("Content-Transfer-Encoding: base64")
        line("")
        body += TransferEncoder.base64(Self.crlf(intro + report.text))
        line("--\(boundary)")
        line("Content-Type: text/html; charset=utf-8; name=\"\(name)\"")
        line("Content-Disposition: attachment; filename=\"\(name)\"")
        line("Content-Transfer-Encoding: base64")
        line("")
        body += TransferEncoder.base64(Array(report.html.utf8))
        line("--\(boundary)--")
        return message(
            kind: "report",
            notices: [notice],
            subject: subject,
            date: notice.createdAt,
            content: ["Content-Type: multipart/mixed; boundary=\"\(boundary)\""],
            body: body
        )
    }

    /// `text` with its lines ending in CRLF, as UTF-8.
    static func crlf(_ text: String) -> [UInt8] {
        Array(
            text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).joined(
                separator: "\r\n"
            ).utf8
        )
    }

    /// The header section every notice has (From, To, Subject, Date, Message-ID, Auto-Submitted,
    /// the MAC over `body`), then `content`'s MIME fields, then `body` (already encoded).
    private func message(kind: String, notices: [Notice], subject: String, date: Date, content: [String], body: [UInt8]) -> ComposedNotice {
        let first = notices[0]
        let id = first.id
        let mailID = "<\(kind).\(id)@\(hostname)>"
        let time = Int64(date.timeIntervalSince1970.rounded(.down))
        var header = ""
        header += "From: ThuGate <\(HeaderText.sanitized(from))>\r\n"
        header += "To: <\(HeaderText.sanitized(first.request.recipient))>\r\n"
        header += "Subject: \(HeaderText.sanitized(subject))\r\n"
        header += "Date: \(NoticeClock.rfc5322(date))\r\n"
        header += "Message-ID: \(mailID)\r\n"
        header += "Auto-Submitted: auto-generated\r\n"
        // Outlook and Exchange send no out-of-office or read replies to it.
        header += "X-Auto-Response-Suppress: All\r\n"
        header += "MIME-Version: 1.0\r\n"
        for field in content { header += field + "\r\n" }
        header += NoticeSignature.field(key: key, id: "\(kind).\(id)", time: time, header: header, body: body)
        header += "\r\n"
        return ComposedNotice(
            recipient: first.request.recipient,
            mailID: mailID,
            bytes: Array(header.utf8) + body,
            noticeIDs: notices.map(\.id)
        )
    }

    /// The placeholders' values for one notice, each stripped of control characters.
    static func values(_ notice: Notice) -> [String: String] {
        let event = notice.request.event
        let held = event.outcome == NoticePlanner.Result.held.rawValue
        let kept = event.outcome == NoticePlanner.Result.refusedKept.rawValue
        let review = held || kept ? notice.messageID.map { "thugate quarantine show \($0)" } ?? "" : ""
        let values: [String: String] = [
            "id": notice.messageID ?? "",
            "notice_id": notice.id,
            "rule": event.rule,
            "detail": event.findings.map(\.summary).joined(separator: "; "),
            "sender": event.sender,
            "from": event.headerFrom ?? "(không có / none)",
            "recipients": event.recipients.joined(separator: ", "),
            "subject": event.subject.map { $0.isEmpty ? "(không có / none)" : $0 } ?? "(không hiển thị / withheld)",
            "time": NoticeClock.text(event.receivedAt),
            "queue_id": event.queueID,
            "review": review,
            "outcome": held ? "giữ lại / held" : kept ? "từ chối, lưu bản sao / refused, copy kept" : "từ chối / refused",
        ]
        return values.mapValues(HoldRequest.stripped)
    }
}
