public import SMTPCore

/// One message as the MTA handed it to the filter, complete at end of message.
public struct MilterMessage: Sendable, Equatable {
    /// HELO name, sender and its parameters, the recipients the filter let through.
    public var envelope: Envelope
    /// The SMTP client as the MTA described it (`SMFIC_CONNECT`), when it did.
    public var client: MilterClient?
    /// The MTA's queue id (macro `i`), when it sent it.
    public var queueID: String?
    /// The MTA's client session ran over TLS (macro `{tls_version}`).
    public var tls: Bool
    /// Every macro value known at end of message, by name without braces.
    public var macros: [String: String]
    /// The rebuilt header section is the MTA's byte for byte: `SMFIP_HDR_LEADSPC` was negotiated,
    /// so every value came with its own leading white space. Without it one space was assumed
    /// after each colon, and the message must not be changed in ways a DKIM signature covers.
    public var exactHeaders: Bool
    /// Octets rebuilt (header section, blank line, body).
    public var size: Int
}

/// How the MTA is to change a message it keeps: header fields inserted, added or changed, a new
/// body, recipients taken off. Header values are written as they follow the colon (with their
/// leading space); the machine takes the space off when the MTA adds one itself.
public struct MilterEdits: Sendable, Equatable {
    public enum Header: Sendable, Equatable {
        /// Before the `index`-th field (0: before all of them).
        case insert(index: UInt32, name: String, value: String)
        /// After the last field.
        case add(name: String, value: String)
        /// The `index`-th field called `name` (from 1) given `value`.
        case change(index: UInt32, name: String, value: String)
    }

    public var headers: [Header]
    /// The whole new body (CRLF line ends), when it changed.
    public var body: [UInt8]?
    /// Recipients to take off, as they were given in RCPT (`<a@b>`).
    public var deletedRecipients: [String]

    public init(headers: [Header] = [], body: [UInt8]? = nil, deletedRecipients: [String] = []) {
        self.headers = headers
        self.body = body
        self.deletedRecipients = deletedRecipients
    }

    public var isEmpty: Bool { headers.isEmpty && body == nil && deletedRecipients.isEmpty }
}

/// What became of an inspected message, in milter terms.
public enum MilterDecision: Sendable, Equatable {
    /// The MTA keeps it, changed by the edits.
    case accept(MilterEdits)
    /// The MTA gives its client this reply: 5xx refuses the message, 4xx defers it.
    case reply(Reply)
    /// The MTA answers its client 250 and drops the message (held in ThuGate's quarantine).
    case discard
    /// The MTA keeps the message in its hold queue with this reason, changed by the edits.
    case hold(reason: String, MilterEdits)
}

/// The packets that end a message, and the edits that could not be sent because the MTA did
/// not offer them (for the log).
public struct MilterEndOfMessage: Sendable, Equatable {
    public var packets: [MilterPacket]
    public var skipped: [String]
}

/// What ThuGate's filter needs from its configuration.
public struct MilterConfiguration: Sendable {
    /// The actions asked for (those of ``MilterNegotiation/wantedActions`` ThuGate will use).
    public var actions: MilterActions
    /// Octets of a rebuilt message past which nothing more is kept: the message is refused with
    /// `552 5.3.4` at end of message, as the proxy refuses it after DATA.
    public var maxMessageSize: Int
    /// How reply text is written: `true` folds it to ASCII; nil decides by the MTA (ASCII unless
    /// its `v` macro says Postfix, which passes UTF-8 through as ThuGate's proxy sends it).
    public var asciiReplies: Bool?
    /// Judges each recipient at RCPT (nil: none refused there).
    public var recipientPolicy: (any RecipientPolicy)?
    /// Bytes of a new body per `SMFIR_REPLBODY` packet: libmilter's 65,535 (what Postfix and
    /// Sendmail read), less for an MTA side with a smaller buffer.
    public var bodyChunkSize: Int
    /// Recipients kept per message; more are deferred at RCPT (`452 4.5.3`).
    public var maxRecipients: Int

