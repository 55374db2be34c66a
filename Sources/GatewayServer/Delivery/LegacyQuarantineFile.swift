public import Foundation
import MIMECore
public import Quarantine

/// A message in the Maildir quarantine of earlier versions (until the store existed): the
/// file is the fields the old sink wrote above the message, then the message as the client sent
/// it. In order: `X-ThuGate-Quarantine` (the findings, `rule(part): detail; …`),
/// `X-ThuGate-Envelope-From`, `X-ThuGate-Envelope-To` (`<a>, <b>`), then ThuGate's own
/// `Received:` field (`from HELO ([ADDR]) by HOST (ThuGate) with ESMTP id QUEUEID; DATE`).
/// The first versions wrote the values raw with CR and LF removed; later ones control
/// characters as spaces, cut past 900 bytes with ` …`, and non-ASCII as RFC 2047 words on
/// folded lines. All four fields are what the old sink prepended, and are stripped.
/// - SeeAlso: git history of `Sources/GatewayServer/Delivery/QuarantineSink.swift`
///   (`MaildirQuarantine`, `AddedHeaders.held`), RFC 5322 2.2.3 (folding), RFC 2047.
public struct LegacyQuarantineFile: Sendable, Equatable {
    public var findings: [HeldFinding]
    /// `<a@b>` as written (`<>` for the null sender).
    public var sender: String
    public var recipients: [String]
    public var helo: String?
    public var clientAddress: String?
    public var node: String?
    public var queueID: String?
    public var receivedAt: Date?
    /// Bytes the old sink prepended: the original message starts here.
    public var headerLength: Int
    /// What the file did not say in full (a value cut at 900 bytes).
    public var warnings: [String]

    /// The fields are looked for in at most this many bytes.
    public static let maxHeaderBytes = 1 << 20

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses the first bytes of a file (at least the fields, up to ``maxHeaderBytes``).
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> LegacyQuarantineFile {
        var offset = 0
        var fields: [(name: String, value: String)] = []
        // The three fields, then the trace field if it is ThuGate's.
        while fields.count < 4 {
            guard let (name, value, end) = field(in: bytes, at: offset) else { break }
            if fields.count == 3 {
                guard name.lowercased() == "received", value.contains("(ThuGate)") else { break }
            }
            fields.append((name, value))
            offset = end
        }
        let expected = ["x-thugate-quarantine", "x-thugate-envelope-from", "x-thugate-envelope-to"]
        guard fields.count >= 3, fields.prefix(3).map({ $0.name.lowercased() }) == expected else {
            throw ParseError(
                description: "not a ThuGate quarantine file (it does not start with X-ThuGate-Quarantine, -Envelope-From, -Envelope-To)"
            )
        }
        var warnings: [String] = []
        let findingsText = EncodedWords.decode(fields[0].value)
        if findingsText.hasSuffix(" …") { warnings.append("the findings were cut in the file") }
        let sender = EncodedWords.decode(fields[1].value).trimmingCharacters(in: .whitespaces)
        guard sender.hasPrefix("<"), sender.hasSuffix(">") else {
            throw ParseError(description: "X-ThuGate-Envelope-From is not an address in <>")
        }
        var recipients = EncodedWords.decode(fields[2].value).components(separatedBy: ", ").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if let last = recipients.last, !last.hasSuffix(">") {
            // Cut at 900 bytes: the last address is not whole; the others are.
            recipients.removeLast()
            warnings.append("the recipient list was cut in the file after \(recipients.count) recipients")
        }
        recipients = recipients.filter { $0.hasPrefix("<") && $0.hasSuffix(">") && $0.count > 2 }
        guard !recipients.isEmpty else { throw ParseError(description: "X-ThuGate-Envelope-To names no recipient") }
        var file = LegacyQuarantineFile(
            findings: Self.findings(findingsText),
            sender: sender,
            recipients: recipients,
            headerLength: offset,
            warnings: warnings
        )
        if fields.count == 4 { file.readReceived(fields[3].value) }
        return file
    }

