#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics
import Configuration
import Inspection
import Logging
import MIMECore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Policy
import Scanning
import SMTPCore

/// What every session shares: configuration, upstream, rules, TLS, log.
struct GatewayContext: Sendable {
    let config: GatewayConfig
    let sessionConfiguration: SessionConfiguration
    let upstream: any Upstream
    let inspector: MessageInspector
    /// Where held messages are written (a Maildir), when any rule quarantines.
    let quarantine: MaildirUpstream?
    let tlsContext: NIOSSLContext?
    let logger: Logger
}

/// The client closed the connection or was cut off.
private struct ClientGone: Error {}

/// Runs one client connection: reads commands, drives ``SessionMachine``, carries out its
/// actions against the upstream, and writes the replies.
///
/// Replies are collected and written when ThuGate is about to wait for the client (RFC 2920
/// 3.1: a server may hold replies while more pipelined commands are buffered).
final class SMTPSession {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let clock: SessionClock
    private let context: GatewayContext
    private let clientAddress: String
    private var logger: Logger
    private var machine: SessionMachine
    private var framer = InboundFramer()
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var output: ByteBuffer
    private var transaction: (any UpstreamTransaction)?
    private let isShuttingDown: @Sendable () -> Bool

    /// Commands taken from the input ahead of time: those pipelined behind MAIL, already passed
    /// upstream with it, carry the upstream's reply.
    private struct Pending {
        var line: InboundFramer.CommandLine
        var command: SMTPCommand?
        var upstreamReply: Reply?
    }
    private var lookahead: [Pending] = []
    private var lookaheadIndex = 0
    /// The upstream's reply to the command being handled, when it was pipelined.
    private var prefetchedReply: Reply?
    /// The message received in DATA, between the final dot and its delivery.
    private var message: MessageBuffer?

