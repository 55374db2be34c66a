import Foundation
import NIOCore
import NIOPosix

/// The built-in sink `thugate bench --smtp self` relays to: an SMTP server on 127.0.0.1 that
/// accepts every message and discards it, as Postfix's smtp-sink does, so the bench needs no
/// other program. It pipelines (RFC 2920) and counts what it received.
/// - SeeAlso: RFC 5321 §4.1 (commands), §4.5.2 (the end of DATA).
final class BenchSink: Sendable {
    let channel: any Channel
    let received: SinkCounter

    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, received: SinkCounter) {
        self.channel = channel
        self.received = received
    }

    static func start(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> BenchSink {
        let counter = SinkCounter()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SinkHandler(counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return BenchSink(channel: channel, received: counter)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Messages and bytes the sink received.
final class SinkCounter: @unchecked Sendable {
    // @unchecked: the counts are only touched under `lock`.
    private let lock = NSLock()
    private var count = 0

    func add() { lock.withLock { count += 1 } }
    var messages: Int { lock.withLock { count } }
}

/// One sink connection: commands answered line by line (several per read when the client
/// pipelines), message bytes skipped up to the `<CRLF>.<CRLF>` that ends them.
final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A command line longer than this closes the connection (RFC 5321 §4.5.3.1.4: 512 octets).
    static let maxLine = 4096
    private static let endOfData: [UInt8] = Array("\r\n.\r\n".utf8)

    private let counter: SinkCounter
    private var buffer = ByteBuffer()
    /// In DATA: how much of `<CRLF>.<CRLF>` was just seen (starting at 2, as if after a CRLF).
    private var dataMatch: Int?

    init(counter: SinkCounter) { self.counter = counter }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "220 thugate-bench-sink ESMTP\r\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        var out = ByteBuffer()
        var close = false
        while buffer.readableBytes > 0 && !close {
            if var match = dataMatch {
                // Scan for the end of the message; the bytes themselves are discarded.
                let consumed = buffer.withUnsafeReadableBytes { bytes -> Int in
                    for (index, byte) in bytes.enumerated() {
                        match = byte == Self.endOfData[match] ? match + 1 : (byte == 13 ? 1 : 0)
                        if match == Self.endOfData.count { return index + 1 }
                    }
                    return bytes.count
                }
                buffer.moveReaderIndex(forwardBy: consumed)
                if match == Self.endOfData.count {
                    dataMatch = nil
                    counter.add()
                    out.writeString("250 2.0.0 Ok: queued\r\n")
                } else {
                    dataMatch = match
                }
                continue
            }
            guard let newline = buffer.readableBytesView.firstIndex(of: 10) else {
                if buffer.readableBytes > Self.maxLine {
                    out.writeString("500 5.5.2 Line too long\r\n")
                    close = true
                }
                break
            }
            let length = newline - buffer.readerIndex + 1
            let line = buffer.readString(length: length) ?? ""
            let verb = line.prefix(4).uppercased()
            switch verb {
            case "EHLO":
                out.writeString("250-thugate-bench-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n")
                out.writeString("250-ENHANCEDSTATUSCODES\r\n250 SIZE 0\r\n")
            case "HELO", "MAIL", "RCPT", "RSET", "NOOP": out.writeString("250 2.0.0 Ok\r\n")
            case "DATA":
                out.writeString("354 End data with <CR><LF>.<CR><LF>\r\n")
                dataMatch = 2
            case "QUIT":
                out.writeString("221 2.0.0 Bye\r\n")
                close = true
            default: out.writeString("502 5.5.2 Command not recognized\r\n")
            }
        }
        // What was read is never kept: a large message passes through in the socket's chunks.
        if buffer.readableBytes == 0 { buffer.clear() } else { buffer.discardReadBytes() }
        guard out.readableBytes > 0 || close else { return }
        let written = context.writeAndFlush(wrapOutboundOut(out))
        if close {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
