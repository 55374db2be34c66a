public import NIOCore

/// The client side of one SMTP connection to the upstream server: every piece of protocol
/// state, no I/O. Each state names the reply awaited; events are replies, the connection
/// ending, a deadline passing, and the requests of whoever drives the connection (the proxy's
/// transaction, a relay of released mail); each returns the one ``Action`` to run.
///
/// A request (connect, MAIL, RCPT, DATA with the first chunk of the message, each further
/// chunk, the final dot, RSET, QUIT)
/// is answered exactly once by ``Action/complete(_:_:)``; only one is outstanding at a time.
/// A connection lost before the final dot of a transaction that may be replayed answers with
/// ``Outcome/replay(_:)``: the driver takes the ``Replay`` to a new connection's machine.
///
/// Time comes in as `now` on the events; ``deadline`` says until when the upstream may stay
/// silent, and the driver calls ``deadlineReached(now:)`` when it passes.
/// - SeeAlso: RFC 5321 3.3, 4.5.3.2 (timeouts); RFC 2920 (pipelining); RFC 3207 (STARTTLS).
public struct UpstreamMachine: Sendable {
    public enum TLSPolicy: Sendable, Equatable {
        /// Never STARTTLS.
        case none
        /// STARTTLS when the upstream offers it.
        case may
        /// STARTTLS or no connection.
        case encrypt
    }

    /// How long the upstream may stay silent.
    public struct Timeouts: Sendable, Equatable {
        /// The greeting and the reply to every command but the final dot (RFC 5321 4.5.3.2).
        public var command: TimeAmount
        /// Each write of message data, and the reply to the final dot (RFC 5321 4.5.3.2.6).
        public var data: TimeAmount
        /// The reply to QUIT: a connection being let go is not waited for long.
        public var quit: TimeAmount
        public init(command: TimeAmount, data: TimeAmount, quit: TimeAmount = .seconds(5)) {
            self.command = command
            self.data = data
            self.quit = quit
        }
    }

    public struct Configuration: Sendable, Equatable {
        /// The name said in EHLO (and HELO).
        public var heloName: String
        public var startTLS: TLSPolicy
        /// Send RCPT and DATA behind MAIL in one write when the upstream announces PIPELINING.
        public var pipelining: Bool
        public var timeouts: Timeouts
        /// Pass the client's address, port, HELO name and protocol on with XFORWARD before each
        /// MAIL when the upstream announces it (Postfix `smtpd_authorized_xforward_hosts`).
        public var xforward: Bool
        public init(heloName: String, startTLS: TLSPolicy, pipelining: Bool, timeouts: Timeouts, xforward: Bool = true) {
            self.heloName = heloName
            self.startTLS = startTLS
            self.pipelining = pipelining
            self.timeouts = timeouts
            self.xforward = xforward
        }
    }

    /// The EHLO keywords the upstream announced, uppercased (`PIPELINING`, `SIZE`, `8BITMIME`, ...).
    public struct Extensions: Sendable, Equatable {
        public var keywords: Set<String>
        /// The attributes named after `XFORWARD` (`NAME ADDR PORT PROTO HELO SOURCE IDENT`), uppercased.
        public var xforwardAttributes: Set<String>
        public init(_ keywords: Set<String> = [], xforwardAttributes: Set<String> = []) {
            self.keywords = keywords
            self.xforwardAttributes = xforwardAttributes
        }
        /// The keywords of a 250 reply to EHLO: the first word of each line after the first.
        /// - SeeAlso: RFC 5321 4.1.1.1.
        public init(ehloReply reply: Reply) {
            var keywords = Set<String>()
            var xforwardAttributes = Set<String>()
            for line in reply.lines.dropFirst() {
                let words = line.split(separator: " ")
                guard let word = words.first?.uppercased() else { continue }
                keywords.insert(word)
                if word == "XFORWARD" { xforwardAttributes.formUnion(words.dropFirst().map { $0.uppercased() }) }
            }
            self.keywords = keywords
            self.xforwardAttributes = xforwardAttributes
        }
        public func supports(_ keyword: String) -> Bool { keywords.contains(keyword) }
    }

