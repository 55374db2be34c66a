import Atomics
public import Configuration
public import Inspection
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
import Policy
import ProxyProtocol
public import Quarantine
import SMTPCore
public import ServiceLifecycle

/// The listening SMTP service: accepts clients within the connection limits and runs a
/// session for each. On graceful shutdown (SIGTERM) it stops accepting, closes sessions that
/// are idle between messages with `421 4.3.2`, lets messages in flight finish for at most
/// `shutdown_timeout`, then closes what is left (those clients got no 250 and will retry).
public final class SMTPServer: Service {
    public let config: GatewayConfig
    let context: GatewayContext
    let group: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) -> Void
    private let sessions = NIOLockedValueBox(SessionRegistry())
    private let shuttingDown = ManagedAtomic<Bool>(false)

    public init(
        config: GatewayConfig,
        upstream: any Upstream,
        inspector: MessageInspector,
        group: any EventLoopGroup,
        logger: Logger,
        notices: NoticeSetup? = nil,
        store: (any QuarantineStore & VerdictLog)? = nil,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) throws {
        self.config = config
        self.group = group
        self.onListening = onListening
        var tlsContext: NIOSSLContext?
        if !config.server.tlsCertificate.isEmpty {
            let certificates = try NIOSSLCertificate.fromPEMFile(config.server.tlsCertificate)
            let key = try NIOSSLPrivateKey(file: config.server.tlsPrivateKey, format: .pem)
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: certificates.map { .certificate($0) },
                privateKey: .privateKey(key)
            )
            tlsContext = try NIOSSLContext(configuration: tls)
        }
        context = try GatewayContext(
            config: config,
            upstream: upstream,
            inspector: inspector,
            logger: logger,
            notices: notices,
            store: store,
            tlsContext: tlsContext
        )
    }

    public func run() async throws {
        let listen = config.server.listen
        let logger = context.logger
        let serverChannel = try await ServerBootstrap(group: group)
            // Room for a burst of connects (thousands of clients at once): a full accept queue
            // drops the handshake's last ACK, and the client waits for a greeting that never
            // comes. The kernel caps it at net.core.somaxconn (4096 since Linux 5.4).
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: listen.host, port: listen.port) { [config] channel in
                channel.eventLoop.makeCompletedFuture {
                    let deadline = ClientDeadline()
                    // Behind a load balancer the PROXY header comes first, before the banner.
                    var proxyHeader: EventLoopFuture<ProxyHeader>?
                    if config.server.proxyProtocol == .required {
                        let promise = channel.eventLoop.makePromise(of: ProxyHeader.self)
                        try channel.pipeline.syncOperations.addHandler(
                            ProxyProtocolHandler(
                                trusted: config.server.trustedProxies,
                                timeout: config.server.proxyProtocolTimeout,
                                header: promise
                            )
                        )
                        proxyHeader = promise.futureResult
                    }
                    try channel.pipeline.syncOperations.addHandler(ClientTimeoutHandler(deadline: deadline))
                    try channel.pipeline.syncOperations.addHandler(StartTLSGate())
                    // A few reads buffered per session is enough to keep it busy; more is memory.
                    let asyncChannel = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 4))
                    )
                    return AcceptedClient(channel: asyncChannel, deadline: deadline, proxyHeader: proxyHeader)
                }
            }
        if let address = serverChannel.channel.localAddress {
            logger.notice(
                "listening on \(address.ipAddress ?? listen.host):\(address.port ?? listen.port), upstream \(config.upstream.url)"
            )
            onListening(address)
        }

        // The verdict log is written beside the sessions and once more after the last one.
        let recorder = context.verdicts.map { verdicts in Task { await verdicts.run() } }
        defer { recorder?.cancel() }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await client in inbound {
                        group.addTask { await self.serve(client) }
                    }
                }
                logger.notice("no longer accepting connections; waiting for sessions in flight")
                group.addTask { try await self.forceCloseAfterTimeout() }
            }
        } onGracefulShutdown: {
            self.beginShutdown(serverChannel: serverChannel.channel)
        }
        recorder?.cancel()
        await recorder?.value
        await context.upstream.shutdown()
        logger.notice("stopped")
    }

    private func serve(_ client: AcceptedClient) async {
        let channel = client.channel.channel
        var peer = channel.remoteAddress
        if let proxyHeader = client.proxyHeader {
            do {
                // LOCAL and UNKNOWN (health checks) keep the socket's address.
                if let source = try await proxyHeader.get().source, source.family != .unix {
                    peer = try SocketAddress(ipAddress: source.address, port: Int(source.port))
                }
            } catch {
                context.logger.warning(
                    "connection closed before the banner: \(error)",
                    metadata: ["peer": "\(channel.remoteAddress?.ipAddress ?? "unknown")"]
                )
                try? await channel.close()
                return
            }
        }
        let ip = peer?.ipAddress ?? "unknown"
        let trusted = config.server.trustedNetworks.contains(peer)
        let admitted = sessions.withLockedValue {
            $0.admit(ip: ip, channel: channel, deadline: client.deadline, limits: config.server, trusted: trusted)
        }
        guard admitted, !shuttingDown.load(ordering: .relaxed) else {
            var buffer = channel.allocator.buffer(capacity: 128)
            (admitted ? Reply.shuttingDown : Reply.tooManyConnections).write(into: &buffer)
            context.logger.warning(
                "connection refused",
                metadata: ["client": "\(ip)", "reason": "\(admitted ? "shutting down" : "connection limit")"]
            )
            try? await channel.writeAndFlush(buffer).get()
            try? await channel.close()
            if admitted { sessions.withLockedValue { $0.remove(ip: ip, channel: channel) } }
            return
        }
        GatewayMetrics.connectionOpened()
        defer {
            sessions.withLockedValue { $0.remove(ip: ip, channel: channel) }
            GatewayMetrics.connectionClosed()
        }
        do {
            try await client.channel.executeThenClose { inbound, _ in
                let session = SMTPSession(
                    channel: client.channel,
                    clientAddress: ip,
                    clientPort: peer?.port,
                    inbound: inbound,
                    deadline: client.deadline,
                    context: context,
                    isShuttingDown: { [shuttingDown] in shuttingDown.load(ordering: .relaxed) }
                )
                await session.run()
            }
        } catch {
            context.logger.debug("connection closed with error", metadata: ["client": "\(ip)", "error": "\(error)"])
        }
    }

    private func beginShutdown(serverChannel: any Channel) {
        guard !shuttingDown.exchange(true, ordering: .relaxed) else { return }
        context.logger.notice("shutting down: closing the listener")
        serverChannel.close(promise: nil)
        // Sessions waiting for a command between transactions have nothing in flight: end them.
        for (channel, deadline) in sessions.withLockedValue({ $0.all }) where deadline.isIdleBetweenTransactions {
            channel.eventLoop.execute {
                var buffer = channel.allocator.buffer(capacity: 128)
                Reply.shuttingDown.write(into: &buffer)
                channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    private func forceCloseAfterTimeout() async throws {
        let deadline = NIODeadline.now() + config.server.shutdownTimeout
        while NIODeadline.now() < deadline {
            if sessions.withLockedValue({ $0.all.isEmpty }) { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        let left = sessions.withLockedValue { $0.all }
        context.logger.warning("shutdown timeout: closing \(left.count) sessions in flight (their clients will retry)")
        for (channel, _) in left { channel.close(promise: nil) }
    }
}

struct AcceptedClient: Sendable {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let deadline: ClientDeadline
    /// The PROXY header to wait for before anything else (`proxy_protocol = "required"`).
    var proxyHeader: EventLoopFuture<ProxyHeader>? = nil
}

/// Live sessions and per-client-IP counts, for the connection limits and for shutdown.
struct SessionRegistry {
    private var perIP: [String: Int] = [:]
    private var channels: [ObjectIdentifier: (any Channel, ClientDeadline)] = [:]

    var all: [(any Channel, ClientDeadline)] { Array(channels.values) }

    /// A trusted client is held only to the total: per-client limits are for the Internet.
    mutating func admit(ip: String, channel: any Channel, deadline: ClientDeadline, limits: GatewayConfig.Server, trusted: Bool) -> Bool {
        guard channels.count < limits.maxConnections, trusted || perIP[ip, default: 0] < limits.maxConnectionsPerIP else { return false }
        perIP[ip, default: 0] += 1
        channels[ObjectIdentifier(channel)] = (channel, deadline)
        return true
    }

    mutating func remove(ip: String, channel: any Channel) {
        guard channels.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        perIP[ip, default: 1] -= 1
        if perIP[ip] == 0 { perIP[ip] = nil }
    }
}

extension GatewayContext {
    /// What the SMTP proxy's sessions and the milter's share, from the configuration.
    init(
        config: GatewayConfig,
        upstream: any Upstream,
        inspector: MessageInspector,
        logger: Logger,
        notices: NoticeSetup?,
        store: (any QuarantineStore & VerdictLog)?,
        tlsContext: NIOSSLContext?
    ) throws {
        let server = config.server
        // Always open: every message is counted for the reports, held or not.
        // One store per process (the notice service's too): a second one's open/close of the file
        // would drop the first one's POSIX locks.
        let store: any QuarantineStore & VerdictLog =
            try store ?? SQLiteQuarantineStore(path: config.quarantine.database, auditLogger: Logger(label: "thugate.audit"))
        self.init(
            config: config,
            sessionConfiguration: SessionConfiguration(
                hostname: server.hostname,
                maxMessageSize: server.maxMessageSize,
                maxRecipients: server.maxRecipients,
                maxErrors: server.maxErrors,
                maxLineLength: server.maxLineLength,
                bareLineEndings: server.bareLineEndings,
                tlsAvailable: tlsContext != nil,
                commandTimeout: server.commandTimeout,
                dataTimeout: server.dataTimeout,
                recipientPolicy: RulesAtRecipient(ruleSet: inspector.ruleSet, agencies: config.agencies)
            ),
            upstream: upstream,
            inspector: inspector,
            // A message that crashed the scanner before is held whatever the rules say.
            quarantine: inspector.ruleSet.rules.contains { $0.action == .quarantine } || inspector.crashJournal != nil
                ? StoreQuarantine(store: store, lifecycle: config.quarantine.lifecycle, planner: notices?.planner, wake: notices?.wake)
                : nil,
            notices: notices,
            verdicts: VerdictRecorder(
                log: store,
                logger: logger,
                retention: .init(verdictDays: config.reports.verdictDays, rollupYears: config.reports.rollupYears),
                planner: notices?.planner,
                wake: notices?.wake
            ),
            tlsContext: tlsContext,
            logger: logger
        )
    }
}
