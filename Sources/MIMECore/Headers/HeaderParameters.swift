/// A structured header value: `value; name=value; name*=charset'lang'pct-encoded; ...`
/// as in Content-Type and Content-Disposition (RFC 2045 5.1, RFC 2183, RFC 2231).
public struct HeaderParameters: Sendable, Equatable {
    /// The main value, lowercased (`text/plain`, `attachment`).
    public var value: String
    /// Parameters by lowercased name, RFC 2231 continuations joined and decoded, RFC 2047 words
    /// in quoted values decoded (invalid, but what many mailers send for file names).
    public var parameters: [String: String]

    public init(value: String, parameters: [String: String]) {
        self.value = value
        self.parameters = parameters
    }

    public subscript(_ name: String) -> String? { parameters[name] }

    public static func parse(_ text: String) -> HeaderParameters {
        var scanner = Substring(text)
        var mainText = Substring(takeToken(&scanner, stopAt: ";"))
        var main = ""
        while !mainText.isEmpty {
            if mainText.first == "(" {
                skipSpaceAndComments(&mainText)
                continue
            }
            main.append(mainText.removeFirst())
        }
        main = main.lowercased().trimmingWhitespace
        var simple: [String: String] = [:]
        // name → [(section, extended, value)] for RFC 2231 continuations.
        var sections: [String: [(Int, Bool, String)]] = [:]
        while !scanner.isEmpty {
            guard scanner.first == ";" else {
                _ = scanner.removeFirst()
                continue
            }
            scanner.removeFirst()
            skipSpaceAndComments(&scanner)
            let rawName = takeToken(&scanner, stopAt: "=;").trimmingWhitespace.lowercased()
            guard scanner.first == "=" else { continue }
            scanner.removeFirst()
            skipSpaceAndComments(&scanner)
            let value: String
            if scanner.first == "\"" {
                value = takeQuoted(&scanner)
                _ = takeToken(&scanner, stopAt: ";")
            } else {
                value = takeToken(&scanner, stopAt: ";").trimmingWhitespace
            }
            guard !rawName.isEmpty else { continue }
            // name*N*, name*N, name* (RFC 2231 3, 4)
            var name = rawName
            var extended = false
            var section: Int? = nil
            if name.hasSuffix("*") {
                extended = true
                name.removeLast()
            }
            if let star = name.lastIndex(of: "*"), let n = Int(name[name.index(after: star)...]) {
                section = n
                name = String(name[..<star])
            } else if extended {
                section = 0
            }
            if let section {
                sections[name, default: []].append((section, extended, value))
            } else if simple[name] == nil {
                simple[name] = value
            }
        }
        for (name, parts) in sections {
            let ordered = parts.sorted { $0.0 < $1.0 }
            var charset: String? = nil
            var bytes: [UInt8] = []
            for (index, (_, extended, value)) in ordered.enumerated() {
                var text = Substring(value)
                if index == 0 && extended {
                    // charset'language'value
                    let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if pieces.count == 3 {
                        charset = String(pieces[0])
                        text = pieces[2]
                    }
                }
                bytes += extended ? percentDecoded(text) : Array(text.utf8)
            }
            simple[name] = Charset.decode(bytes, label: charset ?? "utf-8") ?? lenientText(bytes)
        }
        // A boundary is matched byte for byte by every reader: never decoded, or ThuGate would
        // split at another line than the recipient's client.
        for (name, value) in simple where value.contains("=?") && name != "boundary" {
            simple[name] = EncodedWords.decode(value)
        }
        return HeaderParameters(value: main, parameters: simple)
    }

    private static func takeToken(_ s: inout Substring, stopAt stops: String) -> String {
        let end = s.firstIndex(where: { stops.contains($0) }) ?? s.endIndex
        let token = String(s[..<end])
        s = s[end...]
        return token
    }

    private static func takeQuoted(_ s: inout Substring) -> String {
        s.removeFirst()
        var out = ""
        while let c = s.first {
            s.removeFirst()
            if c == "\\", let next = s.first {
                s.removeFirst()
                out.append(next)
            } else if c == "\"" {
                return out
            } else {
                out.append(c)
            }
        }
        return out
    }

    private static func skipSpaceAndComments(_ s: inout Substring) {
        while let c = s.first {
            if c == " " || c == "\t" {
                s.removeFirst()
            } else if c == "(" {
                var depth = 0
                while let d = s.first {
                    s.removeFirst()
                    if d == "(" {
                        depth += 1
                    } else if d == ")" {
                        depth -= 1
                        if depth == 0 { break }
                    }
                }
            } else {
                return
            }
        }
    }

    private static func percentDecoded(_ text: Substring) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count, let hi = hexValue(utf8[i + 1]), let lo = hexValue(utf8[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return out
    }
}

extension HeaderParameters {
    /// The structured value written again with its file name parameter `key` (`filename` or
    /// `name`) set to `file`: RFC 2231 (`filename*=UTF-8''...`) for Content-Disposition's
    /// `filename`, an RFC 2047 word in quotes for Content-Type's `name` (what mail clients read
    /// there). The other parameters follow the value in name order, quoted where RFC 2045's
    /// token syntax needs it; a name that is plain ASCII stays a quoted string. The result is ASCII.
    ///
    /// - SeeAlso: RFC 2231 section 4, RFC 5987 section 3.2.1 (attr-char), RFC 2183, RFC 2047 section 5.
    public func writing(fileName file: String, as key: String) -> String {
        var parts = [value]
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) where name != key {
            let plain = !value.isEmpty && value.allSatisfy { $0.isASCII && !" ()<>@,;:\\\"/[]?=".contains($0) }
            parts.append(plain ? "\(name)=\(value)" : "\(name)=\(Self.quoted(value))")
        }
        let ascii = file.unicodeScalars.allSatisfy(\.isASCII)
        if key == "filename" {
            parts.append(ascii ? "filename=\(Self.quoted(file))" : "filename*=UTF-8''" + Self.percentEncoded(file))
        } else {
            parts.append("\(key)=\"\(EncodedWords.encode(file))\"")
        }
        return parts.joined(separator: "; ")
    }

    /// A quoted-string: backslash and quote escaped (RFC 5322 3.2.4).
    static func quoted(_ value: String) -> String {
        var out = "\""
        for character in value {
            if character == "\\" || character == "\"" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// UTF-8 with every byte outside RFC 5987's attr-char written `%XX` (upper-case hex).
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            let isAlphanumeric = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            if isAlphanumeric || Array("!#$&+-.^_`|~".utf8).contains(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
