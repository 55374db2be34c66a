import NIOCore
import NIOSSL

/// Sits in front of the session's inbound stream. After STARTTLS it inserts the TLS handler
/// and then passes an empty buffer on, so the session knows that everything after the marker
/// came through TLS and everything before it (plaintext sent too early) must be dropped.
/// - SeeAlso: RFC 3207 4.2 (no command sent before TLS may be acted on after it).
final class StartTLSGate: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // NIO never reads zero bytes, so an empty buffer is free to mean "TLS starts here".
        if unwrapInboundIn(data).readableBytes > 0 { context.fireChannelRead(data) }
    }

    /// Writes the 220 reply in plaintext, then adds the TLS handler before anything else is read.
    static func start(on channel: any Channel, reply: ByteBuffer, context sslContext: NIOSSLContext) -> EventLoopFuture<Void> {
        start(on: channel, reply: reply) { NIOSSLServerHandler(context: sslContext) }
    }

    /// As above with any handler that takes over the bytes (a test passes one that is not TLS).
    static func start(
        on channel: any Channel,
        reply: ByteBuffer,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit {
            channel.writeAndFlush(reply).flatMapThrowing {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(makeHandler(), position: .first)
                let gate = try sync.handler(type: StartTLSGate.self)
                let gateContext = try sync.context(handler: gate)
                gateContext.fireChannelRead(NIOAny(channel.allocator.buffer(capacity: 0)))
            }
        }
    }
}
