import Configuration
import NIOCore
import ProxyProtocol

/// First in the pipeline of a listener with `proxy_protocol = "required"`: a peer outside
/// `trusted_proxies` is closed before a byte is read; from a trusted one, the PROXY header must
/// come whole and valid within `timeout`, before the session sends its banner. The header's
/// outcome completes `header` (nil source: LOCAL or UNKNOWN, the socket's address stands); the
/// bytes after it go on to the session, and the handler removes itself. Anything else closes
/// the connection: the spec forbids guessing.
/// - SeeAlso: HAProxy `doc/proxy-protocol.txt` (1: "the receiver must not start processing the
///   connection before it receives a complete and valid PROXY protocol header").
final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Why a connection never reached its session.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    private let trusted: [IPNetwork]
    private let timeout: TimeAmount
    private let header: EventLoopPromise<ProxyHeader>
    private var decoder = ProxyHeaderDecoder()
    private var timer: Scheduled<Void>?
    private var finished = false

    init(trusted: [IPNetwork], timeout: TimeAmount, header: EventLoopPromise<ProxyHeader>) {
        self.trusted = trusted
        self.timeout = timeout
        self.header = header
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil, !finished else { return }
        guard trusted.contains(context.channel.remoteAddress) else {
            fail(context: context, "peer \(context.channel.remoteAddress?.ipAddress ?? "unknown") is not in trusted_proxies")
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(context: context, "no complete PROXY header within \(handler.timeout.nanoseconds / 1_000_000_000) s")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else {
            context.fireChannelRead(data)
            return
        }
        let bytes = unwrapInboundIn(data)
        switch decoder.decode(bytes.readableBytesView) {
        case .needMore:
            return
        case .invalid(let error):
            fail(context: context, "\(error)")
        case .header(let proxyHeader, let rest):
            finished = true
            timer?.cancel()
            header.succeed(proxyHeader)
            if !rest.isEmpty {
                var buffer = context.channel.allocator.buffer(capacity: rest.count)
                buffer.writeBytes(rest)
                context.fireChannelRead(wrapInboundOut(buffer))
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { fail(context: context, "closed before a complete PROXY header") }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        if !finished {
            finished = true
            header.fail(Refused(description: "removed before a PROXY header"))
        }
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        header.fail(Refused(description: reason))
        context.close(promise: nil)
    }
}
