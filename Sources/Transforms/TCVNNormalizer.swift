import Foundation
public import MIMECore
public import Policy
import VietText

extension Finding.RuleID {
    /// Informational: legacy Vietnamese text converted (or, for signed mail, found) per part.
    public static let legacyEncoding = Finding.RuleID(rawValue: "legacy-encoding")
    /// Informational: a text part's declared charset cannot be decoded; the part is unchanged.
    public static let unknownCharset = Finding.RuleID(rawValue: "unknown-charset")
}

/// TCVN 6909:2001 (QĐ 40/2022 Quảng Ninh Đ12 k1 and the other four regulations): Vietnamese
/// text travels as Unicode. Legacy encodings (TCVN3, VNI, VISCII, VPS, Windows-1258, VIQR,
/// decomposed Unicode) in text bodies, readable headers and attachment names are converted to
/// UTF-8 NFC, through ``MessageEditor`` so that every other byte stays.
///
/// A transform run after the verdict, never on signed content: parts under multipart/signed or
/// application/pkcs7-mime are left as they are (regulation 001 Đ11 k3: documents stay
/// authentic), and a message carrying a DKIM-Signature is only reported unless its sender's
/// domain is listed for normalization.
public struct TCVNNormalizer: MessageTransform {
    public enum DKIMSigned: String, Sendable, CaseIterable {
        /// Leave DKIM-signed messages alone; report what would be converted.
        case report
        /// Normalize DKIM-signed messages whose From domain is in `internalDomains`.
        case normalizeInternal = "normalize-internal"
    }

    public var dkimSigned = DKIMSigned.report
    /// Domains whose mail may be normalized even when DKIM-signed (lowercase, exact or parent).
    public var internalDomains: [String] = []

    public init(dkimSigned: DKIMSigned = .report, internalDomains: [String] = []) {
        self.dkimSigned = dkimSigned
        self.internalDomains = internalDomains.map { $0.lowercased() }
    }

    public var name: String { "tcvn-6909" }

    /// One conversion, for the finding and the header.
    struct Change {
        var encoding: String
        var place: String
        var description: String { "\(encoding)→utf-8 (\(place))" }
    }

    /// The conversions as edits on `message`, with `X-ThuGate-Normalized` inserted on top
    /// (`tcvn3→utf-8 (part 1.1); vni→utf-8 (Subject)`, the result's summary) and a
    /// `legacy-encoding` finding per conversion; for a message that is only reported (DKIM),
    /// the findings alone.
    public func transform(_ message: ParsedMessage) -> TransformResult {
        let signed = message.signedPartIndices
        let reportOnly = isDKIMProtected(message)
        var editor = MessageEditor(message)
        var changes: [Change] = []
        var findings: [Finding] = []

        for (index, part) in message.parts.enumerated() where !signed.contains(index) {
            // Headers people read: the message's own, and those of attached messages.
            if part.path.isEmpty || (part.parent.map { message.parts[$0].isMessage } ?? false) {
                normalizeHeaders(of: part, in: message, editor: &editor, changes: &changes, apply: !reportOnly)
            }
            guard part.children.isEmpty else { continue }
            if let name = part.filename {
                normalizeFilename(name, of: part, in: message, editor: &editor, changes: &changes, apply: !reportOnly)
            }
            guard part.mediaType == "text/plain" || part.mediaType == "text/html",
                part.disposition?.value != "attachment", part.filename == nil
            else { continue }
            normalizeBody(of: part, in: message, editor: &editor, changes: &changes, findings: &findings, apply: !reportOnly)
        }

        let place = { (change: Change) -> String? in change.place.hasPrefix("part ") ? String(change.place.dropFirst(5)) : nil }
        findings += changes.map {
            Finding(
                .legacyEncoding,
                detail: reportOnly ? "\($0.encoding) found, not converted (signed message)" : "\($0.encoding)→utf-8 (\($0.place))",
                part: place($0)
            )
        }
        guard !changes.isEmpty, !reportOnly else { return TransformResult(findings: findings) }
        let summary = changes.map(\.description).joined(separator: "; ")
        do {
            // RFC 5322 headers are ASCII: the arrow travels as an RFC 2047 word, which mail
            // clients show as written.
            try editor.addHeader("X-ThuGate-Normalized", EncodedWords.encode(summary))
        } catch {
            return TransformResult(findings: findings)
        }
        return TransformResult(edits: editor.edits, findings: findings, summary: summary)
    }