    public init(
        actions: MilterActions = MilterNegotiation.wantedActions,
        maxMessageSize: Int,
        asciiReplies: Bool? = nil,
        recipientPolicy: (any RecipientPolicy)? = nil,
        bodyChunkSize: Int = 65_535,
        maxRecipients: Int = 1000
    ) {
        self.actions = actions
        self.maxMessageSize = maxMessageSize
        self.asciiReplies = asciiReplies
        self.recipientPolicy = recipientPolicy
        self.bodyChunkSize = min(max(bodyChunkSize, 1), 65_535)
        self.maxRecipients = maxRecipients
    }
}

/// The filter's side of one milter connection: packets in, actions out. No I/O; the handler
/// reads packets, gives each to ``received(_:)``, does what the action says, and at end of
/// message inspects and hands the decision to ``inspected(_:)``.
///
/// - SeeAlso: libmilter `engine.c` (the stages and which of them are answered), Postfix
///   `milter8.c` (the MTA side: header values without `SMFIP_HDR_LEADSPC` lose one space after
///   the colon; multi-line values are joined with LF), MILTER_README.
public struct MilterSessionMachine: Sendable {
    public enum State: Sendable, Equatable {
        /// Waiting for `SMFIC_OPTNEG`.
        case negotiating
        /// Between messages.
        case ready
        /// MAIL was seen; the header section is being rebuilt.
        case headers(Transaction)
        /// The header section ended; body chunks follow.
        case body(Transaction)
        /// End of message arrived; waiting for the inspection.
        case inspecting(Transaction)
        case closed
    }

    /// The message being received.
    public struct Transaction: Sendable, Equatable {
        public var sender: MailAddress
        public var parameters: MailParameters
        public var recipients: [MailAddress] = []
        public var size = 0
        public var tooBig = false
    }

    public enum Action: Sendable, Equatable {
        /// Write these packets (none: nothing to answer) and read on.
        case send([MilterPacket])
        /// A new message: drop any bytes kept, then write the packets.
        case beginMessage([MilterPacket])
        /// Keep these bytes of the message, in order, then write the packets.
        case append([UInt8], [MilterPacket])
        /// A recipient the policy refused: log it as Postfix does (`NOQUEUE: reject: RCPT ...`)
        /// and write the packets.
        case refusedRecipient(MailAddress, from: MailAddress, reason: String, [MilterPacket])
        /// The message is complete, these bytes last: inspect it and call ``inspected(_:)``.
        case inspect(MilterMessage, last: [UInt8])
        /// The MTA gave the message up: drop the bytes kept.
        case abortMessage
        /// The MTA closed the session (`SMFIC_QUIT`).
        case close
        /// The MTA broke the protocol: close the connection; the reason is for the log.
        case fail(String)
    }

    public private(set) var state: State = .negotiating
    public private(set) var negotiation: MilterNegotiation?
    public private(set) var client: MilterClient?
    public private(set) var helo = ""
    public private(set) var macros: [String: String] = [:]
    private let configuration: MilterConfiguration

    /// More macro names than any MTA defines are not kept.
    static let maxMacros = 256
    /// A macro value or HELO name is kept up to this many bytes (a certificate subject is the
    /// longest an MTA sends): one connection cannot hold megabytes in them.
    static let maxValueBytes = 2048
    /// The macros that belong to one message: dropped when it ends, so that the next one never
    /// carries its queue id or addresses (libmilter's `mi_clr_macros`).
    static let messageMacros: Set<String> = [
        "i", "mail_addr", "mail_host", "mail_mailer", "rcpt_addr", "rcpt_host", "rcpt_mailer", "auth_type", "auth_authen",
        "auth_author", "auth_ssf", "msg_size",
    ]

    public init(configuration: MilterConfiguration) {
        self.configuration = configuration
    }

