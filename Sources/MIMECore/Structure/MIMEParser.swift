#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One MIME entity: the message itself, a part of a multipart, or a message inside a
/// message/rfc822 part.
public struct MIMEPart: Sendable, Equatable {
    /// IMAP-style part number: "" for the message itself, then "1", "1.2", ...
    public var path: String
    public var depth: Int
    /// The whole entity, header section and body, as byte offsets in the message.
    public var range: Range<Int>
    public var header: HeaderSection
    public var bodyRange: Range<Int>
    /// `type/subtype` and parameters; `text/plain` (RFC 2045 5.2) or `message/rfc822` (inside
    /// multipart/digest, RFC 2046 5.1.5) when the part has no Content-Type.
    public var contentType: HeaderParameters
    public var disposition: HeaderParameters?
    /// Lowercased Content-Transfer-Encoding, `7bit` when absent.
    public var transferEncoding: String
    /// Decoded file name from Content-Disposition `filename` or Content-Type `name`.
    public var filename: String?
    /// Bytes of the body once its transfer encoding is undone (0 for containers).
    public var decodedSize = 0
    /// Names of files uuencoded in this text part (``ParsedMessage/uuencodedFiles(in:)``).
    public var uuencodedNames: [String] = []
    public var parent: Int?
    public var children: [Int] = []
    public var defects: [MIMEDefect] = []
    /// Bytes of the body outside the children and outside the decoded body: delimiter lines,
    /// preamble, epilogue, text after base64, parts past `maxParts`.
    public var segments: [MIMESegment] = []
    /// A line without colon that ended the header section although header fields follow it.
    var lineWithoutColon: Range<Int>? = nil

    public var mediaType: String { contentType.value }
    /// A multipart that could not be split (no usable boundary, or a limit): one opaque leaf.
    public var isUnsplitMultipart: Bool { mediaType.hasPrefix("multipart/") && children.isEmpty }
    public var isMultipart: Bool { mediaType.hasPrefix("multipart/") && !children.isEmpty }
    public var isMessage: Bool { mediaType == "message/rfc822" || mediaType == "message/global" }
    public var charset: String? { contentType["charset"] }
}

/// A range of a part's body that belongs to no child and to no decoded body.
///
/// Together with the header sections, the leaf bodies and the children, the segments cover every
/// byte of a message: a scanner that scans every leaf body and every scanned segment has seen
/// all of it (``ParsedMessage/uncoveredRanges()`` checks this).
public struct MIMESegment: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Before the first delimiter of a multipart (RFC 2046 5.1.1: readers ignore it).
        case preamble
        /// After the close delimiter, transport padding on its line included.
        case epilogue
        /// A delimiter line with the line break before it: structure, not content.
        case delimiter
        /// Lines of a base64 body from the first line that is not base64: kept as text.
        case textAfterBase64 = "text-after-base64"
        /// Parts past `maxParts`, not parsed.
        case notParsed = "not-parsed"
    }

    public var kind: Kind
    public var range: Range<Int>

    public init(_ kind: Kind, _ range: Range<Int>) {
        self.kind = kind
        self.range = range
    }

    /// Whether a scanner must read the segment as text of its own (all but delimiters).
    public var isScanned: Bool { kind != .delimiter }
}

/// A parsed message: the bytes and every entity in them, in document order (pre-order).
public struct ParsedMessage: Sendable {
    public let bytes: MessageBytes
    public var parts: [MIMEPart]
    public let limits: MIMELimits

    /// Every defect with the path of the part it was found in.
    public var defects: [(path: String, defect: MIMEDefect)] {
        parts.flatMap { part in part.defects.map { (part.path, $0) } }
    }

    /// Leaf parts: neither multipart containers nor message/rfc822 wrappers.
    public var leaves: [MIMEPart] { parts.filter { $0.children.isEmpty } }

