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
    public enum Body: String, Sendable { case sevenBit = "7BIT", eightBitMIME = "8BITMIME" }
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
        }
    }
}

extension SMTPCommand {
    /// Parses one command line (without its CRLF).
    ///
    /// Verbs are case-insensitive. Paths are accepted with or without the angle brackets and
    /// with a space after the colon, as Postfix does, but are always passed on in the strict form.
    public static func parse(_ line: some Collection<UInt8>) throws(SMTPCommandError) -> SMTPCommand {
        // Commands are ASCII, addresses may be UTF-8 (RFC 6531); anything else is a syntax error.
        guard let text = String(validating: line, as: UTF8.self) else { throw SMTPCommandError(.syntax) }
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let argument = text[verbEnd...].drop(while: { $0 == " " })
        let trimmedArgument = String(argument.reversed().drop(while: { $0 == " " }).reversed())

        switch verb {
        case "EHLO", "HELO":
            guard !trimmedArgument.isEmpty, !trimmedArgument.contains(" ") else { throw SMTPCommandError(.syntax) }
            return verb == "EHLO" ? .ehlo(trimmedArgument) : .helo(trimmedArgument)
        case "MAIL":
            let (address, rest) = try parsePath(argument, keyword: "FROM:", allowNull: true)
            return .mail(address, try parseMailParameters(rest))
        case "RCPT":
            let (address, rest) = try parsePath(argument, keyword: "TO:", allowNull: false)
            if let name = rest.split(separator: " ").first {
                // DSN (RFC 3461) is not announced, so no RCPT parameter is valid.
                throw SMTPCommandError(.unknownParameter(String(name.prefix(while: { $0 != "=" })).uppercased()))
            }
            return .rcpt(address)
        case "DATA", "RSET", "QUIT", "STARTTLS":
            guard trimmedArgument.isEmpty else { throw SMTPCommandError(.syntax) }
            switch verb {
            case "DATA": return .data
            case "RSET": return .rset
            case "QUIT": return .quit
            default: return .starttls
            }
        case "NOOP": return .noop
        case "HELP": return .help
        case "VRFY", "EXPN":
            guard !trimmedArgument.isEmpty else { throw SMTPCommandError(.syntax) }
            return verb == "VRFY" ? .vrfy(trimmedArgument) : .expn(trimmedArgument)
        case "BDAT", "AUTH", "ETRN", "TURN", "ATRN", "SEND", "SOML", "SAML", "VERB", "ONEX", "XCLIENT", "XFORWARD":
            return .notImplemented(verb)
        default:
            throw SMTPCommandError(.unknownCommand)
        }
    }

    /// `FROM:<path> rest` → (address, rest). Source routes (`<@a,@b:user@c>`) are dropped as
    /// RFC 5321 4.1.1.3 allows.
    private static func parsePath(_ argument: Substring, keyword: String, allowNull: Bool) throws(SMTPCommandError) -> (MailAddress, Substring) {
        guard argument.uppercased().hasPrefix(keyword) else { throw SMTPCommandError(.syntax) }
        var rest = argument.dropFirst(keyword.count).drop(while: { $0 == " " })
        var path: Substring
        if rest.first == "<" {
            guard let close = closingBracket(in: rest) else { throw SMTPCommandError(.syntax) }
            path = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
            guard rest.isEmpty || rest.first == " " else { throw SMTPCommandError(.syntax) }
        } else {
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            path = rest[..<end]
            rest = rest[end...]
            guard !path.isEmpty else { throw SMTPCommandError(.syntax) }
        }
        if path.first == "@" {
            guard let colon = path.firstIndex(of: ":") else { throw SMTPCommandError(.syntax) }
            path = path[path.index(after: colon)...]
        }
        let address = String(path)
        if address.isEmpty {
            guard allowNull else { throw SMTPCommandError(.syntax) }
        } else {
            try validateMailbox(address)
        }
        return (MailAddress(address), rest.drop(while: { $0 == " " }))
    }

    /// The `>` that closes the path, skipping quoted local parts such as `<"a>b"@c>`.
    private static func closingBracket(in text: Substring) -> Substring.Index? {
        var quoted = false
        var escaped = false
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let c = text[index]
            if escaped { escaped = false } else if c == "\\" && quoted { escaped = true } else if c == "\"" { quoted.toggle() } else if c == ">" && !quoted { return index }
            index = text.index(after: index)
        }
        return nil
    }

    /// A mailbox is `local-part@domain` (RFC 5321 4.1.2); `postmaster` alone is allowed for RCPT.
    private static func validateMailbox(_ address: String) throws(SMTPCommandError) {
        if address.lowercased() == "postmaster" { return }
        guard let at = address.lastIndex(of: "@") else { throw SMTPCommandError(.syntax) }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty, local.utf8.count <= 64, domain.utf8.count <= 255 else {
            throw SMTPCommandError(.syntax)
        }
        let quotedLocal = local.first == "\"" && local.last == "\"" && local.count >= 2
        for scalar in address.unicodeScalars where scalar.value < 0x21 || scalar.value == 0x7F {
            // Spaces are allowed only inside a quoted local part.
            if !(quotedLocal && scalar == " " && address[..<at].unicodeScalars.contains(scalar)) {
                throw SMTPCommandError(.syntax)
            }
        }
        if !quotedLocal && local.contains(where: { "<>()[],;:\"\\".contains($0) }) { throw SMTPCommandError(.syntax) }
        if domain.first == "[" {
            guard domain.last == "]" else { throw SMTPCommandError(.syntax) }
        } else if domain.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) || domain.hasPrefix(".") || domain.hasSuffix(".") || domain.contains("..") {
            throw SMTPCommandError(.syntax)
        }
    }

    private static func parseMailParameters(_ text: Substring) throws(SMTPCommandError) -> MailParameters {
        var parameters = MailParameters()
        for token in text.split(separator: " ") {
            let name: String
            let value: Substring?
            if let eq = token.firstIndex(of: "=") {
                name = token[..<eq].uppercased()
                value = token[token.index(after: eq)...]
            } else {
                name = token.uppercased()
                value = nil
            }
            switch name {
            case "SIZE":
                guard let value, !value.isEmpty, value.count <= 20, value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber) else {
                    throw SMTPCommandError(.badParameterValue("SIZE"))
                }
                parameters.size = Int(value) ?? Int.max
            case "BODY":
                guard let value, let body = MailParameters.Body(rawValue: value.uppercased()) else {
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
