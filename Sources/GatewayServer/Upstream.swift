public import Configuration
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
public import SMTPCore

/// Where accepted mail goes. One transaction follows one client transaction step by step.
public protocol Upstream: Sendable {
    /// - Parameter eventLoop: the client's event loop; upstream connections are made and pooled
    ///   per loop so that a session and its upstream connection never hop threads.
    func beginTransaction(eventLoop: any EventLoop, logger: Logger) -> any UpstreamTransaction
    /// Closes idle resources (pooled connections) at shutdown.
    func shutdown() async
}

/// One mail transaction towards the upstream. Every method returns the reply for the client;
/// failures to reach the upstream come back as `451 4.4.1`, never as an error.
public protocol UpstreamTransaction: AnyObject {
    /// Opens the transaction with MAIL and sends along the commands the client pipelined behind
    /// it (RFC 2920); returns one reply per command, MAIL's first.
    func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply]
    func recipient(_ address: MailAddress) async -> Reply
    /// Sends the trace header and the message; the reply is the upstream's final answer.
    /// `envelope` holds the recipients the upstream accepted, to replay the transaction on a new
    /// connection if the first one was lost before the final dot.
    func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply
    /// Abandons the transaction before its final dot (RSET, or closing the connection when the
    /// upstream is already reading message data).
    func abort() async
}

/// A command the client pipelined behind MAIL that ThuGate may pass on before MAIL's reply.
public enum PipelinedCommand: Sendable, Equatable {
    case recipient(MailAddress)
    case data
}

/// Relays to an SMTP server through a pool of reused connections (RSET between messages).
public final class SMTPUpstream: Upstream {
    let target: HostPort
    let config: GatewayConfig.Upstream
    let heloName: String
    let tlsContext: NIOSSLContext?
    /// Connections with no open transaction, per event loop, with the time each was put back.
    private let idle = NIOLockedValueBox<[ObjectIdentifier: [(UpstreamConnection, NIODeadline)]]>([:])
    /// Says QUIT to connections idle past `idle_timeout`, so the main server is not left holding
    /// connections nobody uses.
    private let sweeper = NIOLockedValueBox<RepeatedTask?>(nil)

    public init(target: HostPort, config: GatewayConfig.Upstream, heloName: String) throws {
        self.target = target
        self.config = config
        self.heloName = heloName
        if config.startTLS == .none {
            tlsContext = nil
        } else {
            var tls = TLSConfiguration.makeClientConfiguration()
            if config.tlsCAFile.isEmpty {
                // Opportunistic TLS as Postfix's "may"/"encrypt": encrypted, not authenticated.
                tls.certificateVerification = .none
            } else {
                tls.trustRoots = .file(config.tlsCAFile)
                tls.certificateVerification = .fullVerification
            }
            tlsContext = try NIOSSLContext(configuration: tls)
        }
        let interval = TimeAmount.nanoseconds(max(config.idleTimeout.nanoseconds / 2, 100_000_000))
        let task = MultiThreadedEventLoopGroup.singleton.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) {
            [weak self] _ in self?.closeIdleConnections()
        }
        sweeper.withLockedValue { $0 = task }
    }

    private func closeIdleConnections() {
        let now = NIODeadline.now()
        let expired = idle.withLockedValue { idle -> [UpstreamConnection] in
            var expired: [UpstreamConnection] = []
            for key in idle.keys {
                idle[key]!.removeAll { connection, releasedAt in
                    let old = now - releasedAt >= config.idleTimeout || !connection.isActive
                    if old { expired.append(connection) }
                    return old
                }
            }
            return expired
        }
        for connection in expired { quit(connection) }
    }

    public func beginTransaction(eventLoop: any EventLoop, logger: Logger) -> any UpstreamTransaction {
        SMTPUpstreamTransaction(upstream: self, eventLoop: eventLoop, logger: logger)
    }

    /// A pooled connection that is still open and not too old, or a new one.
    func acquire(on eventLoop: any EventLoop, logger: Logger) async throws -> (UpstreamConnection, reused: Bool) {
        let now = NIODeadline.now()
        let key = ObjectIdentifier(eventLoop)
        while let (connection, releasedAt) = idle.withLockedValue({ $0[key]?.popLast() }) {
            if connection.isActive && now - releasedAt < config.idleTimeout { return (connection, true) }
            quit(connection)
        }
        let connection = try await UpstreamConnection.connect(to: target, config: config, heloName: heloName,
                                                              tlsContext: tlsContext, eventLoop: eventLoop, logger: logger)
        return (connection, false)
    }

    /// Returns a connection with no open transaction to the pool.
    func release(_ connection: UpstreamConnection) {
        guard connection.isActive else { return }
        let key = ObjectIdentifier(connection.channel.eventLoop)
        let kept = idle.withLockedValue { idle -> Bool in
            guard idle.values.reduce(0, { $0 + $1.count }) < config.maxIdleConnections else { return false }
            idle[key, default: []].append((connection, .now()))
            return true
        }
        if !kept { quit(connection) }
    }

    func quit(_ connection: UpstreamConnection) {
        Task {
            _ = try? await connection.send("QUIT", timeout: .seconds(5))
            connection.close()
        }
    }

    public func shutdown() async {
        sweeper.withLockedValue { $0?.cancel() }
        let connections = idle.withLockedValue { idle in
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        await withTaskGroup(of: Void.self) { group in
            for (connection, _) in connections {
                group.addTask {
                    _ = try? await connection.send("QUIT", timeout: .seconds(5))
                    connection.close()
                }
            }
        }
    }
}

