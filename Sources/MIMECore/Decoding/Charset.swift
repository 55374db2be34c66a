import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The charsets MIME text and headers are decoded from. Decoding is exact: a byte sequence a
/// charset does not define makes the decode fail (nil), so callers can tell "wrong label".
public enum Charset: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case usASCII = "us-ascii"
    case iso8859_1 = "iso-8859-1"
    case windows1252 = "windows-1252"
    case windows1258 = "windows-1258"

    /// The charset a MIME label names (RFC 2978 names and common aliases), or nil.
    public init?(label: String) {
        let name = label.lowercased().trimmingWhitespace
        switch name {
        case "utf-8", "utf8": self = .utf8
        case "us-ascii", "ascii", "ansi_x3.4-1968", "us": self = .usASCII
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso_8859-1", "l1": self = .iso8859_1
        case "windows-1252", "cp1252", "x-cp1252": self = .windows1252
        case "windows-1258", "cp1258", "x-cp1258": self = .windows1258
        default: return nil
        }
    }

    /// Decodes `bytes` in the charset a MIME label names: ThuGate's own exact tables for the
    /// Vietnamese-relevant charsets, the platform's converters (Foundation) for the IANA names
    /// it knows (windows-1251, iso-8859-2, ...), then glibc's iconv for every other name iconv
    /// knows (ISO-8859-15, GB2312/GBK/GB18030, Big5, EUC-KR/ks_c_5601-1987, KOI8-R/U, UTF-7,
    /// x-mac-cyrillic, ISO-2022-JP, TCVN5712-1, ...), which Foundation on Linux lacks. Nil when
    /// the label is unknown to all of them or the bytes are not valid in it.
    public static func decode(_ bytes: some Collection<UInt8>, label: String) -> String? {
        if let charset = Charset(label: label) { return charset.decode(bytes) }
        if let encoding = platformEncoding(label), let text = String(data: Data(bytes), encoding: encoding) { return text }
        return IconvDecoder(label: label)?.decode(Array(bytes))
    }

    /// Whether ``decode(_:label:)`` knows the label at all (its tables, the platform's, iconv's).
    public static func isSupported(label: String) -> Bool {
        Charset(label: label) != nil || platformEncoding(label) != nil || IconvDecoder(label: label) != nil
    }

    private static func platformEncoding(_ label: String) -> String.Encoding? {
        String.Encoding(ianaName: label.trimmingWhitespace)
    }

    public func decode(_ bytes: some Collection<UInt8>) -> String? {
        switch self {
        case .utf8:
            return String(validating: bytes, as: UTF8.self)
        case .usASCII:
            return bytes.allSatisfy({ $0 < 0x80 }) ? String(decoding: bytes, as: UTF8.self) : nil
        case .iso8859_1:
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case .windows1252, .windows1258:
            let table = self == .windows1252 ? windows1252High : windows1258High
            var scalars = String.UnicodeScalarView()
            for byte in bytes {
                if byte < 0x80 {
                    scalars.append(Unicode.Scalar(byte))
                } else {
                    let value = table[Int(byte) - 0x80]
                    guard value != 0, let scalar = Unicode.Scalar(value) else { return nil }
                    scalars.append(scalar)
                }
            }
            return String(scalars)
        }
    }
}

// Bytes 0x80–0xFF; 0 = not defined. From the Unicode consortium's mapping files
// (MAPPINGS/VENDORS/MICSFT/WINDOWS/CP1252.TXT, CP1258.TXT); tests check them against Python's codecs.
private let windows1252High: [UInt32] =
    [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ] + (0xA0...0xFF).map { UInt32($0) }

private let windows1258High: [UInt32] =
    [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0, 0x2039, 0x0152, 0, 0, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0, 0x203A, 0x0153, 0, 0, 0x0178,
    ] + (0xA0...0xBF).map { UInt32($0) } + [
        0x00C0, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x00C5, 0x00C6, 0x00C7, 0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x0300, 0x00CD, 0x00CE, 0x00CF,
        0x0110, 0x00D1, 0x0309, 0x00D3, 0x00D4, 0x01A0, 0x00D6, 0x00D7, 0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x01AF, 0x0303, 0x00DF,
        0x00E0, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x00E5, 0x00E6, 0x00E7, 0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x0301, 0x00ED, 0x00EE, 0x00EF,
        0x0111, 0x00F1, 0x0323, 0x00F3, 0x00F4, 0x01A1, 0x00F6, 0x00F7, 0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x01B0, 0x20AB, 0x00FF,
    ]

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// Text from bytes whose charset is unknown or wrong: UTF-8 when it is valid, else each byte
/// as windows-1252 (and Latin-1 where 1252 leaves a hole), so nothing is lost.
public func lenientText(_ bytes: some Collection<UInt8>) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    var scalars = String.UnicodeScalarView()
    for byte in bytes {
        if byte >= 0x80 && byte < 0xA0, let scalar = Unicode.Scalar(windows1252High[Int(byte) - 0x80]), scalar.value != 0 {
            scalars.append(scalar)
        } else {
            scalars.append(Unicode.Scalar(byte))
        }
    }
    return String(scalars)
}

