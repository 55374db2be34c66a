/// Limits and identity a session needs; built from the configuration.
///
/// - SeeAlso: ``SMTPDefaults`` for the defaults and why.
public struct SessionConfiguration: Sendable {
    public var hostname: String
    public var maxMessageSize: Int
    public var maxRecipients: Int
    public var maxErrors: Int
    public var maxLineLength: Int
    public var bareLineEndings: BareLineEndingPolicy
    public var tlsAvailable: Bool

    public init(hostname: String, maxMessageSize: Int = SMTPDefaults.maxMessageSize, maxRecipients: Int = SMTPDefaults.maxRecipients,
                maxErrors: Int = SMTPDefaults.maxErrors, maxLineLength: Int = SMTPDefaults.maxLineLength,
                bareLineEndings: BareLineEndingPolicy = .reject, tlsAvailable: Bool = false) {
        self.hostname = hostname
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.maxErrors = maxErrors
        self.maxLineLength = maxLineLength
        self.bareLineEndings = bareLineEndings
        self.tlsAvailable = tlsAvailable
    }
}

/// Defaults for the protocol limits, with the reason for each.
public enum SMTPDefaults {
    /// 20 MB of attachments (QĐ 40/2022 Quảng Ninh Đ8 k1) is about 27.5 MB after base64 and line
    /// breaks; 35 MiB leaves room for the text parts and headers around them.
    public static let maxMessageSize = 35 * 1024 * 1024
    /// RFC 5321 4.5.3.1.8 asks servers to accept at least 100 recipients.
    public static let maxRecipients = 100
    /// Postfix's smtpd_hard_error_limit default.
    public static let maxErrors = 20
    /// A text line is at most 1000 octets including CRLF: RFC 5321 4.5.3.1.6.
    public static let maxLineLength = 1000
    /// Message lines longer than 1000 octets are common (HTML from generators, 4 KB header
    /// lines) and delivered by every MTA: Postfix reads them in `line_length_limit` (2048) pieces
    /// and never refuses them. ThuGate relays them unchanged; past 1 MiB without a line break,
    /// no mail software wrote the line.
    public static let maxDataLineLength = 1024 * 1024
}

/// The transaction as it stands: what the client asked and what the upstream accepted.
public struct Envelope: Sendable, Equatable {
    public var heloName: String
    public var esmtp: Bool
    public var sender: MailAddress
    public var parameters: MailParameters
    /// Recipients the upstream accepted, in order.
    public var recipients: [MailAddress] = []

    public init(heloName: String, esmtp: Bool, sender: MailAddress, parameters: MailParameters) {
        self.heloName = heloName
        self.esmtp = esmtp
        self.sender = sender
        self.parameters = parameters
    }
}

/// How the DATA phase ended, as seen by ``DataDecoder``.
public struct DataOutcome: Sendable, Equatable {
    public var tooBig: Bool
    public var bareLineEnding: Bool
    public var longLine: Bool
    public init(tooBig: Bool = false, bareLineEnding: Bool = false, longLine: Bool = false) {
        self.tooBig = tooBig
        self.bareLineEnding = bareLineEnding
        self.longLine = longLine
    }
}

/// The server side of one SMTP session, with no I/O: events in, actions out.
///
/// The handler runs the actions: it writes replies, talks to the upstream and reads DATA.
/// Every transaction step that the upstream must agree to (MAIL, RCPT, the message) is an
/// action that names what is awaited, and the reply goes to the client only when the
/// upstream's answer is known.
/// - SeeAlso: RFC 5321 4.1.4 (order of commands), 3.3 (transactions).
public struct SessionMachine: Sendable {
    public enum State: Sendable, Equatable {
        case greeted
        case ready(helo: String, esmtp: Bool)
        case awaitingMail(Envelope)
        case transaction(Envelope)
        case awaitingRecipient(Envelope, MailAddress)
        case data(Envelope)
        case delivering(Envelope)
        case closed
    }

    public enum Action: Sendable, Equatable {
        case reply(Reply)
        /// Open the upstream transaction with this sender; answer with ``mailReplied(_:)``.
        case forwardMail(Envelope)
        /// Pass this recipient on; answer with ``recipientReplied(_:)``.
        case forwardRecipient(MailAddress)
        /// Write 354 and decode DATA; answer with ``dataEnded(_:)``.
        case receiveData
        /// Hand the message on; answer with ``deliveryFinished(_:)``.
        case deliver(Envelope)
        /// Give up the upstream transaction (RSET upstream), then write the reply.
        case abortTransaction(Reply)
        /// Write the reply, then start TLS and discard whatever was buffered.
        case startTLS(Reply)
        /// Write the reply and close the connection.
        case close(Reply)
    }

