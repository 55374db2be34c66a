import Configuration
import Inspection
import Logging
import NIOCore
import NIOSSL
import Policy
import SMTPCore
import Scanning
import SecrecyMarks

/// What every session shares: configuration, upstream, rules, TLS, log.
struct GatewayContext: Sendable {
    let config: GatewayConfig
    let sessionConfiguration: SessionConfiguration
    let upstream: any Upstream
    let inspector: MessageInspector
    /// Where held messages go, when any rule quarantines.
    let quarantine: (any QuarantineSink)?
    /// Notices: the planner, the key that recognises ThuGate's own, the service's wake-up (nil: off).
    var notices: NoticeSetup? = nil
    /// Where every finished message is counted for the reports.
    let verdicts: VerdictRecorder?
    let tlsContext: NIOSSLContext?
    let logger: Logger
    /// The front end the messages are counted under in the metrics.
    var mode = GatewayMetrics.Mode.proxy
}

/// The client closed the connection or was cut off.
private struct ClientGone: Error {}

/// Runs one client connection: a read loop that feeds ``SessionMachine`` and one ``run(_:)``
/// that carries out its actions (against the upstream, the inspector, the quarantine) and
/// feeds their results back. Every bit of protocol state is in the machine.
///
/// Replies are collected and written when ThuGate is about to wait for the client (RFC 2920
/// 3.1: a server may hold replies while more pipelined commands are buffered).
final class SMTPSession {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let deadline: ClientDeadline
    private let context: GatewayContext
    private let clientAddress: String
    /// The client's port (the socket's, or the PROXY header's); nil when unknown.
    private let clientPort: Int?
    private var logger: Logger
    private var machine: SessionMachine
    private var framer = InboundFramer()
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var output: ByteBuffer
    private var transaction: (any UpstreamTransaction)?
    /// The message between its final dot and its disposition.
    private var message: InFlightMessage?
    private let isShuttingDown: @Sendable () -> Bool

    /// `clientAddress`: the socket's peer, or the client a load balancer's PROXY header named.
    init(
        channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        clientAddress: String,
        clientPort: Int? = nil,
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        deadline: ClientDeadline,
        context: GatewayContext,
        isShuttingDown: @escaping @Sendable () -> Bool
    ) {
        self.channel = channel
        self.deadline = deadline
        self.context = context
        self.isShuttingDown = isShuttingDown
        self.iterator = inbound.makeAsyncIterator()
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.machine = SessionMachine(configuration: context.sessionConfiguration)
        self.output = channel.channel.allocator.buffer(capacity: 1024)
        var logger = context.logger
        logger[metadataKey: "client"] = "\(clientAddress)"
        self.logger = logger
    }

    private var eventLoop: any EventLoop { channel.channel.eventLoop }

    func run() async {
        do {
            queue(machine.greeting)
            while machine.state != .closed {
                // Replies to a long pipelined burst are not held without bound (RFC 2920 3.1).
                if output.readableBytes > 16 * 1024 { try await flush() }
                if isShuttingDown(), let action = machine.shutdownRequested() {
                    try await run(action)
                    continue
                }
                try await run(try await nextCommand())
            }
            try await flush()
        } catch is ClientGone {
            logger.debug("client disconnected")
        } catch {
            logger.debug("session ended", metadata: ["error": "\(error)"])
        }
        await abortUpstream()
        machine.closed()
    }

    /// Runs an action, and those the machine answers with when told how it went.
    private func run(_ first: SessionMachine.Action) async throws {
        var next: SessionMachine.Action? = first
        while let action = next {
            next = nil
            switch action {
            case .reply(let reply):
                queue(reply)
            case .forwardMail(var envelope, let pipelined):
                // XFORWARD tells the upstream who the client is, when it asks.
                envelope.origin = ClientOrigin(address: clientAddress, port: clientPort)
                let upstream = context.upstream.beginTransaction(eventLoop: eventLoop, logger: logger)
                transaction = upstream
                next = machine.mailReplied(await upstream.mail(envelope, then: pipelined.compactMap(PipelinedCommand.init)))
            case .forwardRecipient(let address):
                next = machine.recipientReplied(await transaction?.recipient(address) ?? .upstreamUnavailable)
            case .receiveData:
                queue(.startData)
                try await flush()
                next = try await receiveData()
            case .inspect(let envelope):
                next = machine.inspected(await inspect(envelope))
            case .relay:
                next = machine.relayed(await relay())
            case .hold:
                await abortUpstream()
                next = machine.held(await hold())
            case .abortTransaction(let reply):
                await abortUpstream()
                queue(reply)
            case .startTLS(let reply):
                try await startTLS(reply)
            case .close(let reply):
                queue(reply)
            case .refusedRecipient(let recipient, let sender, let reason, let reply):
                // Postfix's shape for a refusal before any queue file: NOQUEUE.
                logger.info("NOQUEUE: reject: RCPT to=<\(recipient.address)> from=<\(sender.address)>: \(reason)")
                queue(reply)
            }
        }
    }