    init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, inbound: NIOAsyncChannelInboundStream<ByteBuffer>, clock: SessionClock,
         context: GatewayContext, isShuttingDown: @escaping @Sendable () -> Bool) {
        self.channel = channel
        self.clock = clock
        self.context = context
        self.isShuttingDown = isShuttingDown
        self.iterator = inbound.makeAsyncIterator()
        self.clientAddress = channel.channel.remoteAddress?.ipAddress ?? "unknown"
        self.machine = SessionMachine(configuration: context.sessionConfiguration)
        self.output = channel.channel.allocator.buffer(capacity: 1024)
        var logger = context.logger
        logger[metadataKey: "client"] = "\(clientAddress)"
        self.logger = logger
    }

    func run() async {
        do {
            queue(machine.greeting)
            while machine.state != .closed {
                // Replies to a long pipelined burst are not held without bound (RFC 2920 3.1).
                if output.readableBytes > 16 * 1024 { try await flush() }
                if !machine.inTransaction && isShuttingDown() {
                    queue(.shuttingDown)
                    break
                }
                let action: SessionMachine.Action
                if lookaheadIndex < lookahead.count {
                    let pending = lookahead[lookaheadIndex]
                    lookaheadIndex += 1
                    if lookaheadIndex == lookahead.count {
                        lookahead.removeAll(keepingCapacity: true)
                        lookaheadIndex = 0
                    }
                    prefetchedReply = pending.upstreamReply
                    action = pending.command.map { machine.received($0) } ?? machine.received(pending.line)
                } else {
                    prefetchedReply = nil
                    action = machine.received(try await nextCommandLine())
                }
                try await perform(action)
            }
            try await flush()
        } catch is ClientGone {
            logger.debug("client disconnected")
        } catch {
            logger.debug("session ended", metadata: ["error": "\(error)"])
        }
        if let transaction {
            await transaction.abort()
            self.transaction = nil
        }
        machine.closed()
    }

    /// Carries out an action and those that follow from the upstream's answers.
    private func perform(_ first: SessionMachine.Action) async throws {
        var next: SessionMachine.Action? = first
        while let action = next {
            next = nil
            switch action {
            case .reply(let reply):
                queue(reply)
            case .forwardMail(let envelope):
                clock.busy()
                let upstreamTransaction = context.upstream.beginTransaction(eventLoop: channel.channel.eventLoop, logger: logger)
                transaction = upstreamTransaction
                let (commands, positions) = takePipelinedCommands(envelope)
                let replies = await upstreamTransaction.mail(envelope, then: commands)
                for (reply, position) in zip(replies.dropFirst(), positions) { lookahead[position].upstreamReply = reply }
                if !SessionMachine.mailAccepted(replies[0]) {
                    await upstreamTransaction.abort()
                    transaction = nil
                }
                next = machine.mailReplied(replies[0])
            case .forwardRecipient(let address):
                clock.busy()
                let reply: Reply
                if let prefetchedReply {
                    reply = prefetchedReply
                    self.prefetchedReply = nil
                } else {
                    reply = await transaction?.recipient(address) ?? .upstreamUnavailable
                }
                next = machine.recipientReplied(reply)
            case .receiveData:
                queue(.startData)
                try await flush()
                next = try await receiveData()
            case .deliver(let envelope):
                next = machine.deliveryFinished(await deliver(envelope))
            case .abortTransaction(let reply):
                clock.busy()
                await transaction?.abort()
                transaction = nil
                queue(reply)
            case .startTLS(let reply):
                try await startTLS(reply)
            case .close(let reply):
                queue(reply)
            }
        }
    }

    // MARK: Input

    /// Takes the RCPT commands (and a final DATA) that the client pipelined right behind MAIL
    /// and are already buffered, so they go upstream in the same write (RFC 2920). Only commands
    /// the session machine is sure to pass on are taken: a recipient the machine would refuse
    /// itself must never reach the upstream.
    private func takePipelinedCommands(_ envelope: Envelope) -> ([PipelinedCommand], [Int]) {
        guard lookaheadIndex >= lookahead.count else { return ([], []) }
        lookahead.removeAll(keepingCapacity: true)
        lookaheadIndex = 0
        var commands: [PipelinedCommand] = []
        var positions: [Int] = []
        let maxRecipients = context.sessionConfiguration.maxRecipients
        while let line = framer.nextCommandLine(maxLength: context.config.server.maxLineLength,
                                                bareLineEndings: context.config.server.bareLineEndings) {
            var pending = Pending(line: line)
            if case .line(let bytes) = line { pending.command = try? SMTPCommand.parse(bytes.readableBytesView) }
            lookahead.append(pending)
            switch pending.command {
            case .rcpt(let address) where commands.count < maxRecipients && (address.isASCII || envelope.parameters.smtpUTF8):
                commands.append(.recipient(address))
                positions.append(lookahead.count - 1)
                continue
            case .data where !commands.isEmpty:
                commands.append(.data)
                positions.append(lookahead.count - 1)
            default:
                break
            }
            break
        }
        return (commands, positions)
    }

    private func nextCommandLine() async throws -> InboundFramer.CommandLine {
        while true {
            if let line = framer.nextCommandLine(maxLength: context.config.server.maxLineLength,
                                                 bareLineEndings: context.config.server.bareLineEndings) {
                return line
            }
            try await readMore(timeout: context.config.server.commandTimeout, betweenTransactions: !machine.inTransaction)
        }
    }

    /// Waits for more bytes from the client; writes held replies first.
    private func readMore(timeout: TimeAmount, betweenTransactions: Bool = false) async throws {
        try await flush()
        clock.waitForClient(timeout)
        clock.idleBetweenTransactions.store(betweenTransactions, ordering: .relaxed)
        defer {
            clock.idleBetweenTransactions.store(false, ordering: .relaxed)
            clock.busy()
        }
        guard let bytes = try await iterator.next() else { throw ClientGone() }
        framer.append(bytes)
    }

    private func receiveData() async throws -> SessionMachine.Action {
        let server = context.config.server
        let message = MessageBuffer(threshold: server.memoryThreshold, spoolDirectory: server.spoolDirectory,
                                    allocator: channel.channel.allocator)
        var decoder = DataDecoder(maxSize: server.maxMessageSize, maxLineLength: server.maxDataLineLength,
                                  bareLineEndings: server.bareLineEndings)
        var spoolFailure: Error?
        while true {
            let finished = framer.decodeData(&decoder) { bytes in
                // After a spool failure keep reading to the final dot, storing nothing.
                guard spoolFailure == nil else { return }
                do { try message.append(bytes) } catch { spoolFailure = error }
            }
            if finished { break }
            try await readMore(timeout: server.dataTimeout)
        }
        if let spoolFailure {
            logger.error("cannot spool message", metadata: ["error": "\(spoolFailure)"])
            _ = machine.dataEnded(DataOutcome(tooBig: true))
            return .abortTransaction(.localError)
        }
        let action = machine.dataEnded(DataOutcome(tooBig: decoder.tooBig, bareLineEnding: decoder.sawBareLineEnding,
                                                   longLine: decoder.sawLongLine))
        // Only a message about to be delivered is kept (a refused one may be a 35 MB spool file).
        if case .deliver = action { self.message = message }
        return action
    }

    // MARK: Delivery

    private func deliver(_ envelope: Envelope) async -> Reply {
        clock.busy()
        let started = NIODeadline.now()
        let queueID = QueueID.next()
        guard var message = self.message, let transaction else { return .localError }
        self.message = nil
        self.transaction = nil

        let result: InspectionResult
        do {
            result = try await context.inspector.inspect(try message.messageBytes(), envelope: envelope, large: message.isSpooled)
            if let normalized = result.rewritten {
                // The rewritten message replaces the received one (memory or spool, as any other).
                let rewritten = MessageBuffer(threshold: context.config.server.memoryThreshold,
                                              spoolDirectory: context.config.server.spoolDirectory)
                try normalized.withUnsafeBytes { try rewritten.append($0) }
                message = rewritten
            }
        } catch let error as ScanError {
            // Fail closed: what could not be scanned is deferred, never accepted.
            logger.error("\(queueID): content scan failed: \(error)")
            await transaction.abort()
            return PolicyReplies.scanFailed
        } catch {
            // Never accept what could not be checked.
            logger.error("\(queueID): cannot inspect message: \(error)")
            await transaction.abort()
            return .localError
        }
        var header = ReceivedHeader(heloName: envelope.heloName, clientAddress: clientAddress, hostname: context.config.server.hostname,
                                    esmtp: envelope.esmtp, tls: machine.tlsActive, smtpUTF8: envelope.parameters.smtpUTF8,
                                    queueID: queueID, recipients: envelope.recipients, date: rfc5322Date()).field
        let reply: Reply
        switch result.verdict {
        case .pass, .tag:
            if !result.findings.isEmpty {
                let text = result.findings.map { $0.description }.joined(separator: "; ")
                // Findings are built from message content: no CR or LF may end the header early.
                header += "X-ThuGate-Findings: \(Self.headerText(text))\r\n"
            }
            reply = await transaction.data(envelope: envelope, header: header, message: message, queueID: queueID)
        case .reject(let finding):
            await transaction.abort()
            reply = PolicyReplies.reject(finding)
        case .tempfail(let finding):
            await transaction.abort()
            reply = PolicyReplies.tempfail(finding)
        case .quarantine(let finding):
            await transaction.abort()
            reply = await hold(message, envelope: envelope, header: header, findings: result.findings, queueID: queueID)
                ?? PolicyReplies.tempfail(finding)
        }

        let milliseconds = (NIODeadline.now() - started).nanoseconds / 1_000_000
        let result_ = reply.isPositive ? "sent" : reply.isTransientFailure ? "deferred" : "rejected"
        let findings = result.findings.isEmpty ? "" : ", findings=\"\(result.findings.map { $0.description }.joined(separator: "; "))\""
        logger.info("\(queueID): client=\(envelope.heloName)[\(clientAddress)], from=\(envelope.sender), to=\(envelope.recipients.map { $0.description }.joined(separator: ",")), size=\(message.size), result=\(result_)\(findings), reply=\"\(reply)\", ms=\(milliseconds)")
        return reply
    }

    /// A header value built from findings, which name what the sender chose (file and member
    /// names): no control characters, and short enough that the line stays under 998 octets.
    static func headerText(_ text: String) -> String {
        HeaderText.sanitized(text)
    }

    /// Writes a held message to the quarantine Maildir (fsynced before the client hears 250),
    /// with the envelope and the findings in headers above the trace header. Nil when it could
    /// not be written: the caller then defers the message.
    private func hold(_ message: MessageBuffer, envelope: Envelope, header: String, findings: [Finding], queueID: String) async -> Reply? {
        guard let quarantine = context.quarantine else { return nil }
        let clean = Self.headerText
        let held = "X-ThuGate-Quarantine: \(clean(findings.map(\.description).joined(separator: "; ")))\r\n"
            + "X-ThuGate-Envelope-From: \(clean(envelope.sender.description))\r\n"
            + "X-ThuGate-Envelope-To: \(clean(envelope.recipients.map(\.description).joined(separator: ", ")))\r\n"
        do {
            _ = try await quarantine.deliver(header: held + header, message: message, queueID: queueID)
            return PolicyReplies.quarantined(queueID)
        } catch {
            logger.error("\(queueID): cannot write to quarantine: \(error)")
            return nil
        }
    }

    // MARK: Output

    private func queue(_ reply: Reply) {
        reply.write(into: &output)
    }

    /// Writes the held replies. A client that does not read them is cut off by the command
    /// timeout like a silent one.
    private func flush() async throws {
        guard output.readableBytes > 0 else { return }
        clock.waitForClient(context.config.server.commandTimeout)
        defer { clock.busy() }
        // Written on the channel itself, not through the async writer, so that the order with
        // the STARTTLS switch below is certain.
        try await channel.channel.writeAndFlush(output).get()
        // Written out: the buffer's storage is ours again.
        output.clear()
    }

    private func startTLS(_ reply: Reply) async throws {
        guard let tlsContext = context.tlsContext else { return }
        try await flush()
        var bytes = channel.channel.allocator.buffer(capacity: 64)
        reply.write(into: &bytes)
        try await StartTLSGate.start(on: channel.channel, reply: bytes, context: tlsContext).get()
        // Anything read before the marker was sent in plaintext after STARTTLS: drop it.
        framer.discardBuffered()
        while true {
            guard let bytes = try await iterator.next() else { throw ClientGone() }
            if bytes.readableBytes == 0 { break }
        }
    }
}

