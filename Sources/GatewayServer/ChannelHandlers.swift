import Atomics
import NIOCore
import NIOSSL
import SMTPCore

/// When the session waits for the client, and how long it may wait. Shared between the session
/// task and ``ClientTimeoutHandler`` on the event loop.
final class SessionClock: Sendable {
    /// Nanoseconds the client may stay silent; 0 while ThuGate itself is busy (e.g. waiting
    /// for the upstream), when the client rightly says nothing.
    private let timeout = ManagedAtomic<Int64>(0)
    private let lastActivity = ManagedAtomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
    /// Set while the session waits for a command outside any transaction: a shutdown may close it.
    let idleBetweenTransactions = ManagedAtomic<Bool>(false)

    func waitForClient(_ amount: TimeAmount) {
        lastActivity.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
        timeout.store(amount.nanoseconds, ordering: .relaxed)
    }

    func busy() {
        timeout.store(0, ordering: .relaxed)
    }

    func touch() {
        lastActivity.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Time left before the client is cut off; nil while ThuGate is busy.
    func remaining(now: NIODeadline) -> TimeAmount? {
        let t = timeout.load(ordering: .relaxed)
        guard t > 0 else { return nil }
        let idle = Int64(now.uptimeNanoseconds &- lastActivity.load(ordering: .relaxed))
        return .nanoseconds(t - idle)
    }
}

/// Cuts off a client that stays silent past the command or data timeout with `421 4.4.2`.
final class ClientTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let clock: SessionClock
    private var check: Scheduled<Void>?

    init(clock: SessionClock) {
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        schedule(context: context, in: .seconds(1))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.touch()
        context.fireChannelRead(data)
    }

    private func schedule(context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        guard let remaining = clock.remaining(now: .now()) else {
            schedule(context: context, in: .seconds(1))
            return
        }
        if remaining > .zero {
            schedule(context: context, in: remaining)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 128)
        Reply.commandTimeout.write(into: &buffer)
        // Best effort: a client that does not read must not keep the connection by not reading.
        context.writeAndFlush(wrapInboundOut(buffer), promise: nil)
        context.close(promise: nil)
    }
}

/// Sits in front of the session's inbound stream. After STARTTLS it inserts the TLS handler
/// and then passes an empty buffer on, so the session knows that everything after the marker
/// came through TLS and everything before it (plaintext sent too early) must be dropped.
final class StartTLSGate: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // NIO never reads zero bytes, so an empty buffer is free to mean "TLS starts here".
        if unwrapInboundIn(data).readableBytes > 0 { context.fireChannelRead(data) }
    }

    /// Writes the 220 reply in plaintext, then adds the TLS handler before anything else is read.
    static func start(on channel: Channel, reply: ByteBuffer, context sslContext: NIOSSLContext) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit {
            channel.writeAndFlush(reply).flatMapThrowing {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(NIOSSLServerHandler(context: sslContext), position: .first)
                let gate = try sync.handler(type: StartTLSGate.self)
                let gateContext = try sync.context(handler: gate)
                gateContext.fireChannelRead(NIOAny(channel.allocator.buffer(capacity: 0)))
            }
        }
    }
}
