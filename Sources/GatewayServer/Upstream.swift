import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import SMTPCore

/// Where accepted mail goes. One transaction follows one client transaction step by step.
public protocol Upstream: Sendable {
    func beginTransaction(logger: Logger) -> any UpstreamTransaction
    /// Closes idle resources (pooled connections) at shutdown.
    func shutdown() async
}

/// One mail transaction towards the upstream. Every method returns the reply for the client;
/// failures to reach the upstream come back as `451 4.4.1`, never as an error.
public protocol UpstreamTransaction: AnyObject {
    func mail(_ envelope: Envelope) async -> Reply
    func recipient(_ address: MailAddress) async -> Reply
    /// Sends the trace header and the message; the reply is the upstream's final answer.
    func data(header: String, message: MessageBuffer, queueID: String) async -> Reply
    /// Abandons the transaction (RSET upstream) before its final dot.
    func abort() async
}

/// Relays to an SMTP server through a pool of reused connections (RSET between messages).
public final class SMTPUpstream: Upstream {
    let target: HostPort
    let config: GatewayConfig.Upstream
    let heloName: String
    let group: EventLoopGroup
    let tlsContext: NIOSSLContext?
    /// Connections with no open transaction, with the time each was put back.
    private let idle = NIOLockedValueBox<[(UpstreamConnection, NIODeadline)]>([])

    public init(target: HostPort, config: GatewayConfig.Upstream, heloName: String, group: EventLoopGroup) throws {
        self.target = target
        self.config = config
        self.heloName = heloName
        self.group = group
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
    }

    public func beginTransaction(logger: Logger) -> any UpstreamTransaction {
        SMTPUpstreamTransaction(upstream: self, logger: logger)
    }

    /// A pooled connection that is still open and not too old, or a new one.
    func acquire(logger: Logger) async throws -> (UpstreamConnection, reused: Bool) {
        let now = NIODeadline.now()
        while let (connection, releasedAt) = idle.withLockedValue({ $0.popLast() }) {
            if connection.isActive && now - releasedAt < config.idleTimeout { return (connection, true) }
            quit(connection)
        }
        let connection = try await UpstreamConnection.connect(to: target, config: config, heloName: heloName,
                                                              tlsContext: tlsContext, group: group, logger: logger)
        return (connection, false)
    }

    /// Returns a connection with no open transaction to the pool.
    func release(_ connection: UpstreamConnection) {
        guard connection.isActive else { return }
        let kept = idle.withLockedValue { idle -> Bool in
            guard idle.count < config.maxIdleConnections else { return false }
            idle.append((connection, .now()))
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
        let connections = idle.withLockedValue { idle in
            defer { idle = [] }
            return idle
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
    let logger: Logger
    private var connection: UpstreamConnection?
    private var envelope: Envelope?

    init(upstream: SMTPUpstream, logger: Logger) {
        self.upstream = upstream
        self.logger = logger
    }

    deinit {
        // A transaction dropped mid-way (client vanished): its connection is not reusable as is.
        if let connection { upstream.quit(connection) }
    }

    func mail(_ envelope: Envelope) async -> Reply {
        self.envelope = envelope
        // A pooled connection may have been closed by the upstream while idle: try a fresh one
        // once before telling the client to come back later.
        for attempt in 0..<2 {
            var reused = false
            do {
                let (connection, wasPooled) = try await upstream.acquire(logger: logger)
                reused = wasPooled
                self.connection = connection
                let mail = mailCommand(envelope, connection)
                var reply: Reply
                if reused {
                    if upstream.config.pipelining && connection.supports("PIPELINING") {
                        reply = try await connection.send(["RSET", mail])[1]
                    } else {
                        _ = try await connection.send("RSET")
                        reply = try await connection.send(mail)
                    }
                } else {
                    reply = try await connection.send(mail)
                }
                if !reply.isPositive {
                    // No transaction is open upstream: the connection is clean.
                    release()
                }
                return reply
            } catch {
                drop()
                if attempt == 1 || !reused {
                    logger.warning("upstream unavailable at MAIL", metadata: ["error": "\(error)"])
                    return .upstreamUnavailable
                }
            }
        }
        return .upstreamUnavailable
    }

    func recipient(_ address: MailAddress) async -> Reply {
        guard let connection else { return .upstreamUnavailable }
        do {
            return try await connection.send("RCPT TO:<\(address.address)>")
        } catch {
            logger.warning("upstream failed at RCPT", metadata: ["error": "\(error)"])
            drop()
            return .upstreamUnavailable
        }
    }

    func data(header: String, message: MessageBuffer, queueID: String) async -> Reply {
        guard let connection else { return .upstreamUnavailable }
        do {
            let go = try await connection.send("DATA")
            guard go.code == 354 else {
                // The upstream refused DATA (e.g. no valid recipients on its side).
                release()
                return go
            }
            var stuffer = DotStuffer()
            let allocator = connection.channel.allocator
            var out = allocator.buffer(capacity: min(message.size + header.utf8.count + 64, 256 * 1024 + 1024))
            var headerBuffer = allocator.buffer(string: header)
            stuffer.encode(headerBuffer, into: &out)
            headerBuffer.clear()
            try await message.forEachChunk(allocator: allocator) { chunk in
                stuffer.encode(chunk, into: &out)
                if out.readableBytes >= 256 * 1024 {
                    try await connection.write(out)
                    out = allocator.buffer(capacity: 256 * 1024 + 1024)
                }
            }
            stuffer.finish(into: &out)
            let reply = try await connection.exchange(out, expecting: 1, timeout: connection.timeouts.data)[0]
            release()
            return reply
        } catch {
            logger.warning("upstream failed during DATA", metadata: ["error": "\(error)", "queue_id": "\(queueID)"])
            drop()
            return .upstreamUnavailable
        }
    }

    func abort() async {
        guard let connection else { return }
        self.connection = nil
        do {
            let reply = try await connection.send("RSET")
            if reply.code == 250 { upstream.release(connection) } else { connection.close() }
        } catch {
            connection.close()
        }
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
    }

    private func drop() {
        connection?.close()
        connection = nil
    }
}
