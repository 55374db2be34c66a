/// RFC 2047 encoded words: `=?charset?B?...?=` and `=?charset?Q?...?=`.
///
/// Decoded in any header text (Subject, display names) and, because real mail does it, in
/// quoted parameter values such as `filename="=?utf-8?B?...?="`. Whitespace between two
/// adjacent encoded words is dropped (RFC 2047 6.2). A word in a charset ThuGate cannot decode,
/// or with a broken encoding, is left as written.
public enum EncodedWords {
    public static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var output = ""
        var pendingSpace = ""
        var previousWasEncoded = false
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.hasPrefix("=?"), let (decoded, after) = decodeWord(rest) {
                if !previousWasEncoded { output += pendingSpace }
                pendingSpace = ""
                output += decoded
                previousWasEncoded = true
                rest = after
                continue
            }
            let c = rest.removeFirst()
            if c == " " || c == "\t" {
                pendingSpace.append(c)
                continue
            }
            output += pendingSpace
            pendingSpace = ""
            output.append(c)
            previousWasEncoded = false
        }
        return output + pendingSpace
    }

    /// A header segment: an encoded word (its charset label and decoded bytes) or text as written.
    public enum Segment: Sendable, Equatable {
        case encoded(charset: String, bytes: [UInt8], raw: String)
        case text(String)
    }

    /// Splits header text into encoded words and the text between them (whitespace between two
    /// encoded words is kept as text; callers joining words again drop it, RFC 2047 6.2).
    public static func segments(_ text: String) -> [Segment] {
        var out: [Segment] = []
        var plain = ""
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.hasPrefix("=?"), let (charset, bytes, after) = wordBytes(rest) {
                if !plain.isEmpty {
                    out.append(.text(plain))
                    plain = ""
                }
                out.append(.encoded(charset: charset, bytes: bytes, raw: String(rest[..<after.startIndex])))
                rest = after
                continue
            }
            plain.append(rest.removeFirst())
        }
        if !plain.isEmpty { out.append(.text(plain)) }
        return out
    }

    /// `text` as RFC 2047 B words in UTF-8, each under 76 characters, split on character
    /// boundaries; ASCII text without `=?` is returned as it is.
    public static func encode(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && !text.contains("=?") { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + String(decoding: TransferEncoder.base64Line(chunk), as: UTF8.self) + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + String(decoding: TransferEncoder.base64Line(chunk), as: UTF8.self) + "?=") }
        return words.joined(separator: " ")
    }

    /// The charset label and bytes of one encoded word at the start of `text`.
    private static func wordBytes(_ text: Substring) -> (String, [UInt8], Substring)? {
        let body = text.dropFirst(2)
        guard let q1 = body.firstIndex(of: "?") else { return nil }
        var charsetLabel = String(body[..<q1])
        if let star = charsetLabel.firstIndex(of: "*") { charsetLabel = String(charsetLabel[..<star]) }
        let afterCharset = body[body.index(after: q1)...]
        guard let encoding = afterCharset.first, afterCharset.dropFirst().first == "?" else { return nil }
        let payloadStart = afterCharset.index(afterCharset.startIndex, offsetBy: 2)
        var scan = afterCharset[payloadStart...]
        var endIndex: Substring.Index? = nil
        while let q = scan.firstIndex(of: "?") {
            let next = scan.index(after: q)
            if next < scan.endIndex && scan[next] == "=" {
                endIndex = q
                break
            }
            scan = scan[next...]
        }
        guard let endIndex else { return nil }
        let payload = afterCharset[payloadStart..<endIndex]
        guard !payload.contains(" ") else { return nil }
        let bytes: [UInt8]?
        switch encoding {
        case "B", "b": bytes = Base64.decodeStrict(Array(payload.utf8))
        case "Q", "q": bytes = decodeQ(Array(payload.utf8))
        default: return nil
        }
        guard let bytes else { return nil }
        return (charsetLabel, bytes, afterCharset[afterCharset.index(endIndex, offsetBy: 2)...])
    }

    /// One encoded word at the start of `text`, with what follows it.
    private static func decodeWord(_ text: Substring) -> (String, Substring)? {
        guard let (label, bytes, after) = wordBytes(text), let decoded = Charset.decode(bytes, label: label) else { return nil }
        return (decoded, after)
    }

    /// The Q encoding: `_` is space, `=XX` a byte (RFC 2047 4.2).
    private static func decodeQ(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "_") {
                out.append(0x20)
            } else if b == UInt8(ascii: "=") {
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    default: return nil
    }
}