    /// A transaction to do again on another connection: the first one was lost before it could
    /// end (before the final dot).
    public struct Replay: Sendable, Equatable {
        public enum Step: Sendable, Equatable {
            /// MAIL and the commands pipelined behind it, lost on a connection taken from the
            /// pool: the upstream may have closed it while idle. Their replies are still owed.
            case mail(pipelined: [SMTPCommand])
            /// The message: MAIL, the recipients already accepted and DATA are sent again, and
            /// must get the same answers, before the message goes.
            case data
        }
        /// Sender, parameters and, for `.data`, the recipients the upstream accepted.
        public var envelope: Envelope
        public var step: Step
        /// A MAIL on a pooled connection is retried once.
        var mailRetried: Bool
        /// The message is replayed once.
        var dataReplayed: Bool
    }

    /// What a request got.
    public enum Outcome: Sendable, Equatable {
        /// Connected: greeting, EHLO (or HELO) and STARTTLS done.
        case ready(Extensions)
        /// The upstream's replies, one per command asked for (RSET and QUIT: possibly none).
        case replies([Reply])
        /// A replayed transaction is open again and the upstream reads message data: the
        /// message goes again from its start.
        case goAhead
        /// A chunk of message data left.
        case written
        /// The connection ended before the final dot: do the transaction again elsewhere.
        case replay(Replay)
        case failed(UpstreamError)
    }

    /// What becomes of the connection once a request is answered.
    public enum Disposition: Sendable, Equatable {
        /// The driver keeps it: a transaction is open, or the connection was just made.
        case keep
        /// No transaction is open upstream: back to the pool.
        case release
        /// Not usable any more: close it.
        case close
    }

    public enum Action: Sendable, Equatable {
        /// Nothing to do until the next event.
        case wait
        /// Write these commands, in one write.
        case send([SMTPCommand])
        /// Put TLS under the SMTP codec, then write these commands (RFC 3207 4.2: EHLO again).
        case startTLS(thenSend: [SMTPCommand])
        /// Write these bytes of message data (already dot-stuffed); call
        /// ``messageDataWritten(now:)`` once they are written.
        case write(ByteBuffer)
        /// Write the last bytes of the message, final dot included; the final reply answers the
        /// request, so nothing is to be told when they are written.
        case writeLast(ByteBuffer)
        /// Answer the outstanding request, then do as the disposition says.
        case complete(Outcome, Disposition)
        /// Close the connection; no request is outstanding.
        case close
    }

    /// A transaction open upstream.
    struct Transaction: Sendable, Equatable {
        /// Recipients: those the upstream accepted.
        var envelope: Envelope
        /// The reply to DATA pipelined behind MAIL; 354 means the upstream reads message data.
        var pipelinedData: Reply?
        var mailRetried: Bool
        var dataReplayed: Bool
        var inData: Bool { pipelinedData?.code == 354 }
    }

    /// MAIL with the commands behind it (a leading RSET on a reused connection): all in one
    /// write when pipelining, else one after each reply.
    struct Exchange: Sendable, Equatable {
        var commands: [SMTPCommand]
        var sent: Int
        var replies: [Reply] = []
        var resetFirst: Bool
        /// The commands before MAIL: the RSET, the XFORWARD lines. Their replies are not the client's.
        var leading: Int
        /// A replayed message: every reply must be what it was the first time.
        var replaying: Bool
    }

