import Configuration
import Foundation
import Logging
import NIOCore
import PostgresStore
import Quarantine

/// Everything the gateway and the command line ask of the store, on either backend.
typealias GatewayStore = QuarantineStore & VerdictLog & StoreHealth & QuarantineReportSource

/// The store `[store]` names: the SQLite file of `[quarantine] database`, or the PostgreSQL
/// database several nodes share. One place decides, so every command works on both.
enum StoreAccess {
    /// Opens the configured store. SQLite: read-only when asked (a command beside the gateway).
    /// PostgreSQL: its client starts running now, in a task of its own that ends with the
    /// process (requests made before it connects wait for it, at most `connect_timeout`).
    static func open(
        _ config: GatewayConfig,
        readOnly: Bool = false,
        auditLogger: Logger? = nil,
        actor: Actor = .current
    ) throws -> any GatewayStore {
        switch config.store.backend {
        case .sqlite:
            return try SQLiteQuarantineStore(
                path: config.quarantine.database,
                readOnly: readOnly,
                actor: actor,
                auditLogger: readOnly ? nil : auditLogger
            )
        case .postgresql:
            let store = PostgresQuarantineStore(
                try postgresSettings(config),
                logger: Logger(label: "thugate.store"),
                actor: actor,
                auditLogger: auditLogger
            )
            Task { await store.run() }
            return store
        }
    }

    /// `[store]` as PostgresNIO's client takes it; the password read from `password_file`.
    static func postgresSettings(_ config: GatewayConfig) throws -> PostgresStoreSettings {
        let store = config.store
        var password: String?
        if !store.passwordFile.isEmpty {
            guard let text = try? String(contentsOfFile: store.passwordFile, encoding: .utf8) else {
                throw QuarantineError(.unavailable, "[store] password_file \(store.passwordFile): cannot be read")
            }
            password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        let node = store.node.isEmpty ? ProcessInfo.processInfo.hostName : store.node
        let timeout = Duration.nanoseconds(store.connectTimeout.nanoseconds)
        if store.isUnixSocket {
            return PostgresStoreSettings(
                socketDirectory: store.host,
                port: store.port,
                database: store.database,
                user: store.user,
                password: password,
                nodeID: node,
                poolSize: store.connections,
                connectTimeout: timeout
            )
        }
        let tls: PostgresStoreSettings.TLSMode =
            switch store.tls {
            case .disable: .disable
            case .prefer: .prefer
            case .require: .require
            }
        return PostgresStoreSettings(
            host: store.host,
            port: store.port,
            database: store.database,
            user: store.user,
            password: password,
            tls: tls,
            nodeID: node,
            poolSize: store.connections,
            connectTimeout: timeout
        )
    }

    /// Where the store is, for messages: the SQLite file, or `user@host:port/database`.
    static func describe(_ config: GatewayConfig) -> String {
        switch config.store.backend {
        case .sqlite: return config.quarantine.database
        case .postgresql: return (try? postgresSettings(config).displayName) ?? "PostgreSQL"
        }
    }
}
