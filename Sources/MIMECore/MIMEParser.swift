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

    public var mediaType: String { contentType.value }
    public var isMultipart: Bool { mediaType.hasPrefix("multipart/") && !children.isEmpty }
    public var isMessage: Bool { mediaType == "message/rfc822" || mediaType == "message/global" }
    public var charset: String? { contentType["charset"] }
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
    public func decodedBody(of part: MIMEPart) -> (bytes: [UInt8], clean: Bool) {
        bytes.withUnsafeBytes { raw in
            let body = UnsafeRawBufferPointer(rebasing: raw[part.bodyRange])
            switch part.transferEncoding {
            case "base64": return Base64.decodeTolerant(body)
            case "quoted-printable": return QuotedPrintable.decode(body)
            default: return (Array(body), true)
            }
        }
    }

    /// A header's unfolded value with RFC 2047 words decoded.
    public func headerValue(_ name: String, of part: MIMEPart) -> String? {
        guard let field = part.header.fields(named: name).first else { return nil }
        return bytes.withUnsafeBytes { EncodedWords.decode(lenientText(field.unfoldedValue(in: $0))) }
    }
}

public enum MIMEParser {
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
                    if !limitReported, let parent = item.parent {
                        parts[parent].defects.append(MIMEDefect(.limitExceeded, "more than \(limits.maxParts) parts"))
                        limitReported = true
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
                    if let boundary = part.contentType["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 {
                        childRanges = split(raw, part.bodyRange, boundary: Array(boundary.utf8), defects: &part.defects)
                        childDigest = part.mediaType == "multipart/digest"
                    } else {
                        part.defects.append(MIMEDefect(.multipartWithoutBoundary))
                    }
                } else if part.isMessage {
                    childRanges = [part.bodyRange]
                }
                if !childRanges.isEmpty && item.depth + 1 > limits.maxDepth {
                    part.defects.append(MIMEDefect(.limitExceeded, "nesting deeper than \(limits.maxDepth)"))
                    childRanges = []
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
                    let childPath = part.isMessage ? (item.path.isEmpty ? "1" : item.path)
                                                   : (item.path.isEmpty ? "\(n + 1)" : "\(item.path).\(n + 1)")
                    stack.append((range, item.depth + 1, index, childPath, childDigest))
                }
            }
        }
        return ParsedMessage(bytes: bytes, parts: parts, limits: limits)
    }

    private static func entity(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, depth: Int, path: String, digest: Bool,
                               limits: MIMELimits) -> MIMEPart {
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
        let disposition = value("Content-Disposition").map(HeaderParameters.parse)
        let encoding = value("Content-Transfer-Encoding")?.lowercased().trimmingWhitespace ?? "7bit"
        let filename = disposition?["filename"] ?? contentType["name"]
        return MIMEPart(path: path, depth: depth, range: range, header: header,
                        bodyRange: header.bodyStart..<range.upperBound, contentType: contentType, disposition: disposition,
                        transferEncoding: encoding, filename: filename, defects: defects)
    }

    /// Checks a leaf body: its transfer encoding decodes cleanly, and no NUL bytes.
    /// Checks a leaf body: its transfer encoding decodes cleanly, its decoded size, no NUL bytes,
    /// and no bare CR or LF in a message whose lines end in CRLF.
    private static func checkLeaf(_ raw: UnsafeRawBufferPointer, _ part: inout MIMEPart, crlf: Bool) {
        let body = UnsafeRawBufferPointer(rebasing: raw[part.bodyRange])
        switch part.transferEncoding {
        case "base64":
            // Line breaks of any kind are whitespace to base64: only the alphabet matters.
            let (clean, size) = Base64.check(body)
            if !clean { part.defects.append(MIMEDefect(.invalidBase64)) }
            part.decodedSize = size
            return
        case "quoted-printable":
            if !QuotedPrintable.isClean(body) { part.defects.append(MIMEDefect(.invalidQuotedPrintable)) }
            part.decodedSize = QuotedPrintable.decodedSize(body)
        default:
            if let base = body.baseAddress, memchr(base, 0, body.count) != nil { part.defects.append(MIMEDefect(.nulByte)) }
            part.decodedSize = body.count
        }
        // `begin` lines are ASCII, so they can be found in the raw 7bit, 8bit or QP text.
        if part.mediaType == "text/plain" {
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

    /// The body parts of a multipart body (RFC 2046 5.1.1). A delimiter is `--boundary` at the
    /// start of a line, followed by `--` (the close delimiter) or by optional whitespace and the
    /// line end; the line break before a delimiter belongs to it. A boundary that only starts
    /// like ours (`--abcdef` for `abc`) is content.
    static func split(_ raw: UnsafeRawBufferPointer, _ body: Range<Int>, boundary: [UInt8], defects: inout [MIMEDefect]) -> [Range<Int>] {
        let delimiter: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [Range<Int>] = []
        var partStart: Int? = nil
        var search = body.lowerBound
        var closed = false
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
                // Text after the close delimiter on its line: tolerated (transport padding).
                lineEnd = MIMEBytes.lineEnd(raw, from: after, to: body.upperBound)
            } else {
                continue
            }
            if let start = partStart {
                // The CRLF (or LF) before the delimiter is part of the delimiter.
                var end = at
                if end > start && raw[end - 1] == 10 { end -= 1 }
                if end > start && raw[end - 1] == 13 { end -= 1 }
                parts.append(start..<max(start, end))
            }
            if isClose {
                closed = true
                break
            }
            partStart = lineEnd
            search = lineEnd
        }
        if partStart == nil {
            defects.append(MIMEDefect(.boundaryNotFound))
            return []
        }
        if !closed, let start = partStart {
            defects.append(MIMEDefect(.missingFinalBoundary))
            parts.append(start..<body.upperBound)
        }
        return parts
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