    enum State: Sendable, Equatable {
        case connecting
        case greeting
        case ehlo(afterTLS: Bool)
        /// EHLO was refused: HELO.
        case helo(afterTLS: Bool)
        case startTLS
        /// Connected, no transaction.
        case idle
        /// RSET (when reused), MAIL, and the n RCPT/DATA pipelined behind it.
        case mail(Transaction, Exchange)
        case recipient(Transaction, MailAddress)
        /// A transaction is open; the driver has not asked for anything.
        case open(Transaction)
        /// DATA went out; on 354 the first chunk of the message follows (all of it when `isComplete`).
        case dataGoAhead(Transaction, first: ByteBuffer, isComplete: Bool)
        /// Message data is being sent; `writing` while a write is outstanding.
        case sending(Transaction, writing: Bool)
        /// The final dot went out.
        case finalReply
        /// RSET, ending a transaction; `answer` is what the request gets once RSET is answered.
        case reset(answer: Reply?)
        case quit
        /// The connection is gone; a transaction it held may still be replayed.
        case closed(Transaction?)
        /// Only while a state's values are being changed in place (no copy of their arrays).
        case modifying
    }

    public let configuration: Configuration
    private(set) var state: State = .connecting
    public private(set) var extensions = Extensions()
    /// The connection carried a transaction before: the next one starts with RSET.
    public private(set) var reused = false
    /// Until when the upstream may stay silent; nil when nothing is awaited from it.
    public private(set) var deadline: NIODeadline?

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    // MARK: Connection events

    /// The TCP connection is up: the greeting is awaited.
    public mutating func connected(now: NIODeadline) -> Action {
        guard case .connecting = state else { return .wait }
        state = .greeting
        deadline = now + configuration.timeouts.command
        return .wait
    }

    public mutating func replyReceived(_ reply: Reply, now: NIODeadline) -> Action {
        switch state {
        case .greeting:
            guard reply.code == 220 else { return fail(.protocolViolation, "greeting \(reply)") }
            state = .ehlo(afterTLS: false)
            return send([.ehlo(configuration.heloName)], now: now)
        case .ehlo(let afterTLS):
            guard reply.code == 250 else {
                state = .helo(afterTLS: afterTLS)
                return send([.helo(configuration.heloName)], now: now)
            }
            extensions = Extensions(ehloReply: reply)
            return greeted(afterTLS: afterTLS, now: now)
        case .helo(let afterTLS):
            guard reply.code == 250 else { return fail(.protocolViolation, "HELO refused: \(reply)") }
            extensions = Extensions()
            return greeted(afterTLS: afterTLS, now: now)
        case .startTLS:
            guard reply.code == 220 else { return fail(.tls, "STARTTLS refused: \(reply)") }
            // RFC 3207 4.2: forget what the server said before TLS and greet again.
            extensions = Extensions()
            state = .ehlo(afterTLS: true)
            deadline = now + configuration.timeouts.command
            return .startTLS(thenSend: [.ehlo(configuration.heloName)])
        case .mail(var transaction, var exchange):
            state = .modifying
            exchange.replies.append(reply)
            if exchange.replies.count < exchange.commands.count {
                guard exchange.sent == exchange.replies.count else {
                    state = .mail(transaction, exchange)
                    return .wait
                }
                let next = exchange.commands[exchange.sent]
                exchange.sent += 1
                state = .mail(transaction, exchange)
                return send([next], now: now)
            }
            return mailExchangeEnded(&transaction, exchange)
        case .recipient(var transaction, let address):
            if reply.code == 250 || reply.code == 251 { transaction.envelope.recipients.append(address) }
            state = .open(transaction)
            return complete(.replies([reply]), .keep)
        case .dataGoAhead(let transaction, let first, let isComplete):
            guard reply.code == 354 else {
                // MAIL and RCPT are still open upstream: reset before the connection is pooled.
                state = .reset(answer: reply)
                return send([.rset], now: now)
            }
            return write(first, isComplete: isComplete, transaction, now: now)
        case .finalReply:
            // Whatever the answer, the transaction is over.
            state = .idle
            reused = true
            return complete(.replies([reply]), .release)
        case .reset(let answer):
            let answers = answer.map { [$0] } ?? []
            guard reply.code == 250 else {
                state = .closed(nil)
                return complete(.replies(answers), .close)
            }
            state = .idle
            reused = true
            return complete(.replies(answers), .release)
        case .quit:
            state = .closed(nil)
            return complete(.replies([reply]), .close)
        case .modifying:
            preconditionFailure("UpstreamMachine re-entered while modifying its state")
        case .connecting, .idle, .open, .sending, .closed:
            // A reply nobody asked for: the upstream is out of step; drop the connection.
            return lost(UpstreamError(kind: .protocolViolation, detail: "unexpected reply \(reply)"))
        }
    }

