import Foundation

/// Internet messages as mail clients write them (RFC 5322 header fields, MIME RFC 2045–2049):
/// encoded words for Vietnamese in header fields (RFC 2047), RFC 2231 file names, base64 and
/// quoted-printable bodies with CRLF lines, folded header fields.
enum MIMEWriter {
    /// A MIME entity: a leaf with its bytes, or a multipart of entities.
    indirect enum Entity {
        /// Text in UTF-8 (`text/plain` or `text/html`), quoted-printable or base64.
        case text(String, subtype: String, encoding: TextEncoding)
        /// Text already in a legacy charset, sent as the client did: 8bit or quoted-printable.
        case legacyText([UInt8], charset: String, encoding: TextEncoding)
        /// An attachment, base64.
        case attachment([UInt8], type: String, filename: String)
        case multipart(subtype: String, boundary: String, [Entity])
    }

    enum TextEncoding {
        case quotedPrintable, base64, eightBit
    }

    /// The whole message: `fields` (name, already-encoded value) then the entity.
    static func message(fields: [(String, String)], entity: Entity) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields { out += Array(fold(name + ": " + value).utf8) + crlf }
        out += Array("MIME-Version: 1.0\r\n".utf8)
        write(entity, into: &out)
        return out
    }

    private static let crlf: [UInt8] = [13, 10]

    private static func write(_ entity: Entity, into out: inout [UInt8]) {
        switch entity {
        case .text(let text, let subtype, let encoding):
            let bytes = Array(normalizedLines(text).utf8)
            out += Array("Content-Type: text/\(subtype); charset=\"utf-8\"\r\n".utf8)
            body(bytes, encoding: encoding, into: &out)
        case .legacyText(let bytes, let charset, let encoding):
            out += Array("Content-Type: text/plain; charset=\"\(charset)\"\r\n".utf8)
            body(bytes, encoding: encoding, into: &out)
        case .attachment(let bytes, let type, let filename):
            out += Array(fold("Content-Type: \(type); name=\"\(encodedWords(filename))\"").utf8) + crlf
            out += Array(fold("Content-Disposition: attachment; \(rfc2231("filename", filename))").utf8) + crlf
            body(bytes, encoding: .base64, into: &out)
        case .multipart(let subtype, let boundary, let parts):
            out += Array("Content-Type: multipart/\(subtype);\r\n boundary=\"\(boundary)\"\r\n\r\n".utf8)
            for part in parts {
                out += Array("--\(boundary)\r\n".utf8)
                write(part, into: &out)
                out += crlf
            }
            out += Array("--\(boundary)--\r\n".utf8)
        }
    }

    private static func body(_ bytes: [UInt8], encoding: TextEncoding, into out: inout [UInt8]) {
        switch encoding {
        case .eightBit:
            let eightBit = bytes.contains { $0 >= 0x80 }
            out += Array("Content-Transfer-Encoding: \(eightBit ? "8bit" : "7bit")\r\n\r\n".utf8)
            out += bytes
            if bytes.last != 10 { out += crlf }
        case .quotedPrintable:
            out += Array("Content-Transfer-Encoding: quoted-printable\r\n\r\n".utf8)
            out += quotedPrintable(bytes)
        case .base64:
            out += Array("Content-Transfer-Encoding: base64\r\n\r\n".utf8)
            out += base64(bytes)
        }
    }

    /// Base64 in lines of 76 characters, each ending CRLF (RFC 2045 6.8).
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var encoded = [UInt8](
            Data(bytes).base64EncodedData(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        )
        if !encoded.isEmpty { encoded += crlf }
        return encoded
    }

    /// Quoted-printable (RFC 2045 6.7): text lines kept, every byte above 0x7E, "=" and a line's
    /// trailing space encoded, soft breaks before 76 characters.
    static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 10 {
            var end = index
            if end > start && bytes[end - 1] == 13 { end -= 1 }
            lines.append(bytes[start..<end])
            start = index + 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        for line in lines {
            var column = 0
            for (offset, byte) in zip(line.indices, line) {
                let last = offset == line.index(before: line.endIndex)
                let literal = (byte >= 33 && byte <= 126 && byte != 61) || (byte == 32 && !last) || (byte == 9 && !last)
                let width = literal ? 1 : 3
                if column + width > 75 {
                    out += [61, 13, 10]
                    column = 0
                }
                if literal {
                    out.append(byte)
                } else {
                    out += [61, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                }
                column += width
            }
            out += crlf
        }
        return out
    }

    /// Text with CRLF line ends.
    static func normalizedLines(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
            + (text.hasSuffix("\n") ? "" : "\r\n")
    }

    /// A header value: ASCII as is, anything else as UTF-8 "B" encoded words of at most 75
    /// characters each, split between characters (RFC 2047 2, 5).
    static func encodedWords(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "\"" }) { return text }
        var words: [String] = []
        var current: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            // 36 bytes are 48 base64 characters: a 60-character word, which fits on a folded line
            // after the longest field name this writes.
            if current.count + bytes.count > 36 {
                words.append("=?UTF-8?B?" + Data(current).base64EncodedString() + "?=")
                current = []
            }
            current += bytes
        }
        if !current.isEmpty { words.append("=?UTF-8?B?" + Data(current).base64EncodedString() + "?=") }
        return words.joined(separator: " ")
    }

    /// `Name <address>`, the name quoted or encoded.
    static func address(_ name: String?, _ address: String) -> String {
        guard let name, !name.isEmpty else { return address }
        if name.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "\"" && $0 != "\\" }) { return "\"\(name)\" <\(address)>" }
        return "\(encodedWords(name)) <\(address)>"
    }

    /// An RFC 2231 parameter: `filename*=utf-8''%C4%90...` (an ASCII name stays plain, quoted).
    static func rfc2231(_ name: String, _ value: String) -> String {
        if value.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "\"" && $0 != "\\" }) { return "\(name)=\"\(value)\"" }
        var encoded = ""
        for byte in value.utf8 {
            let safe =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-._".utf8.contains(byte)
            encoded += safe ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }
        return "\(name)*=utf-8''\(encoded)"
    }

    /// A header field folded at spaces before 78 characters where it can be (RFC 5322 2.2.3).
    static func fold(_ field: String) -> String {
        guard field.utf8.count > 78 else { return field }
        var lines: [String] = []
        var line = ""
        for word in field.split(separator: " ", omittingEmptySubsequences: false) {
            // Never right after the field name: "Subject:" alone on a line says nothing.
            if !line.isEmpty && !(lines.isEmpty && line.hasSuffix(":")) && line.utf8.count + 1 + word.utf8.count > 76 {
                lines.append(line)
                line = " " + word
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        lines.append(line)
        return lines.joined(separator: "\r\n")
    }
}
