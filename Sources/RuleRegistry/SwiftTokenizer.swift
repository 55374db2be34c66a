/// One token of Swift source: a word (identifier or keyword, backticks removed), a number, or one
/// punctuation character. Comments, string literals and whitespace are dropped, so text that
/// only looks like code (`// static let declaration = RuleDeclaration(`) is never read as code.
struct Token: Equatable, CustomStringConvertible {
    enum Kind: Equatable { case word, number, punctuation }
    var kind: Kind
    var text: String
    var line: Int

    var description: String { text }

    func isWord(_ word: String) -> Bool { kind == .word && text == word }
    func isPunctuation(_ character: String) -> Bool { kind == .punctuation && text == character }
}

/// An error in a source file, printed the way the compiler prints one (`file:line: error: ...`),
/// so that the build log and editors point at the line.
struct SourceError: Error, Equatable, CustomStringConvertible {
    var file: String
    var line: Int
    var message: String

    var description: String { "\(file):\(line): error: \(message)" }
}

/// A small Swift tokenizer: enough to find declarations, not a parser. It knows line and nested
/// block comments, single-line, multi-line and raw strings (`#"…"#`) with interpolations
/// (`\(…)`, which may hold strings of their own), backtick identifiers and numbers.
struct SwiftTokenizer {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var tokens: [Token] = []

    static func tokens(of source: String, file: String) throws(SourceError) -> [Token] {
        var tokenizer = SwiftTokenizer(bytes: Array(source.utf8), file: file)
        while tokenizer.index < tokenizer.bytes.count { try tokenizer.step(keep: true) }
        return tokenizer.tokens
    }

    private init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    private func byte(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private func error(_ message: String, line: Int? = nil) -> SourceError {
        SourceError(file: file, line: line ?? self.line, message: message)
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        // Bytes of non-ASCII characters count as word characters: Swift identifiers may be Unicode.
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b >= 0x80
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Reads one token, comment, string or blank; `keep: false` inside an interpolation, whose
    /// code is skipped.
    private mutating func step(keep: Bool) throws(SourceError) {
        let b = bytes[index]
        switch b {
        case UInt8(ascii: "\n"):
            line += 1
            index += 1
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
            index += 1
        case UInt8(ascii: "/") where byte(1) == UInt8(ascii: "/"):
            while let c = byte(), c != UInt8(ascii: "\n") { index += 1 }
        case UInt8(ascii: "/") where byte(1) == UInt8(ascii: "*"):
            try skipBlockComment()
        case UInt8(ascii: "\""):
            try skipString(hashes: 0)
        case UInt8(ascii: "#") where rawStringHashes() != nil:
            let hashes = rawStringHashes()!
            index += hashes
            try skipString(hashes: hashes)
        case UInt8(ascii: "`"):
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "`"), bytes[end] != UInt8(ascii: "\n") { end += 1 }
            guard end < bytes.count, bytes[end] == UInt8(ascii: "`") else { throw error("unterminated backtick identifier") }
            if keep { tokens.append(Token(kind: .word, text: String(decoding: bytes[start..<end], as: UTF8.self), line: line)) }
            index = end + 1
        case _ where Self.isDigit(b):
            let start = index
            // 1_000, 0x1F, 1.5e3: the digits, letters and underscores, and a dot followed by a digit.
            while let c = byte(), Self.isWordByte(c) || (c == UInt8(ascii: ".") && byte(1).map(Self.isDigit) == true) {
                index += 1
            }
            if keep { tokens.append(Token(kind: .number, text: String(decoding: bytes[start..<index], as: UTF8.self), line: line)) }
        case _ where Self.isWordByte(b):
            let start = index
            while let c = byte(), Self.isWordByte(c) { index += 1 }
            if keep { tokens.append(Token(kind: .word, text: String(decoding: bytes[start..<index], as: UTF8.self), line: line)) }
        default:
            if keep { tokens.append(Token(kind: .punctuation, text: String(UnicodeScalar(b)), line: line)) }
            index += 1
        }
    }

    /// The number of `#` before a `"` here (a raw string), or nil.
    private func rawStringHashes() -> Int? {
        var n = 0
        while byte(n) == UInt8(ascii: "#") { n += 1 }
        return n > 0 && byte(n) == UInt8(ascii: "\"") ? n : nil
    }

    private mutating func skipBlockComment() throws(SourceError) {
        let start = line
        var depth = 0
        repeat {
            guard let c = byte() else { throw error("unterminated /* comment", line: start) }
            if c == UInt8(ascii: "/"), byte(1) == UInt8(ascii: "*") {
                depth += 1
                index += 2
            } else if c == UInt8(ascii: "*"), byte(1) == UInt8(ascii: "/") {
                depth -= 1
                index += 2
            } else {
                if c == UInt8(ascii: "\n") { line += 1 }
                index += 1
            }
        } while depth > 0
    }

    /// Skips a string literal starting at its opening quote, `hashes` `#` after the raw string's
    /// opening ones.
    private mutating func skipString(hashes: Int) throws(SourceError) {
        let start = line
        let multiline = byte(1) == UInt8(ascii: "\"") && byte(2) == UInt8(ascii: "\"")
        index += multiline ? 3 : 1
        func closesHere(_ t: SwiftTokenizer) -> Bool {
            let quotes = multiline ? 3 : 1
            for k in 0..<quotes where t.byte(k) != UInt8(ascii: "\"") { return false }
            for k in 0..<hashes where t.byte(quotes + k) != UInt8(ascii: "#") { return false }
            return true
        }
        while true {
            guard let c = byte() else { throw error("unterminated string literal", line: start) }
            if c == UInt8(ascii: "\n") {
                guard multiline else { throw error("unterminated string literal", line: start) }
                line += 1
                index += 1
            } else if c == UInt8(ascii: "\\") && (0..<hashes).allSatisfy({ byte(1 + $0) == UInt8(ascii: "#") }) {
                index += 1 + hashes
                if byte() == UInt8(ascii: "(") {
                    index += 1
                    try skipInterpolation()
                } else if let escaped = byte() {
                    if escaped == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                }
            } else if closesHere(self) {
                index += (multiline ? 3 : 1) + hashes
                return
            } else {
                index += 1
            }
        }
    }

    /// Skips the code of an interpolation up to its closing parenthesis.
    private mutating func skipInterpolation() throws(SourceError) {
        let start = line
        var depth = 1
        while depth > 0 {
            guard let c = byte() else { throw error("unterminated string interpolation", line: start) }
            if c == UInt8(ascii: "(") {
                depth += 1
            } else if c == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 {
                    index += 1
                    return
                }
            }
            try step(keep: false)
        }
    }
}