    /// The connection closed (by the upstream, or after an error).
    public mutating func connectionClosed() -> Action {
        lost(UpstreamError(kind: .closed, detail: "connection closed"))
    }

    /// The connection failed (TLS, a malformed reply, a write error): it is closed.
    public mutating func errorCaught(_ error: UpstreamError) -> Action {
        lost(error)
    }

    /// A timer set for ``deadline`` fired; the deadline may have moved since.
    public mutating func deadlineReached(now: NIODeadline) -> Action {
        guard let deadline, now >= deadline else { return .wait }
        let what: String
        switch state {
        case .sending: what = "upstream stopped reading message data"
        case .finalReply: what = "no reply to the final dot in time"
        default: what = "no reply in time"
        }
        return lost(UpstreamError(kind: .timeout, detail: what))
    }

    // MARK: Requests

    /// Opens a transaction: MAIL and the RCPT and DATA commands the client pipelined behind it.
    /// Answered with one reply per command, MAIL's first.
    public mutating func mail(_ envelope: Envelope, pipelined: [SMTPCommand], now: NIODeadline) -> Action {
        start(envelope, pipelined: pipelined, replaying: false, mailRetried: false, dataReplayed: false, now: now)
    }

    /// Takes up a transaction lost on another connection (``Outcome/replay(_:)``).
    public mutating func replay(_ replay: Replay, now: NIODeadline) -> Action {
        switch replay.step {
        case .mail(let pipelined):
            return start(
                replay.envelope,
                pipelined: pipelined,
                replaying: false,
                mailRetried: replay.mailRetried,
                dataReplayed: replay.dataReplayed,
                now: now
            )
        case .data:
            return start(
                replay.envelope,
                pipelined: replay.envelope.recipients.map { .rcpt($0) } + [.data],
                replaying: true,
                mailRetried: replay.mailRetried,
                dataReplayed: replay.dataReplayed,
                now: now
            )
        }
    }

    public mutating func recipient(_ address: MailAddress, now: NIODeadline) -> Action {
        switch state {
        case .open(let transaction) where !transaction.inData:
            state = .recipient(transaction, address)
            return send([.rcpt(address)], now: now)
        case .open:
            // The upstream is reading message data already: no RCPT can go.
            return complete(.failed(UpstreamError(kind: .protocolViolation, detail: "RCPT after DATA")), .keep)
        case .closed:
            return complete(.failed(UpstreamError(kind: .closed, detail: "connection lost before RCPT")), .close)
        default:
            return outOfSequence("RCPT")
        }
    }

    /// Starts the message: DATA unless it went pipelined behind MAIL, then its first chunk
    /// (dot-stuffed; all of it, final dot included, when `isComplete`). Answered with
    /// ``Outcome/written``, or the final reply when complete, or the refusal of DATA as
    /// ``Outcome/replies(_:)`` (after RSET).
    public mutating func message(_ first: ByteBuffer, isComplete: Bool, now: NIODeadline) -> Action {
        switch state {
        case .open(let transaction):
            if let refusal = transaction.pipelinedData, refusal.code != 354 {
                // The upstream refused the pipelined DATA: its answer is the message's.
                state = .reset(answer: refusal)
                return send([.rset], now: now)
            }
            if transaction.inData { return write(first, isComplete: isComplete, transaction, now: now) }
            state = .dataGoAhead(transaction, first: first, isComplete: isComplete)
            return send([.data], now: now)
        case .sending(let transaction, writing: false):
            // Again from the start after a replay.
            return write(first, isComplete: isComplete, transaction, now: now)
        case .closed(let transaction?) where transaction.pipelinedData.map({ $0.code != 354 }) == true:
            // DATA was refused before the connection went: that answer stands, nothing to replay.
            state = .closed(nil)
            return complete(.replies([transaction.pipelinedData!]), .close)
        case .closed(let transaction):
            return replayOrFail(transaction, UpstreamError(kind: .closed, detail: "connection lost before DATA"))
        default:
            return outOfSequence("DATA")
        }
    }