    /// One packet from the MTA.
    public mutating func received(_ packet: MilterPacket) -> Action {
        guard let command = MilterCommand(rawValue: packet.code) else {
            return fail("unknown command 0x\(String(packet.code, radix: 16))")
        }
        if case .closed = state { return .fail("packet after the session ended") }
        if command == .macro { return macro(packet.payload) }
        if case .negotiating = state {
            guard command == .optionNegotiation else { return fail("\(command) before option negotiation") }
            do {
                let negotiated = try MilterNegotiation.answering(offer: packet.payload, actions: configuration.actions)
                negotiation = negotiated
                state = .ready
                return .send([negotiated.reply])
            } catch {
                return fail("option negotiation: \(error)")
            }
        }
        if case .inspecting = state, command != .abort, command != .quit {
            return fail("\(command) while end of message is being answered")
        }
        switch command {
        case .optionNegotiation:
            return fail("option negotiation repeated")
        case .connect:
            guard let client = MilterPayload.connect(packet.payload) else { return fail("malformed connect") }
            self.client = client
            return .send(answer(command))
        case .helo:
            helo = Self.bounded(MilterPayload.strings(packet.payload)?.first ?? "")
            return .send(answer(command))
        case .mail:
            guard let arguments = MilterPayload.strings(packet.payload), let first = arguments.first else {
                return fail("malformed MAIL")
            }
            state = .headers(Transaction(sender: Self.address(first), parameters: Self.parameters(arguments.dropFirst())))
            return .beginMessage(answer(command))
        case .recipient:
            return recipient(packet.payload)
        case .data, .unknown:
            return .send(answer(command))
        case .header:
            guard case .headers(var transaction) = state else { return fail("header outside a message's header section") }
            guard let (name, value) = MilterPayload.header(packet.payload) else { return fail("malformed header") }
            let bytes = headerField(name: name, value: value)
            let kept = keep(bytes, in: &transaction)
            state = .headers(transaction)
            return .append(kept, answer(command))
        case .endOfHeaders:
            guard case .headers(var transaction) = state else { return fail("end of headers outside a message") }
            let kept = keep([13, 10], in: &transaction)
            state = .body(transaction)
            return .append(kept, answer(command))
        case .body:
            guard var (transaction, kept) = bodyTransaction() else { return fail("body outside a message") }
            kept = keep(kept + packet.payload, in: &transaction)
            state = .body(transaction)
            return .append(kept, answer(command))
        case .endOfMessage:
            guard var (transaction, last) = bodyTransaction() else { return fail("end of message outside a message") }
            // Sendmail may send the last body chunk with end of message.
            last = keep(last + packet.payload, in: &transaction)
            if transaction.tooBig {
                state = .ready
                dropMessageMacros()
                return .send([.replyCode(.messageTooBig, ascii: asciiReplies)])
            }
            state = .inspecting(transaction)
            return .inspect(message(transaction), last: last)
        case .abort:
            state = .ready
            dropMessageMacros()
            return .abortMessage
        case .quit:
            state = .closed
            return .close
        case .quitNewConnection:
            // The MTA's next SMTP session on this connection: nothing of this one is kept.
            state = .ready
            client = nil
            helo = ""
            macros = [:]
            return .abortMessage
        case .macro:
            return .send([])
        }
    }

    /// The decision about the message handed over by ``Action/inspect(_:last:)``: the packets
    /// that end it. Edits the MTA did not offer are left out and named in `skipped`.
    public mutating func inspected(_ decision: MilterDecision) -> MilterEndOfMessage {
        guard case .inspecting = state, let negotiation else {
            return MilterEndOfMessage(packets: [], skipped: ["no message is waiting for its answer"])
        }
        state = .ready
        dropMessageMacros()
        switch decision {
        case .reply(let reply):
            return MilterEndOfMessage(packets: [.replyCode(reply, ascii: asciiReplies)], skipped: [])
        case .discard:
            return MilterEndOfMessage(packets: [.discard], skipped: [])
        case .accept(let edits):
            var end = packets(for: edits, negotiation: negotiation)
            end.packets.append(.accept)
            return end
        case .hold(let reason, let edits):
            // Without the MTA's hold queue the message must not go through: defer it.
            guard negotiation.actions.contains(.quarantine) else {
                return MilterEndOfMessage(packets: [.tempfail], skipped: ["quarantine (not offered by the MTA): deferred"])
            }
            var end = packets(for: edits, negotiation: negotiation)
            end.packets += [.quarantine(reason: reason), .accept]
            return end
        }
    }