    // MARK: Signed content

    func isDKIMProtected(_ message: ParsedMessage) -> Bool {
        guard !message.parts[0].header.fields(named: "DKIM-Signature").isEmpty else { return false }
        guard dkimSigned == .normalizeInternal else { return true }
        let from = message.addresses("From", of: message.parts[0]).first?.domain.lowercased() ?? ""
        return !internalDomains.contains { from == $0 || from.hasSuffix("." + $0) }
    }

    // MARK: Bodies

    private func normalizeBody(
        of part: MIMEPart,
        in message: ParsedMessage,
        editor: inout MessageEditor,
        changes: inout [Change],
        findings: inout [Finding],
        apply: Bool
    ) {
        let (bytes, clean) = message.decodedBody(of: part)
        // A body that does not decode cleanly is not rewritten: its bytes are not known.
        guard clean, !bytes.isEmpty else { return }
        let declared = part.charset
        // A part labelled in another script's charset (KOI8-R, GB2312, ...) is that charset:
        // legacy Vietnamese hides behind Western labels, not there.
        if let declared, !Self.mayHideLegacyVietnamese(declared) { return }
        let detection = VietDetector.detect(bytes, declaredCharset: declared)
        guard case .legacy(let encoding) = detection.kind else {
            if let declared, !Self.isKnownCharset(declared) {
                findings.append(
                    Finding(
                        .unknownCharset,
                        detail: "charset \"\(declared)\" cannot be decoded: part left unchanged",
                        part: message.partNumber(of: part)
                    )
                )
            }
            return
        }
        var text = detection.text
        if part.mediaType == "text/html" { text = Self.declareUTF8(inHTML: text) }
        if apply {
            do {
                try editor.replaceContent(of: part, with: Array(text.utf8), charset: "utf-8")
            } catch {
                return
            }
        }
        changes.append(Change(encoding: encoding.rawValue, place: "part \(message.partNumber(of: part))"))
    }

    /// Labels that legacy Vietnamese text travels under: none, ASCII, the Western 8-bit sets
    /// (the .Vn and VNI fonts drew their letters on Latin-1 and Windows-1252 codes), UTF-8
    /// (mislabelled), Windows-1258, the Vietnamese sets themselves, and names no decoder knows.
    static func mayHideLegacyVietnamese(_ label: String) -> Bool {
        let name = label.trimmingCharacters(in: .whitespaces).lowercased()
        let western: Set<String> = [
            "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1",
            "windows-1252", "cp1252", "x-cp1252", "iso-8859-15", "iso8859-15", "latin-9", "utf-8", "utf8",
            "windows-1258", "cp1258", "x-cp1258", "x-user-defined", "unknown-8bit",
        ]
        return western.contains(name) || VietEncoding.allCases.contains { $0.rawValue == name }
            || [
                "tcvn", "tcvn3", "tcvn-5712", "tcvn5712-1", "tcvn5712-3", "viscii", "vni", "vps", "x-viet-vni", "x-viet-vps",
                "x-viet-tcvn5712", "x-viet-viscii", "csviscii",
            ].contains(name)
            || !Charset.isSupported(label: name)
    }

    static func isKnownCharset(_ label: String) -> Bool {
        Charset.isSupported(label: label) || VietEncoding.allCases.contains { $0.rawValue == label.lowercased() }
    }

