public import NIOCore

/// A command from an SMTP client.
///
/// - SeeAlso: RFC 5321 4.1.1, RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8),
///   RFC 3207 (STARTTLS).
public enum SMTPCommand: Equatable, Sendable {
    case ehlo(String)
    case helo(String)
    case mail(MailAddress, MailParameters)
    case rcpt(MailAddress)
    case data
    case rset
    case noop
    case quit
    case help
    case vrfy(String)
    case expn(String)
    case starttls
    /// Client attributes a proxy passes on (Postfix XFORWARD), written `NAME=xtext` each.
    case xforward([XForward.Attribute])
    /// A verb that exists in SMTP but that ThuGate does not offer (BDAT, AUTH, ETRN, ...).
    case notImplemented(String)
}

/// An address as written in a MAIL or RCPT path, without the angle brackets and source route.
/// The empty address is the null reverse path `<>` (RFC 5321 4.5.5).
public struct MailAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: String
    public init(_ address: String) { self.address = address }
    public var isNull: Bool { address.isEmpty }
    public var isASCII: Bool { address.utf8.allSatisfy { $0 < 0x80 } }
    /// The domain part (after the last `@`), lowercased; empty when there is none.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }
    public var description: String { "<\(address)>" }
}

/// Parameters of `MAIL FROM` that ThuGate understands and passes on.
public struct MailParameters: Equatable, Sendable {
    public enum Body: String, Sendable {
        case sevenBit = "7BIT"
        case eightBitMIME = "8BITMIME"
    }
    public var size: Int?
    public var body: Body?
    public var smtpUTF8: Bool = false
    public init(size: Int? = nil, body: Body? = nil, smtpUTF8: Bool = false) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
    }

    /// The parameters as written after `MAIL FROM:<...>`, for the upstream command.
    /// `SIZE` is left out: ThuGate adds a trace header, so the client's estimate is not ours.
    public var wireText: String {
        var text = ""
        if let body { text += " BODY=\(body.rawValue)" }
        if smtpUTF8 { text += " SMTPUTF8" }
        return text
    }
}

/// Why a command line could not be accepted.
public struct SMTPCommandError: Error, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case unknownCommand
        case syntax
        case unknownParameter(String)
        case badParameterValue(String)
        /// The address itself is malformed (RFC 3463: X.1.7 sender, X.1.3 recipient).
        case badSenderAddress
        case badRecipientAddress
    }
    public var kind: Kind
    public init(_ kind: Kind) { self.kind = kind }

    public var reply: Reply {
        switch kind {
        case .unknownCommand: return .unknownCommand
        case .syntax: return .parameterSyntax
        case .unknownParameter(let name):
            return .custom(555, EnhancedStatus(5, 5, 4), "Tham số \(name) không được hỗ trợ / \(name) parameter not supported")
        case .badParameterValue(let name):
            return .custom(501, EnhancedStatus(5, 5, 4), "Giá trị tham số \(name) không hợp lệ / Bad \(name) parameter value")
        case .badSenderAddress:
            return .custom(501, EnhancedStatus(5, 1, 7), "Địa chỉ người gửi không hợp lệ / Bad sender address syntax")
        case .badRecipientAddress:
            return .custom(501, EnhancedStatus(5, 1, 3), "Địa chỉ người nhận không hợp lệ / Bad recipient address syntax")
        }
    }
}

