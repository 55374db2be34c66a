import Foundation
import MIMECore
import Quarantine
import Scanning

/// What `quarantine show` prints of a held message: its row, the headers and the MIME tree of
/// its original bytes (parsed with MIMECore when shown; real types from libmagic, checked
/// against executable structure as the scanner does), bounded previews of its text parts, its
/// recipients and its audit trail. Every value the sender chose goes through
/// ``HoldRequest/stripped(_:)`` when printed: the output is a terminal.
struct HeldView {
    /// The headers shown, in this order.
    static let headerNames = ["From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID"]
    /// At most this many text parts previewed.
    static let maxPreviews = 3
    /// Each preview at most this many bytes of text (UTF-8) and this many lines.
    static let previewBytes = 4096
    static let previewLines = 60
    /// Bytes of a text part's decoded text looked at for its preview (HTML's tags need more than
    /// the words shown).
    static let previewInput = 64 * 1024
    /// Bytes libmagic is given, as the scanner gives it.
    static let sniffLength = 64 * 1024

    struct Part {
        var path: String
        var depth: Int
        var declaredType: String
        var charset: String?
        /// libmagic's type (leaves only; nil for containers or when libmagic is unavailable).
        var realType: String?
        var name: String?
        /// Decoded bytes (leaves only).
        var size: Int?
        var uuencodedNames: [String]
        var defects: [String]
    }

    struct Preview {
        var path: String
        var type: String
        var charset: String
        var text: String
        var truncated: Bool
    }

    var message: HeldMessage
    var headers: [(name: String, value: String)]
    var parts: [Part]
    var previews: [Preview]
    var audit: [AuditEntry]
    /// The notices about this message in the outbox, one line each (``NoticeTable/showLines(_:)``).
    var notices: [String] = []

    init(message: HeldMessage, bytes: [UInt8], audit: [AuditEntry]) {
        self.message = message
        self.audit = audit
        let parsed = MIMEParser.parse(bytes)
        var headers: [(String, String)] = []
        if let root = parsed.parts.first {
            for name in Self.headerNames {
                for field in root.header.fields(named: name) {
                    let value = bytes.withUnsafeBytes { EncodedWords.decode(lenientText(field.unfoldedValue(in: $0))) }
                    headers.append((name, value))
                }
            }
        }
        self.headers = headers
        let cookie = try? MagicCookie()
        parts = parsed.parts.map { part in
            var realType: String?
            var size: Int?
            if part.children.isEmpty {
                let body = parsed.decodedBody(of: part).bytes
                size = body.count
                realType = cookie.flatMap { cookie in
                    body.withUnsafeBytes { raw in
                        ExecutableFormat.checkedType(
                            cookie.mimeType(UnsafeRawBufferPointer(rebasing: raw.prefix(Self.sniffLength))),
                            of: raw
                        )
                    }
                }
            }
            return Part(
                path: part.path,
                depth: part.depth,
                declaredType: part.mediaType,
                charset: part.charset,
                realType: realType,
                name: part.filename,
                size: size,
                uuencodedNames: part.uuencodedNames,
                defects: part.defects.map { "\($0)" }
            )
        }
        previews = Self.previews(parsed)
    }

    /// Text bodies (not attachments), plain text first, HTML with its tags taken out when there
    /// is no plain text: decoded from their charset to UTF-8, cut at ``previewBytes`` and
    /// ``previewLines``.
    static func previews(_ parsed: ParsedMessage) -> [Preview] {
        let bodies = parsed.leaves.filter { part in
            part.mediaType.hasPrefix("text/") && part.disposition?.value != "attachment" && part.filename == nil
        }
        let plain = bodies.filter { $0.mediaType != "text/html" }
        let chosen = (plain.isEmpty ? bodies : plain).prefix(maxPreviews)
        return chosen.map { part in
            var charset = part.charset ?? "us-ascii"
            var text: String
            if let decoded = parsed.decodedText(of: part) {
                text = decoded
            } else {
                text = lenientText(parsed.decodedBody(of: part).bytes)
                charset += " (unknown or wrong: shown as UTF-8, else windows-1252)"
            }
            // Only the start is shown: cut before the HTML is stripped, so a huge part costs no more
            // than a small one.
            if text.utf8.count > Self.previewInput { text = String(decoding: text.utf8.prefix(Self.previewInput), as: UTF8.self) }
            if part.mediaType == "text/html" { text = htmlText(text) }
            var truncated = false
            var lines = 0
            var bytes = 0
            var cut = text.endIndex
            for index in text.indices {
                let character = text[index]
                bytes += character.utf8.count
                if character == "\n" || character == "\r\n" { lines += 1 }
                if bytes > previewBytes || lines >= previewLines {
                    cut = index
                    truncated = true
                    break
                }
            }
            text = String(text[..<cut])
            return Preview(path: part.path, type: part.mediaType, charset: charset, text: text, truncated: truncated)
        }
    }