/// Postfix-style queue IDs: 12 characters, unique enough to find one message in the logs:
/// 6 random per process start, then a counter (no system call per message).
enum QueueID {
    private static let alphabet = Array("0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjkmnpqrstvwxyz".utf8)
    private static let prefix = encode(UInt64.random(in: .min ... .max), digits: 6)
    private static let counter = ManagedAtomic<UInt64>(0)

    static func next() -> String {
        prefix + encode(counter.wrappingIncrementThenLoad(ordering: .relaxed), digits: 6)
    }

    private static func encode(_ number: UInt64, digits: Int) -> String {
        var value = number
        var chars = [UInt8](repeating: 0, count: digits)
        for i in (0..<digits).reversed() {
            chars[i] = alphabet[Int(value % UInt64(alphabet.count))]
            value /= UInt64(alphabet.count)
        }
        return String(decoding: chars, as: UTF8.self)
    }
}

/// The current time as an RFC 5322 3.3 date-time in local time, e.g. `Mon, 23 Nov 2026 21:00:00 +0700`.
/// Formatted at most once a second: every message's Received: header needs it.
func rfc5322Date() -> String {
    let now = time(nil)
    if let cached = dateCache.withLockedValue({ $0.second == now ? $0.text : nil }) { return cached }
    let text = formatRFC5322Date(now)
    dateCache.withLockedValue { $0 = (now, text) }
    return text
}

private let dateCache = NIOLockedValueBox<(second: time_t, text: String)>((0, ""))

func formatRFC5322Date(_ seconds: time_t) -> String {
    var now = seconds
    var parts = tm()
    localtime_r(&now, &parts)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    let offset = parts.tm_gmtoff / 60
    let sign = offset < 0 ? "-" : "+"
    return "\(days[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
        + format2(parts.tm_hour) + ":" + format2(parts.tm_min) + ":" + format2(parts.tm_sec)
        + " \(sign)\(format2(Int32(abs(offset) / 60)))\(format2(Int32(abs(offset) % 60)))"
}

private func format2(_ value: Int32) -> String {
    value < 10 ? "0\(value)" : "\(value)"
}
