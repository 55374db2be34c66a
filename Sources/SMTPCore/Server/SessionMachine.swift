public import NIOCore

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
    /// How long the client may stay silent when a command (or the reading of our replies) is awaited.
    public var commandTimeout: TimeAmount
    /// How long the client may stay silent between two pieces of message data.
    public var dataTimeout: TimeAmount
    /// Policy the envelope alone decides, asked for each recipient before the upstream hears of
    /// it (the rules that refuse at RCPT); nil: none.
    public var recipientPolicy: (any RecipientPolicy)?

    public init(
        hostname: String,
        maxMessageSize: Int = SMTPDefaults.maxMessageSize,
        maxRecipients: Int = SMTPDefaults.maxRecipients,
        maxErrors: Int = SMTPDefaults.maxErrors,
        maxLineLength: Int = SMTPDefaults.maxLineLength,
        bareLineEndings: BareLineEndingPolicy = .reject,
        tlsAvailable: Bool = false,
        commandTimeout: TimeAmount = SMTPDefaults.commandTimeout,
        dataTimeout: TimeAmount = SMTPDefaults.dataTimeout,
        recipientPolicy: (any RecipientPolicy)? = nil
    ) {
        self.recipientPolicy = recipientPolicy
        self.hostname = hostname
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
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
    /// RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the next command.
    public static let commandTimeout = TimeAmount.minutes(5)
    /// RFC 5321 4.5.3.2.5 asks 3 minutes between two blocks of data.
    public static let dataTimeout = TimeAmount.minutes(3)
}

/// Why a recipient is refused at RCPT, before the upstream hears of it.
public struct RecipientRefusal: Sendable, Equatable {
    public var reply: Reply
    /// What the log says about it (the rule and its finding); nil for the protocol's own limits.
    public var reason: String?

    public init(_ reply: Reply, reason: String? = nil) {
        self.reply = reply
        self.reason = reason
    }
}

/// Policy that MAIL FROM and the recipient alone decide, one recipient at a time. Nothing else
/// (not the recipients accepted so far) goes in, so that a pipelined RCPT judged when the
/// lookahead decides whether it goes upstream with MAIL is judged the same when its turn comes.
/// Asked at least twice for a pipelined recipient: it must be pure and cheap.
public protocol RecipientPolicy: Sendable {
    func refusal(of recipient: MailAddress, from sender: MailAddress) -> RecipientRefusal?
}

/// The transaction as it stands: what the client asked and what the upstream accepted.
public struct Envelope: Sendable, Equatable {
    public var heloName: String
    public var esmtp: Bool
    public var sender: MailAddress
    public var parameters: MailParameters
    /// Recipients the upstream accepted, in order.
    public var recipients: [MailAddress] = []
    /// The client, as XFORWARD passes it to the upstream; nil for mail ThuGate sends itself.
    public var origin: ClientOrigin?

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

/// What inspection decided about a received message, as the session needs to know it.
public enum MessageDecision: Sendable, Equatable {
    /// Send it on upstream (clean, or tagged); answer with ``SessionMachine/relayed(_:)``.
    case relay
    /// Keep it out of the mail flow in the quarantine; answer with ``SessionMachine/held(_:)``.
    case hold
    /// Refuse it with this reply (5xx).
    case refuse(Reply)
    /// Ask the client to try again later with this reply (4xx): a tempfail rule, or a scan that failed.
    case `defer`(Reply)
}

/// When the client must speak (or read) again, and whether a shutdown may end the session then.
public struct ClientWait: Sendable, Equatable {
    public var deadline: NIODeadline
    /// No transaction is open: a graceful shutdown may close the session with 421 4.3.2.
    public var betweenTransactions: Bool

    public init(deadline: NIODeadline, betweenTransactions: Bool) {
        self.deadline = deadline
        self.betweenTransactions = betweenTransactions
    }
}

/// The server side of one SMTP session, with no I/O: events in, actions out.
///
/// The handler runs the actions: it writes replies, talks to the upstream and reads DATA.
/// Every transaction step that the upstream must agree to (MAIL, RCPT, the message) is an
/// action that names what is awaited, and the reply goes to the client only when the
/// upstream's answer is known. The commands the client pipelined behind MAIL, and the
/// upstream's replies to those passed on early, are kept here too (``PipelineLookahead``).
/// - SeeAlso: RFC 5321 4.1.4 (order of commands), 3.3 (transactions), RFC 2920 (pipelining).
public struct SessionMachine: Sendable {
    public enum State: Sendable, Equatable {
        case greeted
        case ready(helo: String, esmtp: Bool)
        case awaitingMail(Envelope)
        case transaction(Envelope)
        case awaitingRecipient(Envelope, MailAddress)
        case data(Envelope)
        /// The final dot arrived; the message is being inspected.
        case inspecting(Envelope)
        /// The message is being sent upstream.
        case relaying(Envelope)
        /// The message is being written to the quarantine.
        case holding(Envelope)
        case closed
    }

