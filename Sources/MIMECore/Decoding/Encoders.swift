/// Content-Transfer-Encoding encoders for rewritten parts: CRLF line endings, lines within the
/// RFC 2045 limit of 76 characters (so always under SMTP's 998).
public enum TransferEncoder {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Base64 in lines of 76 characters, each ending in CRLF.
    public static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 3 * 4 + bytes.count / 57 * 2 + 8)
        var lineLength = 0
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
            lineLength += 4
            if lineLength == 76 {
                out += [13, 10]
                lineLength = 0
            }
        }
        if lineLength > 0 { out += [13, 10] }
        return out
    }

    /// Base64 on one line without line ending (RFC 2047 B words).
    public static func base64Line(_ bytes: [UInt8]) -> [UInt8] {
        var out = base64(bytes)
        out.removeAll { $0 == 13 || $0 == 10 }
        return out
    }

    /// Quoted-printable (RFC 2045 6.7) for text: line breaks in the text stay line breaks
    /// (written as CRLF), other bytes are escaped when they must be, lines are soft-broken
    /// before 76 characters, and trailing whitespace is escaped.
    public static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var line: [UInt8] = []
        func escape(_ b: UInt8) -> [UInt8] {
            let hex = Array("0123456789ABCDEF".utf8)
            return [UInt8(ascii: "="), hex[Int(b >> 4)], hex[Int(b & 0x0F)]]
        }
        func append(_ token: [UInt8]) {
            if line.count + token.count > 75 {
                out += line + [UInt8(ascii: "="), 13, 10]
                line = []
            }
            line += token
        }
        func endLine() {
            // Whitespace at the end of a line would be stripped in transport: escape it.
            if let last = line.last, last == 0x20 || last == 0x09 {
                line.removeLast()
                if line.count + 3 > 75 {
                    out += line + [UInt8(ascii: "="), 13, 10]
                    line = []
                }
                line += escape(last)
            }
            out += line + [13, 10]
            line = []
        }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 {
                endLine()
                i += 2
                continue
            }
            if b == 10 {
                endLine()
                i += 1
                continue
            }
            let literal = (b >= 33 && b <= 126 && b != UInt8(ascii: "=")) || b == 0x20 || b == 0x09
            // A dot at the start of a line is escaped too: some transports mangle it.
            if literal && !(b == UInt8(ascii: ".") && line.isEmpty) {
                append([b])
            } else {
                append(escape(b))
            }
            i += 1
        }
        if !line.isEmpty {
            // No final line break in the content: end with a soft break so none is added.
            if let last = line.last, last == 0x20 || last == 0x09 {
                line.removeLast()
                append(escape(last))
            }
            out += line + [UInt8(ascii: "="), 13, 10]
        }
        return out
    }
}