    /// A chunk of message data (dot-stuffed); answered with ``Outcome/written``.
    public mutating func messageData(_ bytes: ByteBuffer, now: NIODeadline) -> Action {
        switch state {
        case .sending(let transaction, writing: false):
            return write(bytes, isComplete: false, transaction, now: now)
        case .closed(let transaction):
            return replayOrFail(transaction, UpstreamError(kind: .closed, detail: "connection lost during DATA"))
        default:
            return outOfSequence("message data")
        }
    }

    /// The last chunk of message data, with the final dot; answered with the final reply.
    public mutating func messageEnded(_ bytes: ByteBuffer, now: NIODeadline) -> Action {
        switch state {
        case .sending(let transaction, writing: false):
            return write(bytes, isComplete: true, transaction, now: now)
        case .closed(let transaction):
            return replayOrFail(transaction, UpstreamError(kind: .closed, detail: "connection lost during DATA"))
        default:
            return outOfSequence("final dot")
        }
    }

    /// A ``Action/write(_:)`` finished.
    public mutating func messageDataWritten(now: NIODeadline) -> Action {
        guard case .sending(let transaction, writing: true) = state else { return .wait }
        state = .sending(transaction, writing: false)
        return complete(.written, .keep)
    }

    /// Abandons the transaction before its final dot: RSET, or closing the connection when the
    /// upstream is already reading message data (data cannot be cancelled: closing before the
    /// final dot is how SMTP aborts). Answered with no replies.
    public mutating func abort(now: NIODeadline) -> Action {
        switch state {
        case .open(let transaction) where !transaction.inData:
            state = .reset(answer: nil)
            return send([.rset], now: now)
        case .idle:
            // Nothing open upstream: the connection may serve again.
            return complete(.replies([]), .release)
        default:
            state = .closed(nil)
            return complete(.replies([]), .close)
        }
    }

    /// Says goodbye to an idle connection.
    public mutating func quit(now: NIODeadline) -> Action {
        guard case .idle = state else {
            state = .closed(nil)
            return complete(.replies([]), .close)
        }
        state = .quit
        deadline = now + configuration.timeouts.quit
        return .send([.quit])
    }

    // MARK: Helpers

    private mutating func greeted(afterTLS: Bool, now: NIODeadline) -> Action {
        if !afterTLS && configuration.startTLS != .none {
            if extensions.supports("STARTTLS") {
                state = .startTLS
                return send([.starttls], now: now)
            }
            if configuration.startTLS == .encrypt {
                return fail(.tls, "upstream does not offer STARTTLS and starttls = \"encrypt\"")
            }
        }
        state = .idle
        return complete(.ready(extensions), .keep)
    }

