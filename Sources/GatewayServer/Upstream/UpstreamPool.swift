public import Configuration
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
public import SMTPCore

/// Relays to an SMTP server through a pool of reused connections (RSET between messages).
///
/// The proxy drives it one client command at a time (``beginTransaction(eventLoop:logger:)``);
/// anything else that sends mail (released quarantine, notifications) hands it a whole message
/// with ``send(_:header:message:queueID:eventLoop:logger:)``.
public final class UpstreamPool: Upstream {
    let target: HostPort
    let config: GatewayConfig.Upstream
    let configuration: UpstreamMachine.Configuration
    let tlsContext: NIOSSLContext?
    /// Connections with no open transaction, per event loop, with the time each was put back.
    private let idle = NIOLockedValueBox<[ObjectIdentifier: [(UpstreamConnection, NIODeadline)]]>([:])
    /// Says QUIT to connections idle past `idle_timeout`, so the main server is not left holding
    /// connections nobody uses.
    private let sweeper = NIOLockedValueBox<RepeatedTask?>(nil)
    private let reached = NIOLockedValueBox<NIODeadline?>(nil)

    public var lastReached: NIODeadline? { reached.withLockedValue { $0 } }

    public init(target: HostPort, config: GatewayConfig.Upstream, heloName: String) throws {
        self.target = target
        self.config = config
        self.configuration = UpstreamMachine.Configuration(config, heloName: heloName)
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
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let task = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) {
            [weak self] _ in self?.closeIdleConnections(now: loop.now)
        }
        sweeper.withLockedValue { $0 = task }
    }

    private func closeIdleConnections(now: NIODeadline) {
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
        UpstreamPoolTransaction(pool: self, eventLoop: eventLoop, logger: logger)
    }

    /// A pooled connection that is still open and not too old, or a new one.
    func acquire(on eventLoop: any EventLoop, logger: Logger) async throws -> UpstreamConnection {
        let now = eventLoop.now
        let key = ObjectIdentifier(eventLoop)
        while let (connection, releasedAt) = idle.withLockedValue({ $0[key]?.popLast() }) {
            if connection.isActive && now - releasedAt < config.idleTimeout { return connection }
            quit(connection)
        }
        let connection = try await UpstreamConnection.connect(
            to: target,
            configuration: configuration,
            connectTimeout: config.connectTimeout,
            tlsContext: tlsContext,
            eventLoop: eventLoop,
            logger: logger
        )
        reached.withLockedValue { $0 = .now() }
        return connection
    }

    /// A new connection (greeting, EHLO, STARTTLS as configured), then QUIT: a pooled one the
    /// server may have stopped answering proves nothing.
    public func probe(logger: Logger) async throws {
        let connection = try await UpstreamConnection.connect(
            to: target,
            configuration: configuration,
            connectTimeout: config.connectTimeout,
            tlsContext: tlsContext,
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
            logger: logger
        )
        reached.withLockedValue { $0 = .now() }
        await Self.quit(connection)
    }

    /// Returns a connection with no open transaction to the pool.
    func release(_ connection: UpstreamConnection) {
        guard connection.isActive else { return }
        reached.withLockedValue { $0 = .now() }
        let loop = connection.channel.eventLoop
        let key = ObjectIdentifier(loop)
        let now = loop.now
        let kept = idle.withLockedValue { idle -> Bool in
            guard idle.values.reduce(0, { $0 + $1.count }) < config.maxIdleConnections else { return false }
            idle[key, default: []].append((connection, now))
            return true
        }
        if !kept { quit(connection) }
    }

    func quit(_ connection: UpstreamConnection) {
        Task { await Self.quit(connection) }
    }

    private static func quit(_ connection: UpstreamConnection) async {
        _ = await connection.request(.quit)
        connection.close()
    }

    public func shutdown() async {
        sweeper.withLockedValue { $0?.cancel() }
        let connections = idle.withLockedValue { idle in
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        await withTaskGroup(of: Void.self) { group in
            for (connection, _) in connections {
                group.addTask { await Self.quit(connection) }
            }
        }
    }

    /// What became of a message handed to ``send(_:header:message:queueID:eventLoop:logger:)``.
    public struct SendResult: Sendable, Equatable {
        /// The reply to MAIL.
        public var mail: Reply
        /// One reply per recipient of the envelope, in order; empty when MAIL was refused.
        public var recipients: [Reply]
        /// The reply to the message (the final dot, or DATA's refusal); nil when no recipient
        /// was accepted.
        public var message: Reply?
        /// The upstream took the message for at least one recipient.
        public var delivered: Bool { message?.code == 250 }
    }

    /// Sends one whole message, outside any client session (released quarantine, notices):
    /// MAIL, every RCPT and DATA pipelined when the upstream allows, the message to those
    /// recipients it accepted, with the same pooling and replay as the proxy.
    public func send(
        _ envelope: Envelope,
        header: String = "",
        message: MessageBuffer,
        queueID: String,
        eventLoop: any EventLoop,
        logger: Logger
    ) async -> SendResult {
        let transaction = UpstreamPoolTransaction(pool: self, eventLoop: eventLoop, logger: logger)
        var opening = envelope
        opening.recipients = []
        let replies = await transaction.mail(opening, then: envelope.recipients.map { .recipient($0) } + [.data])
        let recipientReplies = Array(replies.dropFirst().prefix(envelope.recipients.count))
        var accepted = opening
        accepted.recipients = zip(envelope.recipients, recipientReplies).filter { $1.code == 250 || $1.code == 251 }.map(\.0)
        guard replies[0].isPositive, !accepted.recipients.isEmpty else {
            await transaction.abort()
            return SendResult(mail: replies[0], recipients: replies[0].isPositive ? recipientReplies : [], message: nil)
        }
        let final = await transaction.data(envelope: accepted, header: header, message: message, queueID: queueID)
        return SendResult(mail: replies[0], recipients: recipientReplies, message: final)
    }
}
