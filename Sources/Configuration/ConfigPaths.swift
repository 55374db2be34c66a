import Foundation
import Inspection
import Scanning

/// Where the relative paths of a configuration point, so that every `thugate` command works
/// the same from any directory: a path written in a configuration file is relative to that
/// file's directory (as nginx and HAProxy read theirs), a built-in default is relative to the
/// installation, and an absolute path is kept as it is.
public enum ConfigPaths {
    /// `path` made absolute against `base`, with `.` and `..` resolved lexically (the path need
    /// not exist yet: a spool directory is created later).
    public static func resolve(_ path: String, against base: String) -> String {
        guard !path.isEmpty else { return path }
        let absolute = path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base : base + "/") + path
        var parts: [Substring] = []
        for piece in absolute.split(separator: "/") {
            switch piece {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(piece)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The installation directory the built-in defaults are relative to: `$THUGATE_HOME` when
    /// set; otherwise the nearest directory above the running executable that holds
    /// `Config/thugate.toml` (a source checkout: `.build/release/thugate` finds the checkout);
    /// otherwise the executable's parent directory (`/usr/local/bin/thugate` gives `/usr/local`).
    public static func installationDirectory(environment: [String: String]? = nil, executable: String? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let executable = executable ?? executablePath
        if let home = environment["THUGATE_HOME"], !home.isEmpty {
            return resolve(home, against: FileManager.default.currentDirectoryPath)
        }
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent().path
        let binDirectory = directory
        while directory != "/" && !directory.isEmpty {
            if FileManager.default.fileExists(atPath: directory + "/Config/thugate.toml") { return directory }
            directory = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        }
        return resolve("..", against: binDirectory)
    }

    /// The running executable, symbolic links followed.
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.resolvingSymlinksInPath().path
    }
}

extension GatewayConfig {
    /// The built-in defaults, with their relative paths resolved against `installation`.
    public static func defaults(installation: String) -> GatewayConfig {
        var config = GatewayConfig()
        config.resolvePaths { ConfigPaths.resolve($0, against: installation) }
        return config
    }

    /// Applies `resolve` to every path-valued setting that is set. The one list of them: a new
    /// path setting is added here and read with `Section.path` in `parse`.
    mutating func resolvePaths(_ resolve: (String) -> String) {
        func apply(_ path: inout String) { if !path.isEmpty { path = resolve(path) } }
        apply(&server.spoolDirectory)
        apply(&server.pidFile)
        apply(&server.tlsCertificate)
        apply(&server.tlsPrivateKey)
        if case .maildir(let directory) = upstream.url { upstream.url = .maildir(resolve(directory)) }
        apply(&upstream.tlsCAFile)
        apply(&scan.clamav.databaseDirectory)
        apply(&scan.clamav.temporaryDirectory)
        apply(&scan.crashJournal)
        apply(&quarantine.database)
        apply(&notify.keyFile)
        apply(&notify.templates)
        apply(&documents.pdf.helperPath)
        milter.listen = milter.listen.map { address in
            guard case .unix(let path) = address else { return address }
            return .unix(resolve(path))
        }
    }
}