    /// A part's body with its transfer encoding undone. `clean` is false when the encoding had
    /// to be repaired (the part also carries the defect once this was called by the parser).
    /// A base64 body stops at its first line that is not base64 (the rest is the part's
    /// `textAfterBase64` segment), as common decoders read it.
    public func decodedBody(of part: MIMEPart) -> (bytes: [UInt8], clean: Bool) {
        bytes.withUnsafeBytes { raw in
            let body = UnsafeRawBufferPointer(rebasing: raw[part.bodyRange])
            switch part.transferEncoding {
            case "base64":
                let end = part.segments.first { $0.kind == .textAfterBase64 }?.range.lowerBound ?? part.bodyRange.upperBound
                let decoded = Base64.decodeTolerant(UnsafeRawBufferPointer(rebasing: raw[part.bodyRange.lowerBound..<end]))
                return (decoded.bytes, decoded.clean && end == part.bodyRange.upperBound)
            case "quoted-printable": return QuotedPrintable.decode(body)
            case "x-uuencode", "uuencode", "x-uue", "uue":
                // Not in RFC 2045, but Python's email and Outlook Express decode it.
                if let file = UUDecoder.files(in: body).first { return (file.content, file.clean) }
                return (Array(body), false)
            default: return (Array(body), true)
            }
        }
    }

    /// The other reading of a base64 body with junk inside: every character outside the
    /// alphabet skipped, to the end of the body, as lenient decoders read it. Nil when the body
    /// decodes one way only.
    public func lenientBase64Body(of part: MIMEPart) -> [UInt8]? {
        guard part.transferEncoding == "base64", part.segments.contains(where: { $0.kind == .textAfterBase64 }) else { return nil }
        return bytes.withUnsafeBytes { Base64.decodeTolerant(UnsafeRawBufferPointer(rebasing: $0[part.bodyRange])).bytes }
    }

    /// The part read by a reader that takes the last of duplicated Content-Type,
    /// Content-Transfer-Encoding and Content-Disposition fields (ThuGate takes the first, as
    /// Python's `email` does): the entity's bytes with the earlier duplicates left out. Nil when
    /// no such field is duplicated with another value.
    public func lastFieldReading(of part: MIMEPart) -> [UInt8]? {
        guard part.defects.contains(where: { $0.kind == .conflictingFields }) else { return nil }
        var dropped: [Range<Int>] = []
        for name in MIMEParser.conflictable {
            dropped += part.header.fields(named: name).dropLast().map(\.range)
        }
        dropped.sort { $0.lowerBound < $1.lowerBound }
        return bytes.withUnsafeBytes { raw in
            var out: [UInt8] = []
            out.reserveCapacity(part.range.count)
            var at = part.range.lowerBound
            for range in dropped {
                out += raw[at..<range.lowerBound]
                at = range.upperBound
            }
            out += raw[at..<part.range.upperBound]
            return out
        }
    }

    /// The part read by a reader that skips a line without colon in the header section and
    /// takes the fields after it (ThuGate, as Python's `email`, starts the body there). Nil when
    /// no field follows such a line.
    public func readingPastLineWithoutColon(of part: MIMEPart) -> [UInt8]? {
        guard let line = part.lineWithoutColon else { return nil }
        return Array(bytes[part.range.lowerBound..<line.lowerBound]) + Array(bytes[line.upperBound..<part.range.upperBound])
    }

    /// Every other reading of a part that some reader takes, as entity bytes to parse and scan.
    public func otherReadings(of part: MIMEPart) -> [[UInt8]] {
        [lastFieldReading(of: part), readingPastLineWithoutColon(of: part)].compactMap { $0 }
    }

    /// The segments of a part that must be read as text of their own by the scanner and by text
    /// rules: all but delimiter lines, and none that is only whitespace.
    public func scannedSegments(of part: MIMEPart) -> [MIMESegment] {
        part.segments.filter { $0.isScanned && !isBlank($0.range) }
    }

    /// Whether `range` holds only spaces, tabs and line breaks (nothing to scan).
    public func isBlank(_ range: Range<Int>) -> Bool {
        bytes.withUnsafeBytes { raw in !raw[range].contains { $0 != 0x20 && $0 != 0x09 && $0 != 13 && $0 != 10 } }
    }

