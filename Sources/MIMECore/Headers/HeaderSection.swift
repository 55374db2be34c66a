#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One header field as it stands in the message.
public struct HeaderField: Sendable, Equatable {
    /// The name as written (trailing whitespace of obsolete syntax removed).
    public var name: String
    /// The whole field, folded lines and final line ending included: byte offsets in the message.
    public var range: Range<Int>
    /// The raw (folded) value after the colon, without the final line ending.
    public var valueRange: Range<Int>

    public init(name: String, range: Range<Int>, valueRange: Range<Int>) {
        self.name = name
        self.range = range
        self.valueRange = valueRange
    }
}

/// A header section (RFC 5322 2.2, 3.6; RFC 2045 for MIME part headers).
public struct HeaderSection: Sendable, Equatable {
    public var fields: [HeaderField]
    /// From the first field to the end of the blank line that ends the section.
    public var range: Range<Int>
    /// Where the body starts (the end of `range`).
    public var bodyStart: Int { range.upperBound }

    /// Fields whose name matches, case-insensitively, in order.
    public func fields(named name: String) -> [HeaderField] {
        // ASCII case-insensitive on the bytes: called for several headers of every part.
        let wanted = name.utf8
        return fields.filter { field in
            field.name.utf8.count == wanted.count
                && zip(field.name.utf8, wanted).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
        }
    }

    /// Parses the header section that starts at `start`. It ends at the first empty line; a line
    /// that is neither a field nor a continuation also ends it (the body then starts there,
    /// with a defect), as does the size limit.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        limits: MIMELimits,
        defects: inout [MIMEDefect]
    ) -> HeaderSection {
        var fields: [HeaderField] = []
        var index = start
        var sawEightBit = false
        let limit = min(end, start + limits.maxHeaderSectionBytes)
        while index < end {
            let lineEnd = MIMEBytes.lineEnd(bytes, from: index, to: end)
            if lineEnd > limit && limit < end {
                defects.append(MIMEDefect(.limitExceeded, "header section over \(limits.maxHeaderSectionBytes) bytes"))
                return HeaderSection(fields: fields, range: start..<index)
            }
            let contentEnd = MIMEBytes.contentEnd(bytes, lineStart: index, lineEnd: lineEnd)
            if contentEnd == index {
                // The blank line: the body starts after it.
                return HeaderSection(fields: fields, range: start..<lineEnd)
            }
            let first = bytes[index]
            if first == 0x20 || first == 0x09 {
                if fields.isEmpty {
                    defects.append(MIMEDefect(.obsoleteHeaderSyntax, "continuation line before any field"))
                } else {
                    if lineEnd - fields[fields.count - 1].range.lowerBound > limits.maxHeaderFieldBytes {
                        // The field is cut here; the rest is body, scanned as such.
                        defects.append(MIMEDefect(.limitExceeded, "header field over \(limits.maxHeaderFieldBytes) bytes"))
                        return HeaderSection(fields: fields, range: start..<index)
                    }
                    fields[fields.count - 1].range = fields[fields.count - 1].range.lowerBound..<lineEnd
                    fields[fields.count - 1].valueRange = fields[fields.count - 1].valueRange.lowerBound..<contentEnd
                }
            } else if let colon = MIMEBytes.firstIndex(of: UInt8(ascii: ":"), in: bytes, from: index, to: contentEnd),
                colon > index, let name = fieldName(bytes, index..<colon, defects: &defects)
            {
                if lineEnd - index > limits.maxHeaderFieldBytes {
                    defects.append(MIMEDefect(.limitExceeded, "header field over \(limits.maxHeaderFieldBytes) bytes"))
                    return HeaderSection(fields: fields, range: start..<index)
                }
                fields.append(HeaderField(name: name, range: index..<lineEnd, valueRange: (colon + 1)..<contentEnd))
            } else {
                defects.append(MIMEDefect(.headerLineWithoutColon, "body assumed to start at byte \(index)"))
                return HeaderSection(fields: fields, range: start..<index)
            }
            if !sawEightBit, MIMEBytes.containsEightBit(bytes, index..<contentEnd) {
                sawEightBit = true
                defects.append(MIMEDefect(.eightBitHeader))
            }
            index = lineEnd
        }
        return HeaderSection(fields: fields, range: start..<end)
    }

    /// A field name is printable ASCII without colon (RFC 5322 3.6.8); whitespace before the
    /// colon is obsolete syntax (4.5.8), accepted and recorded.
    private static func fieldName(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, defects: inout [MIMEDefect]) -> String? {
        var end = range.upperBound
        while end > range.lowerBound && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        guard end > range.lowerBound else { return nil }
        for i in range.lowerBound..<end where bytes[i] < 33 || bytes[i] > 126 { return nil }
        if end != range.upperBound { defects.append(MIMEDefect(.obsoleteHeaderSyntax, "space before colon")) }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<end]), as: UTF8.self)
    }
}

extension HeaderField {
    /// The value unfolded (RFC 5322 2.2.3: a line break followed by whitespace is removed) and
    /// trimmed, as bytes.
    public func unfoldedValue(in bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(valueRange.count)
        for i in valueRange {
            let b = bytes[i]
            if b == 13 || b == 10 { continue }
            out.append(b)
        }
        var lower = 0
        var upper = out.count
        while lower < upper && (out[lower] == 0x20 || out[lower] == 0x09) { lower += 1 }
        while upper > lower && (out[upper - 1] == 0x20 || out[upper - 1] == 0x09) { upper -= 1 }
        return Array(out[lower..<upper])
    }
}

@inline(__always)
private func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
}

/// Byte scanning shared by the parsers.
enum MIMEBytes {
    /// The index after the next LF at or after `from`, or `end`.
    static func lineEnd(_ bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int {
        guard let lf = firstIndex(of: 10, in: bytes, from: from, to: end) else { return end }
        return lf + 1
    }

    /// The end of a line's content: before its CRLF or LF.
    static func contentEnd(_ bytes: UnsafeRawBufferPointer, lineStart: Int, lineEnd: Int) -> Int {
        var end = lineEnd
        if end > lineStart && bytes[end - 1] == 10 { end -= 1 }
        if end > lineStart && bytes[end - 1] == 13 { end -= 1 }
        return end
    }

    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int? {
        guard from < end, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + from, Int32(byte), end - from) else { return nil }
        return UnsafeRawPointer(found) - base
    }

    static func containsEightBit(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for i in range where bytes[i] >= 0x80 { return true }
        return false
    }
}
