import Foundation
import Logging
import PostgresNIO
import PostgresStore

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL cluster for the tests: `initdb` into a directory in /tmp, `pg_ctl
/// start` on a Unix socket in it (no TCP), trust authentication. The tests run as root here and
/// in CI and initdb refuses root, so then the server runs as `nobody`. Stopped (`-m immediate`)
/// and removed when the test process ends.
final class PostgresCluster: Sendable {
    let directory: String
    var socketDirectory: String { directory }
    var dataDirectory: String { directory + "/data" }
    let bin: String

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Makes and starts a cluster. Throws, saying what is missing, when PostgreSQL is not installed:
    /// the PostgreSQL tests fail then, they never skip (CI installs PostgreSQL 15).
    init() throws {
        bin = try Self.findBin()
        Self.sweepLeftovers()
        var template = Array("/tmp/thugate-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Missing(description: "mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        ClusterRegistry.shared.add(self)
        try "\(getpid())\n".write(toFile: directory + "/owner.pid", atomically: true, encoding: .utf8)
        chmod(directory, 0o755)
        if geteuid() == 0 {
            guard let nobody = getpwnam("nobody") else { throw Missing(description: "no user nobody to run PostgreSQL as") }
            chown(directory, nobody.pointee.pw_uid, nobody.pointee.pw_gid)
        }
        try run(
            "initdb",
            ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        )
        try start()
    }

    func start() throws {
        let options = [
            "-c listen_addresses=''", "-c unix_socket_directories='\(socketDirectory)'", "-c fsync=off",
            "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=500", "-c shared_buffers=64MB",
        ]
        try run("pg_ctl", ["-D", dataDirectory, "-l", directory + "/log", "-w", "-t", "60", "-o", options.joined(separator: " "), "start"])
    }

    func stop(mode: String = "fast") throws {
        try run("pg_ctl", ["-D", dataDirectory, "-w", "-m", mode, "stop"])
    }

    /// Settings for database `database` as node `node`.
    func settings(database: String, node: String = "node-a", poolSize: Int = 4, timeout: Duration = .seconds(10)) -> PostgresStoreSettings {
        PostgresStoreSettings(
            socketDirectory: socketDirectory,
            database: database,
            user: "postgres",
            nodeID: node,
            poolSize: poolSize,
            connectTimeout: timeout
        )
    }

    /// Runs a PostgreSQL tool, as `nobody` when the tests are root. By `posix_spawn` and
    /// `waitpid`: Foundation's `Process` does not always see pg_ctl exit (the server it leaves
    /// running shares its process group).
    private func run(_ tool: String, _ arguments: [String]) throws {
        let argv =
            geteuid() == 0
            ? [
                "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "/usr/bin/env", "-C", directory,
                bin + "/" + tool,
            ]
                + arguments
            : ["/usr/bin/env", "-C", directory, bin + "/" + tool] + arguments
        let outputPath = directory + "/\(tool).out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Missing(description: "\(tool): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
            throw Missing(description: "\(tool) failed (status \(status)): \(text)\n\(log.suffix(2000))")
        }
    }

    private static func findBin() throws -> String {
        var candidates = ["/usr/lib/postgresql/15/bin"]
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") { candidates.append(String(directory)) }
        candidates.append("/usr/local/bin")
        for directory in candidates
        where FileManager.default.isExecutableFile(atPath: directory + "/initdb")
            && FileManager.default.isExecutableFile(atPath: directory + "/pg_ctl")
        {
            return directory
        }
        throw Missing(
            description:
                "the PostgreSQL tests need initdb and pg_ctl (PostgreSQL 15: apt-get install postgresql-15) in PATH or /usr/lib/postgresql/15/bin"
        )
    }

    /// The clusters of test processes that were killed (no `atexit`): stopped and removed once.
    private static let sweep: Void = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in entries where name.hasPrefix("thugate-pg-") && name.count == "thugate-pg-XXXXXX".count {
            let directory = "/tmp/" + name
            guard let text = try? String(contentsOfFile: directory + "/owner.pid", encoding: .utf8),
                let owner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), owner != getpid(),
                kill(owner, 0) != 0 && errno == ESRCH
            else { continue }
            // Its postmaster, by the pid in the first line of postmaster.pid.
            if let pidText = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
                let line = pidText.split(separator: "\n").first, let postmaster = Int32(line)
            {
                kill(postmaster, SIGQUIT)
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }()

    private static func sweepLeftovers() { _ = sweep }

    /// Stops the server at once and removes its directory (at exit).
    func tearDown() {
        try? stop(mode: "immediate")
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The clusters this process started, torn down at exit.
final class ClusterRegistry: @unchecked Sendable {
    // Unchecked: `clusters` is only touched while `lock` is held.
    static let shared = ClusterRegistry()
    private let lock = NSLock()
    private var clusters: [PostgresCluster] = []

    func add(_ cluster: PostgresCluster) {
        lock.lock()
        let first = clusters.isEmpty
        clusters.append(cluster)
        lock.unlock()
        if first { atexit { ClusterRegistry.shared.tearDown() } }
    }

    func tearDown() {
        lock.lock()
        let all = clusters
        clusters = []
        lock.unlock()
        for cluster in all { cluster.tearDown() }
    }
}

/// The cluster all the PostgreSQL contract tests share, started once, lazily; a fresh database
/// per test, so they run in parallel.
actor SharedCluster {
    static let shared = SharedCluster()
    private var started: Task<(PostgresCluster, PostgresClient), any Error>?
    private var count = 0

    private func running() async throws -> (PostgresCluster, PostgresClient) {
        if let started { return try await started.value }
        let task = Task {
            let cluster = try PostgresCluster()
            var configuration = PostgresClient.Configuration(
                unixSocketPath: cluster.socketDirectory + "/.s.PGSQL.5432",
                username: "postgres",
                password: nil,
                database: "postgres"
            )
            configuration.options.maximumConnections = 4
            let admin = PostgresClient(configuration: configuration)
            // Runs as long as the process.
            Task { await admin.run() }
            return (cluster, admin)
        }
        started = task
        return try await task.value
    }

    /// A new, empty database; its name.
    func makeDatabase() async throws -> (PostgresCluster, String) {
        let (cluster, admin) = try await running()
        count += 1
        let name = "t\(count)_\(UUID().uuidString.prefix(8).lowercased())"
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        return (cluster, name)
    }
}
