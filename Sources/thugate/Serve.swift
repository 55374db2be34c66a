import ArgumentParser
import Configuration
import Dispatch
import Foundation
import GatewayServer
import Inspection
import Logging
import NIOCore
import NIOPosix
import PostgresStore
import Quarantine
import Scanning
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the SMTP gateway (and/or the milter).",
        discussion: """
            Listens for SMTP clients and relays every message to the upstream server, answering 250 \
            only once the upstream accepted it. With --mode milter (or both) it also answers an MTA \
            (Postfix smtpd_milters, Sendmail INPUT_MAIL_FILTER) at [milter] listen, with the same \
            rules, transforms and quarantine. SIGTERM stops accepting, lets messages in flight \
            finish (bounded by server.shutdown_timeout) and exits 0.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Listen address, HOST:PORT (port 0 picks a free port). Overrides server.listen.")
    var listen: String?

    @Option(help: "smtp://HOST:PORT or maildir:DIR. Overrides upstream.url.")
    var upstream: String?

    /// What the gateway serves: the SMTP proxy, the milter, or both (one inspection path).
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case proxy, milter, both
    }

    @Option(help: "proxy (an SMTP proxy in front of the MTA), milter (a filter the MTA calls), or both.")
    var mode: Mode = .proxy

    @Option(
        name: .customLong("milter-listen"),
        help: "unix:PATH or inet:127.0.0.1:PORT (loopback only; may be given more than once). Overrides milter.listen."
    )
    var milterListen: [String] = []

    @Option(
        name: .customLong("management-listen"),
        help: "HOST:PORT of /metrics, /livez and /readyz (port 0 picks a free port; \"\" for none). Overrides management.listen."
    )
    var managementListen: String?

    func run() async throws {
        var config = try options.load()
        if let listen {
            guard let hp = HostPort(parsing: listen) else { throw ValidationError("--listen: expected HOST:PORT") }
            config.server.listen = hp
        }
        if let managementListen {
            if managementListen.isEmpty {
                config.management.listen = nil
            } else {
                guard let hp = HostPort(parsing: managementListen) else {
                    throw ValidationError("--management-listen: expected HOST:PORT, or \"\" for none")
                }
                config.management.listen = hp
            }
        }
        if let upstream {
            guard let url = UpstreamURL(parsing: upstream) else {
                throw ValidationError("--upstream: expected smtp://HOST:PORT or maildir:DIR")
            }
            // A path on the command line is relative to where the command is typed.
            if case .maildir(let directory) = url {
                config.upstream.url = .maildir(ConfigPaths.resolve(directory, against: FileManager.default.currentDirectoryPath))
            } else {
                config.upstream.url = url
            }
        }

        if !milterListen.isEmpty {
            config.milter.listen = try milterListen.map { text in
                guard let address = MilterListenAddress(parsing: text) else {
                    throw ValidationError(
                        "--milter-listen: expected unix:PATH or inet:127.0.0.1:PORT (a loopback address: the milter protocol has no authentication)"
                    )
                }
                // A path on the command line is relative to where the command is typed.
                if case .unix(let path) = address {
                    return .unix(ConfigPaths.resolve(path, against: FileManager.default.currentDirectoryPath))
                }
                return address
            }
        }

        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = BufferedLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        defer { LogWriter.standardError.flush() }
        let metrics = GatewayMetricsFactory.bootstrap()
        let logger = Logger(label: "thugate")
        let group = MultiThreadedEventLoopGroup.singleton

        do {
            try MaildirUpstream.makeDirectory(config.server.spoolDirectory)
            let relay: any Upstream
            switch config.upstream.url {
            case .smtp(let target):
                relay = try UpstreamPool(
                    target: target,
                    config: config.upstream,
                    heloName: config.upstream.heloName.isEmpty ? config.server.hostname : config.upstream.heloName
                )
            case .maildir(let directory):
                relay = try MaildirUpstream(directory: directory, hostname: config.server.hostname)
            }
            let clamavLogger = Logger(label: "libclamav")
            ClamAVEngine.setMessageHandler { isError, message in
                if isError { clamavLogger.error("\(message)") } else { clamavLogger.warning("\(message)") }
            }
            // The PDF helpers start before the first message and are killed when the gateway stops.
            let pdfReader = try config.documents.pdfReader(for: config.policy)
            defer { pdfReader?.shutdown() }
            if let pdfReader {
                let helpers = pdfReader.settings.helpers
                logger.notice("PDF text: \(helpers) helper(s) \(pdfReader.helperPath), \(pdfReader.settings.memoryMB) MiB each")
            }
            let inspector = try MessageInspector(settings: config.inspection, useCrashJournal: true, pdfReader: pdfReader)
            if let engine = inspector.scanner?.engines.engine {
                logger.notice(
                    "libclamav \(ClamAVEngine.libraryVersion): \(engine.signatureCount) signatures from \(engine.settings.databaseDirectory)"
                )
            }
            if let journal = inspector.crashJournal {
                for hash in journal.foundAtStart {
                    logger.critical(
                        "crash journal \(journal.path): message sha256:\(hash) was being scanned when the last run died; it will be held in quarantine, not scanned again"
                    )
                }
                if !journal.crashed.isEmpty {
                    logger.warning(
                        "crash journal: \(journal.crashed.count) message(s) that crashed the scanner are held when they come again (\(journal.crashedListPath))"
                    )
                }
            }
            // SIGHUP (or `thugate reload`) compiles the signatures again beside the running engine.
            signal(SIGHUP, SIG_IGN)
            let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            hangup.setEventHandler { inspector.reloadSignatures(logger: logger) }
            hangup.resume()
            defer { hangup.cancel() }
            let pidFile = try PIDFile(path: config.server.pidFile)
            defer { pidFile.remove() }
            // One store for the process: the proxy's holds and verdicts, and the outbox's sender.
            let store = try StoreAccess.open(config, auditLogger: Logger(label: "thugate.audit"))
            if let shared = store as? PostgresQuarantineStore {
                await Self.migrate(shared, logger: logger)
            }
            let outbox = try Self.noticeService(config: config, upstream: relay, store: store, logger: logger)
            let readiness = Readiness(
                listeners: (mode != .milter ? ["smtp"] : []) + (mode != .proxy ? ["milter"] : []),
                signatureDirectory: inspector.scanner?.engines.engine.settings.databaseDirectory,
                maxSignatureAge: config.management.maxSignatureAge
            )
            // First in the group, so they stop last: a load balancer sees 503 until the end. The
            // probes serve /readyz and the gauges only: without a listener, nothing probes.
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            if let listen = config.management.listen {
                services.append(
                    .init(service: ManagementServer(listen: listen, readiness: readiness, group: group, logger: logger) { metrics.text() })
                )
                let prober = HealthProber(
                    readiness: readiness,
                    upstream: relay,
                    upstreamWithin: config.management.upstreamWithin,
                    interval: config.management.storeProbeInterval,
                    store: store,
                    logger: logger
                )
                services.append(.init(service: prober))
            }
            if mode != .milter {
                let server = try SMTPServer(
                    config: config,
                    upstream: relay,
                    inspector: inspector,
                    group: group,
                    logger: logger,
                    notices: outbox?.setup,
                    store: store,
                    onListening: { _ in readiness.listener("smtp", bound: true) }
                )
                services.append(.init(service: server))
            }
            if mode != .proxy {
                let milter = try MilterServer(
                    config: config,
                    upstream: relay,
                    inspector: inspector,
                    group: group,
                    logger: logger,
                    notices: outbox?.setup,
                    store: store,
                    onListening: { _ in readiness.listener("milter", bound: true) }
                )
                services.append(.init(service: milter))
            }
            // The notice service is last, so it stops first: the server's shutdown closes the
            // upstream pool both use.
            if let outbox { services.append(.init(service: outbox.service)) }
            // SIGINT stops at once; SIGTERM drains first (Self.drain).
            let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigint], logger: logger))
            let drain = Task { await Self.drain(group, readiness: readiness, grace: config.management.drainGrace, logger: logger) }
            defer { drain.cancel() }
            try await group.run()
            // The proxy closes the upstream pool it shares with the notices; without it, this does.
            if mode == .milter { await relay.shutdown() }
            await inspector.shutdown()
        } catch {
            logger.critical("cannot run: \(error)")
            throw ExitCode.failure
        }
    }

    /// The shared store's schema brought to this version (under an advisory lock, so nodes
    /// starting together take turns). A server that is down does not stop the gateway: clean
    /// mail flows, what needs the store gets 451, and the migration is tried again until it ran.
    static func migrate(_ store: PostgresQuarantineStore, logger: Logger) async {
        do {
            let applied = try await store.migrate()
            logger.notice(
                "store \(store.settings.displayName): schema ready\(applied.isEmpty ? "" : ", applied \(applied.joined(separator: ", "))")"
            )
        } catch {
            logger.error("store \(store.settings.displayName): \(error); mail that needs the store is answered 451 until it is back")
            Task {
                while true {
                    try? await Task.sleep(for: .seconds(10))
                    if (try? await store.migrate()) != nil {
                        logger.notice("store \(store.settings.displayName): reachable, schema ready")
                        return
                    }
                }
            }
        }
    }

    /// SIGTERM: `/readyz` answers 503 at once; the listeners keep accepting for `grace` (longer
    /// than the load balancer's check interval, so it takes the node out of rotation first), then
    /// the graceful shutdown begins: no new connections, sessions finish. A second SIGTERM
    /// during the grace period shuts down at once.
    static func drain(_ group: ServiceGroup, readiness: Readiness, grace: TimeAmount, logger: Logger) async {
        let signals = await UnixSignalsSequence(trapping: .sigterm)
        var iterator = signals.makeAsyncIterator()
        guard await iterator.next() != nil else { return }
        readiness.beginDrain()
        if grace > .zero {
            logger.notice("SIGTERM: draining: /readyz answers 503; still accepting for \(grace.nanoseconds / 1_000_000) ms")
            let second = Task { _ = await iterator.next() }
            let slept = Task { try? await Task.sleep(for: .nanoseconds(grace.nanoseconds)) }
            // Whichever comes first: the grace period's end, or another SIGTERM.
            await withTaskGroup(of: Void.self) { race in
                race.addTask { await slept.value }
                race.addTask { await second.value }
                await race.next()
                race.cancelAll()
                slept.cancel()
                second.cancel()
            }
        }
        logger.notice("SIGTERM: shutting down")
        await group.triggerGracefulShutdown()
    }

    /// The outbox's sender and what the proxy needs for notices, when `[notify]` can tell anyone
    /// anything: the key (created on first use), the templates, the store.
    static func noticeService(
        config: GatewayConfig,
        upstream: any Upstream,
        store: any QuarantineStore,
        logger: Logger
    ) throws -> (service: NoticeService, setup: NoticeSetup)? {
        let planner = NoticePlanner(settings: config.notify, agencies: config.agencies)
        guard planner.isActive else { return nil }
        let (key, created) = try NoticeKey.loadOrCreate(path: config.notify.keyFile)
        if created {
            logger.notice("created the notice key \(config.notify.keyFile) (mode 0600): give every node of this site the same file")
        }
        let templates = try NoticeTemplates.load(directory: config.notify.templates)
        let from = config.notify.from.isEmpty ? "postmaster@\(config.server.hostname)" : config.notify.from
        let service = NoticeService(
            store: store,
            upstream: upstream,
            composer: NoticeComposer(templates: templates, key: key, from: from, hostname: config.server.hostname),
            settings: config.notify,
            upstreamSettings: config.upstream,
            // The machine's own name: the claims of its dead processes are taken back at start.
            node: ProcessInfo.processInfo.hostName,
            spoolDirectory: config.server.spoolDirectory,
            logger: logger
        )
        logger.notice("notices: from <\(from)>, templates \(config.notify.templates), outbox in \(config.quarantine.database)")
        return (service, NoticeSetup(planner: planner, key: key, wake: { service.wake() }))
    }
}