    /// Ranges of the message that are in no header section, no leaf body and no segment: always
    /// empty. The scanner reads every leaf body and every scanned segment, so this is the check
    /// that nothing is hidden from it (tests and the fuzzer call it).
    public func uncoveredRanges() -> [Range<Int>] {
        var covered: [Range<Int>] = []
        for part in parts {
            covered.append(part.header.range)
            if part.children.isEmpty { covered.append(part.bodyRange) }
            covered += part.segments.map(\.range)
            // A header section that ends at a line without a colon: the body starts there.
            if part.header.range.upperBound < part.bodyRange.lowerBound {
                covered.append(part.header.range.upperBound..<part.bodyRange.lowerBound)
            }
        }
        covered.sort { $0.lowerBound < $1.lowerBound }
        var gaps: [Range<Int>] = []
        var at = 0
        for range in covered where !range.isEmpty {
            if range.lowerBound > at { gaps.append(at..<range.lowerBound) }
            at = max(at, range.upperBound)
        }
        if at < bytes.count { gaps.append(at..<bytes.count) }
        return gaps
    }

    /// A header's unfolded value with RFC 2047 words decoded.
    public func headerValue(_ name: String, of part: MIMEPart) -> String? {
        guard let field = part.header.fields(named: name).first else { return nil }
        return bytes.withUnsafeBytes { EncodedWords.decode(lenientText(field.unfoldedValue(in: $0))) }
    }
}

public enum MIMEParser {
    /// Fields that decide how a part is read: readers that take the first or the last of
    /// duplicates read it differently.
    static let conflictable = ["Content-Type", "Content-Transfer-Encoding", "Content-Disposition"]

    /// Takes a message apart. Never fails: whatever is wrong becomes a defect on the part where
    /// it was found, and limits stop descent instead of exhausting memory or the stack.
    public static func parse(_ bytes: [UInt8], limits: MIMELimits = MIMELimits()) -> ParsedMessage {
        parse(MessageBytes(bytes), limits: limits)
    }

    public static func parse(_ bytes: MessageBytes, limits: MIMELimits = MIMELimits()) -> ParsedMessage {
        var parts: [MIMEPart] = []
        bytes.withUnsafeBytes { raw in
            // Pending entities; children are pushed in reverse so parts come out in document order.
            var stack: [(range: Range<Int>, depth: Int, parent: Int?, path: String, digest: Bool)] =
                [(0..<raw.count, 0, nil, "", false)]
            var limitReported = false
            var decodedTotal = 0
            var decodedLimitReported = false
            // The line ending the message uses (its first line's): bare LF or CR inside a CRLF
            // message is a defect, an all-LF message (a file from disk) is not.
            let firstLF = MIMEBytes.firstIndex(of: 10, in: raw, from: 0, to: raw.count)
            let crlf = firstLF.map { $0 > 0 && raw[$0 - 1] == 13 } ?? true
            while let item = stack.popLast() {
                if parts.count >= limits.maxParts {
                    if let parent = item.parent {
                        if !limitReported {
                            parts[parent].defects.append(MIMEDefect(.limitExceeded, "more than \(limits.maxParts) parts"))
                            limitReported = true
                        }
                        // Not parsed, but still scanned as text: one segment per container.
                        if let last = parts[parent].segments.indices.last, parts[parent].segments[last].kind == .notParsed {
                            let merged = parts[parent].segments[last].range
                            parts[parent].segments[last].range = merged.lowerBound..<max(merged.upperBound, item.range.upperBound)
                        } else {
                            parts[parent].segments.append(MIMESegment(.notParsed, item.range))
                        }
                    }
                    continue
                }
                let index = parts.count
                var part = entity(raw, item.range, depth: item.depth, path: item.path, digest: item.digest, limits: limits)
                part.parent = item.parent
                if let parent = item.parent { parts[parent].children.append(index) }

                var childRanges: [Range<Int>] = []
                var childDigest = false
                if part.mediaType.hasPrefix("multipart/") {
                    if let found = splitMultipart(raw, &part) {
                        childRanges = found.children
                        part.segments = found.segments
                        childDigest = part.mediaType == "multipart/digest"
                    }
                } else if part.isMessage && ["7bit", "8bit", "binary"].contains(part.transferEncoding) {
                    childRanges = [part.bodyRange]
                }
                // A message/rfc822 body in base64 or quoted-printable (RFC 2046 5.2.1 forbids it,
                // readers decode it): a leaf, decoded, that the scanner opens.
                if !childRanges.isEmpty && item.depth + 1 > limits.maxDepth {
                    part.defects.append(MIMEDefect(.limitExceeded, "nesting deeper than \(limits.maxDepth)"))
                    childRanges = []
                    part.segments = []
                }
                if childRanges.isEmpty {
                    checkLeaf(raw, &part, crlf: crlf)
                    decodedTotal += part.decodedSize
                    if decodedTotal > limits.maxDecodedBytes && !decodedLimitReported {
                        part.defects.append(MIMEDefect(.limitExceeded, "decoded parts over \(limits.maxDecodedBytes) bytes"))
                        decodedLimitReported = true
                    }
                }
                parts.append(part)
                for (n, range) in childRanges.enumerated().reversed() {
                    // IMAP numbering: a message inside a message/rfc822 part keeps the part's
                    // number, and its own parts continue from it (2 → 2.1, 2.2).
                    let childPath =
                        part.isMessage
                        ? (item.path.isEmpty ? "1" : item.path)
                        : (item.path.isEmpty ? "\(n + 1)" : "\(item.path).\(n + 1)")
                    stack.append((range, item.depth + 1, index, childPath, childDigest))
                }
            }
        }
        return ParsedMessage(bytes: bytes, parts: parts, limits: limits)
    }