extension SMTPCommand {
    /// Parses one command line (without its CRLF).
    ///
    /// Verbs are case-insensitive. Paths are accepted with or without the angle brackets and
    /// with a space after the colon, as Postfix does, but are always passed on in the strict form.
    /// Works on the bytes (commands are ASCII, addresses UTF-8 per RFC 6531): this runs for every
    /// command of every session.
    public static func parse(_ line: some Collection<UInt8>) throws(SMTPCommandError) -> SMTPCommand {
        let bytes = Array(line)
        // Anything that is not UTF-8 is a syntax error.
        guard String(validating: bytes, as: UTF8.self) != nil else { throw SMTPCommandError(.syntax) }
        let verbEnd = bytes.firstIndex(of: space) ?? bytes.endIndex
        guard verbEnd <= 12 else { throw SMTPCommandError(.unknownCommand) }
        let verb = String(decoding: bytes[..<verbEnd].map(asciiUppercased), as: UTF8.self)
        var argStart = verbEnd
        while argStart < bytes.endIndex && bytes[argStart] == space { argStart += 1 }
        var argEnd = bytes.endIndex
        while argEnd > argStart && bytes[argEnd - 1] == space { argEnd -= 1 }
        let argument = bytes[argStart..<argEnd]

        switch verb {
        case "EHLO", "HELO":
            guard !argument.isEmpty, !argument.contains(space) else { throw SMTPCommandError(.syntax) }
            let name = String(decoding: argument, as: UTF8.self)
            return verb == "EHLO" ? .ehlo(name) : .helo(name)
        case "MAIL":
            let (address, rest) = try parsePath(argument, keyword: mailKeyword, allowNull: true)
            return .mail(address, try parseMailParameters(rest))
        case "RCPT":
            let (address, rest) = try parsePath(argument, keyword: rcptKeyword, allowNull: false)
            if !rest.isEmpty {
                // DSN (RFC 3461) is not announced, so no RCPT parameter is valid.
                let name = rest.prefix(while: { $0 != space && $0 != UInt8(ascii: "=") })
                throw SMTPCommandError(.unknownParameter(String(decoding: name.map(asciiUppercased), as: UTF8.self)))
            }
            return .rcpt(address)
        case "DATA", "RSET", "QUIT", "STARTTLS":
            guard argument.isEmpty else { throw SMTPCommandError(.syntax) }
            switch verb {
            case "DATA": return .data
            case "RSET": return .rset
            case "QUIT": return .quit
            default: return .starttls
            }
        case "NOOP": return .noop
        case "HELP": return .help
        case "VRFY", "EXPN":
            guard !argument.isEmpty else { throw SMTPCommandError(.syntax) }
            let text = String(decoding: argument, as: UTF8.self)
            return verb == "VRFY" ? .vrfy(text) : .expn(text)
        case "BDAT", "AUTH", "ETRN", "TURN", "ATRN", "SEND", "SOML", "SAML", "VERB", "ONEX", "XCLIENT", "XFORWARD":
            return .notImplemented(verb)
        default:
            throw SMTPCommandError(.unknownCommand)
        }
    }

    /// `FROM:<path> rest` → (address, rest). Source routes (`<@a,@b:user@c>`) are dropped as
    /// RFC 5321 4.1.1.3 allows.
    private static func parsePath(
        _ argument: ArraySlice<UInt8>,
        keyword: [UInt8],
        allowNull: Bool
    ) throws(SMTPCommandError) -> (MailAddress, ArraySlice<UInt8>) {
        guard argument.count >= keyword.count,
            zip(argument.prefix(keyword.count), keyword).allSatisfy({ asciiUppercased($0) == $1 })
        else { throw SMTPCommandError(.syntax) }
        var rest = argument.dropFirst(keyword.count).drop(while: { $0 == space })
        var path: ArraySlice<UInt8>
        if rest.first == UInt8(ascii: "<") {
            guard let close = closingBracket(in: rest) else { throw SMTPCommandError(.syntax) }
            path = rest[(rest.startIndex + 1)..<close]
            rest = rest[(close + 1)...]
            guard rest.isEmpty || rest.first == space else { throw SMTPCommandError(.syntax) }
        } else {
            let end = rest.firstIndex(of: space) ?? rest.endIndex
            path = rest[..<end]
            rest = rest[end...]
            guard !path.isEmpty else { throw SMTPCommandError(.syntax) }
        }
        if path.first == UInt8(ascii: "@") {
            guard let colon = path.firstIndex(of: UInt8(ascii: ":")) else { throw SMTPCommandError(.syntax) }
            path = path[(colon + 1)...]
        }
        if path.isEmpty {
            guard allowNull else { throw SMTPCommandError(.badRecipientAddress) }
        } else {
            do {
                try validateMailbox(path)
            } catch {
                throw SMTPCommandError(allowNull ? .badSenderAddress : .badRecipientAddress)
            }
        }
        return (MailAddress(String(decoding: path, as: UTF8.self)), rest.drop(while: { $0 == space }))
    }

