import ArgumentParser
import Configuration
import Foundation
import NIOCore
import NIOPosix

/// `thugate bench`: how fast ThuGate inspects and relays a corpus of messages. Offline (the
/// inspection in-process, N workers) or end to end (SMTP load at a gateway, this one's own by
/// default, relaying to a built-in sink).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure ThuGate on a corpus: the inspection offline, or SMTP load end to end.",
        discussion: """
            Offline (no --smtp): every message of --corpus goes through the proxy's inspection (parse, \
            content scan, rules, transforms) with the configuration's rules, on --workers threads; prints \
            messages/s, MB/s (10^6 bytes), the time per stage (parse, content_scan and inside it libmagic, \
            libclamav, archive_headers, text_extraction, secrecy_matcher; rules, transforms), the verdicts, and, when the corpus has a \
            manifest.jsonl, the verdicts checked against it (right: the expected action and every expected \
            rule among the findings). JSON: {"mode": "offline", "messages", "bytes", "seconds", \
            "messages_per_second", "mb_per_second", "stages": {name: seconds}, "verdicts": {action: count}, \
            "checked", "correct", "wrong", "by_expected": {action: {"right", "wrong"}}, "wrong_files": \
            [{"file", "expected", "actual", "missing_rules"}] (at most 20), "errors"}.

            End to end (--smtp HOST:PORT, or --smtp self for a gateway started here as a child `thugate \
            serve`, relaying to a built-in sink on 127.0.0.1): --connections concurrent SMTP clients, each \
            sending --per-connection messages per connection, the corpus round robin with the manifest's \
            envelope, for --duration seconds or --messages messages (default: the corpus once). Prints \
            messages/s, MB/s, the latency of each message (MAIL sent to the reply that ended it) at p50, \
            p90, p99 and max, messages by reply code, errors, and with --smtp self the gateway's peak RSS \
            and CPU time (--config is then the gateway's configuration, used as it is; without it, the \
            built-in defaults with a temporary spool, quarantine and journal). JSON: {"mode": "smtp", "messages", "accepted", "failures", "seconds", \
            "messages_per_second", "mb_per_second", "latency_ms": {"p50", "p90", "p99", "max"}, "p50_ms", \
            "p90_ms", "p99_ms", "max_ms", "replies": {code: count}, "errors": {reason: count}, "gateway"}.

            A progress line goes to standard error (redrawn on a terminal, every 5 s otherwise).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var options: ConfigOptions

    @Option(help: "A directory of .eml files (with its manifest.jsonl, if any), or one .eml file.")
    var corpus: String

    @Option(help: "text (for people) or json (one object, for scripts).")
    var format: Format = .text

    @Option(help: "Offline: inspection threads (default: one per core).")
    var workers: Int?

    @Option(help: "End to end: the gateway to load, HOST:PORT, or `self` (one started here with a built-in sink).")
    var smtp: String?

    @Option(help: "End to end: concurrent SMTP connections (default 10).")
    var connections: Int?

    @Option(help: "End to end: seconds to send for (after --warm-up).")
    var duration: Double?

    @Option(help: "End to end: messages to send in all (default, without --duration: each corpus message once).")
    var messages: Int?

    @Option(help: "End to end: messages per SMTP connection before QUIT and a new connection (default 1).")
    var perConnection: Int?

    @Option(help: "End to end, with --duration: seconds of load sent first and not measured.")
    var warmUp: Double?

    @Option(help: "End to end: seconds to wait for a reply before the connection counts as an error (default 60).")
    var timeout: Double?

    @Option(
        help: """
            End to end: open every connection first (greeted, EHLO answered), hold them idle this many seconds, \
            read the gateway's RSS, then send on all at once (the idle-then-active burst; one message per connection).
            """
    )
    var hold: Double?

    /// The end-to-end target: a gateway elsewhere, or one this command starts.
    enum Target: Equatable {
        case remote(HostPort)
        case local
    }

    var target: Target? {
        guard let smtp else { return nil }
        if smtp == "self" { return .local }
        return HostPort(parsing: smtp).map(Target.remote)
    }

    func validate() throws {
        if let workers, workers < 1 || workers > 1024 { throw ValidationError("--workers must be 1 to 1024") }
        guard let smtp else {
            let endToEnd: [(String, Bool)] = [
                ("--connections", connections != nil), ("--duration", duration != nil), ("--messages", messages != nil),
                ("--per-connection", perConnection != nil), ("--warm-up", warmUp != nil), ("--timeout", timeout != nil),
                ("--hold", hold != nil),
            ]
            if let (name, _) = endToEnd.first(where: \.1) { throw ValidationError("\(name) needs --smtp") }
            return
        }
        if workers != nil { throw ValidationError("--workers is for the offline bench (without --smtp)") }
        guard target != nil else { throw ValidationError("--smtp: expected HOST:PORT or self, not \(smtp)") }
        if let connections, connections < 1 || connections > 100_000 { throw ValidationError("--connections must be 1 to 100000") }
        if duration != nil && messages != nil { throw ValidationError("give --duration or --messages, not both") }
        if let duration, !(duration > 0 && duration <= 86_400) { throw ValidationError("--duration must be over 0 and at most 86400 s") }
        if let messages, messages < 1 { throw ValidationError("--messages must be at least 1") }
        if let perConnection, perConnection < 1 { throw ValidationError("--per-connection must be at least 1") }
        if let warmUp {
            guard duration != nil else { throw ValidationError("--warm-up needs --duration") }
            guard warmUp >= 0 && warmUp <= 3_600 else { throw ValidationError("--warm-up must be 0 to 3600 s") }
        }
        if let timeout, !(timeout > 0 && timeout <= 3_600) { throw ValidationError("--timeout must be over 0 and at most 3600 s") }
        if let hold {
            guard hold >= 0 && hold <= 3_600 else { throw ValidationError("--hold must be 0 to 3600 s") }
            if duration != nil { throw ValidationError("--hold sends one burst: give --messages (or neither), not --duration") }
            // A held connection reads nothing while it waits: its reply timeout covers the hold.
            if hold + 1 >= (timeout ?? 60) {
                throw ValidationError("--hold must be at least 1 s shorter than --timeout (default 60 s), which covers the idle wait")
            }
            if let messages, messages < (connections ?? 10) {
                throw ValidationError("--hold needs at least one message per connection (--messages ≥ --connections)")
            }
        }
    }

    func run() async throws {
        let corpus: BenchCorpus
        do {
            corpus = try BenchCorpus.load(self.corpus)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("--corpus: \(error)")
        }
        guard !corpus.messages.isEmpty else { throw ValidationError("--corpus: no .eml file in \(self.corpus)") }
        switch target {
        case nil:
            try await OfflineBench(corpus: corpus, workers: workers ?? System.coreCount, format: format, options: options).run()
        case .remote(let server):
            OpenFiles.raise(to: (connections ?? 10) + 256)
            try await load(corpus, at: server, gateway: nil)
        case .local:
            // Each connection is a socket here and two in the gateway (client and upstream), and
            // the built-in sink is here too.
            OpenFiles.raise(to: 2 * (connections ?? 10) + 256)
            let gateway = try await LocalGateway.start(config: options.config, connections: connections ?? 10)
            do {
                try await load(corpus, at: gateway.address, gateway: gateway)
            } catch {
                await gateway.stop()
                throw error
            }
        }
    }

    private func load(_ corpus: BenchCorpus, at server: HostPort, gateway: LocalGateway?) async throws {
        let plan: LoadBench.Plan =
            if let duration {
                .duration(warmUp: .milliseconds(Int64((warmUp ?? 0) * 1000)), measured: .milliseconds(Int64(duration * 1000)))
            } else if hold != nil {
                // One message per held connection (more round robin after, when asked).
                .messages(messages ?? (connections ?? 10))
            } else {
                .messages(messages ?? corpus.messages.count)
            }
        var bench = try LoadBench(
            corpus: corpus,
            server: server,
            connections: connections ?? 10,
            perConnection: perConnection ?? 1,
            plan: plan,
            timeout: .milliseconds(Int64((timeout ?? 60) * 1000))
        )
        bench.hold = hold.map { .milliseconds(Int64($0 * 1000)) }
        let pid = gateway?.pid
        let result = await bench.run(gatewayRSS: { pid.flatMap { LocalGateway.currentRSS(pid: $0) }.map { Double($0) / 1024 } })
        let local = await gateway?.finish()
        LoadBench.printReport(result, bench: bench, gateway: local, json: format == .json)
    }
}