    public enum Action: Sendable, Equatable {
        case reply(Reply)
        /// Open the upstream transaction with this sender and send along the commands the
        /// client pipelined behind MAIL (RFC 2920); answer with ``mailReplied(_:)``, MAIL's reply first.
        case forwardMail(Envelope, pipelined: [SMTPCommand])
        /// Pass this recipient on; answer with ``recipientReplied(_:)``.
        case forwardRecipient(MailAddress)
        /// Write 354 and decode DATA; answer with ``dataEnded(_:)`` or ``storageFailed()``.
        case receiveData
        /// Inspect the message; answer with ``inspected(_:)``.
        case inspect(Envelope)
        /// Send the message upstream; answer with ``relayed(_:)``.
        case relay(Envelope)
        /// Give up the upstream transaction and write the message to the quarantine; answer with ``held(_:)``.
        case hold(Envelope)
        /// Give up the upstream transaction (RSET upstream, drop the message), then write the reply.
        case abortTransaction(Reply)
        /// Write the reply, then start TLS and discard whatever was buffered.
        case startTLS(Reply)
        /// Write the reply and close the connection.
        case close(Reply)
        /// The recipient policy refused a recipient of this sender: log why, then write the reply.
        case refusedRecipient(MailAddress, from: MailAddress, reason: String, reply: Reply)
    }

    public let configuration: SessionConfiguration
    public private(set) var state: State = .greeted
    public private(set) var tlsActive = false
    public private(set) var errors = 0
    /// Commands read from the input ahead of time (pipelined behind MAIL).
    public private(set) var lookahead = PipelineLookahead()
    /// The upstream's reply to the command being handled, when it went upstream with MAIL.
    private var answeredEarly: Reply?
    /// Recipients of the open transaction the recipient policy refused.
    private var policyRefusals = 0

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
        case .awaitingMail, .transaction, .awaitingRecipient, .data, .inspecting, .relaying, .holding: return true
        case .greeted, .ready, .closed: return false
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

    // MARK: Deadlines

    /// ThuGate waits for the client's next bytes (a command, or message data in DATA).
    /// - SeeAlso: RFC 5321 4.5.3.2.
    public func awaitingInput(now: NIODeadline) -> ClientWait {
        if case .data = state { return ClientWait(deadline: now + configuration.dataTimeout, betweenTransactions: false) }
        return ClientWait(deadline: now + configuration.commandTimeout, betweenTransactions: !inTransaction)
    }

    /// ThuGate waits for the client to read the replies it wrote: a client that does not read
    /// is cut off like a silent one.
    public func awaitingOutput(now: NIODeadline) -> ClientWait {
        ClientWait(deadline: now + configuration.commandTimeout, betweenTransactions: false)
    }

    // MARK: Commands

    /// The next command to handle from what was read: one taken ahead of time first, then one
    /// from the framer. Nil when more input is needed. A MAIL read here takes the recipients
    /// (and DATA) pipelined right behind it along (``Action/forwardMail(_:pipelined:)``).
    public mutating func nextCommand(from framer: inout InboundFramer) -> Action? {
        let action: Action
        if let pending = lookahead.next() {
            answeredEarly = pending.upstreamReply
            action = pending.command.map { received($0) } ?? received(pending.line)
            answeredEarly = nil
        } else {
            guard
                let line = framer.nextCommandLine(
                    maxLength: configuration.maxLineLength,
                    bareLineEndings: configuration.bareLineEndings
                )
            else { return nil }
            action = received(line)
        }
        // A MAIL read ahead is the last command of the lookahead: what follows it is read now.
        if case .forwardMail(let envelope, _) = action, lookahead.isEmpty {
            let configuration = self.configuration
            return .forwardMail(envelope, pipelined: lookahead.take(from: &framer, behind: envelope, configuration: configuration))
        }
        return action
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
        case (_, .closed), (_, .awaitingMail), (_, .awaitingRecipient), (_, .data), (_, .inspecting), (_, .relaying), (_, .holding):
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
            policyRefusals = 0
            return .forwardMail(envelope, pipelined: [])

        case (.rcpt, .greeted), (.rcpt, .ready):
            return counted(.needMail)
        case (.rcpt(let recipient), .transaction(let envelope)):
            let asked = envelope.recipients.count + policyRefusals
            if let refusal = Self.refusal(of: recipient, after: asked, in: envelope, configuration: configuration) {
                guard let reason = refusal.reason else { return counted(refusal.reply) }
                // A policy's answer, not the client's error: it does not count toward the error
                // limit (a forwarder's alias of 30 outside mailboxes must not be cut off), but it
                // counts toward the recipients a transaction may ask for.
                policyRefusals += 1
                return .refusedRecipient(recipient, from: envelope.sender, reason: reason, reply: refusal.reply)
            }
            state = .awaitingRecipient(envelope, recipient)
            // Passed on with MAIL already: its reply is known.
            if let reply = answeredEarly {
                answeredEarly = nil
                return recipientReplied(reply)
            }
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
            lookahead = PipelineLookahead()
            return .startTLS(.readyToStartTLS)

        case (.notImplemented(let verb), _):
            return counted(.custom(502, EnhancedStatus(5, 5, 1), "Lệnh \(verb) không được hỗ trợ / \(verb) command not implemented"))
        case (.xforward, _):
            // Only written towards the upstream: the parser reads XFORWARD from a client as not implemented.
            return counted(.custom(502, EnhancedStatus(5, 5, 1), "Lệnh XFORWARD không được hỗ trợ / XFORWARD command not implemented"))
        }
    }