    private static func entity(
        _ raw: UnsafeRawBufferPointer,
        _ range: Range<Int>,
        depth: Int,
        path: String,
        digest: Bool,
        limits: MIMELimits
    ) -> MIMEPart {
        var defects: [MIMEDefect] = []
        let header = HeaderSection.parse(raw, from: range.lowerBound, to: range.upperBound, limits: limits, defects: &defects)
        func value(_ name: String) -> String? {
            header.fields(named: name).first.map { lenientText($0.unfoldedValue(in: raw)) }
        }
        var contentType = HeaderParameters(value: digest ? "message/rfc822" : "text/plain", parameters: [:])
        if let text = value("Content-Type") {
            let parsed = HeaderParameters.parse(text)
            // A value without a slash is invalid: RFC 2045 5.2 says to treat it as text/plain.
            if parsed.value.contains("/") { contentType = parsed }
        }
        for name in conflictable {
            let values = Set(header.fields(named: name).map { lenientText($0.unfoldedValue(in: raw)).lowercased() })
            if values.count > 1 { defects.append(MIMEDefect(.conflictingFields, "\(name) given \(values.count) ways")) }
        }
        // RFC 2046 5.2.2: a fragment of a message split over several; readers that join the
        // fragments see what no one of them shows, so the whole cannot be checked.
        if contentType.value == "message/partial" {
            let number = contentType["number"] ?? "?"
            let total = contentType["total"] ?? "?"
            defects.append(MIMEDefect(.messagePartial, "fragment \(number) of \(total): the whole cannot be checked"))
        }
        var lineWithoutColon: Range<Int>? = nil
        if defects.contains(where: { $0.kind == .headerLineWithoutColon }) {
            let start = header.bodyStart
            let end = MIMEBytes.lineEnd(raw, from: start, to: range.upperBound)
            if end < range.upperBound, startsWithField(raw, end..<range.upperBound) {
                lineWithoutColon = start..<end
                defects.append(MIMEDefect(.fieldsAfterLineWithoutColon, "at byte \(start)"))
            }
        }
        let disposition = value("Content-Disposition").map(HeaderParameters.parse)
        let encoding = value("Content-Transfer-Encoding")?.lowercased().trimmingWhitespace ?? "7bit"
        let filename = disposition?["filename"] ?? contentType["name"]
        var part = MIMEPart(
            path: path,
            depth: depth,
            range: range,
            header: header,
            bodyRange: header.bodyStart..<range.upperBound,
            contentType: contentType,
            disposition: disposition,
            transferEncoding: encoding,
            filename: filename,
            defects: defects
        )
        part.lineWithoutColon = lineWithoutColon
        return part
    }

