import Configuration
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SMTPCore

/// Why the upstream could not be talked to. The client always sees `451 4.4.1` for these.
public struct UpstreamError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case connect, closed, timeout, tls, protocolViolation }
    public var kind: Kind
    public var detail: String
    public var description: String { "upstream \(kind): \(detail)" }
}

/// Matches the upstream's replies to the commands sent, in order (RFC 2920 keeps replies in
/// command order), and fails whatever is still awaited when the connection ends.
final class UpstreamClientHandler: ChannelInboundHandler {
    typealias InboundIn = Reply

    /// Replies awaited, in order: each entry takes the next `count` replies.
    private struct Awaited {
        var count: Int
        var replies: [Reply]
        let promise: EventLoopPromise<[Reply]>
    }
    private var awaiting = CircularBuffer<Awaited>()
    private var failure: UpstreamError?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Also reached for a connection attempt that never connected.
        let error = failure ?? UpstreamError(kind: .closed, detail: "connection closed")
        while let awaited = awaiting.popFirst() { awaited.promise.fail(error) }
        self.context = nil
    }

    /// Gives up on the connection (a reply did not come in time).
    func abort(_ error: UpstreamError) {
        if let context { fail(error, context: context) }
    }

    /// When the replies awaited now must all have come. One timer per connection, re-armed only
    /// when it fires: most exchanges never touch the event loop's timer heap.
    private var deadline = NIODeadline.distantFuture
    /// When the one live timer fires; an earlier deadline arms a new timer and the old one, on
    /// firing, sees it was superseded.
    private var armedAt: NIODeadline?

    func awaitReplies(within timeout: TimeAmount, eventLoop: any EventLoop) {
        deadline = .now() + timeout
        if let armedAt, armedAt <= deadline { return }
        arm(at: deadline, eventLoop: eventLoop)
    }

    private func arm(at when: NIODeadline, eventLoop: any EventLoop) {
        armedAt = when
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(deadline: when) {
            let handler = this.value
            guard handler.armedAt == when else { return }
            handler.armedAt = nil
            guard !handler.awaiting.isEmpty, handler.failure == nil else { return }
            if NIODeadline.now() >= handler.deadline {
                handler.abort(UpstreamError(kind: .timeout, detail: "no reply in time"))
            } else {
                handler.arm(at: handler.deadline, eventLoop: eventLoop)
            }
        }
    }

    /// The server's greeting, the first reply, which comes unasked.
    let greeting: EventLoopFuture<[Reply]>

    init(greeting: EventLoopPromise<[Reply]>) {
        self.greeting = greeting.futureResult
        awaiting.append(Awaited(count: 1, replies: [], promise: greeting))
    }

    /// The next `count` replies complete `promise`.
    func expect(_ count: Int, _ promise: EventLoopPromise<[Reply]>) {
        if let failure {
            promise.fail(failure)
        } else {
            var replies: [Reply] = []
            replies.reserveCapacity(count)
            awaiting.append(Awaited(count: count, replies: replies, promise: promise))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard !awaiting.isEmpty else {
            // A reply nobody asked for: the upstream is out of step; drop the connection.
            fail(UpstreamError(kind: .protocolViolation, detail: "unexpected reply \(reply)"), context: context)
            return
        }
        awaiting[awaiting.startIndex].replies.append(reply)
        if awaiting[awaiting.startIndex].replies.count == awaiting[awaiting.startIndex].count {
            let done = awaiting.removeFirst()
            done.promise.succeed(done.replies)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(failure ?? UpstreamError(kind: .closed, detail: "connection closed"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let upstreamError = error as? UpstreamError ?? UpstreamError(kind: .protocolViolation, detail: "\(error)")
        fail(upstreamError, context: context)
    }

    func fail(_ error: UpstreamError, context: ChannelHandlerContext) {
        if failure == nil { failure = error }
        while let awaited = awaiting.popFirst() { awaited.promise.fail(error) }
        context.close(promise: nil)
    }
}

/// One SMTP client connection to the upstream server, after its greeting and EHLO.
public final class UpstreamConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<UpstreamClientHandler>
    /// EHLO keywords the upstream announced, uppercased (`PIPELINING`, `SIZE`, `8BITMIME`, ...).
    let extensions: NIOLockedValueBox<Set<String>>
    let timeouts: (command: TimeAmount, data: TimeAmount)

    init(channel: any Channel, handler: NIOLoopBound<UpstreamClientHandler>, timeouts: (command: TimeAmount, data: TimeAmount)) {
        self.channel = channel
        self.handler = handler
        self.extensions = NIOLockedValueBox([])
        self.timeouts = timeouts
    }

    var isActive: Bool { channel.isActive }
    func supports(_ keyword: String) -> Bool { extensions.withLockedValue { $0.contains(keyword) } }

    /// Sends the command lines in one write and waits for one reply each. Only use more than
    /// one line when the upstream announced PIPELINING.
    func send(_ lines: [String], timeout: TimeAmount? = nil) async throws -> [Reply] {
        var buffer = channel.allocator.buffer(capacity: lines.reduce(0) { $0 + $1.utf8.count + 2 })
        for line in lines {
            buffer.writeString(line)
            buffer.writeStaticString("\r\n")
        }
        return try await exchange(buffer, expecting: lines.count, timeout: timeout ?? timeouts.command)
    }

    func send(_ line: String, timeout: TimeAmount? = nil) async throws -> Reply {
        try await send([line], timeout: timeout)[0]
    }

    /// Writes `bytes` (already framed) and waits for `count` replies within `timeout`;
    /// on timeout the connection is closed, failing what is awaited.
    func exchange(_ bytes: ByteBuffer?, expecting count: Int, timeout: TimeAmount) async throws -> [Reply] {
        let channel = self.channel
        let handler = self.handler
        @Sendable func start() -> EventLoopFuture<[Reply]> {
            let promise = channel.eventLoop.makePromise(of: [Reply].self)
            handler.value.expect(count, promise)
            handler.value.awaitReplies(within: timeout, eventLoop: channel.eventLoop)
            if let bytes { channel.writeAndFlush(bytes, promise: nil) }
            return promise.futureResult
        }
        // Sessions and their upstream connections share an event loop: no thread hop then.
        let future = channel.eventLoop.inEventLoop ? start() : channel.eventLoop.flatSubmit(start)
        return try await future.get()
    }

    /// Writes message data (no reply expected yet); waits until the socket took the bytes. An
    /// upstream that stops reading is given up after the data timeout.
    func write(_ bytes: ByteBuffer) async throws {
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeouts.data) { channel.close(promise: nil) }
        defer { timer.cancel() }
        try await channel.writeAndFlush(bytes).get()
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Opens a connection, reads the greeting, says EHLO (HELO if refused), and starts TLS when
    /// the configuration asks and the upstream offers it.
    static func connect(to target: HostPort, config: GatewayConfig.Upstream, heloName: String,
                        tlsContext: NIOSSLContext?, eventLoop: any EventLoop, logger: Logger) async throws -> UpstreamConnection {
        let channel: any Channel
        let handler: NIOLoopBound<UpstreamClientHandler>
        let greeting: EventLoopFuture<[Reply]>
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(config.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = UpstreamClientHandler(greeting: channel.eventLoop.makePromise(of: [Reply].self))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: target.host, port: target.port).get()
            (handler, greeting) = try await channel.eventLoop.submit {
                let h = try channel.pipeline.syncOperations.handler(type: UpstreamClientHandler.self)
                return (NIOLoopBound(h, eventLoop: channel.eventLoop), h.greeting)
            }.get()
        } catch {
            throw UpstreamError(kind: .connect, detail: "\(target): \(error)")
        }
        let connection = UpstreamConnection(channel: channel, handler: handler, timeouts: (config.commandTimeout, config.dataTimeout))
        do {
            let greetingReply = try await connection.awaitGreeting(greeting, timeout: config.commandTimeout)
            guard greetingReply.code == 220 else {
                throw UpstreamError(kind: .protocolViolation, detail: "greeting \(greetingReply)")
            }
            try await connection.hello(heloName)
            if config.startTLS != .none {
                if connection.supports("STARTTLS"), let tlsContext {
                    let reply = try await connection.send("STARTTLS")
                    guard reply.code == 220 else { throw UpstreamError(kind: .tls, detail: "STARTTLS refused: \(reply)") }
                    let serverName = target.host.first?.isNumber == true || target.host.contains(":") ? nil : target.host
                    try await channel.eventLoop.submit {
                        let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(tls, position: .first)
                    }.get()
                    // RFC 3207 4.2: forget what the server said before TLS and greet again.
                    try await connection.hello(heloName)
                } else if config.startTLS == .encrypt {
                    throw UpstreamError(kind: .tls, detail: "upstream does not offer STARTTLS and starttls = \"encrypt\"")
                }
            }
            logger.debug("upstream connected", metadata: ["upstream": "\(target)", "extensions": "\(connection.extensions.withLockedValue { $0.sorted() })"])
            return connection
        } catch {
            connection.close()
            throw error
        }
    }

    private func awaitGreeting(_ greeting: EventLoopFuture<[Reply]>, timeout: TimeAmount) async throws -> Reply {
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { timer.cancel() }
        return try await greeting.get()[0]
    }

    private func hello(_ name: String) async throws {
        let reply = try await send("EHLO \(name)")
        if reply.code == 250 {
            var keywords = Set<String>()
            for line in reply.lines.dropFirst() {
                if let word = line.split(separator: " ").first { keywords.insert(word.uppercased()) }
            }
            extensions.withLockedValue { $0 = keywords }
            return
        }
        let helo = try await send("HELO \(name)")
        guard helo.code == 250 else { throw UpstreamError(kind: .protocolViolation, detail: "HELO refused: \(helo)") }
        extensions.withLockedValue { $0 = [] }
    }
}

extension TimeAmount {
    var seconds: Int64 { nanoseconds / 1_000_000_000 }
}