    private mutating func start(
        _ envelope: Envelope,
        pipelined: [SMTPCommand],
        replaying: Bool,
        mailRetried: Bool,
        dataReplayed: Bool,
        now: NIODeadline
    ) -> Action {
        switch state {
        case .idle:
            break
        case .closed:
            // A pooled connection found closed when asked: as if it had died at MAIL.
            let replay = Replay(
                envelope: envelope,
                step: replaying ? .data : .mail(pipelined: pipelined),
                mailRetried: true,
                dataReplayed: dataReplayed
            )
            if reused && !mailRetried { return complete(.replay(replay), .close) }
            return complete(.failed(UpstreamError(kind: .closed, detail: "connection lost before MAIL")), .close)
        default:
            return outOfSequence("MAIL")
        }
        if let refusal = downgradeRefusal(envelope) {
            if replaying {
                return complete(.failed(UpstreamError(kind: .replayRefused, detail: "\(refusal)")), .release)
            }
            return complete(.replies([refusal] + Array(repeating: .needMail, count: pipelined.count)), .release)
        }
        // Each array sized once: this runs for every message.
        var commands: [SMTPCommand] = []
        commands.reserveCapacity(2 + pipelined.count)
        if reused { commands.append(.rset) }
        if configuration.xforward, let origin = envelope.origin, extensions.supports("XFORWARD") {
            // A refused XFORWARD is not the client's business: MAIL goes on, and the upstream logs
            // ThuGate's address instead.
            commands += XForward.commands(origin: origin, envelope: envelope, offered: extensions.xforwardAttributes)
        }
        let leading = commands.count
        commands.append(.mail(envelope.sender, upstreamParameters(envelope.parameters)))
        commands += pipelined
        var transaction = Transaction(envelope: envelope, mailRetried: mailRetried, dataReplayed: dataReplayed)
        transaction.envelope.recipients = []
        let batch = commands.count > 1 && configuration.pipelining && extensions.supports("PIPELINING")
        let first = batch ? commands.count : 1
        var exchange = Exchange(commands: commands, sent: first, resetFirst: reused, leading: leading, replaying: replaying)
        exchange.replies.reserveCapacity(commands.count)
        state = .mail(transaction, exchange)
        return send(batch ? commands : [commands[0]], now: now)
    }

    private mutating func mailExchangeEnded(_ transaction: inout Transaction, _ exchange: Exchange) -> Action {
        // Slices, not copies, past the leading RSET and XFORWARD.
        let commands = exchange.commands.dropFirst(exchange.leading)
        let replies = exchange.replies.dropFirst(exchange.leading)
        let mailReply = replies[replies.startIndex]
        for (command, reply) in zip(commands, replies).dropFirst() {
            switch command {
            case .rcpt(let address) where reply.code == 250 || reply.code == 251:
                transaction.envelope.recipients.append(address)
            case .data:
                transaction.pipelinedData = reply
            default:
                break
            }
        }
        if exchange.replaying {
            // The client was told each recipient is accepted: any other answer and the message waits.
            let same = mailReply.code == 250 && transaction.envelope.recipients.count == commands.count - 2 && transaction.inData
            guard same else {
                state = .closed(nil)
                return complete(.failed(UpstreamError(kind: .replayRefused, detail: "\(Array(replies))")), .close)
            }
            state = .sending(transaction, writing: false)
            return complete(.goAhead, .keep)
        }
        if !mailReply.isPositive && !transaction.inData {
            // No transaction is open upstream: the connection is clean.
            state = .idle
            reused = true
            return complete(.replies(Array(replies)), .release)
        }
        state = .open(transaction)
        return complete(.replies(Array(replies)), .keep)
    }

    /// The connection is gone: what the outstanding request gets, if one is.
    private mutating func lost(_ error: UpstreamError) -> Action {
        let state = self.state
        self.state = .closed(nil)
        deadline = nil
        switch state {
        case .connecting, .greeting, .ehlo, .helo, .startTLS, .recipient, .finalReply, .quit:
            if case .recipient(let transaction, _) = state { self.state = .closed(transaction) }
            return .complete(.failed(error), .close)
        case .mail(let transaction, let exchange):
            // Only a connection taken from the pool, and once: it may have been closed while idle.
            guard exchange.resetFirst && !transaction.mailRetried else { return .complete(.failed(error), .close) }
            var envelope = transaction.envelope
            let step: Replay.Step
            if exchange.replaying {
                envelope.recipients = exchange.commands.compactMap { if case .rcpt(let address) = $0 { address } else { nil } }
                step = .data
            } else {
                envelope.recipients = []
                step = .mail(pipelined: Array(exchange.commands.dropFirst(exchange.leading + 1)))
            }
            return .complete(
                .replay(Replay(envelope: envelope, step: step, mailRetried: true, dataReplayed: transaction.dataReplayed)),
                .close
            )
        case .dataGoAhead(let transaction, _, _), .sending(let transaction, writing: true):
            return replayOrFail(transaction, error)
        case .open(let transaction), .sending(let transaction, writing: false):
            self.state = .closed(transaction)
            return .close
        case .reset(let answer):
            return .complete(.replies(answer.map { [$0] } ?? []), .close)
        case .idle:
            return .close
        case .modifying:
            preconditionFailure("UpstreamMachine re-entered while modifying its state")
        case .closed(let transaction):
            self.state = .closed(transaction)
            return .wait
        }
    }

