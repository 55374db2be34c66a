public import NIOCore

extension GatewayConfig {
    /// `[store]`: where the quarantine, the verdict log, the audit chain and the outbox live. One
    /// SQLite file (`[quarantine] database`) for one node, or one PostgreSQL database that several
    /// nodes behind a load balancer share: any node shows, releases or purges any message.
    public struct Store: Sendable, Equatable {
        public enum Backend: String, Sendable, CaseIterable {
            case sqlite
            case postgresql
        }

        /// TLS to a PostgreSQL server over TCP (a Unix socket takes none).
        public enum TLS: String, Sendable, CaseIterable {
            case disable, prefer, require
        }

        public var backend = Backend.sqlite
        /// A host name or address (TCP), or a directory holding the server's Unix socket (it
        /// starts with `/`: `/run/postgresql`, Debian's).
        public var host = "/run/postgresql"
        public var port = 5432
        public var database = "thugate"
        public var user = "thugate"
        /// A file holding the password (its first line); empty: none (peer or trust
        /// authentication on a Unix socket, a client certificate).
        public var passwordFile = ""
        public var tls = TLS.require
        /// This node's name on every row it writes; empty: the host name.
        public var node = ""
        /// Connections this node keeps to the server at most.
        public var connections = 10
        /// How long a connection is waited for before a hold answers 451 (the store is down).
        public var connectTimeout = TimeAmount.seconds(5)

        public init() {}

        /// The host is a Unix socket directory.
        public var isUnixSocket: Bool { host.hasPrefix("/") }
    }
}

extension ConfigReader {
    static let storeKeys: Set<String> = [
        "backend", "host", "port", "database", "user", "password_file", "tls", "node", "connections", "connect_timeout",
    ]

    func store(_ s: Section, into store: inout GatewayConfig.Store) throws(ConfigError) {
        if let v = try s.choice("backend", GatewayConfig.Store.Backend.self) { store.backend = v }
        if let v = try s.string("host") {
            guard !v.isEmpty else { throw s.error("host", "expected a host name, an address or a socket directory") }
            store.host = v
        }
        if let v = try s.integer("port", min: 1) {
            guard v <= 65_535 else { throw s.error("port", "expected a port, 1 to 65535") }
            store.port = v
        }
        if let v = try s.string("database") {
            guard !v.isEmpty else { throw s.error("database", "must name the database") }
            store.database = v
        }
        if let v = try s.string("user") {
            guard !v.isEmpty else { throw s.error("user", "must name the database user") }
            store.user = v
        }
        if let v = try s.path("password_file") { store.passwordFile = v }
        if let v = try s.choice("tls", GatewayConfig.Store.TLS.self) { store.tls = v }
        if let v = try s.string("node") { store.node = v }
        if let v = try s.integer("connections", min: 2) { store.connections = v }
        if let v = try s.duration("connect_timeout") { store.connectTimeout = v }
    }
}