    /// HTML as text for a preview: tags, comments, scripts and styles taken out, a few entities
    /// decoded. Not a renderer: only so the words can be read.
    static func htmlText(_ html: String) -> String {
        var out = ""
        var index = html.startIndex
        while index < html.endIndex {
            let character = html[index]
            if character == "<" {
                let rest = html[index...]
                let lower = rest.prefix(8).lowercased()
                var closing = ">"
                if lower.hasPrefix("<!--") {
                    closing = "-->"
                } else if lower.hasPrefix("<script") {
                    closing = "</script>"
                } else if lower.hasPrefix("<style") {
                    closing = "</style>"
                }
                if let end = rest.range(of: closing, options: .caseInsensitive) {
                    let tag = rest[..<end.lowerBound].lowercased()
                    if tag.hasPrefix("<br") || tag.hasPrefix("<p") || tag.hasPrefix("</p") || tag.hasPrefix("<div") || tag.hasPrefix("<tr")
                    {
                        out += "\n"
                    }
                    index = end.upperBound
                } else {
                    index = html.endIndex
                }
                continue
            }
            out.append(character)
            index = html.index(after: index)
        }
        let entities = ["&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&amp;": "&"]
        for (entity, value) in entities { out = out.replacingOccurrences(of: entity, with: value) }
        return out
    }

    // MARK: Text

    func text(color: Bool) -> String {
        let m = message
        let r = m.request
        func safe(_ text: String) -> String { HoldRequest.stripped(text) }
        func section(_ title: String) -> String { "\n" + TerminalStyle.bold(title, color) + "\n" }
        func field(_ name: String, _ value: String) -> String {
            name.padding(toLength: 12, withPad: " ", startingAt: 0) + safe(value) + "\n"
        }
        var out = ""
        out += field("id", m.id).replacingOccurrences(of: m.id, with: TerminalStyle.yellow(m.id, color))
        out += field("queue id", r.queueID)
        out += field("received", HeldTable.local(r.receivedAt))
        out += field("node", r.node)
        out += field("client", "\(r.helo) [\(r.clientAddress)]" + (r.clientName.map { " (\($0))" } ?? ""))
        out += field("sender", r.sender)
        out += field("size", "\(m.size) bytes")
        out += field("sha256", m.sha256)
        out += field("category", "\(r.category) (\(r.action))")
        out += field("expires", HeldTable.local(r.expiresAt))
        out += field("legal hold", r.legalHold ? "yes" : "no")
        if let purged = m.purgedAt {
            out += field("purged", "\(HeldTable.local(purged)): the original bytes are gone (rows and audit stay)")
        }

        out += section("headers")
        if headers.isEmpty { out += "  (none)\n" }
        for header in headers { out += "  " + field(header.name, header.value) }

        out += section("findings")
        if r.findings.isEmpty { out += "  (none)\n" }
        for finding in r.findings {
            var place = "message"
            if let path = finding.part, !path.isEmpty {
                place = "part \(path)"
                if let part = parts.first(where: { $0.path == path }) {
                    place += " " + [part.name.map { "\"\($0)\"" }, Optional(part.declaredType)].compactMap { $0 }.joined(separator: " ")
                }
            }
            out += "  " + TerminalStyle.red(safe(finding.rule), color) + "  " + safe(place) + ": " + safe(finding.detail) + "\n"
        }

        out += section("recipients")
        for recipient in m.recipients {
            var line = "  \(safe(recipient.address))  \(recipient.state.rawValue)"
            if recipient.state == .releasing, let since = recipient.changedAt {
                // Never sent again by itself: the upstream may have it.
                line = "  \(safe(recipient.address)) releasing since \(HeldTable.local(since)) (for "
                line += "\(HeldTable.age(Date().timeIntervalSince(since))); if no release is running, check the upstream's log, "
                line += "then `thugate quarantine resolve \(m.id) released|held --to ADDR --reason TEXT`)"
            }
            if let by = recipient.changedBy { line += "  by \(safe(by))" }
            if let at = recipient.changedAt { line += " at \(HeldTable.local(at))" }
            if let reply = recipient.lastReply { line += "  upstream: \(safe(reply))" }
            out += line + "\n"
        }

        out += section("parts")
        var rows = [["PART", "TYPE", "REAL TYPE", "SIZE", "NAME"]]
        for part in parts {
            let indent = String(repeating: "  ", count: part.depth)
            let type = part.declaredType + (part.charset.map { "; charset=\($0)" } ?? "")
            var name = part.name ?? ""
            if !part.uuencodedNames.isEmpty {
                name += (name.isEmpty ? "" : " ") + "uuencoded: " + part.uuencodedNames.joined(separator: ", ")
            }
            rows.append(
                [indent + (part.path.isEmpty ? "message" : part.path), type, part.realType ?? "", part.size.map(String.init) ?? "", name]
                    .map(safe)
            )
        }
        out += TerminalStyle.table(rows, color: color).split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.isEmpty ? "" : "  " + $0
        }.joined(separator: "\n")