    /// Checks a leaf body: its transfer encoding decodes cleanly, its decoded size, no NUL bytes,
    /// and no bare CR or LF in a message whose lines end in CRLF.
    private static func checkLeaf(_ raw: UnsafeRawBufferPointer, _ part: inout MIMEPart, crlf: Bool) {
        let body = UnsafeRawBufferPointer(rebasing: raw[part.bodyRange])
        switch part.transferEncoding {
        case "base64":
            // Line breaks of any kind are whitespace to base64: only the alphabet matters. The
            // data ends at the first line with another character; the rest is text.
            var check = Base64.check(body)
            if let junk = check.firstInvalid {
                var lineStart = junk
                while lineStart > 0 && body[lineStart - 1] != 10 { lineStart -= 1 }
                let textStart = part.bodyRange.lowerBound + lineStart
                part.segments.append(MIMESegment(.textAfterBase64, textStart..<part.bodyRange.upperBound))
                if Base64.hasDataLine(UnsafeRawBufferPointer(rebasing: body[junk...])) {
                    part.defects.append(MIMEDefect(.invalidBase64, "a line that is not base64 at byte \(textStart), base64 after it"))
                } else {
                    part.defects.append(MIMEDefect(.textAfterBase64, "from byte \(textStart)"))
                }
                check = Base64.check(UnsafeRawBufferPointer(rebasing: body[..<lineStart]))
            }
            if !check.clean { part.defects.append(MIMEDefect(.base64Padding)) }
            part.decodedSize = check.decodedSize
            return
        case "quoted-printable":
            // Lenient, as every decoder: an `=` without two hex digits is kept as written.
            if !QuotedPrintable.isClean(body) { part.defects.append(MIMEDefect(.invalidQuotedPrintable)) }
            part.decodedSize = QuotedPrintable.decodedSize(body)
        default:
            if let base = body.baseAddress, memchr(base, 0, body.count) != nil { part.defects.append(MIMEDefect(.nulByte)) }
            part.decodedSize = body.count
        }
        // `begin` lines are ASCII, so they can be found in the raw 7bit, 8bit or QP text.
        if part.mediaType == "text/plain" || part.isUnsplitMultipart {
            part.uuencodedNames = UUDecoder.names(in: body)
        }
        if crlf, let bare = firstBareLineEnding(raw, part.bodyRange) {
            part.defects.append(MIMEDefect(.bareLineEnding, "at byte \(bare)"))
        }
    }

    /// The offset of the first LF not preceded by CR, or CR not followed by LF, in `range`.
    static func firstBareLineEnding(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while let lf = MIMEBytes.firstIndex(of: 10, in: raw, from: i, to: range.upperBound) {
            if lf == 0 || raw[lf - 1] != 13 { return lf }
            if let cr = MIMEBytes.firstIndex(of: 13, in: raw, from: i, to: lf - 1) { return cr }
            i = lf + 1
        }
        if let cr = MIMEBytes.firstIndex(of: 13, in: raw, from: i, to: range.upperBound), cr + 1 < range.upperBound || cr + 1 == raw.count {
            return cr
        }
        return nil
    }

    /// A multipart body split at its boundary: the children, and the preamble, delimiter and
    /// epilogue segments around them.
    struct Split {
        var children: [Range<Int>] = []
        var segments: [MIMESegment] = []
        var closed = false
    }

