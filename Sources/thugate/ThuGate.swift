import ArgumentParser
import Dispatch
import Foundation
import GatewayServer
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
        subcommands: [Serve.self, Scan.self, Normalize.self, Text.self, Reload.self, CheckConfig.self]
    )
}

/// Options shared by the commands that read the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (TOML). Without it the built-in defaults apply, the same as Config/thugate.toml.")
    var config: String?

    /// The configuration, or exit 78 (EX_CONFIG) after naming the bad key and line.
    func load() throws -> GatewayConfig {
        guard let path = config else { return GatewayConfig() }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try GatewayConfig.parse(text, file: path)
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