        if !notices.isEmpty {
            out += section("notices")
            for notice in notices { out += "  " + safe(notice) + "\n" }
        }

        out += section("audit")
        for entry in audit {
            let who = entry.sudoUser.map { "\($0) (as \(entry.actor))" } ?? entry.actor
            out += "  " + safe("\(entry.sequence)  \(HeldTable.local(entry.at))  \(entry.action)  by \(who): \(entry.detail)") + "\n"
        }

        for preview in previews {
            out += section(
                "text of part \(safe(preview.path.isEmpty ? "message" : preview.path)) (\(safe(preview.type)), \(safe(preview.charset)))"
            )
            var lines = HoldRequest.stripped(preview.text, keepingLineBreaks: true).split(separator: "\n", omittingEmptySubsequences: false)
            while lines.last?.allSatisfy({ $0 == " " }) == true { lines.removeLast() }
            for line in lines { out += "  | " + line + "\n" }
            if preview.truncated {
                out += TerminalStyle.dim("  (cut: the first \(Self.previewBytes) bytes, \(Self.previewLines) lines)", color) + "\n"
            }
        }
        return out
    }

    // MARK: JSON

    /// One object, the fields of `list --format json` first (starting with `id`), then the
    /// headers, parts, recipients with their history, notices, audit trail and previews.
    func json() -> String {
        func s(_ text: String) -> String { HeldJSON.string(text) }
        func optional(_ text: String?) -> String { text.map(s) ?? "null" }
        var line = HeldJSON.line(message)
        line.removeLast()  // the closing brace: more fields follow
        let headerItems = headers.map { "{\"name\":\(s($0.name)),\"value\":\(s($0.value))}" }
        let partItems = parts.map { p in
            "{\"path\":\(s(p.path)),\"depth\":\(p.depth),\"type\":\(s(p.declaredType)),\"charset\":\(optional(p.charset)),"
                + "\"real_type\":\(optional(p.realType)),\"name\":\(optional(p.name)),\"size\":\(p.size.map(String.init) ?? "null"),"
                + "\"uuencoded\":[\(p.uuencodedNames.map(s).joined(separator: ","))],\"defects\":[\(p.defects.map(s).joined(separator: ","))]}"
        }
        let recipientItems = message.recipients.map { r in
            "{\"address\":\(s(r.address)),\"state\":\(s(r.state.rawValue)),\"changed_by\":\(optional(r.changedBy)),"
                + "\"changed_at\":\(optional(r.changedAt.map(HeldJSON.iso))),\"last_reply\":\(optional(r.lastReply))}"
        }
        let previewItems = previews.map { p in
            "{\"part\":\(s(p.path)),\"type\":\(s(p.type)),\"charset\":\(s(p.charset)),\"truncated\":\(p.truncated),"
                + "\"text\":\(HeldJSON.string(p.text, keepingLineBreaks: true))}"
        }
        line += ",\"headers\":[\(headerItems.joined(separator: ","))]"
        line += ",\"parts\":[\(partItems.joined(separator: ","))]"
        line += ",\"recipient_states\":[\(recipientItems.joined(separator: ","))]"
        line += ",\"notices\":[\(notices.map(s).joined(separator: ","))]"
        line += ",\"audit\":[\(audit.map(AuditJSON.line).joined(separator: ","))]"
        line += ",\"previews\":[\(previewItems.joined(separator: ","))]"
        return line + "}"
    }
}