    /// `SMFIR_PROGRESS` while end of message is being inspected (from version 6); nil otherwise.
    public var progress: MilterPacket? {
        guard case .inspecting = state, let negotiation, negotiation.version >= 6 else { return nil }
        return .progress
    }

    /// The reply text is to be ASCII.
    public var asciiReplies: Bool {
        if let ascii = configuration.asciiReplies { return ascii }
        return !(macros["v"]?.hasPrefix("Postfix") ?? false)
    }

    // MARK: Stages

    private mutating func macro(_ payload: [UInt8]) -> Action {
        guard let (_, values) = MilterPayload.macros(payload) else { return fail("malformed macro packet") }
        for (name, value) in values where macros[name] != nil || macros.count < Self.maxMacros {
            macros[Self.bounded(name)] = Self.bounded(value)
        }
        return .send([])
    }

    private mutating func recipient(_ payload: [UInt8]) -> Action {
        guard case .headers(var transaction) = state else { return fail("RCPT outside a message") }
        guard let arguments = MilterPayload.strings(payload), let first = arguments.first else { return fail("malformed RCPT") }
        let recipient = Self.address(first)
        if let policy = configuration.recipientPolicy, let refusal = policy.refusal(of: recipient, from: transaction.sender) {
            return .refusedRecipient(
                recipient,
                from: transaction.sender,
                reason: refusal.reason ?? refusal.reply.description,
                [.replyCode(refusal.reply, ascii: asciiReplies)]
            )
        }
        // The MTA's own limit comes first (Postfix: 1000); past this one, RCPT is deferred.
        guard transaction.recipients.count < configuration.maxRecipients else {
            return .send([.replyCode(.tooManyRecipients, ascii: asciiReplies)])
        }
        transaction.recipients.append(recipient)
        state = .headers(transaction)
        return .send(answer(.recipient))
    }

    /// The message a body chunk or end of message belongs to, and the blank line that ends its
    /// header section when the MTA sent no end of headers.
    private func bodyTransaction() -> (Transaction, [UInt8])? {
        switch state {
        case .body(let transaction): return (transaction, [])
        case .headers(let transaction): return (transaction, [13, 10])
        default: return nil
        }
    }

    private func message(_ transaction: Transaction) -> MilterMessage {
        var envelope = Envelope(heloName: helo, esmtp: true, sender: transaction.sender, parameters: transaction.parameters)
        envelope.recipients = transaction.recipients
        return MilterMessage(
            envelope: envelope,
            client: client,
            queueID: macros["i"],
            tls: !(macros["tls_version"] ?? "").isEmpty,
            macros: macros,
            exactHeaders: negotiation?.flags.contains(.headerLeadingSpace) ?? false,
            size: transaction.size
        )
    }

    /// `continue`, unless the MTA was told this stage is not answered.
    private func answer(_ command: MilterCommand) -> [MilterPacket] {
        negotiation?.isUnanswered(command) ?? false ? [] : [.continue]
    }

    /// The bytes to keep, counted; none once the message passed its maximum size.
    private func keep(_ bytes: [UInt8], in transaction: inout Transaction) -> [UInt8] {
        guard !transaction.tooBig else { return [] }
        transaction.size += bytes.count
        if transaction.size > configuration.maxMessageSize {
            transaction.tooBig = true
            return []
        }
        return bytes
    }

    /// One header field as it stood in the message: `Name:` then the value, each line break
    /// (LF, as the MTA joins folded lines) written CRLF, then CRLF.
    private func headerField(name: [UInt8], value: [UInt8]) -> [UInt8] {
        var bytes = name
        bytes.reserveCapacity(name.count + value.count + 4)
        bytes.append(UInt8(ascii: ":"))
        if !(negotiation?.flags.contains(.headerLeadingSpace) ?? false) { bytes.append(UInt8(ascii: " ")) }
        var previous: UInt8 = 0
        for byte in value {
            if byte == 10 && previous != 13 { bytes.append(13) }
            bytes.append(byte)
            previous = byte
        }
        bytes += [13, 10]
        return bytes
    }