    /// The `>` that closes the path, skipping quoted local parts such as `<"a>b"@c>`.
    private static func closingBracket(in text: ArraySlice<UInt8>) -> Int? {
        var quoted = false
        var escaped = false
        var index = text.startIndex + 1
        while index < text.endIndex {
            let c = text[index]
            if escaped {
                escaped = false
            } else if c == UInt8(ascii: "\\") && quoted {
                escaped = true
            } else if c == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if c == UInt8(ascii: ">") && !quoted {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The longest local part accepted: ThuGate's own cap, the length RFC 5321 4.5.3.1.3 allows a
    /// whole path.
    static let maxLocalPart = 256

    /// A mailbox is `local-part@domain` (RFC 5321 4.1.2, RFC 6531 3.3 for UTF-8); `postmaster`
    /// alone is allowed for RCPT.
    private static func validateMailbox(_ address: ArraySlice<UInt8>) throws(SMTPCommandError) {
        if address.count == 10 && address.map(asciiUppercased) == Array("POSTMASTER".utf8) { return }
        guard let at = address.lastIndex(of: UInt8(ascii: "@")) else { throw SMTPCommandError(.syntax) }
        let local = address[..<at]
        let domain = address[(at + 1)...]
        // RFC 5321 4.5.3.1.1 gives a local part 64 octets, but 4.5.3.1 asks to avoid such limits
        // where possible: SRS senders of long or VERP addresses are longer, and Postfix accepts
        // them. ThuGate's own cap (`maxLocalPart`) bounds what it keeps.
        guard !local.isEmpty, !domain.isEmpty, local.count <= maxLocalPart, domain.count <= 255 else { throw SMTPCommandError(.syntax) }
        let quotedLocal = local.count >= 2 && local.first == UInt8(ascii: "\"") && local.last == UInt8(ascii: "\"")
        for byte in local {
            if byte == 0x7F || byte < 0x20 { throw SMTPCommandError(.syntax) }
            // Specials and spaces only inside a quoted local part.
            if !quotedLocal && (byte == space || localSpecials.contains(byte)) { throw SMTPCommandError(.syntax) }
        }
        // A quoted local part is one Quoted-string: a quote or backslash inside is escaped, or
        // `"a"b"@c` would be accepted here and read differently once relayed as `<"a"b"@c>`
        // (found by `Scripts/fuzz command`).
        if quotedLocal {
            var index = local.startIndex + 1
            while index < local.endIndex - 1 {
                if local[index] == UInt8(ascii: "\\") {
                    guard index + 1 < local.endIndex - 1 else { throw SMTPCommandError(.syntax) }
                    index += 1
                } else if local[index] == UInt8(ascii: "\"") {
                    throw SMTPCommandError(.syntax)
                }
                index += 1
            }
        }
        if domain.first == UInt8(ascii: "[") {
            // dcontent (RFC 5321 4.1.3) has no `[`, `\` or `]`; `<` and `>` are refused too, so a
            // literal cannot close the `<path>` early when the address is relayed.
            let inner = domain.dropFirst().dropLast()
            guard domain.count >= 2, domain.last == UInt8(ascii: "]"),
                !inner.contains(where: { $0 <= space || $0 == 0x7F || literalSpecials.contains($0) })
            else { throw SMTPCommandError(.syntax) }
            return
        }
        guard domain.first != UInt8(ascii: "."), domain.last != UInt8(ascii: ".") else { throw SMTPCommandError(.syntax) }
        var previous: UInt8 = 0
        for byte in domain {
            let ok =
                byte >= 0x80  // U-label bytes (RFC 6531)
                || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            guard ok, !(byte == UInt8(ascii: ".") && previous == UInt8(ascii: ".")) else { throw SMTPCommandError(.syntax) }
            previous = byte
        }
    }

    private static func parseMailParameters(_ text: ArraySlice<UInt8>) throws(SMTPCommandError) -> MailParameters {
        var parameters = MailParameters()
        for token in text.split(separator: space) {
            let eq = token.firstIndex(of: UInt8(ascii: "="))
            let name = String(decoding: token[..<(eq ?? token.endIndex)].map(asciiUppercased), as: UTF8.self)
            let value = eq.map { token[($0 + 1)...] }
            switch name {
            case "SIZE":
                guard let value, !value.isEmpty, value.count <= 20,
                    value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
                else { throw SMTPCommandError(.badParameterValue("SIZE")) }
                parameters.size = Int(String(decoding: value, as: UTF8.self)) ?? Int.max
            case "BODY":
                guard let value, let body = MailParameters.Body(rawValue: String(decoding: value.map(asciiUppercased), as: UTF8.self))
                else {
                    throw SMTPCommandError(.badParameterValue("BODY"))
                }
                parameters.body = body
            case "SMTPUTF8":
                guard value == nil else { throw SMTPCommandError(.badParameterValue("SMTPUTF8")) }
                parameters.smtpUTF8 = true
            default:
                throw SMTPCommandError(.unknownParameter(name))
            }
        }
        return parameters
    }
}

extension SMTPCommand {
    /// Writes the command as a client sends it, CRLF included: paths in angle brackets, the
    /// MAIL parameters the value holds (`SIZE`, `BODY`, `SMTPUTF8`, in that order).
    ///
    /// A CR or LF inside an argument is never written: it would end the command early and
    /// smuggle a second one (arguments come from parsed commands and the configuration, which
    /// hold none, so this is only a guard).
    /// - SeeAlso: RFC 5321 4.1.1, RFC 1870 6, RFC 6152 2, RFC 6531 3.4.
    public func write(into buffer: inout ByteBuffer) {
        switch self {
        case .ehlo(let name): writeLine(&buffer, "EHLO ", name)
        case .helo(let name): writeLine(&buffer, "HELO ", name)
        case .mail(let sender, let parameters):
            buffer.writeStaticString("MAIL FROM:<")
            writeText(&buffer, sender.address)
            buffer.writeStaticString(">")
            if let size = parameters.size {
                buffer.writeStaticString(" SIZE=")
                buffer.writeString(String(size))
            }
            if let body = parameters.body {
                buffer.writeStaticString(" BODY=")
                buffer.writeString(body.rawValue)
            }
            if parameters.smtpUTF8 { buffer.writeStaticString(" SMTPUTF8") }
            buffer.writeStaticString("\r\n")
        case .rcpt(let recipient):
            buffer.writeStaticString("RCPT TO:<")
            writeText(&buffer, recipient.address)
            buffer.writeStaticString(">\r\n")
        case .data: buffer.writeStaticString("DATA\r\n")
        case .rset: buffer.writeStaticString("RSET\r\n")
        case .noop: buffer.writeStaticString("NOOP\r\n")
        case .quit: buffer.writeStaticString("QUIT\r\n")
        case .help: buffer.writeStaticString("HELP\r\n")
        case .starttls: buffer.writeStaticString("STARTTLS\r\n")
        case .vrfy(let text): writeLine(&buffer, "VRFY ", text)
        case .expn(let text): writeLine(&buffer, "EXPN ", text)
        case .notImplemented(let verb): writeLine(&buffer, "", verb)
        case .xforward(let attributes):
            buffer.writeStaticString("XFORWARD")
            for attribute in attributes {
                buffer.writeStaticString(" ")
                buffer.writeString(attribute.name)
                buffer.writeStaticString("=")
                XForward.writeXText(attribute.value, into: &buffer)
            }
            buffer.writeStaticString("\r\n")
        }
    }

    /// The command as written on the wire (CRLF included), for logs and tests.
    public var wireText: String {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        write(into: &buffer)
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }

    private func writeLine(_ buffer: inout ByteBuffer, _ verb: StaticString, _ argument: String) {
        buffer.writeStaticString(verb)
        writeText(&buffer, argument)
        buffer.writeStaticString("\r\n")
    }

    private func writeText(_ buffer: inout ByteBuffer, _ text: String) {
        if text.utf8.contains(where: { $0 == 13 || $0 == 10 }) {
            for byte in text.utf8 where byte != 13 && byte != 10 { buffer.writeInteger(byte) }
        } else {
            buffer.writeString(text)
        }
    }
}

private let space = UInt8(ascii: " ")
private let mailKeyword = Array("FROM:".utf8)
private let rcptKeyword = Array("TO:".utf8)
/// RFC 5322 specials (`@` included: `<@a@b.vn>` would read as a source route once relayed).
private let localSpecials = Set("<>()[],;:@\"\\".utf8)
private let literalSpecials = Set("[]\\<>".utf8)

@inline(__always)
private func asciiUppercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
}
