import Configuration
import NIOCore
import NIOSSL
import SMTPCore

/// Drives one ``UpstreamMachine``: maps each decoded reply, the connection's end, each timer
/// and each request to one machine event, and runs the action it returns in ``run(_:context:)``.
/// Holds no protocol state of its own: only the outstanding request's promise and the timer.
///
/// Time is read from `eventLoop.now` only and timers are scheduled at the machine's deadline,
/// so `EmbeddedEventLoop.advanceTime(by:)` drives the timeouts in tests.
final class UpstreamClientHandler: ChannelInboundHandler {
    typealias InboundIn = Reply
    typealias OutboundOut = ByteBuffer
    typealias Completion = (UpstreamMachine.Outcome, UpstreamMachine.Disposition)

    /// What the driver asks of the connection; each is answered once.
    enum Request: Sendable {
        case mail(Envelope, pipelined: [SMTPCommand])
        case replay(UpstreamMachine.Replay)
        case recipient(MailAddress)
        /// DATA (unless pipelined) and the first chunk of the message, all of it when complete.
        case message(ByteBuffer, isComplete: Bool)
        case messageData(ByteBuffer)
        case messageEnd(ByteBuffer)
        case abort
        case quit
    }

    private var machine: UpstreamMachine
    /// The outstanding request; at first the connection itself (greeting, EHLO, STARTTLS).
    private var pending: EventLoopPromise<Completion>?
    /// Answered once the connection is ready (``UpstreamMachine/Outcome/ready(_:)``) or failed.
    let ready: EventLoopFuture<Completion>
    private let tls: (context: NIOSSLContext, serverName: String?)?
    private var context: ChannelHandlerContext?
    private let eventLoop: any EventLoop
    /// The one timer, and when it fires. It is re-armed only when it fires or the deadline
    /// moves earlier: most exchanges never touch the event loop's timer heap.
    private var timer: (at: NIODeadline, task: Scheduled<Void>)?

    init(
        configuration: UpstreamMachine.Configuration,
        tls: (context: NIOSSLContext, serverName: String?)?,
        ready: EventLoopPromise<Completion>
    ) {
        self.eventLoop = ready.futureResult.eventLoop
        self.machine = UpstreamMachine(configuration: configuration)
        self.tls = tls
        self.pending = ready
        self.ready = ready.futureResult
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { run(machine.connected(now: context.eventLoop.now), context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Also reached for a connection attempt that never connected.
        self.context = nil
        timer?.task.cancel()
        timer = nil
        run(machine.connectionClosed(), context: nil)
        pending?.succeed((.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
        pending = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        run(machine.connected(now: context.eventLoop.now), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        GatewayMetrics.upstreamReplied(code: reply.code)
        run(machine.replyReceived(reply, now: context.eventLoop.now), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(machine.connectionClosed(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let upstreamError =
            error as? UpstreamError
            ?? UpstreamError(kind: error is NIOSSLError ? .tls : .protocolViolation, detail: "\(error)")
        run(machine.errorCaught(upstreamError), context: context)
    }

    /// Starts `request`; `promise` gets its answer. One request at a time.
    func perform(_ request: Request, promise: EventLoopPromise<Completion>) {
        guard pending == nil else {
            promise.succeed((.failed(UpstreamError(kind: .protocolViolation, detail: "request while another is outstanding")), .keep))
            return
        }
        pending = promise
        // After the channel closed there is no context, but the machine still answers: a
        // transaction lost while the client was talking may be replayed.
        let now = context?.eventLoop.now ?? eventLoop.now
        let action: UpstreamMachine.Action
        switch request {
        case .mail(let envelope, let pipelined): action = machine.mail(envelope, pipelined: pipelined, now: now)
        case .replay(let replay): action = machine.replay(replay, now: now)
        case .recipient(let address): action = machine.recipient(address, now: now)
        case .message(let bytes, let isComplete): action = machine.message(bytes, isComplete: isComplete, now: now)
        case .messageData(let bytes): action = machine.messageData(bytes, now: now)
        case .messageEnd(let bytes): action = machine.messageEnded(bytes, now: now)
        case .abort: action = machine.abort(now: now)
        case .quit: action = machine.quit(now: now)
        }
        run(action, context: context)
    }

    private func run(_ action: UpstreamMachine.Action, context: ChannelHandlerContext?) {
        guard let context else {
            // Closed: the machine only answers requests now.
            if case .complete(let outcome, let disposition) = action {
                let promise = pending
                pending = nil
                promise?.succeed((outcome, disposition))
            }
            return
        }
        switch action {
        case .wait:
            break
        case .send(let commands):
            var buffer = context.channel.allocator.buffer(capacity: 64 * commands.count)
            for command in commands { command.write(into: &buffer) }
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .startTLS(let commands):
            do {
                guard let tls else { throw UpstreamError(kind: .tls, detail: "no TLS configuration") }
                let handler = try NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName)
                try context.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                let upstreamError = error as? UpstreamError ?? UpstreamError(kind: .tls, detail: "\(error)")
                return run(machine.errorCaught(upstreamError), context: context)
            }
            // Written through TLS: NIOSSL holds it until the handshake is done.
            run(.send(commands), context: context)
        case .writeLast(let bytes):
            // No write promise: a failed write closes the channel, which the machine hears of.
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        case .write(let bytes):
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(bytes), promise: written)
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            written.futureResult.whenComplete { result in
                let handler = this.value
                guard let context = handler.context else { return }
                switch result {
                case .success:
                    handler.run(handler.machine.messageDataWritten(now: eventLoop.now), context: context)
                case .failure(let error):
                    handler.run(
                        handler.machine.errorCaught(UpstreamError(kind: .closed, detail: "write failed: \(error)")),
                        context: context
                    )
                }
            }
        case .complete(let outcome, let disposition):
            let promise = pending
            pending = nil
            if disposition == .close { context.close(promise: nil) }
            promise?.succeed((outcome, disposition))
        case .close:
            context.close(promise: nil)
        }
        armTimer(context: context)
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard let deadline = machine.deadline else { return }
        if let timer {
            if timer.at <= deadline { return }
            timer.task.cancel()
        }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let task = context.eventLoop.scheduleTask(deadline: deadline) {
            let handler = this.value
            handler.timer = nil
            guard let context = handler.context else { return }
            handler.run(handler.machine.deadlineReached(now: context.eventLoop.now), context: context)
        }
        timer = (deadline, task)
    }
}