    public let configuration: SessionConfiguration
    public private(set) var state: State = .greeted
    public private(set) var tlsActive = false
    public private(set) var errors = 0

    public init(configuration: SessionConfiguration) {
        self.configuration = configuration
    }

    public var greeting: Reply {
        // RFC 2034 3: no enhanced status in the greeting; RFC 5321 4.3.1: the domain comes first.
        Reply(code: 220, status: nil, lines: ["\(configuration.hostname) ESMTP ThuGate"])
    }

    /// Whether an upstream transaction is open (MAIL accepted and not yet finished).
    public var inTransaction: Bool {
        switch state {
        case .awaitingMail, .transaction, .awaitingRecipient, .data, .delivering: return true
        default: return false
        }
    }

    /// The extensions announced after EHLO.
    public var ehloReply: Reply {
        var lines = ["\(configuration.hostname) Xin chào / Hello"]
        lines.append("SIZE \(configuration.maxMessageSize)")
        lines.append("PIPELINING")
        lines.append("8BITMIME")
        lines.append("ENHANCEDSTATUSCODES")
        lines.append("SMTPUTF8")
        if configuration.tlsAvailable && !tlsActive { lines.append("STARTTLS") }
        lines.append("HELP")
        // The EHLO reply carries no enhanced status (RFC 2034 3: 250 lines of EHLO are keywords).
        return Reply(code: 250, status: nil, lines: lines)
    }

    /// A command line arrived (or could not be framed).
    public mutating func received(_ line: InboundFramer.CommandLine) -> Action {
        switch line {
        case .tooLong: return counted(.lineTooLong)
        case .bareLineEnding: return counted(.bareLineEnding)
        case .line(let bytes):
            do {
                return received(try SMTPCommand.parse(bytes.readableBytesView))
            } catch {
                return counted(error.reply)
            }
        }
    }

    public mutating func received(_ command: SMTPCommand) -> Action {
        switch (command, state) {
        case (_, .closed), (_, .awaitingMail), (_, .awaitingRecipient), (_, .data), (_, .delivering):
            // The handler never feeds a command while an answer is awaited.
            return counted(.badSequence)

        case (.ehlo(let name), _), (.helo(let name), _):
            let esmtp: Bool
            if case .ehlo = command { esmtp = true } else { esmtp = false }
            let wasInTransaction = inTransaction
            state = .ready(helo: name, esmtp: esmtp)
            let reply = esmtp ? ehloReply : Reply(code: 250, status: nil, lines: ["\(configuration.hostname)"])
            return wasInTransaction ? .abortTransaction(reply) : .reply(reply)

        case (.mail, .greeted):
            return counted(.needHelo)
        case (.mail, .transaction):
            return counted(.nestedMail)
        case (.mail(let sender, let parameters), .ready(let helo, let esmtp)):
            if let size = parameters.size, size > configuration.maxMessageSize { return counted(.messageTooBig) }
            if !sender.isASCII && !parameters.smtpUTF8 { return counted(.smtpUTF8Required) }
            let envelope = Envelope(heloName: helo, esmtp: esmtp, sender: sender, parameters: parameters)
            state = .awaitingMail(envelope)
            return .forwardMail(envelope)

        case (.rcpt, .greeted), (.rcpt, .ready):
            return counted(.needMail)
        case (.rcpt(let recipient), .transaction(let envelope)):
            if envelope.recipients.count >= configuration.maxRecipients { return counted(.tooManyRecipients) }
            if !recipient.isASCII && !envelope.parameters.smtpUTF8 { return counted(.smtpUTF8Required) }
            state = .awaitingRecipient(envelope, recipient)
            return .forwardRecipient(recipient)

        case (.data, .greeted), (.data, .ready):
            return counted(.needMail)
        case (.data, .transaction(let envelope)):
            guard !envelope.recipients.isEmpty else { return counted(.noValidRecipients) }
            state = .data(envelope)
            return .receiveData

        case (.rset, _):
            if case .transaction(let envelope) = state {
                state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
                return .abortTransaction(.resetOK)
            }
            return .reply(.resetOK)

        case (.noop, _): return .reply(.ok)
        case (.help, _): return .reply(.help)
        case (.vrfy, _): return .reply(.cannotVerify)
        case (.expn, _): return counted(.expandNotSupported)
        case (.quit, _):
            let wasInTransaction = inTransaction
            state = .closed
            return wasInTransaction ? .abortTransaction(.closing) : .close(.closing)

        case (.starttls, _):
            guard configuration.tlsAvailable else { return counted(.tlsNotAvailable) }
            guard !tlsActive else { return counted(.tlsAlreadyActive) }
            guard !inTransaction else { return counted(.badSequence) }
            // RFC 3207 4.2: everything known before TLS is forgotten; the client greets again.
            tlsActive = true
            state = .greeted
            return .startTLS(.readyToStartTLS)

        case (.notImplemented(let verb), _):
            return counted(.custom(502, EnhancedStatus(5, 5, 1), "Lệnh \(verb) không được hỗ trợ / \(verb) command not implemented"))
        }
    }

