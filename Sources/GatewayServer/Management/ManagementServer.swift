public import Configuration
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The management listener (`[management] listen`, 127.0.0.1:9100): `GET /metrics` in the
/// Prometheus text format, `GET /livez` (200 while the event loops answer: this handler runs on
/// one) and `GET /readyz` (200 or 503 with a JSON body naming each check). Three routes need
/// no framework: NIOHTTP1's parser and this handler; one request per connection.
/// - SeeAlso: https://prometheus.io/docs/instrumenting/exposition_formats/,
///   https://kubernetes.io/docs/reference/using-api/health-checks/
public final class ManagementServer: Service {
    let listen: HostPort
    let readiness: Readiness
    let metrics: @Sendable () -> String
    let group: any EventLoopGroup
    let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void

    public init(
        listen: HostPort,
        readiness: Readiness,
        group: any EventLoopGroup,
        logger: Logger,
        metrics: @escaping @Sendable () -> String,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.listen = listen
        self.readiness = readiness
        self.metrics = metrics
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let routes = ManagementRoutes(readiness: readiness, metrics: metrics)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(ManagementHTTPHandler(routes: routes))
                    }
                }
                .bind(host: listen.host, port: listen.port)
                .get()
        } catch {
            // Mail matters more than its monitoring: the gateway runs on, and a load balancer
            // asking /readyz sees this node as down, which is the safe side.
            logger.error("management listener \(listen): \(error); /metrics, /livez and /readyz are not served")
            try await gracefulShutdown()
            return
        }
        if let address = channel.localAddress {
            logger.notice(
                // Not "listening on": scripts look for that line to learn the SMTP port.
                "management: /metrics /livez /readyz at \(address.ipAddress ?? listen.host):\(address.port ?? listen.port)"
            )
            onListening(address)
        }
        // Up until the very end: first in the service group, so it stops last, and a load
        // balancer still gets 503 from /readyz while the sessions finish.
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// What each route answers; pure, so the handler only writes.
struct ManagementRoutes: Sendable {
    let readiness: Readiness
    let metrics: @Sendable () -> String

    struct Response: Equatable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    func respond(method: HTTPMethod, uri: String) -> Response {
        guard method == .GET || method == .HEAD else {
            return Response(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8", body: "GET only\n")
        }
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        switch path {
        case "/metrics":
            // Prometheus text format 0.0.4.
            return Response(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics())
        case "/livez":
            return Response(status: .ok, contentType: "text/plain; charset=utf-8", body: "ok\n")
        case "/readyz":
            let checks = readiness.checks()
            let ready = checks.allSatisfy(\.ok)
            GatewayMetrics.ready(ready)
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                contentType: "application/json",
                body: Readiness.json(checks)
            )
        default:
            return Response(status: .notFound, contentType: "text/plain; charset=utf-8", body: "not found: /metrics, /livez, /readyz\n")
        }
    }
}

/// One request per connection: the response is written when the request ended, then closed.
final class ManagementHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: ManagementRoutes
    private var request: HTTPRequestHead?

    init(routes: ManagementRoutes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            // No route takes a body.
            break
        case .end:
            guard let head = request else { return }
            request = nil
            let response = routes.respond(method: head.method, uri: head.uri)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: response.contentType)
            headers.add(name: "Content-Length", value: String(response.body.utf8.count))
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Cache-Control", value: "no-store")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
                promise: nil
            )
            if head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
