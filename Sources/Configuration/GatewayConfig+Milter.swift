public import NIOCore

/// Where the milter server listens: a Unix socket, or TCP on a loopback address only (the milter
/// protocol has no authentication: anyone who reaches the port can have mail passed).
public enum MilterListenAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(String)
    case inet(HostPort)

    /// `unix:PATH` (also `local:PATH`, as Sendmail writes it) or `inet:HOST:PORT`. Nil for
    /// anything else, and for a TCP address that is not loopback.
    public init?(parsing text: String) {
        if let colon = text.firstIndex(of: ":"), ["unix", "local"].contains(text[..<colon]) {
            let path = String(text[text.index(after: colon)...])
            guard !path.isEmpty else { return nil }
            self = .unix(path)
            return
        }
        guard text.hasPrefix("inet:") || text.hasPrefix("inet6:"),
            let hostPort = HostPort(parsing: String(text.drop(while: { $0 != ":" }).dropFirst())),
            Self.isLoopback(hostPort.host)
        else { return nil }
        self = .inet(hostPort)
    }

    static func isLoopback(_ host: String) -> Bool {
        guard let address = try? SocketAddress(ipAddress: host, port: 0) else { return host == "localhost" }
        return IPNetwork.loopback.contains(address)
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .inet(let hostPort): "inet:\(hostPort)"
        }
    }
}

extension GatewayConfig {
    /// `[milter]`: ThuGate as a content filter called by Postfix or Sendmail (`thugate serve
    /// --mode milter|both`).
    public struct Milter: Sendable, Equatable {
        /// Where a held message goes: ThuGate's own quarantine store (the MTA is told to discard
        /// it once the store committed), or the MTA's hold queue (`postsuper -H` releases it).
        public enum QuarantineTarget: String, Sendable, CaseIterable {
            case store
            case mtaHold = "mta-hold"
        }

        /// How the text of a refusal is written: `auto` sends UTF-8 to Postfix (it passes the
        /// text on unchanged, as the proxy sends it) and ASCII to any other MTA.
        public enum ReplyText: String, Sendable, CaseIterable {
            case auto
            case utf8 = "utf-8"
            case ascii
        }

        public var listen: [MilterListenAddress] = [.inet(HostPort(host: "127.0.0.1", port: 8899))]
        /// The group a Unix socket is given (empty: the process's own), so that Postfix's
        /// `postfix` user can be let in by group.
        public var socketGroup = ""
        /// The Unix socket's mode: owner and group read and write, nobody else.
        public var socketMode: UInt16 = 0o660
        public var quarantine = QuarantineTarget.store
        public var replyText = ReplyText.auto
        /// How often `SMFIR_PROGRESS` is sent while a message is inspected, so that the MTA's
        /// timeout for the end-of-message reply (Postfix `milter_content_timeout`, 300 s) never
        /// fires on a long scan.
        public var progressInterval = TimeAmount.seconds(5)
        /// How long the MTA may stay silent on a connection before ThuGate closes it (Postfix
        /// keeps one per SMTP session, idle while its client is).
        public var timeout = TimeAmount.minutes(10)
        public var maxConnections = 1000
        /// Bytes per `SMFIR_REPLBODY` packet of a rewritten body: libmilter's 65,535, which
        /// Postfix and Sendmail read. OpenDKIM's `miltertest` reads at most 1,024.
        public var bodyChunkSize = 65_535

        public init() {}

        /// The ASCII-only choice for the session machine (nil: decided by the MTA's name).
        public var asciiReplies: Bool? {
            switch replyText {
            case .auto: nil
            case .utf8: false
            case .ascii: true
            }
        }
    }
}

extension ConfigReader {
    static let milterKeys: Set<String> = [
        "listen", "socket_group", "socket_mode", "quarantine", "reply_text", "progress_interval", "timeout", "max_connections",
        "body_chunk_size",
    ]

    func milter(_ s: Section, into milter: inout GatewayConfig.Milter) throws(ConfigError) {
        if let list = try s.stringList("listen") {
            var addresses: [MilterListenAddress] = []
            for text in list {
                guard let address = MilterListenAddress(parsing: text) else {
                    throw s.error(
                        "listen",
                        "\"\(text)\": expected \"unix:PATH\" or \"inet:127.0.0.1:PORT\" (a loopback address only: the milter protocol has no authentication)"
                    )
                }
                if case .unix(let path) = address, let directory {
                    addresses.append(.unix(ConfigPaths.resolve(path, against: directory)))
                } else {
                    addresses.append(address)
                }
            }
            guard !addresses.isEmpty else { throw s.error("listen", "must name at least one address") }
            milter.listen = addresses
        }
        if let v = try s.string("socket_group") { milter.socketGroup = v }
        if let v = try s.string("socket_mode") {
            guard let mode = UInt16(v, radix: 8), mode <= 0o777, mode & 0o007 == 0 else {
                throw s.error("socket_mode", "expected an octal mode without rights for others, e.g. \"0660\"")
            }
            milter.socketMode = mode
        }
        if let v = try s.choice("quarantine", GatewayConfig.Milter.QuarantineTarget.self) { milter.quarantine = v }
        if let v = try s.choice("reply_text", GatewayConfig.Milter.ReplyText.self) { milter.replyText = v }
        if let v = try s.duration("progress_interval") {
            guard v >= .seconds(1) else { throw s.error("progress_interval", "must be at least 1s") }
            milter.progressInterval = v
        }
        if let v = try s.duration("timeout") { milter.timeout = v }
        if let v = try s.integer("max_connections", min: 1) { milter.maxConnections = v }
        if let v = try s.integer("body_chunk_size", min: 512) {
            guard v <= 65_535 else { throw s.error("body_chunk_size", "at most 65535 (the milter protocol's chunk)") }
            milter.bodyChunkSize = v
        }
    }
}