    private func packets(for edits: MilterEdits, negotiation: MilterNegotiation) -> MilterEndOfMessage {
        var packets: [MilterPacket] = []
        var skipped: [String] = []
        let leadingSpace = negotiation.flags.contains(.headerLeadingSpace)
        func value(_ text: String) -> String {
            // Lines joined with LF, as the MTA keeps them; the leading space only when negotiated.
            var text = text.replacingCRLF()
            // An empty value deletes the field (SMFIR_CHGHEADER): a field given a blank value keeps one space.
            if !leadingSpace && text.hasPrefix(" ") && text.count > 1 { text.removeFirst() }
            return text
        }
        for header in edits.headers {
            switch header {
            case .insert(let index, let name, let text):
                guard negotiation.actions.contains(.addHeaders) else {
                    skipped.append("insert header \(name)")
                    continue
                }
                packets.append(.insertHeader(index: index, name: name, value: value(text)))
            case .add(let name, let text):
                guard negotiation.actions.contains(.addHeaders) else {
                    skipped.append("add header \(name)")
                    continue
                }
                packets.append(.addHeader(name: name, value: value(text)))
            case .change(let index, let name, let text):
                guard negotiation.actions.contains(.changeHeaders) else {
                    skipped.append("change header \(name)")
                    continue
                }
                packets.append(.changeHeader(index: index, name: name, value: value(text)))
            }
        }
        if let body = edits.body {
            if negotiation.actions.contains(.changeBody) {
                packets += MilterPacket.replaceBody(body, chunkSize: configuration.bodyChunkSize)
            } else {
                skipped.append("replace body")
            }
        }
        for recipient in edits.deletedRecipients {
            guard negotiation.actions.contains(.deleteRecipient) else {
                skipped.append("delete recipient \(recipient)")
                continue
            }
            packets.append(.deleteRecipient(recipient))
        }
        return MilterEndOfMessage(packets: packets, skipped: skipped)
    }

    private mutating func dropMessageMacros() {
        for name in Self.messageMacros { macros[name] = nil }
    }

    /// At most ``maxValueBytes`` of a string, cut at a character.
    static func bounded(_ text: String) -> String {
        guard text.utf8.count > maxValueBytes else { return text }
        var cut = text.utf8.index(text.utf8.startIndex, offsetBy: maxValueBytes)
        // Back to the start of a scalar (at most three bytes back in UTF-8).
        while cut.samePosition(in: text.unicodeScalars) == nil, cut > text.startIndex { cut = text.utf8.index(before: cut) }
        return String(text.unicodeScalars[..<cut])
    }

    private mutating func fail(_ reason: String) -> Action {
        state = .closed
        return .fail(reason)
    }

    // MARK: Envelope arguments

    /// `<a@b>` (or a bare address, as some MTAs send it) without brackets and source route.
    static func address(_ argument: String) -> MailAddress {
        var text = Substring(argument.trimmingSpaces())
        if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 { text = text.dropFirst().dropLast() }
        // A source route (`@relay:user@host`, RFC 5321 4.1.2) is ignored, as the proxy ignores it.
        if text.hasPrefix("@"), let colon = text.firstIndex(of: ":") { text = text[text.index(after: colon)...] }
        return MailAddress(String(text))
    }

    /// The MAIL parameters ThuGate reads (SIZE, BODY, SMTPUTF8); the MTA accepted the others.
    static func parameters(_ arguments: ArraySlice<String>) -> MailParameters {
        var parameters = MailParameters()
        for argument in arguments {
            let parts = argument.split(separator: "=", maxSplits: 1)
            guard let keyword = parts.first?.uppercased() else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            switch keyword {
            case "SIZE": parameters.size = Int(value)
            case "BODY": parameters.body = MailParameters.Body(rawValue: value.uppercased())
            case "SMTPUTF8": parameters.smtpUTF8 = true
            default: break
            }
        }
        return parameters
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }

    /// CRLF (and a lone CR) as LF: the MTA stores header lines joined with LF.
    fileprivate func replacingCRLF() -> String {
        guard utf8.contains(13) else { return self }
        var bytes: [UInt8] = []
        var previousCR = false
        for byte in utf8 {
            if byte == 13 {
                bytes.append(10)
                previousCR = true
                continue
            }
            if byte == 10 && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