    /// Splits a multipart part's body. With no usable boundary parameter, or one that never
    /// occurs, the boundary is inferred from the body (``inferBoundary(_:_:)``); when none can be
    /// found the part stays one opaque leaf that is scanned as text. Nil then.
    static func splitMultipart(_ raw: UnsafeRawBufferPointer, _ part: inout MIMEPart) -> Split? {
        let body = part.bodyRange
        var defect: MIMEDefect
        if let declared = part.contentType["boundary"].map({ Array($0.utf8) }), !declared.isEmpty, declared.count <= 200 {
            let found = split(raw, body, boundary: declared)
            if !found.children.isEmpty {
                if !found.closed { part.defects.append(MIMEDefect(.missingFinalBoundary)) }
                return found
            }
            defect = MIMEDefect(.boundaryNotFound)
        } else {
            defect = MIMEDefect(.multipartWithoutBoundary, part.contentType["boundary"] == nil ? "" : "boundary empty or over 200 bytes")
        }
        guard let inferred = inferBoundary(raw, body) else {
            defect.detail = defect.detail.isEmpty ? "scanned as one part" : defect.detail + "; scanned as one part"
            part.defects.append(defect)
            return nil
        }
        let found = split(raw, body, boundary: inferred)
        let split = "split at --\(String(decoding: inferred, as: UTF8.self))"
        defect.detail = defect.detail.isEmpty ? split : defect.detail + "; " + split
        part.defects.append(defect)
        if !found.closed { part.defects.append(MIMEDefect(.missingFinalBoundary)) }
        return found
    }

    /// MIME parts inside text that is no part (a preamble or epilogue, an unsplit multipart): the
    /// text as the body of a multipart with the boundary it uses, ready to parse; nil when the
    /// text holds no delimiter line followed by a part.
    public static func embeddedMultipart(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let boundary: [UInt8]? = text.withUnsafeBytes { inferBoundary($0, 0..<$0.count) }
        guard let boundary else { return nil }
        return Array("Content-Type: multipart/mixed; boundary=\"".utf8) + boundary + Array("\"\r\n\r\n".utf8) + text
    }

    /// The boundary a multipart body uses when its header names none or a wrong one: the first
    /// line `--token` (1–70 boundary characters, RFC 2046 5.1.1, without spaces) that opens a
    /// part followed by a header field or a blank line, or that occurs again. At most 16
    /// candidates are tried, so the cost stays a few passes over the body.
    static func inferBoundary(_ raw: UnsafeRawBufferPointer, _ body: Range<Int>) -> [UInt8]? {
        var i = body.lowerBound
        var tried: Set<[UInt8]> = []
        while i < body.upperBound && tried.count < 16 {
            let lineEnd = MIMEBytes.lineEnd(raw, from: i, to: body.upperBound)
            var end = MIMEBytes.contentEnd(raw, lineStart: i, lineEnd: lineEnd)
            defer { i = lineEnd }
            guard end - i >= 3, raw[i] == UInt8(ascii: "-"), raw[i + 1] == UInt8(ascii: "-") else { continue }
            while end > i + 2 && (raw[end - 1] == 0x20 || raw[end - 1] == 0x09) { end -= 1 }
            // The close form `--token--`.
            if end - (i + 2) > 2 && raw[end - 1] == UInt8(ascii: "-") && raw[end - 2] == UInt8(ascii: "-") { end -= 2 }
            let token = Array(raw[(i + 2)..<end])
            guard (1...70).contains(token.count), token.allSatisfy(isBoundaryCharacter), !tried.contains(token) else { continue }
            tried.insert(token)
            let found = split(raw, body, boundary: token)
            guard let first = found.children.first else { continue }
            if found.children.count >= 2 || found.closed || startsWithHeader(raw, first) { return token }
        }
        return nil
    }

