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
}
