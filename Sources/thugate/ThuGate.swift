import ArgumentParser
import Configuration
import Dispatch
import Foundation
import NIOCore
import NIOPosix

/// Process entry: Swift concurrency runs on NIO's event loops, so a session's `await` on socket
/// I/O resumes on the loop that did the I/O instead of hopping between thread pools (measured:
/// this roughly halves ThuGate's CPU per message, see Benchmarks/RESULTS.md).
@main
enum Main {
    static func main() {
        // With TZ unset glibc stats /etc/localtime on every local-time conversion (each log line,
        // each Received: header); naming the zone file once avoids that.
        if getenv("TZ") == nil { setenv("TZ", ":/etc/localtime", 1) }
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Task {
            await ThuGate.main()
            exit(0)
        }
        dispatchMain()
    }
}

struct ThuGate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thugate",
        abstract: "ThuGate: an SMTP gateway enforcing the provincial e-mail regulations in front of the main mail server.",
        subcommands: [
            Serve.self, Scan.self, Normalize.self, Text.self, Reload.self, CheckConfig.self, QuarantineCommand.self, ReportCommand.self,
            NotifyCommand.self, StoreCommand.self, Bench.self, CorpusCommand.self,
        ]
    )
}

/// Options shared by the commands that read the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (TOML). Without it the built-in defaults apply, the same as Config/thugate.toml.")
    var config: String?

    /// The configuration, or exit 78 (EX_CONFIG) after naming the bad key and line. Paths in
    /// the file are relative to the file's directory; the built-in defaults are relative to
    /// the installation (``ConfigPaths/installationDirectory(environment:executable:)``), so
    /// every command works from any directory.
    func load() throws -> GatewayConfig {
        let defaults = GatewayConfig.defaults(installation: ConfigPaths.installationDirectory())
        guard let config else { return defaults }
        let path = ConfigPaths.resolve(config, against: FileManager.default.currentDirectoryPath)
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            printError("thugate: cannot read the configuration \(path): \(error.localizedDescription)")
            throw ExitCode(78)
        }
        do {
            return try GatewayConfig.parse(
                text,
                file: config,
                directory: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                defaults: defaults
            )
        } catch {
            printError("thugate: \(error)")
            throw ExitCode(78)
        }
    }
}

/// Writes a line to standard error (not through the log: for errors before logging starts).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