    /// Why this session refuses a recipient itself, before the upstream hears of it; nil when
    /// it goes upstream. The one rule for RCPT, whether pipelined behind MAIL or not: the
    /// protocol's limits first, then the recipient policy.
    static func refusal(
        of recipient: MailAddress,
        after accepted: Int,
        in envelope: Envelope,
        configuration: SessionConfiguration
    ) -> RecipientRefusal? {
        if accepted >= configuration.maxRecipients { return RecipientRefusal(.tooManyRecipients) }
        if !recipient.isASCII && !envelope.parameters.smtpUTF8 { return RecipientRefusal(.smtpUTF8Required) }
        return configuration.recipientPolicy?.refusal(of: recipient, from: envelope.sender)
    }

    /// A graceful shutdown began: a session between transactions ends now; one with a message
    /// in flight goes on (nil).
    public mutating func shutdownRequested() -> Action? {
        guard !inTransaction, state != .closed else { return nil }
        state = .closed
        return .close(.shuttingDown)
    }

    // MARK: Upstream replies

    /// The upstream answered MAIL and the commands passed on with it, MAIL's reply first (or
    /// could not be reached: the handler passes 451 4.4.1 for each).
    public mutating func mailReplied(_ replies: [Reply]) -> Action {
        guard let first = replies.first else { return mailReplied(.upstreamUnavailable) }
        lookahead.upstreamReplied(replies.dropFirst())
        return mailReplied(first)
    }

    /// The upstream answered MAIL.
    public mutating func mailReplied(_ upstream: Reply) -> Action {
        guard case .awaitingMail(let envelope) = state else { return counted(.badSequence) }
        let reply = Self.completed(upstream, success: EnhancedStatus(2, 1, 0))
        // RFC 5321 4.2.1: any 2xx opens the transaction. The one place that decides it.
        if reply.code / 100 == 2 {
            state = .transaction(envelope)
            return .reply(reply)
        }
        state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
        return aborting(counted(reply))
    }

    /// The upstream answered RCPT.
    public mutating func recipientReplied(_ upstream: Reply) -> Action {
        guard case .awaitingRecipient(var envelope, let recipient) = state else { return counted(.badSequence) }
        let reply = Self.completed(upstream, success: EnhancedStatus(2, 1, 5))
        if reply.code == 250 || reply.code == 251 { envelope.recipients.append(recipient) }
        state = .transaction(envelope)
        return reply.isPositive ? .reply(reply) : counted(reply)
    }

    // MARK: The message

    /// The final dot arrived. The message is inspected only if nothing was wrong with it.
    public mutating func dataEnded(_ outcome: DataOutcome) -> Action {
        guard case .data(let envelope) = state else { return counted(.badSequence) }
        let refusal: Reply? =
            outcome.tooBig
            ? .messageTooBig
            : outcome.bareLineEnding && configuration.bareLineEndings == .reject
                ? .bareLineEnding : outcome.longLine ? .dataLineTooLong : nil
        if let refusal {
            state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
            return aborting(counted(refusal))
        }
        state = .inspecting(envelope)
        return .inspect(envelope)
    }

    /// The message could not be stored (spool file, disk full) although the client read to the
    /// final dot: it is deferred, never relayed in part.
    public mutating func storageFailed() -> Action {
        guard case .data(let envelope) = state else { return counted(.badSequence) }
        state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
        return aborting(counted(.localError))
    }

    /// Inspection decided what becomes of the message.
    public mutating func inspected(_ decision: MessageDecision) -> Action {
        guard case .inspecting(let envelope) = state else { return counted(.badSequence) }
        switch decision {
        case .relay:
            state = .relaying(envelope)
            return .relay(envelope)
        case .hold:
            state = .holding(envelope)
            return .hold(envelope)
        case .refuse(let reply), .defer(let reply):
            state = .ready(helo: envelope.heloName, esmtp: envelope.esmtp)
            return aborting(counted(reply))
        }
    }

    /// The upstream answered the message (or the relay failed).
    public mutating func relayed(_ upstream: Reply) -> Action {
        guard case .relaying(let envelope) = state else { return counted(.badSequence) }
        return finished(envelope, upstream)
    }

    /// The quarantine took the message (250 with its id), or could not (a 4xx).
    public mutating func held(_ reply: Reply) -> Action {
        guard case .holding(let envelope) = state else { return counted(.badSequence) }
        return finished(envelope, reply)
    }

    private mutating func finished(_ envelope: Envelope, _ upstream: Reply) -> Action {
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

    /// The upstream transaction is over although the machine already left it: the reply goes
    /// out only after the upstream is told (the one abort path).
    private func aborting(_ action: Action) -> Action {
        switch action {
        case .close(let reply), .reply(let reply): return .abortTransaction(reply)
        case let other: return other
        }
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
