import Foundation
public import Quarantine

/// Where the shared store is and how a node talks to it. No dependency on the configuration
/// file's types: `thugate` fills it from `[quarantine.postgres]`.
public struct PostgresStoreSettings: Sendable, Equatable {
    /// The server: by TCP, or by the Unix socket in `directory` (`/run/postgresql`), whose file is
    /// `directory/.s.PGSQL.<port>` as libpq names it.
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(directory: String, port: Int)

        public var description: String {
            switch self {
            case .tcp(let host, let port): "\(host):\(port)"
            case .unixSocket(let directory, let port): "\(directory)/.s.PGSQL.\(port)"
            }
        }
    }

    /// TLS on a TCP connection: never, when the server offers it, or always (the default: the
    /// store carries held mail and its audit). A Unix socket takes none.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable
        case prefer
        case require
    }

    public var endpoint: Endpoint
    public var database: String
    public var user: String
    public var password: String?
    /// On a Unix socket this is ignored (no TLS there).
    public var tls: TLSMode
    /// This gateway node (its host name by default): recorded on every row it writes (held
    /// message, audit row, release claim, notice claim).
    public var nodeID: String
    /// Connections this node keeps at most (one of them, while someone listens, for the outbox's
    /// wake-ups; one per cluster job running).
    public var poolSize: Int
    /// How long a connection, or a free connection of the pool, is waited for before the store
    /// answers `.unavailable` (the gateway then answers 451: it fails closed).
    public var connectTimeout: Duration

    public init(
        host: String,
        port: Int = 5432,
        database: String,
        user: String,
        password: String? = nil,
        tls: TLSMode = .require,
        nodeID: String = ClaimOwner.hostName,
        poolSize: Int = 10,
        connectTimeout: Duration = .seconds(5)
    ) {
        self.init(
            endpoint: .tcp(host: host, port: port),
            database: database,
            user: user,
            password: password,
            tls: tls,
            nodeID: nodeID,
            poolSize: poolSize,
            connectTimeout: connectTimeout
        )
    }

    public init(
        socketDirectory: String,
        port: Int = 5432,
        database: String,
        user: String,
        password: String? = nil,
        nodeID: String = ClaimOwner.hostName,
        poolSize: Int = 10,
        connectTimeout: Duration = .seconds(5)
    ) {
        self.init(
            endpoint: .unixSocket(directory: socketDirectory, port: port),
            database: database,
            user: user,
            password: password,
            tls: .disable,
            nodeID: nodeID,
            poolSize: poolSize,
            connectTimeout: connectTimeout
        )
    }

    public init(
        endpoint: Endpoint,
        database: String,
        user: String,
        password: String?,
        tls: TLSMode,
        nodeID: String,
        poolSize: Int,
        connectTimeout: Duration
    ) {
        self.endpoint = endpoint
        self.database = database
        self.user = user
        self.password = password
        self.tls = tls
        self.nodeID = nodeID
        self.poolSize = max(2, poolSize)
        self.connectTimeout = connectTimeout
    }

    /// How errors and the log name the store: `thugate@db1:5432/quarantine`, never the password.
    public var displayName: String { "\(user)@\(endpoint)/\(database)" }
}
