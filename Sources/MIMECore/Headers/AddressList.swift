/// One mailbox from an address header (From, To, Cc, Reply-To, ...).
public struct EmailAddress: Sendable, Equatable, CustomStringConvertible {
    /// The display name with RFC 2047 words decoded, when there is one.
    public var displayName: String?
    /// `local@domain` as written (quoted local parts keep their quotes).
    public var address: String
    /// The group it was listed in (`Phòng ban: a@x, b@y;`), when it was in one.
    public var group: String?

    public init(displayName: String? = nil, address: String, group: String? = nil) {
        self.displayName = displayName
        self.address = address
        self.group = group
    }

    /// The lowercased domain after the last `@`.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        var domain = address[address.index(after: at)...].lowercased()
        while domain.hasSuffix(".") { domain.removeLast() }
        return domain
    }

    public var description: String { displayName.map { "\($0) <\(address)>" } ?? address }
}

/// RFC 5322 3.4 address lists: display names (atoms, quoted strings, RFC 2047 words), angle
/// addresses, groups, comments, and the obsolete forms real mail still has (a name in a comment
/// after the address, source routes, missing commas between angle addresses).
public enum AddressList {
    private enum Token: Equatable {
        case word(String)  // atom or dot-atom run
        case quoted(String)  // content of a quoted string, unescaped
        case comment(String)
        case special(Character)  // < > , : ; @
    }

    public static func parse(_ text: String) -> [EmailAddress] {
        let tokens = tokenize(text)
        var result: [EmailAddress] = []
        var phrase: [Token] = []
        var comment: String? = nil
        var angle: String? = nil
        var group: String? = nil
        var i = 0

        func flush() {
            defer {
                phrase = []
                comment = nil
                angle = nil
            }
            if let angle {
                let name = displayName(phrase)
                if !angle.isEmpty {
                    result.append(EmailAddress(displayName: name ?? comment.map(EncodedWords.decode), address: angle, group: group))
                }
                return
            }
            let spec = phrase.map { token -> String in
                switch token {
                case .word(let w): return w
                case .quoted(let q): return "\"\(q)\""
                case .special(let c): return String(c)
                case .comment: return ""
                }
            }.joined()
            if !spec.isEmpty {
                result.append(EmailAddress(displayName: comment.map(EncodedWords.decode), address: spec, group: group))
            }
        }

        while i < tokens.count {
            let token = tokens[i]
            i += 1
            switch token {
            case .special("<"):
                if angle != nil { flush() }  // `<a@x> <b@y>` without a comma
                var address = ""
                while i < tokens.count, tokens[i] != .special(">") {
                    switch tokens[i] {
                    case .word(let w): address += w
                    case .quoted(let q): address += "\"\(q)\""
                    case .special(let c): address.append(c)
                    case .comment: break
                    }
                    i += 1
                }
                i += 1
                // Obsolete source route: `<@relay,@relay2:user@host>`.
                if address.hasPrefix("@"), let colon = address.firstIndex(of: ":") {
                    address = String(address[address.index(after: colon)...])
                }
                angle = address
            case .special(","):
                flush()
            case .special(":") where angle == nil:
                group = displayName(phrase) ?? ""
                phrase = []
            case .special(";"):
                flush()
                group = nil
            case .comment(let text):
                if comment == nil { comment = text }
            default:
                if angle != nil, case .word = token {
                    // Text after an angle address without a comma: a new entry.
                    flush()
                }
                phrase.append(token)
            }
        }
        flush()
        return result
    }

    /// Phrase words joined by single spaces, RFC 2047 words decoded; nil when empty.
    private static func displayName(_ phrase: [Token]) -> String? {
        let words = phrase.compactMap { token -> String? in
            switch token {
            case .word(let w): return w
            case .quoted(let q): return q
            case .special(let c): return c == "@" ? "@" : nil
            case .comment: return nil
            }
        }
        guard !words.isEmpty else { return nil }
        return EncodedWords.decode(words.joined(separator: " "))
    }

    private static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var scalars = Substring(text).unicodeScalars[...]
        var word = ""
        func endWord() {
            if !word.isEmpty {
                tokens.append(.word(word))
                word = ""
            }
        }
        while let c = scalars.first {
            scalars.removeFirst()
            switch c {
            case " ", "\t", "\r", "\n":
                endWord()
            case "\"":
                endWord()
                var q = ""
                while let d = scalars.first {
                    scalars.removeFirst()
                    if d == "\\", let e = scalars.first {
                        scalars.removeFirst()
                        q.unicodeScalars.append(e)
                    } else if d == "\"" {
                        break
                    } else {
                        q.unicodeScalars.append(d)
                    }
                }
                tokens.append(.quoted(q))
            case "(":
                endWord()
                var depth = 1
                var text = ""
                while let d = scalars.first, depth > 0 {
                    scalars.removeFirst()
                    if d == "\\", let e = scalars.first {
                        scalars.removeFirst()
                        text.unicodeScalars.append(e)
                        continue
                    }
                    if d == "(" {
                        depth += 1
                    } else if d == ")" {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    text.unicodeScalars.append(d)
                }
                tokens.append(.comment(text))
            case "<", ">", ",", ":", ";":
                endWord()
                tokens.append(.special(Character(c)))
            case "@":
                // Part of an addr-spec: keep it in the word run (`a@b.c`).
                word.unicodeScalars.append(c)
            default:
                word.unicodeScalars.append(c)
            }
        }
        endWord()
        return tokens
    }
}