    /// Before the final dot the message may go again, once, on a new connection.
    private mutating func replayOrFail(_ transaction: Transaction?, _ error: UpstreamError) -> Action {
        state = .closed(nil)
        deadline = nil
        guard let transaction, !transaction.dataReplayed else { return .complete(.failed(error), .close) }
        return .complete(.replay(Replay(envelope: transaction.envelope, step: .data, mailRetried: false, dataReplayed: true)), .close)
    }

    /// Message data goes; the final dot with the last of it. The upstream must read each
    /// write, and answer the final dot, within the data timeout.
    private mutating func write(_ bytes: ByteBuffer, isComplete: Bool, _ transaction: Transaction, now: NIODeadline) -> Action {
        state = isComplete ? .finalReply : .sending(transaction, writing: true)
        deadline = now + configuration.timeouts.data
        // The final dot's write needs no completion: its reply comes within the same deadline.
        return isComplete ? .writeLast(bytes) : .write(bytes)
    }

    private mutating func send(_ commands: [SMTPCommand], now: NIODeadline) -> Action {
        deadline = now + configuration.timeouts.command
        return .send(commands)
    }

    private mutating func complete(_ outcome: Outcome, _ disposition: Disposition) -> Action {
        deadline = nil
        return .complete(outcome, disposition)
    }

    private mutating func fail(_ kind: UpstreamError.Kind, _ detail: String) -> Action {
        state = .closed(nil)
        return complete(.failed(UpstreamError(kind: kind, detail: detail)), .close)
    }

    private mutating func outOfSequence(_ what: String) -> Action {
        fail(.protocolViolation, "\(what) asked for out of sequence")
    }

    /// MAIL's parameters as the upstream may take them: SIZE with room for the trace header
    /// ThuGate adds, BODY=8BITMIME and SMTPUTF8 only when announced.
    private func upstreamParameters(_ parameters: MailParameters) -> MailParameters {
        var upstream = MailParameters()
        if let size = parameters.size, extensions.supports("SIZE") {
            upstream.size = size > Int.max - 1024 ? Int.max : size + 1024
        }
        if parameters.body == .eightBitMIME && extensions.supports("8BITMIME") { upstream.body = .eightBitMIME }
        upstream.smtpUTF8 = parameters.smtpUTF8 && extensions.supports("SMTPUTF8")
        return upstream
    }

    /// Mail the upstream cannot take as it is: ThuGate does not convert, so it refuses rather
    /// than pass it on broken.
    /// - SeeAlso: RFC 6531 3.2 (SMTPUTF8), RFC 6152 3 (8BITMIME).
    private func downgradeRefusal(_ envelope: Envelope) -> Reply? {
        if envelope.parameters.smtpUTF8 && !extensions.supports("SMTPUTF8") { return .upstreamLacksSMTPUTF8 }
        if envelope.parameters.body == .eightBitMIME && !extensions.supports("8BITMIME") { return .upstreamLacks8BitMIME }
        return nil
    }
}

extension Reply {
    public static let upstreamLacksSMTPUTF8 = Reply(
        553,
        EnhancedStatus(5, 6, 7),
        vi: "Máy chủ thư chính không hỗ trợ SMTPUTF8",
        en: "Upstream does not support SMTPUTF8"
    )
    public static let upstreamLacks8BitMIME = Reply(
        554,
        EnhancedStatus(5, 6, 3),
        vi: "Máy chủ thư chính không nhận thư 8-bit",
        en: "Upstream does not support 8BITMIME"
    )
}
