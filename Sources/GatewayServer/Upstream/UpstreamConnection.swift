import Configuration
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTPCore

/// One SMTP client connection to the upstream server, after its greeting, EHLO and STARTTLS.
/// Requests are answered by its ``UpstreamClientHandler``'s machine, on the channel's loop.
public final class UpstreamConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<UpstreamClientHandler>
    /// What the upstream announced in EHLO.
    let extensions: UpstreamMachine.Extensions

    init(channel: any Channel, handler: NIOLoopBound<UpstreamClientHandler>, extensions: UpstreamMachine.Extensions) {
        self.channel = channel
        self.handler = handler
        self.extensions = extensions
    }

    var isActive: Bool { channel.isActive }

    /// Runs one request; never throws: failures come back as ``UpstreamMachine/Outcome/failed(_:)``.
    func request(_ request: UpstreamClientHandler.Request) async -> UpstreamClientHandler.Completion {
        let handler = self.handler
        let promise = channel.eventLoop.makePromise(of: UpstreamClientHandler.Completion.self)
        // Sessions and their upstream connections share an event loop: no thread hop then.
        if channel.eventLoop.inEventLoop {
            handler.value.perform(request, promise: promise)
        } else {
            channel.eventLoop.execute { handler.value.perform(request, promise: promise) }
        }
        do {
            return try await promise.futureResult.get()
        } catch {
            return (.failed(UpstreamError(kind: .closed, detail: "\(error)")), .close)
        }
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Opens a connection and waits until its machine is ready (greeting, EHLO, STARTTLS when
    /// the configuration asks and the upstream offers it).
    static func connect(
        to target: HostPort,
        configuration: UpstreamMachine.Configuration,
        connectTimeout: TimeAmount,
        tlsContext: NIOSSLContext?,
        eventLoop: any EventLoop,
        logger: Logger
    ) async throws -> UpstreamConnection {
        // An IP literal is no server name (RFC 6066 3).
        let serverName = target.host.first?.isNumber == true || target.host.contains(":") ? nil : target.host
        let tls = tlsContext.map { (context: $0, serverName: serverName) }
        let channel: any Channel
        let handler: NIOLoopBound<UpstreamClientHandler>
        let ready: EventLoopFuture<UpstreamClientHandler.Completion>
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = UpstreamClientHandler(
                            configuration: configuration,
                            tls: tls,
                            ready: channel.eventLoop.makePromise()
                        )
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: target.host, port: target.port).get()
            (handler, ready) = try await channel.eventLoop.submit {
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamClientHandler.self)
                return (NIOLoopBound(handler, eventLoop: channel.eventLoop), handler.ready)
            }.get()
        } catch {
            throw UpstreamError(kind: .connect, detail: "\(target): \(error)")
        }
        let (outcome, _) = try await ready.get()
        guard case .ready(let extensions) = outcome else {
            channel.close(promise: nil)
            if case .failed(let error) = outcome { throw error }
            throw UpstreamError(kind: .protocolViolation, detail: "connection not ready: \(outcome)")
        }
        logger.debug("upstream connected", metadata: ["upstream": "\(target)", "extensions": "\(extensions.keywords.sorted())"])
        return UpstreamConnection(channel: channel, handler: handler, extensions: extensions)
    }
}

extension UpstreamMachine.Configuration {
    init(_ config: GatewayConfig.Upstream, heloName: String) {
        let startTLS: UpstreamMachine.TLSPolicy
        switch config.startTLS {
        case .none: startTLS = .none
        case .may: startTLS = .may
        case .encrypt: startTLS = .encrypt
        }
        self.init(
            heloName: heloName,
            startTLS: startTLS,
            pipelining: config.pipelining,
            timeouts: UpstreamMachine.Timeouts(command: config.commandTimeout, data: config.dataTimeout),
            xforward: config.xforward
        )
    }
}