/// One glibc iconv conversion descriptor, from a MIME charset to UTF-8: the fallback decoder
/// for every charset name iconv knows. Owns its `iconv_t` (closed in deinit); not shared
/// between threads (iconv keeps shift state), so each decode makes its own.
///
/// - SeeAlso: RFC 2978 (charset names), POSIX iconv(3).
final class IconvDecoder {
    #if canImport(Glibc)
    private let handle: iconv_t
    #endif

    /// MIME names that iconv spells otherwise, or whose real-world use is a superset: mail
    /// labelled gb2312 is written by GBK encoders, ks_c_5601-1987 and euc-kr by CP949 (UHC) ones.
    static let aliases: [String: String] = [
        "gb2312": "GBK", "x-gbk": "GBK", "cp936": "GBK", "euc-cn": "GBK", "csgb2312": "GBK",
        "ks_c_5601-1987": "CP949", "ks_c_5601": "CP949", "euc-kr": "CP949", "cseuckr": "CP949", "x-windows-949": "CP949",
        "x-mac-cyrillic": "MAC-CYRILLIC", "x-mac-ukrainian": "MAC-CYRILLIC", "x-mac-roman": "MACINTOSH",
        "x-sjis": "SHIFT_JIS", "ms_kanji": "SHIFT_JIS", "x-euc-jp": "EUC-JP", "x-euc-tw": "EUC-TW",
        "unicode-1-1-utf-7": "UTF-7", "x-utf-7": "UTF-7", "ibm437": "CP437", "x-ibm437": "CP437",
    ]

    /// Nil when iconv does not know the charset. Labels are charset names only (RFC 2978
    /// characters, at most 40): iconv's "//TRANSLIT"-style suffixes never reach it.
    init?(label: String) {
        let name = label.trimmingWhitespace.lowercased()
        guard !name.isEmpty, name.utf8.count <= 40,
            name.utf8.allSatisfy({
                ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E || $0 == 0x3A
            })
        else { return nil }
        #if canImport(Glibc)
        let handle = iconv_open("UTF-8", Self.aliases[name] ?? name.uppercased())
        guard let handle, handle != iconv_t(bitPattern: -1) else { return nil }
        self.handle = handle
        #else
        return nil
        #endif
    }

    deinit {
        #if canImport(Glibc)
        iconv_close(handle)
        #endif
    }

    /// Output stops past this many bytes of UTF-8 per input byte (no charset needs more than 4),
    /// so a hostile input cannot grow the text without bound.
    static let maxExpansion = 4

    /// The UTF-8 text, or nil when the bytes are not valid in the charset (an invalid or
    /// incomplete sequence): exact, like the built-in tables.
    func decode(_ input: [UInt8]) -> String? {
        #if canImport(Glibc)
        var input = input
        var output = [UInt8](repeating: 0, count: input.count * Self.maxExpansion + 16)
        var produced = 0
        let ok: Bool = input.withUnsafeMutableBytes { inBuf in
            output.withUnsafeMutableBytes { outBuf in
                var inPtr = inBuf.baseAddress?.assumingMemoryBound(to: CChar.self)
                var inLeft = inBuf.count
                var outPtr = outBuf.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outLeft = outBuf.count
                // -1 with EILSEQ (invalid), EINVAL (incomplete at the end) or E2BIG (past the
                // bound): not text in this charset.
                if inLeft > 0, iconv(handle, &inPtr, &inLeft, &outPtr, &outLeft) == -1 { return false }
                // Flush the shift state (ISO-2022-JP and UTF-7 may end inside one).
                if iconv(handle, nil, nil, &outPtr, &outLeft) == -1 { return false }
                produced = outBuf.count - outLeft
                return true
            }
        }
        guard ok else { return nil }
        return String(validating: output[..<produced], as: UTF8.self)
        #else
        return nil
        #endif
    }
}

extension ParsedMessage {
    /// A text part's body as text, for the rules that read text: transfer-decoded, then decoded
    /// from its declared charset (US-ASCII when none is declared, RFC 2045 5.2) by ``Charset``,
    /// iconv included. Nil when the charset is unknown to every decoder or the bytes are not valid
    /// in it: the caller reports `unknown-charset` rather than guess.
    public func decodedText(of part: MIMEPart) -> String? {
        let bytes = decodedBody(of: part).bytes
        let label = part.charset ?? "us-ascii"
        if let text = Charset.decode(bytes, label: label) { return text }
        // Undeclared 8-bit text is common and ASCII's superset is what senders meant.
        return part.charset == nil ? lenientText(bytes) : nil
    }
}
