import Atomics
import NIOCore
import SMTPCore

/// Until when the client may stay silent, as the session machine said it (``ClientWait``):
/// set by the session task when it starts waiting for the client, read by its
/// ``ClientTimeoutHandler`` on the event loop and by the server's shutdown. No deadline while
/// ThuGate itself is busy (inspecting, waiting for the upstream), when the client rightly says
/// nothing.
final class ClientDeadline: Sendable {
    /// `NIODeadline.uptimeNanoseconds` of the deadline; 0 while ThuGate is busy.
    private let deadline = ManagedAtomic<UInt64>(0)
    private let betweenTransactions = ManagedAtomic<Bool>(false)

    init() {}

    /// The session waits for the client until `wait.deadline`.
    func wait(_ wait: ClientWait) {
        betweenTransactions.store(wait.betweenTransactions, ordering: .relaxed)
        deadline.store(max(wait.deadline.uptimeNanoseconds, 1), ordering: .relaxed)
    }

    /// The session is working; the client is not waited for.
    func busy() {
        deadline.store(0, ordering: .relaxed)
        betweenTransactions.store(false, ordering: .relaxed)
    }

    /// When the client is cut off; nil while ThuGate is busy.
    var current: NIODeadline? {
        let value = deadline.load(ordering: .relaxed)
        return value == 0 ? nil : .uptimeNanoseconds(value)
    }

    /// The session waits for a command outside any transaction: a shutdown may close it.
    var isIdleBetweenTransactions: Bool {
        betweenTransactions.load(ordering: .relaxed) && deadline.load(ordering: .relaxed) != 0
    }
}

/// Cuts off a client that stays silent past the deadline its session set (command or data
/// timeout) with `421 4.4.2`. The one timer of the client side: scheduled at the deadline
/// (`scheduleTask(deadline:)`), on the event loop's clock (`eventLoop.now`).
final class ClientTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// While ThuGate is busy there is no deadline; it is looked at again this often.
    static let busyRecheck = TimeAmount.seconds(1)

    private let deadline: ClientDeadline
    private var check: Scheduled<Void>?
    /// Says `421 4.4.2` before closing (SMTP); a milter connection is closed without a word.
    private let saysGoodbye: Bool

    init(deadline: ClientDeadline, saysGoodbye: Bool = true) {
        self.deadline = deadline
        self.saysGoodbye = saysGoodbye
    }

    func handlerAdded(context: ChannelHandlerContext) {
        schedule(context: context, at: context.eventLoop.now + Self.busyRecheck)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        context.fireChannelInactive()
    }

    private func schedule(context: ChannelHandlerContext, at when: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: when) {
            let (handler, context) = loopBound.value
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let now = context.eventLoop.now
        guard let deadline = deadline.current else {
            schedule(context: context, at: now + Self.busyRecheck)
            return
        }
        if deadline > now {
            schedule(context: context, at: deadline)
            return
        }
        if saysGoodbye {
            var buffer = context.channel.allocator.buffer(capacity: 128)
            Reply.commandTimeout.write(into: &buffer)
            // Best effort: a client that does not read must not keep the connection by not reading.
            context.writeAndFlush(wrapInboundOut(buffer), promise: nil)
        }
        context.close(promise: nil)
    }
}
