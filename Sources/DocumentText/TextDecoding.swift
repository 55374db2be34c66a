import VietText

/// Text from the bytes of an attachment or a body part whose charset is declared (maybe wrongly)
/// or not at all. Pure, no I/O.
///
/// In order: a byte-order mark decides (UTF-8, UTF-16 LE / BE); a declared UTF-16 without one is
/// read in the order its zero bytes show; otherwise VietText's detector decides among UTF-8 and
/// the legacy Vietnamese encodings (TCVN3, VNI, VISCII, VPS, Windows-1258, TCVN 5712 VN1; a
/// declared legacy charset counts in its favour) and converts to NFC, and text that is not
/// Vietnamese is read in the declared Western charset or Windows-1252. Other declared charsets
/// (ISO-8859-2, KOI8-R, Shift_JIS…) are read as Windows-1252 too: a secrecy stamp is Vietnamese,
/// so only the encodings Vietnamese is written in need to be exact.
///
/// - SeeAlso: RFC 2781 §3.3 (UTF-16 byte order), RFC 3629 §6 (the UTF-8 BOM),
///   TCVN 6909:2001 (the Unicode form text is converted to).
public enum TextDecoding {
    public static func string(from bytes: some Collection<UInt8>, charset: String?) -> String {
        let input = Array(bytes)
        let label = charset?.trimmingASCIISpaces().lowercased()
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { return VietConverter.nfc(String(decoding: input.dropFirst(3), as: UTF8.self)) }
        if input.starts(with: [0xFF, 0xFE]) { return utf16(input.dropFirst(2), bigEndian: false) }
        if input.starts(with: [0xFE, 0xFF]) { return utf16(input.dropFirst(2), bigEndian: true) }
        switch label {
        case "utf-16le", "ucs-2le": return utf16(input[...], bigEndian: false)
        case "utf-16be", "ucs-2be": return utf16(input[...], bigEndian: true)
        case "utf-16", "ucs-2", "unicode":
            // No BOM: the high bytes of Latin and Vietnamese text are mostly zero, and they come first in big-endian.
            var evenZeros = 0
            var oddZeros = 0
            for (offset, byte) in input.prefix(4_096).enumerated() where byte == 0 {
                if offset % 2 == 0 { evenZeros += 1 } else { oddZeros += 1 }
            }
            return utf16(input[...], bigEndian: evenZeros > oddZeros)
        default:
            return VietDetector.detect(input, declaredCharset: label).text
        }
    }

    static func utf16(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var position = bytes.startIndex
        while position + 1 < bytes.endIndex {
            let first = UInt16(bytes[position])
            let second = UInt16(bytes[position + 1])
            units.append(bigEndian ? first << 8 | second : second << 8 | first)
            position += 2
        }
        // An odd last byte is a truncated unit: U+FFFD, as a decoder shows it.
        var text = String(decoding: units, as: UTF16.self)
        if position < bytes.endIndex { text.append("\u{FFFD}") }
        return VietConverter.nfc(text)
    }

    /// The charset an HTML file declares in its first 1,024 bytes (`<meta charset="…">` or
    /// `<meta http-equiv="Content-Type" content="text/html; charset=…">`), lowercased; nil when
    /// none does. For an .html attachment whose MIME part names no charset.
    ///
    /// - SeeAlso: WHATWG HTML, 13.2.3.2 "Determining the character encoding" (the prescan, simplified:
    ///   the first `charset=` inside a `<meta` tag).
    public static func htmlCharset(_ bytes: some Collection<UInt8>) -> String? {
        let head = Array(bytes.prefix(1_024)).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        var position = 0
        while let meta = firstIndex(of: Array("<meta".utf8), in: head, from: position) {
            let tagEnd = head[meta...].firstIndex(of: 0x3E) ?? head.endIndex
            position = meta + 5
            guard let found = firstIndex(of: Array("charset".utf8), in: Array(head[meta..<tagEnd]), from: 0) else { continue }
            var cursor = meta + found + 7
            while cursor < tagEnd, head[cursor] == 0x20 { cursor += 1 }
            guard cursor < tagEnd, head[cursor] == 0x3D else { continue }
            cursor += 1
            while cursor < tagEnd, head[cursor] == 0x20 || head[cursor] == 0x22 || head[cursor] == 0x27 { cursor += 1 }
            let start = cursor
            while cursor < tagEnd, ![0x20, 0x22, 0x27, 0x3B, 0x2F, 0x3E].contains(head[cursor]) { cursor += 1 }
            if cursor > start { return String(decoding: head[start..<cursor], as: UTF8.self) }
        }
        return nil
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var position = start
        while position + needle.count <= haystack.count {
            if haystack[position..<(position + needle.count)].elementsEqual(needle) { return position }
            position += 1
        }
        return nil
    }
}