    /// The upstream answered MAIL (or could not be reached: the handler passes 451 4.4.1).
    public mutating func mailReplied(_ upstream: Reply) -> Action {
        guard case .awaitingMail(let envelope) = state else { return counted(.badSequence) }
        let reply = Self.completed(upstream, success: EnhancedStatus(2, 1, 0))
        if Self.mailAccepted(reply) {
            state = .transaction(envelope)
            return .reply(reply)
        }
        state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
        return counted(reply)
    }

    /// The upstream answered RCPT.
    public mutating func recipientReplied(_ upstream: Reply) -> Action {
        guard case .awaitingRecipient(var envelope, let recipient) = state else { return counted(.badSequence) }
        let reply = Self.completed(upstream, success: EnhancedStatus(2, 1, 5))
        if reply.code == 250 || reply.code == 251 { envelope.recipients.append(recipient) }
        state = .transaction(envelope)
        return reply.isPositive ? .reply(reply) : counted(reply)
    }

    /// The final dot arrived. The message is delivered only if nothing was wrong with it.
    public mutating func dataEnded(_ outcome: DataOutcome) -> Action {
        guard case .data(let envelope) = state else { return counted(.badSequence) }
        let refusal: Reply? =
            outcome.tooBig ? .messageTooBig :
            outcome.bareLineEnding && configuration.bareLineEndings == .reject ? .bareLineEnding :
            outcome.longLine ? .dataLineTooLong : nil
        if let refusal {
            state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
            switch counted(refusal) {
            case .close(let reply), .reply(let reply): return .abortTransaction(reply)
            case let other: return other
            }
        }
        state = .delivering(envelope)
        return .deliver(envelope)
    }

    /// The message was handed on (the upstream answered, or the delivery failed).
    public mutating func deliveryFinished(_ upstream: Reply) -> Action {
        guard case .delivering(let envelope) = state else { return counted(.badSequence) }
        state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
        let reply = Self.completed(upstream, success: EnhancedStatus(2, 0, 0))
        return reply.isPositive ? .reply(reply) : counted(reply)
    }

    /// The connection is gone; nothing more will be read.
    public mutating func closed() { state = .closed }

    /// Counts an error reply; past the limit the session ends (Postfix: smtpd_hard_error_limit).
    private mutating func counted(_ reply: Reply) -> Action {
        guard reply.code >= 400 else { return .reply(reply) }
        errors += 1
        if errors >= configuration.maxErrors {
            let wasInTransaction = inTransaction
            state = .closed
            return wasInTransaction ? .abortTransaction(.tooManyErrors) : .close(.tooManyErrors)
        }
        return .reply(reply)
    }

    /// Whether the upstream's answer to MAIL opened a transaction: any 2xx (RFC 5321 4.2.1).
    public static func mailAccepted(_ reply: Reply) -> Bool {
        reply.code / 100 == 2
    }

    /// Every reply carries an enhanced status (RFC 2034); a server that sent none gets the
    /// generic one for its class, or the one that fits the command when it succeeded.
    /// An upstream's 421 becomes 451: it closes its own connection, not the client's session.
    static func completed(_ reply: Reply, success: EnhancedStatus) -> Reply {
        var reply = reply
        if reply.code == 421 { reply.code = 451 }
        guard reply.status == nil else { return reply }
        switch reply.code / 100 {
        case 2: reply.status = success
        case 4: reply.status = EnhancedStatus(4, 0, 0)
        case 5: reply.status = EnhancedStatus(5, 0, 0)
        default: break
        }
        return reply
    }
}