    /// RFC 2046 5.1.1 `bchars` without the space.
    private static func isBoundaryCharacter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default: return "'()+_,-./:=?".utf8.contains(b)
        }
    }

    /// Whether `range` starts with a header field line or a blank line.
    private static func startsWithHeader(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let lineEnd = MIMEBytes.lineEnd(raw, from: range.lowerBound, to: range.upperBound)
        let end = MIMEBytes.contentEnd(raw, lineStart: range.lowerBound, lineEnd: lineEnd)
        return end == range.lowerBound || startsWithField(raw, range)
    }

    /// Whether `range` starts with a `Name:` header field line.
    private static func startsWithField(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let lineEnd = MIMEBytes.lineEnd(raw, from: range.lowerBound, to: range.upperBound)
        let end = MIMEBytes.contentEnd(raw, lineStart: range.lowerBound, lineEnd: lineEnd)
        guard let colon = MIMEBytes.firstIndex(of: UInt8(ascii: ":"), in: raw, from: range.lowerBound, to: end),
            colon > range.lowerBound
        else { return false }
        return raw[range.lowerBound..<colon].allSatisfy { $0 > 32 && $0 < 127 }
    }

    /// The body parts of a multipart body (RFC 2046 5.1.1). A delimiter is `--boundary` at the
    /// start of a line, followed by `--` (the close delimiter) or by optional whitespace and the
    /// line end; the line break before a delimiter belongs to it. A boundary that only starts
    /// like ours (`--abcdef` for `abc`) is content. Every byte of the body ends up in a child,
    /// a delimiter, the preamble or the epilogue; a body without a close delimiter ends in its
    /// last part.
    static func split(_ raw: UnsafeRawBufferPointer, _ body: Range<Int>, boundary: [UInt8]) -> Split {
        let delimiter: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var result = Split()
        var partStart: Int? = nil
        var search = body.lowerBound
        while search < body.upperBound, let at = find(delimiter, in: raw, from: search, to: body.upperBound) {
            search = at + delimiter.count
            guard at == body.lowerBound || raw[at - 1] == 10 else { continue }
            var after = at + delimiter.count
            let isClose = after + 1 < body.upperBound && raw[after] == UInt8(ascii: "-") && raw[after + 1] == UInt8(ascii: "-")
            if isClose { after += 2 }
            while after < body.upperBound && (raw[after] == 0x20 || raw[after] == 0x09) { after += 1 }
            let lineEnd: Int
            if after == body.upperBound {
                lineEnd = after
            } else if raw[after] == 10 {
                lineEnd = after + 1
            } else if raw[after] == 13 && after + 1 < body.upperBound && raw[after + 1] == 10 {
                lineEnd = after + 2
            } else if isClose {
                // Text after the close delimiter on its line (transport padding): epilogue.
                lineEnd = after
            } else {
                continue
            }
            // The CRLF (or LF) before the delimiter is part of the delimiter.
            let floor = partStart ?? body.lowerBound
            var start = at
            if start > floor && raw[start - 1] == 10 { start -= 1 }
            if start > floor && raw[start - 1] == 13 { start -= 1 }
            if let partStart {
                result.children.append(partStart..<start)
            } else if isClose {
                // A close delimiter before any part opened: not this body's boundary.
                continue
            } else if start > body.lowerBound {
                result.segments.append(MIMESegment(.preamble, body.lowerBound..<start))
            }
            result.segments.append(MIMESegment(.delimiter, start..<lineEnd))
            if isClose {
                result.closed = true
                if lineEnd < body.upperBound { result.segments.append(MIMESegment(.epilogue, lineEnd..<body.upperBound)) }
                break
            }
            partStart = lineEnd
            search = lineEnd
        }
        if !result.closed, let start = partStart {
            result.children.append(start..<body.upperBound)
        }
        return result
    }

    /// The first occurrence of `needle` (which starts with `-`) in `from..<end`: memchr for the
    /// first byte, then a compare.
    private static func find(_ needle: [UInt8], in raw: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int? {
        var at = from
        while end - at >= needle.count {
            guard let candidate = MIMEBytes.firstIndex(of: needle[0], in: raw, from: at, to: end - needle.count + 1) else { return nil }
            var matches = true
            for k in 1..<needle.count where raw[candidate + k] != needle[k] {
                matches = false
                break
            }
            if matches { return candidate }
            at = candidate + 1
        }
        return nil
    }
}