    /// One header field at `offset`: its name, its unfolded value and where the next begins.
    static func field(in bytes: [UInt8], at offset: Int) -> (String, String, Int)? {
        var end = offset
        var value: [UInt8] = []
        var line = 0
        while true {
            guard let cr = (end..<max(end, bytes.count - 1)).first(where: { bytes[$0] == 0x0D && bytes[$0 + 1] == 0x0A }) else {
                return nil
            }
            if line > 0 { value.append(contentsOf: [0x20]) }
            value.append(contentsOf: bytes[end..<cr])
            end = cr + 2
            line += 1
            // A line starting with a space or tab continues the field.
            guard end < bytes.count, bytes[end] == 0x20 || bytes[end] == 0x09 else { break }
        }
        guard let colon = value.firstIndex(of: 0x3A), colon > 0 else { return nil }
        let name = String(decoding: value[..<colon], as: UTF8.self)
        guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        // Folding added a space before each continuation; runs of blanks are one for parsing.
        let text = String(decoding: value[(colon + 1)...], as: UTF8.self)
        let squeezed = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        return (name, squeezed, end)
    }

    /// `rule(part): detail; rule: detail`: split where `; ` is followed by a rule id and `:`
    /// or `(`, so a `; ` inside a detail (a file name) stays in it.
    static func findings(_ text: String) -> [HeldFinding] {
        var pieces: [String] = []
        var rest = Substring(text)
        var current = ""
        while let range = rest.range(of: "; ") {
            let after = rest[range.upperBound...]
            current += rest[..<range.lowerBound]
            if Self.startsWithRule(after) {
                pieces.append(current)
                current = ""
            } else {
                current += "; "
            }
            rest = after
        }
        pieces.append(current + rest)
        return pieces.filter { !$0.isEmpty }.map { piece in
            let id = piece.prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            var after = piece.dropFirst(id.count)
            var part: String?
            if after.hasPrefix("("), let close = after.firstIndex(of: ")") {
                let inside = String(after[after.index(after: after.startIndex)..<close])
                part = inside == "message" ? "" : inside
                after = after[after.index(after: close)...]
            }
            guard after.hasPrefix(": ") else { return HeldFinding(rule: "legacy", detail: piece, part: nil) }
            return HeldFinding(rule: String(id), detail: String(after.dropFirst(2)), part: part)
        }
    }

    private static func startsWithRule(_ text: Substring) -> Bool {
        let id = text.prefix { ($0.isASCII && $0.isLowercase) || $0.isNumber || $0 == "-" }
        guard !id.isEmpty else { return false }
        let after = text.dropFirst(id.count)
        return after.hasPrefix(": ") || after.hasPrefix("(")
    }

    /// `from HELO ([ADDR]) by HOST (ThuGate) with PROTO id QUEUEID [for <rcpt>]; DATE`.
    mutating func readReceived(_ value: String) {
        let words = value.split(separator: " ").map(String.init)
        if let from = words.firstIndex(of: "from"), from + 2 < words.count {
            helo = words[from + 1]
            let address = words[from + 2]
            if address.hasPrefix("(["), address.hasSuffix("])") { clientAddress = String(address.dropFirst(2).dropLast(2)) }
        }
        if let by = words.firstIndex(of: "by"), by + 1 < words.count { node = words[by + 1] }
        if let id = words.firstIndex(of: "id"), id + 1 < words.count {
            queueID = String(words[id + 1].prefix { $0 != ";" })
        }
        if let semicolon = value.lastIndex(of: ";") {
            receivedAt = Self.date(value[value.index(after: semicolon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    /// RFC 5322 3.3 date-time as ThuGate wrote it: `Tue, 1 Dec 2026 13:13:01 +0700`.
    static func date(_ text: String) -> Date? {
        var words = text.split(separator: " ").map(String.init)
        if let first = words.first, first.hasSuffix(",") { words.removeFirst() }
        guard words.count == 5, let day = Int(words[0]), let year = Int(words[2]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: words[1]) else { return nil }
        let time = words[3].split(separator: ":").compactMap { Int($0) }
        let zone = words[4]
        guard time.count == 3, zone.count == 5, let sign = zone.first, sign == "+" || sign == "-",
            let hhmm = Int(zone.dropFirst())
        else { return nil }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(secondsFromGMT: (sign == "-" ? -1 : 1) * (hhmm / 100 * 3600 + hhmm % 100 * 60))
        components.year = year
        components.month = month + 1
        components.day = day
        components.hour = time[0]
        components.minute = time[1]
        components.second = time[2]
        return components.date
    }
}
