import ArgumentParser
import Configuration
import Foundation
import Logging
import PostgresStore
import Quarantine

/// `thugate store`: the shared store's schema, and moving an embedded store into it.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Create or update the PostgreSQL store's schema, or copy a SQLite store into it.",
        discussion: """
            [store] backend = "postgresql" names the database several nodes share. `migrate` brings its schema \
            to this version (nodes starting together take turns under an advisory lock; `serve` does it too). \
            `copy --from FILE` copies a SQLite store (the one-node quarantine: held mail with its bytes, \
            recipients, audit chain as it is, outbox, verdict log and roll-ups) into an empty migrated \
            database; stop the gateway writing to FILE first. Exit codes: 0 done, 69 the store cannot be \
            reached or is not empty, 78 the configuration names no PostgreSQL store.
            """,
        subcommands: [Migrate.self, Copy.self]
    )

    static func postgres(_ config: GatewayConfig) throws -> PostgresStoreSettings {
        guard config.store.backend == .postgresql else {
            printError("thugate: [store] backend is \"sqlite\": set backend = \"postgresql\" and its host, database and user first")
            throw ExitCode(78)
        }
        return try StoreAccess.postgresSettings(config)
    }

    static var logger: Logger {
        var logger = Logger(label: "thugate.store")
        logger.logLevel = .warning
        return logger
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or update the PostgreSQL store's schema.")
        @OptionGroup var config: ConfigOptions

        func run() async throws {
            let settings = try StoreCommand.postgres(try config.load())
            try await QuarantineCommand.run {
                try await PostgresQuarantineStore.withStore(settings, logger: StoreCommand.logger, migrating: false) { store in
                    let applied = try await store.migrate()
                    let version = try await store.schemaVersion()
                    printError(
                        "thugate: store \(settings.displayName): schema version \(version)"
                            + (applied.isEmpty ? ", nothing to do" : ", applied \(applied.joined(separator: ", "))")
                    )
                }
            }
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy a SQLite store into the (empty) PostgreSQL store.")
        @OptionGroup var config: ConfigOptions
        @Option(help: "The SQLite store to copy (default: [quarantine] database).")
        var from: String?

        func run() async throws {
            let loaded = try config.load()
            let settings = try StoreCommand.postgres(loaded)
            let path = from.map { ConfigPaths.resolve($0, against: FileManager.default.currentDirectoryPath) } ?? loaded.quarantine.database
            let report = try await QuarantineCommand.run {
                let source = try SQLiteQuarantineStore(path: path, readOnly: true)
                return try await PostgresQuarantineStore.withStore(settings, logger: StoreCommand.logger) { store in
                    let started = Date()
                    let last = LastProgress()
                    let report = try await store.copy(from: source) { done, total in
                        if last.due() || done == total { printError("thugate: store copy: \(done) of \(total) messages") }
                    }
                    printError("thugate: store copy: done in \(Int(Date().timeIntervalSince(started))) s")
                    return report
                }
            }
            printError(
                "thugate: copied \(path) into \(settings.displayName): \(report.messages) messages (\(report.bytes) bytes), "
                    + "\(report.auditRows) audit rows, \(report.notices) notices, \(report.verdicts) verdicts, \(report.rollups) roll-up rows"
            )
        }
    }
}

/// Progress at most once a second.
private final class LastProgress: @unchecked Sendable {
    // Unchecked: called from the one task that copies, one call at a time.
    private var last = Date.distantPast
    func due() -> Bool {
        guard Date().timeIntervalSince(last) >= 1 else { return false }
        last = Date()
        return true
    }
}
