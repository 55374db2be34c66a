import ArgumentParser
import Configuration
import Foundation
import GatewayServer

#if canImport(Glibc)
import Glibc
#endif

/// `thugate reload`: asks the running gateway (by its PID file) to compile its virus
/// signatures again, the same as `kill -HUP`.
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload the virus signatures of the running gateway (SIGHUP).",
        discussion: """
            Reads server.pid_file and sends SIGHUP. The gateway builds a new engine beside the running \
            one and swaps it in when compiled; a database that does not load keeps the old engine (see \
            the gateway's log). With the full public ClamAV database both engines are briefly in \
            memory: about 2.4 GB.
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let path = config.server.pidFile
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else {
            throw ValidationError("cannot read a process ID from \(path): is thugate serve running with this configuration?")
        }
        guard kill(pid, SIGHUP) == 0 else {
            throw ValidationError("cannot signal process \(pid) from \(path): \(String(cString: strerror(errno)))")
        }
        print("thugate: asked process \(pid) to reload its signatures")
    }
}
