import Atomics
public import Configuration
public import Inspection
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
public import Quarantine
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The milter service (`serve --mode milter|both`): listens where `[milter] listen` says (Unix
/// sockets given `socket_mode` and `socket_group`, TCP on loopback only) and runs a
/// ``MilterSession`` for each MTA connection. On graceful shutdown it stops accepting, closes
/// connections between messages, lets messages being inspected finish for at most
/// `shutdown_timeout`, then closes the rest (the MTA applies its `milter_default_action`).
public final class MilterServer: Service {
    public let config: GatewayConfig
    let context: GatewayContext
    let group: any EventLoopGroup
    private let onListening: @Sendable (String) -> Void
    private let sessions = NIOLockedValueBox([ObjectIdentifier: (any Channel, ClientDeadline)]())
    private let listeners = NIOLockedValueBox([any Channel]())
    private let shuttingDown = ManagedAtomic<Bool>(false)

    public init(
        config: GatewayConfig,
        upstream: any Upstream,
        inspector: MessageInspector,
        group: any EventLoopGroup,
        logger: Logger,
        notices: NoticeSetup? = nil,
        store: (any QuarantineStore & VerdictLog)? = nil,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.config = config
        self.group = group
        self.onListening = onListening
        var context = try GatewayContext(
            config: config,
            upstream: upstream,
            inspector: inspector,
            logger: logger,
            notices: notices,
            store: store,
            tlsContext: nil
        )
        context.mode = .milter
        self.context = context
    }

    public func run() async throws {
        let logger = context.logger
        var bound: [NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>] = []
        for address in config.milter.listen {
            let channel = try await bind(address)
            bound.append(channel)
            listeners.withLockedValue { $0.append(channel.channel) }
            let shown: String
            switch address {
            case .unix: shown = address.description
            case .inet(let hostPort):
                shown = "inet:\(hostPort.host):\(channel.channel.localAddress?.port ?? hostPort.port)"
            }
            logger.notice("milter listening on \(shown) (quarantine: \(config.milter.quarantine.rawValue))")
            onListening(shown)
        }
        let recorder = context.verdicts.map { verdicts in Task { await verdicts.run() } }
        defer { recorder?.cancel() }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for listener in bound {
                    group.addTask {
                        try await listener.executeThenClose { inbound in
                            try await withThrowingDiscardingTaskGroup { sessions in
                                for try await connection in inbound {
                                    sessions.addTask { await self.serve(connection) }
                                }
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        recorder?.cancel()
        await recorder?.value
        for case .unix(let path) in config.milter.listen { unlink(path) }
        logger.notice("milter stopped")
    }

    private func bind(_ address: MilterListenAddress) async throws -> NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never> {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 4))
                )
            }
        }
        switch address {
        case .inet(let hostPort):
            return try await bootstrap.bind(host: hostPort.host, port: hostPort.port, childChannelInitializer: initializer)
        case .unix(let path):
            // Created without rights for others (umask 0117), so that nobody connects before the
            // mode and group below are set. Listeners are bound at start, before sessions make files.
            let previous = umask(0o117)
            defer { umask(previous) }
            let channel = try await bootstrap.bind(
                unixDomainSocketPath: path,
                cleanupExistingSocketFile: true,
                childChannelInitializer: initializer
            )
            try Self.secure(socket: path, mode: config.milter.socketMode, group: config.milter.socketGroup)
            return channel
        }
    }

    /// Gives the socket its mode and group: Postfix's smtpd (user `postfix`) connects by group.
    static func secure(socket path: String, mode: UInt16, group: String) throws {
        if !group.isEmpty {
            guard let entry = getgrnam(group) else { throw MilterSocketError(path: path, message: "no group \(group)") }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                throw MilterSocketError(path: path, message: "chown to group \(group): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw MilterSocketError(path: path, message: "chmod \(String(mode, radix: 8)): \(String(cString: strerror(errno)))")
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        let deadline = ClientDeadline()
        let admitted = sessions.withLockedValue { sessions -> Bool in
            guard sessions.count < config.milter.maxConnections else { return false }
            sessions[key] = (channel, deadline)
            return true
        }
        guard admitted, !shuttingDown.load(ordering: .relaxed) else {
            context.logger.warning("milter connection refused: \(admitted ? "shutting down" : "connection limit")")
            try? await channel.close()
            if admitted { _ = sessions.withLockedValue { $0.removeValue(forKey: key) } }
            return
        }
        defer { _ = sessions.withLockedValue { $0.removeValue(forKey: key) } }
        do {
            try await channel.pipeline.addHandler(ClientTimeoutHandler(deadline: deadline, saysGoodbye: false), position: .first).get()
            try await connection.executeThenClose { inbound, outbound in
                let session = MilterSession(channel: connection, deadline: deadline, context: context, settings: config.milter)
                await session.run(inbound: inbound, outbound: outbound)
            }
        } catch {
            context.logger.debug("milter connection closed with error", metadata: ["error": "\(error)"])
        }
    }

    private func beginShutdown() {
        guard !shuttingDown.exchange(true, ordering: .relaxed) else { return }
        context.logger.notice("milter shutting down: closing the listeners")
        for listener in listeners.withLockedValue({ $0 }) { listener.close(promise: nil) }
        // Open connections are served until the MTA quits them: Postfix keeps one for a whole SMTP
        // session and does not open another within it, so closing one between two messages would
        // give the rest of that session milter_default_action. The timeout below bounds it.
        let timeout = config.server.shutdownTimeout
        let sessions = self.sessions
        let logger = context.logger
        Task {
            let deadline = NIODeadline.now() + timeout
            while NIODeadline.now() < deadline {
                if sessions.withLockedValue({ $0.isEmpty }) { return }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            let left = sessions.withLockedValue { Array($0.values) }
            logger.warning("milter shutdown timeout: closing \(left.count) connections (the MTA applies milter_default_action)")
            for (channel, _) in left { channel.close(promise: nil) }
        }
    }
}

/// A milter Unix socket that could not be given its group or mode.
struct MilterSocketError: Error, CustomStringConvertible {
    var path: String
    var message: String
    var description: String { "milter socket \(path): \(message)" }
}