final class SMTPUpstreamTransaction: UpstreamTransaction {
    let upstream: SMTPUpstream
    let eventLoop: any EventLoop
    let logger: Logger
    private var connection: UpstreamConnection?
    /// The upstream answered DATA already (pipelined): 354 means it is reading message data.
    private var dataReply: Reply?

    init(upstream: SMTPUpstream, eventLoop: any EventLoop, logger: Logger) {
        self.upstream = upstream
        self.eventLoop = eventLoop
        self.logger = logger
    }

    deinit {
        // A transaction dropped mid-way (client vanished): its connection is not reusable as is.
        connection?.close()
    }

    private var inData: Bool { dataReply?.code == 354 }

    func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply] {
        // A pooled connection may have been closed by the upstream while idle: try a fresh one
        // once before telling the client to come back later.
        for attempt in 0..<2 {
            var reused = false
            do {
                let (connection, wasPooled) = try await upstream.acquire(on: eventLoop, logger: logger)
                reused = wasPooled
                self.connection = connection
                if let refusal = Self.downgradeRefusal(envelope, connection) {
                    release()
                    return [refusal] + Array(repeating: .custom(503, EnhancedStatus(5, 5, 1), "Need MAIL command"), count: pipelined.count)
                }
                var lines = reused ? ["RSET"] : []
                lines.append(mailCommand(envelope, connection))
                for command in pipelined {
                    switch command {
                    case .recipient(let address): lines.append("RCPT TO:<\(address.address)>")
                    case .data: lines.append("DATA")
                    }
                }
                var replies = try await send(lines, on: connection)
                if reused { replies.removeFirst() }
                if pipelined.last == .data { dataReply = replies.last }
                if !replies[0].isPositive && !inData {
                    // No transaction is open upstream: the connection is clean.
                    release()
                }
                return replies
            } catch {
                drop()
                if attempt == 1 || !reused {
                    logger.warning("upstream unavailable at MAIL", metadata: ["error": "\(error)"])
                    return Array(repeating: .upstreamUnavailable, count: 1 + pipelined.count)
                }
            }
        }
        return Array(repeating: .upstreamUnavailable, count: 1 + pipelined.count)
    }

    /// Sends the lines in one write when the upstream pipelines, else one by one.
    private func send(_ lines: [String], on connection: UpstreamConnection) async throws -> [Reply] {
        if lines.count > 1 && upstream.config.pipelining && connection.supports("PIPELINING") {
            return try await connection.send(lines)
        }
        var replies: [Reply] = []
        for line in lines { replies.append(try await connection.send(line)) }
        return replies
    }

    func recipient(_ address: MailAddress) async -> Reply {
        guard let connection, !inData else { return .upstreamUnavailable }
        do {
            return try await connection.send("RCPT TO:<\(address.address)>")
        } catch {
            logger.warning("upstream failed at RCPT", metadata: ["error": "\(error)"])
            drop()
            return .upstreamUnavailable
        }
    }

    func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply {
        if let dataReply, dataReply.code != 354 {
            // The upstream refused the pipelined DATA: its answer is the message's.
            await abort()
            return dataReply
        }
        // The first connection may be gone (the upstream's idle timeout ran out while the client
        // was still sending): as long as no final dot went out, replay on a new connection.
        for attempt in 0..<2 {
            var finalDotSent = false
            do {
                guard let connection, connection.isActive else { throw UpstreamError(kind: .closed, detail: "connection lost before DATA") }
                if !inData {
                    let go = try await connection.send("DATA")
                    guard go.code == 354 else {
                        // MAIL and RCPT are still open upstream: reset before pooling.
                        await abort()
                        return go
                    }
                }
                dataReply = nil
                var stuffer = DotStuffer()
                let allocator = connection.channel.allocator
                let chunk = 64 * 1024
                var out = allocator.buffer(capacity: min(message.size + header.utf8.count + 64, chunk + 1024))
                stuffer.encode(allocator.buffer(string: header), into: &out)
                try await message.forEachChunk(chunkSize: chunk, allocator: allocator) { bytes in
                    stuffer.encode(bytes, into: &out)
                    if out.readableBytes >= chunk {
                        try await connection.write(out)
                        out = allocator.buffer(capacity: chunk + 1024)
                    }
                }
                stuffer.finish(into: &out)
                finalDotSent = true
                let reply = try await connection.exchange(out, expecting: 1, timeout: connection.timeouts.data)[0]
                release()
                return reply
            } catch {
                drop()
                if finalDotSent || attempt == 1 {
                    // After the final dot the upstream may have the message: the client retries
                    // and at worst a duplicate arrives; it is never lost.
                    logger.warning("upstream failed during DATA", metadata: ["error": "\(error)", "queue_id": "\(queueID)"])
                    return .upstreamUnavailable
                }
                logger.notice("upstream connection lost before the final dot, replaying the transaction",
                              metadata: ["error": "\(error)", "queue_id": "\(queueID)"])
                guard await replay(envelope) else { return .upstreamUnavailable }
            }
        }
        return .upstreamUnavailable
    }

    /// MAIL, the recipients already accepted, DATA, on a new connection. Any other answer than
    /// before and the message waits: the client was told each recipient is accepted.
    private func replay(_ envelope: Envelope) async -> Bool {
        let replies = await mail(envelope, then: envelope.recipients.map { .recipient($0) } + [.data])
        let accepted = replies[0].code == 250 && replies.dropFirst().dropLast().allSatisfy { $0.code == 250 || $0.code == 251 } && inData
        if !accepted {
            logger.warning("replay refused by upstream", metadata: ["replies": "\(replies)"])
            drop()
        }
        return accepted
    }

    func abort() async {
        guard let connection else { return }
        dataReply = dataReply?.code == 354 ? dataReply : nil
        if inData {
            // Message data cannot be cancelled: closing before the final dot is how SMTP aborts.
            drop()
            return
        }
        self.connection = nil
        do {
            let reply = try await connection.send("RSET")
            if reply.code == 250 { upstream.release(connection) } else { connection.close() }
        } catch {
            connection.close()
        }
    }

    /// Mail the upstream cannot take as it is: ThuGate does not convert, so it refuses rather
    /// than pass it on broken (RFC 6531 3.2 SMTPUTF8, RFC 6152 3 8BITMIME).
    private static func downgradeRefusal(_ envelope: Envelope, _ connection: UpstreamConnection) -> Reply? {
        if envelope.parameters.smtpUTF8 && !connection.supports("SMTPUTF8") {
            return .custom(553, EnhancedStatus(5, 6, 7), "Máy chủ thư chính không hỗ trợ SMTPUTF8 / Upstream does not support SMTPUTF8")
        }
        if envelope.parameters.body == .eightBitMIME && !connection.supports("8BITMIME") {
            return .custom(554, EnhancedStatus(5, 6, 3), "Máy chủ thư chính không nhận thư 8-bit / Upstream does not support 8BITMIME")
        }
        return nil
    }

    private func mailCommand(_ envelope: Envelope, _ connection: UpstreamConnection) -> String {
        var command = "MAIL FROM:<\(envelope.sender.address)>"
        if let size = envelope.parameters.size, connection.supports("SIZE") {
            // Room for the trace header ThuGate adds.
            command += " SIZE=\(size + 1024)"
        }
        if envelope.parameters.body == .eightBitMIME && connection.supports("8BITMIME") { command += " BODY=8BITMIME" }
        if envelope.parameters.smtpUTF8 && connection.supports("SMTPUTF8") { command += " SMTPUTF8" }
        return command
    }

    private func release() {
        if let connection { upstream.release(connection) }
        connection = nil
        dataReply = nil
    }

    private func drop() {
        connection?.close()
        connection = nil
        dataReply = nil
    }
}
