import ArgumentParser
import Configuration
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The gateway `thugate bench --smtp self` loads: this binary run as a child `thugate serve` on
/// 127.0.0.1 (port 0), relaying to a ``BenchSink`` in this process. A child, so its peak RSS
/// and CPU time are its own, not the load generator's.
final class LocalGateway: @unchecked Sendable {
    // @unchecked: `process` is started in `start` and afterwards only signalled and polled, from
    // one task at a time (`finish` or `stop`).
    let address: HostPort
    let sink: BenchSink
    private let process: Process
    private let directory: URL
    private let logPath: URL

    /// What the bench reports about the gateway it started.
    struct Figures: Sendable, Encodable {
        /// VmHWM of the child, in MiB.
        var peakRSSMB: Double?
        /// User plus system CPU time of the child, in seconds.
        var cpuSeconds: Double?
        /// `cpuSeconds` per message sent, the warm-up's included (set by the report).
        var cpuMsPerMessage: Double?
        var pid: Int32
        /// Messages the built-in sink received (relayed by the gateway).
        var sinkMessages: Int

        enum CodingKeys: String, CodingKey {
            case pid
            case peakRSSMB = "peak_rss_mb"
            case cpuSeconds = "cpu_seconds"
            case cpuMsPerMessage = "cpu_ms_per_message"
            case sinkMessages = "sink_messages"
        }
    }

    private init(address: HostPort, sink: BenchSink, process: Process, directory: URL, logPath: URL) {
        self.address = address
        self.sink = sink
        self.process = process
        self.directory = directory
        self.logPath = logPath
    }

    /// Starts the sink and the gateway and waits (up to a minute: libclamav compiles its
    /// database first) for the gateway's `listening on` line. `config`: the user's file, used as
    /// it is; without one, the built-in defaults with every path in a temporary directory and
    /// room for `connections` clients from 127.0.0.1.
    static func start(config: String?, connections: Int) async throws -> LocalGateway {
        let sink = try await BenchSink.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "thugate-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        )
        let logPath = directory.appendingPathComponent("thugate.log")
        do {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("tmp"), withIntermediateDirectories: true)
            let configPath: String
            if let config {
                configPath = ConfigPaths.resolve(config, against: FileManager.default.currentDirectoryPath)
            } else {
                configPath = directory.appendingPathComponent("thugate.toml").path
                try Self.configText(directory: directory.path, connections: connections).write(
                    toFile: configPath,
                    atomically: true,
                    encoding: .utf8
                )
            }
            FileManager.default.createFile(atPath: logPath.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.executable())
            process.arguments = [
                "serve", "--config", configPath, "--listen", "127.0.0.1:0", "--upstream", "smtp://127.0.0.1:\(sink.port)",
            ]
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: logPath)
            try process.run()
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(60)
            while clock.now < deadline {
                let log = (try? String(contentsOf: logPath, encoding: .utf8)) ?? ""
                if let port = Self.listeningPort(log) {
                    return LocalGateway(
                        address: HostPort(host: "127.0.0.1", port: port),
                        sink: sink,
                        process: process,
                        directory: directory,
                        logPath: logPath
                    )
                }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            let log = (try? String(contentsOf: logPath, encoding: .utf8)) ?? ""
            throw ValidationError(
                "--smtp self: the gateway did not start:\n" + log.split(separator: "\n").suffix(10).joined(separator: "\n")
            )
        } catch {
            await sink.stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Defaults, with what a bench needs: its own spool, quarantine, journal and keys (never the
    /// installation's), and no per-address connection limit below the load.
    static func configText(directory: String, connections: Int) -> String {
        func quoted(_ path: String) -> String {
            "\"\(path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\""
        }
        let room = max(connections * 2 + 10, 1000)
        return """
            [server]
            max_connections = \(room)
            max_connections_per_ip = \(room)
            spool_directory = \(quoted(directory + "/spool"))
            pid_file = \(quoted(directory + "/thugate.pid"))

            [scan]
            temporary_directory = \(quoted(directory + "/tmp"))
            crash_journal = \(quoted(directory + "/scan-crashes"))

            [quarantine]
            database = \(quoted(directory + "/quarantine/quarantine.sqlite"))

            [notify]
            key_file = \(quoted(directory + "/notice.key"))

            [log]
            level = "info"

            """
    }

    /// The port of `listening on HOST:PORT` in the gateway's log.
    static func listeningPort(_ log: String) -> Int? {
        for line in log.split(separator: "\n") {
            guard let range = line.range(of: "listening on ") else { continue }
            let address = line[range.upperBound...].prefix { $0 != "," && $0 != " " }
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { continue }
            return port
        }
        return nil
    }

    /// This executable, to run as the child.
    static func executable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads the gateway's peak RSS and CPU time, stops it (SIGTERM, as a service manager does) and the sink.
    func finish() async -> Figures {
        let pid = process.processIdentifier
        let figures = Figures(
            peakRSSMB: Self.peakRSS(pid: pid).map { Double($0) / 1024 },
            cpuSeconds: Self.cpuSeconds(pid: pid),
            cpuMsPerMessage: nil,
            pid: pid,
            sinkMessages: sink.received.messages
        )
        await stop()
        return figures
    }

    func stop() async {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while process.isRunning && clock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        await sink.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    var pid: Int32 { process.processIdentifier }

    /// VmHWM from /proc/PID/status, in KiB (`proc(5)`).
    static func peakRSS(pid: Int32) -> Int? { status(pid: pid, field: "VmHWM:") }

    /// VmRSS from /proc/PID/status, in KiB.
    static func currentRSS(pid: Int32) -> Int? { status(pid: pid, field: "VmRSS:") }

    static func status(pid: Int32, field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix(field) }.flatMap { line in
            line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
    }

    /// utime + stime from /proc/PID/stat (fields 14 and 15, after the parenthesized name), in seconds.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