    /// The one place the upstream transaction is given up.
    private func abortUpstream() async {
        guard let transaction else { return }
        self.transaction = nil
        await transaction.abort()
    }

    // MARK: Input

    private func nextCommand() async throws -> SessionMachine.Action {
        while true {
            if let action = machine.nextCommand(from: &framer) { return action }
            try await readMore()
        }
    }

    /// Waits for more bytes from the client, for as long as the machine allows; writes held
    /// replies first.
    private func readMore() async throws {
        try await flush()
        deadline.wait(machine.awaitingInput(now: eventLoop.now))
        defer { deadline.busy() }
        guard let bytes = try await iterator.next() else { throw ClientGone() }
        framer.append(bytes)
    }

    private func receiveData() async throws -> SessionMachine.Action {
        let server = context.config.server
        let buffer = MessageBuffer(
            threshold: server.memoryThreshold,
            spoolDirectory: server.spoolDirectory,
            allocator: channel.channel.allocator
        )
        var decoder = DataDecoder(
            maxSize: server.maxMessageSize,
            maxLineLength: server.maxDataLineLength,
            bareLineEndings: server.bareLineEndings
        )
        var spoolFailure: (any Error)?
        while true {
            let finished = framer.decodeData(&decoder) { bytes in
                // After a spool failure keep reading to the final dot, storing nothing.
                guard spoolFailure == nil else { return }
                do { try buffer.append(bytes) } catch { spoolFailure = error }
            }
            if finished { break }
            try await readMore()
        }
        if let spoolFailure {
            logger.error("cannot spool message", metadata: ["error": "\(spoolFailure)"])
            return machine.storageFailed()
        }
        let action = machine.dataEnded(
            DataOutcome(
                tooBig: decoder.tooBig,
                bareLineEnding: decoder.sawBareLineEnding,
                longLine: decoder.sawLongLine
            )
        )
        // Only a message about to be inspected is kept (a refused one may be a 35 MB spool file).
        if case .inspect(let envelope) = action {
            let client = MessageOutcome.Client(heloName: envelope.heloName, address: clientAddress, tls: machine.tlsActive)
            message = InFlightMessage(
                buffer,
                outcome: MessageOutcome(
                    queueID: QueueID.next(),
                    client: client,
                    hostname: server.hostname,
                    envelope: envelope,
                    parties: context.config.agencies.parties(sender: envelope.sender, recipients: envelope.recipients)
                )
            )
        }
        return action
    }

    // MARK: The message

    /// Inspects the message and says what becomes of it; a refused or deferred one is disposed
    /// of here, a relayed or held one waits for the machine's word.
    private func inspect(_ envelope: Envelope) async -> MessageDecision {
        guard let message = self.message.take() else { return .defer(.localError) }
        switch await context.judge(message, envelope: envelope, logger: logger) {
        case .relay(let message, _):
            self.message = consume message
            return .relay
        case .hold(let message):
            self.message = consume message
            return .hold
        case .done(let decision):
            return decision
        }
    }

    private func relay() async -> Reply {
        guard let message = self.message.take(), let transaction else { return .localError }
        self.transaction = nil
        let outcome = await message.relay(via: transaction)
        log(outcome)
        return outcome.disposition?.reply ?? .localError
    }

    private func hold() async -> Reply {
        guard let message = self.message.take() else { return .localError }
        let outcome = await message.hold(in: context.quarantine, logger: logger)
        log(outcome)
        return outcome.disposition?.reply ?? .localError
    }

    private func log(_ outcome: MessageOutcome) {
        context.record(outcome, logger: logger)
    }

    // MARK: Output

    private func queue(_ reply: Reply) {
        reply.write(into: &output)
    }

    /// Writes the held replies. A client that does not read them is cut off like a silent one.
    private func flush() async throws {
        guard output.readableBytes > 0 else { return }
        deadline.wait(machine.awaitingOutput(now: eventLoop.now))
        defer { deadline.busy() }
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

extension PipelinedCommand {
    /// The commands the session machine lets go upstream with MAIL.
    init?(_ command: SMTPCommand) {
        switch command {
        case .rcpt(let address): self = .recipient(address)
        case .data: self = .data
        default: return nil
        }
    }
}