    /// The HTML's own charset declaration (`<meta charset=...>` or `<meta http-equiv=
    /// "Content-Type" content="text/html; charset=...">`) made to say UTF-8, as the part now is.
    static func declareUTF8(inHTML html: String) -> String {
        var out = ""
        var rest = Substring(html)
        while let meta = rest.range(of: "<meta", options: .caseInsensitive) {
            guard let close = rest[meta.upperBound...].firstIndex(of: ">") else { break }
            out += rest[..<meta.lowerBound]
            var tag = String(rest[meta.lowerBound...close])
            if let charset = tag.range(of: "charset=", options: .caseInsensitive) {
                let valueStart =
                    tag[charset.upperBound...].first.map { $0 == "\"" || $0 == "'" } == true
                    ? tag.index(after: charset.upperBound) : charset.upperBound
                let valueEnd =
                    tag[valueStart...].firstIndex { $0 == "\"" || $0 == "'" || $0 == ";" || $0 == " " || $0 == ">" || $0 == "/" }
                    ?? tag.endIndex
                tag.replaceSubrange(valueStart..<valueEnd, with: "utf-8")
            }
            out += tag
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    // MARK: Headers

    static let readableHeaders = ["Subject", "From", "To", "Cc", "Reply-To", "Sender"]

    private func normalizeHeaders(
        of part: MIMEPart,
        in message: ParsedMessage,
        editor: inout MessageEditor,
        changes: inout [Change],
        apply: Bool
    ) {
        for name in Self.readableHeaders {
            for field in part.header.fields(named: name) {
                let raw = message.bytes.withUnsafeBytes { field.unfoldedValue(in: $0) }
                guard let (value, encoding) = Self.normalizeHeaderValue(raw, phrases: name != "Subject") else { continue }
                if apply {
                    do { try editor.replaceHeader(field, with: value) } catch { continue }
                }
                let where_ = part.path.isEmpty ? name : "\(name), part \(part.path)"
                changes.append(Change(encoding: encoding.rawValue, place: where_))
            }
        }
    }

    /// A header value with its legacy Vietnamese converted, as ASCII (UTF-8 encoded words), or
    /// nil when there is nothing to convert. Encoded words are judged one by one with their
    /// charset label as a hint. Raw 8-bit text is judged as a whole in a Subject, and by phrase
    /// (runs of words with 8-bit bytes) in address fields, whose addresses stay as written.
    /// VIQR (plain ASCII) is looked for only in a Subject without encoded words.
    static func normalizeHeaderValue(_ raw: [UInt8], phrases: Bool) -> (String, VietEncoding)? {
        let text = String(decoding: raw, as: UTF8.self)
        let isASCII = raw.allSatisfy { $0 < 0x80 }
        if isASCII && !text.contains("=?") {
            guard !phrases else { return nil }
            let detection = VietDetector.detect(raw, declaredCharset: "us-ascii")
            guard case .legacy(let encoding) = detection.kind else { return nil }
            return (EncodedWords.encode(detection.text), encoding)
        }
        if !isASCII && !phrases && !text.contains("=?") {
            let detection = VietDetector.detect(raw, declaredCharset: nil)
            guard case .legacy(let encoding) = detection.kind else { return nil }
            return (EncodedWords.encode(detection.text), encoding)
        }
        var found: VietEncoding? = nil
        var out: [String] = []
        // Raw 8-bit runs are split into words so that each phrase can be converted on its own.
        let segments: [EncodedWords.Segment] =
            isASCII
            ? EncodedWords.segments(text)
            : splitRaw(raw).flatMap { piece -> [EncodedWords.Segment] in
                piece.allSatisfy({ $0 < 0x80 })
                    ? EncodedWords.segments(String(decoding: piece, as: UTF8.self))
                    : [.encoded(charset: "", bytes: piece, raw: "")]
            }
        // Adjacent encoded words in one charset are one text (the whitespace between them is
        // not part of it, RFC 2047 6.2): a word may end in the middle of a syllable.
        var index = 0
        while index < segments.count {
            guard case .encoded(let charset, var bytes, let rawWord) = segments[index] else {
                if case .text(let t) = segments[index] { out.append(t) }
                index += 1
                continue
            }
            var originals = [rawWord.isEmpty ? String(decoding: bytes, as: UTF8.self) : rawWord]
            var next = index + 1
            while !charset.isEmpty, next + 1 < segments.count, case .text(let gap) = segments[next],
                gap.allSatisfy({ $0 == " " || $0 == "\t" }),
                case .encoded(let charset2, let more, let raw2) = segments[next + 1], charset2.lowercased() == charset.lowercased()
            {
                bytes += more
                originals += [gap, raw2]
                next += 2
            }
            let detection = VietDetector.detect(bytes, declaredCharset: charset.isEmpty ? nil : charset)
            if charset.isEmpty || mayHideLegacyVietnamese(charset), case .legacy(let encoding) = detection.kind {
                found = found ?? encoding
                out.append(EncodedWords.encode(detection.text))
            } else {
                out += originals
            }
            index = next
        }
        guard let found else { return nil }
        return (out.joined(), found)
    }

    /// Splits raw header bytes into ASCII stretches and 8-bit phrases (runs of words holding
    /// 8-bit bytes, with the spaces between them).
    private static func splitRaw(_ raw: [UInt8]) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in raw {
            current.append(byte)
            if byte == 0x20 || byte == 0x09 {
                words.append(current)
                current = []
            }
        }
        if !current.isEmpty { words.append(current) }
        var pieces: [[UInt8]] = []
        for word in words {
            let eightBit = word.contains { $0 >= 0x80 }
            if let last = pieces.last, last.contains(where: { $0 >= 0x80 }) == eightBit {
                pieces[pieces.count - 1] += word
            } else {
                pieces.append(word)
            }
        }
        // A phrase's trailing space goes back to the ASCII text after it.
        var out: [[UInt8]] = []
        for piece in pieces {
            if piece.contains(where: { $0 >= 0x80 }), let end = piece.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }), end < piece.count - 1
            {
                out.append(Array(piece[...end]))
                out.append(Array(piece[(end + 1)...]))
            } else {
                out.append(piece)
            }
        }
        return out
    }

    // MARK: Attachment names

    private func normalizeFilename(
        _ name: String,
        of part: MIMEPart,
        in message: ParsedMessage,
        editor: inout MessageEditor,
        changes: inout [Change],
        apply: Bool
    ) {
        // The parser decoded the name with its declared charset; a mislabeled legacy name comes
        // out as Latin-1 or Windows-1252 characters, which give the original bytes back.
        let bytes: [UInt8]
        if name.unicodeScalars.allSatisfy({ $0.value < 0x80 }) {
            return
        } else if name.unicodeScalars.allSatisfy({ $0.value < 0x100 }) {
            bytes = name.unicodeScalars.map { UInt8($0.value) }
        } else if let data = name.data(using: .windowsCP1252) {
            bytes = [UInt8](data)
        } else {
            bytes = Array(name.utf8)  // Unicode already: NFD is converted, NFC left alone.
        }
        let detection = VietDetector.detect(bytes, declaredCharset: nil)
        guard case .legacy(let encoding) = detection.kind else { return }
        if apply {
            do {
                if let disposition = part.disposition {
                    try editor.replaceHeader(
                        "Content-Disposition",
                        with: disposition.writing(fileName: detection.text, as: "filename"),
                        of: part
                    )
                }
                if part.contentType["name"] != nil {
                    try editor.replaceHeader(
                        "Content-Type",
                        with: part.contentType.writing(fileName: detection.text, as: "name"),
                        of: part
                    )
                }
            } catch {
                return
            }
        }
        changes.append(Change(encoding: encoding.rawValue, place: "file name, part \(message.partNumber(of: part))"))
    }
}
