import ArgumentParser
import Configuration
import Foundation
import GatewayServer
import Quarantine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension QuarantineCommand {
    /// The store for a command that changes it: it must exist (an action never creates one).
    static func openForWriting(_ config: GatewayConfig) async throws -> any GatewayStore {
        let path = config.quarantine.database
        if config.store.backend == .sqlite {
            guard FileManager.default.fileExists(atPath: path) else {
                throw QuarantineCommand.fail(QuarantineError(.unavailable, "quarantine store \(path): no such file"))
            }
        }
        return try await QuarantineCommand.run { try StoreAccess.open(config, auditLogger: QuarantineCommand.auditLogger) }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a release another person requested (state-secret mail), and release it.",
            discussion: """
                A release of a category that needs two people (approval_categories, state-secret by default) is \
                only recorded by `release ID --force --reason`; a different person approves it here, and the \
                release then runs as any other. The person is the user the session logged in as (the kernel's \
                login uid), where the system records one; else the sudo user when run as root through sudo; else \
                the OS user. Exit 67 when the approver is the person who asked, 66 when nothing awaits approval.
                """
        )

        @OptionGroup var action: ActionOptions

        func validate() throws {
            if !action.recipients.isEmpty {
                throw ValidationError("approve releases the recipients the request named; --to is not for approve")
            }
        }

        func run() async throws {
            let (config, store, message, _) = try await action.open()
            try QuarantineCommand.refuseIfPurged(message)
            let request = try await QuarantineCommand.run { try await store.approveRelease(of: message.id, reason: action.reason) }
            printError("thugate: \(message.id): release requested by \(request.requestedByName) approved by \(Actor.current.name)")
            try await Release.release(
                message,
                positions: request.positions,
                reason: "approved: \(action.reason); requested: \(request.reason)",
                config: config,
                store: store
            )
        }
    }

    struct LiftHold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lift-hold",
            abstract: "Lift the legal hold of a held message (an officer's decision), so it is purged after its expiry."
        )

        @OptionGroup var config: ConfigOptions
        @Argument(help: "The message's id, or a prefix of it that names one message.")
        var id: String
        @Option(help: "Why (kept in the audit log).")
        var reason: String

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--reason must not be empty") }
        }

        func run() async throws {
            let store = try await QuarantineCommand.openForWriting(try config.load())
            let message = try await QuarantineCommand.run { try await store.message(id) }
            if try await QuarantineCommand.run({ try await store.liftLegalHold(of: message.id, reason: reason) }) {
                printError(
                    "thugate: \(message.id): legal hold lifted; its original bytes may be purged after \(HeldTable.local(message.request.expiresAt))"
                )
            } else {
                printError("thugate: \(message.id) is not under legal hold; nothing changed")
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle recipients left releasing by a release that was killed mid-send.",
            discussion: """
                Such a recipient is never sent again by itself: the upstream may have taken the message. \
                Check the upstream's log (the X-ThuGate-Released header names the id), then mark it \
                released (the upstream has it) or held (it did not; it may then be released again).
                """
        )

        enum Outcome: String, ExpressibleByArgument, CaseIterable {
            case released, held
        }

        @OptionGroup var action: ActionOptions
        @Argument(help: "released (the upstream's log shows it was taken) or held (it was not).")
        var outcome: Outcome

        func run() async throws {
            let (_, store, message, positions) = try await action.open()
            let state: RecipientState = outcome == .released ? .released : .held
            let changed = try await QuarantineCommand.run {
                try await store.resolveReleasing(of: message.id, positions: positions, as: state, reason: action.reason)
            }
            if changed.isEmpty {
                printError("thugate: no recipient of \(message.id) is releasing; nothing changed")
            } else {
                let addresses = changed.map { HoldRequest.stripped($0.address) }.joined(separator: ", ")
                printError("thugate: \(message.id) \(addresses): releasing → \(state.rawValue)")
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the original bytes of decided and expired mail; its rows, findings and audit stay.",
            discussion: """
                Purged: mail released or deleted for every recipient and received more than --older-than ago, \
                and mail still held past its expiry (per category, [quarantine.retention]) unless under legal \
                hold. Each message is purged in its own short transaction with its audit row, so the gateway's \
                holds never wait long. Freed space goes back to the file system in short steps when the store \
                has auto_vacuum = INCREMENTAL (stores made by this version); --vacuum rewrites an older store \
                once (it holds the write lock while it runs: at a quiet time).
                """
        )

        @OptionGroup var config: ConfigOptions
        @Option(name: .customLong("older-than"), help: "Decided mail received more than this long ago, e.g. 30d or 12h.")
        var olderThan = "30d"
        @Flag(help: "List what would be purged; change nothing.")
        var dryRun = false
        @Flag(help: "Afterwards rewrite the file without its free pages (VACUUM), and make later purges reclaim in steps.")
        var vacuum = false

        func validate() throws {
            if Self.age(olderThan) == nil { throw ValidationError("--older-than: expected a duration such as 30d, 12h or 0h") }
        }

        /// `30d`, `12h`, `0h`.
        static func age(_ text: String) -> TimeInterval? {
            let digits = text.prefix(while: \.isNumber)
            guard let n = Int(digits), n < 1_000_000 else { return nil }
            switch text.dropFirst(digits.count) {
            case "d": return TimeInterval(n * 86400)
            case "h": return TimeInterval(n * 3600)
            default: return nil
            }
        }

        func run() async throws {
            let config = try config.load()
            let now = Date()
            let decidedBefore = now.addingTimeInterval(-(Self.age(olderThan) ?? 0))
            if dryRun {
                let store = try StoreOptions.openReadOnly(config)
                let candidates = try await QuarantineCommand.run { try await store.purgeCandidates(decidedBefore: decidedBefore, now: now) }
                var out = ""
                for c in candidates {
                    let why = c.reason == .expired ? "expired \(HeldTable.local(c.expiresAt))" : "decided"
                    out += "\(c.id)  \(HeldTable.local(c.receivedAt))  \(c.category)  \(c.size)  \(why)\n"
                }
                _ = out.utf8.withContiguousStorageIfAvailable { write(1, $0.baseAddress, $0.count) }
                printError(
                    "thugate: would purge \(candidates.count) messages (\(candidates.map(\.size).reduce(0, +)) bytes); nothing changed"
                )
                return
            }
            let store = try await QuarantineCommand.openForWriting(config)
            let candidates = try await QuarantineCommand.run { try await store.purgeCandidates(decidedBefore: decidedBefore, now: now) }
            var purged = 0
            var bytes = 0
            var lastProgress = Date()
            var done = 0
            // Batches of at most 32 messages or 4 MiB of bodies: one short write transaction each.
            var batch: [PurgeCandidate] = []
            var batchBytes = 0
            for (index, candidate) in candidates.enumerated() {
                batch.append(candidate)
                batchBytes += candidate.size
                guard batch.count == 32 || batchBytes >= 4 << 20 || index == candidates.count - 1 else { continue }
                let started = ContinuousClock.now
                let ids = Set(try await QuarantineCommand.run { try await store.purge(batch, decidedBefore: decidedBefore, now: now) })
                if store is SQLiteQuarantineStore { try await SQLiteQuarantineStore.yieldWriteLock(after: ContinuousClock.now - started) }
                purged += ids.count
                bytes += batch.filter { ids.contains($0.id) }.map(\.size).reduce(0, +)
                done += batch.count
                batch = []
                batchBytes = 0
                if Date().timeIntervalSince(lastProgress) >= 1 {
                    printError("thugate: purge: \(done) of \(candidates.count) messages looked at, \(purged) purged")
                    lastProgress = Date()
                }
            }
            printError("thugate: purged \(purged) messages (\(bytes) bytes of original mail); their rows, findings and audit stay")
            // PostgreSQL gives the space back itself (autovacuum); a SQLite file is reclaimed here.
            guard let store = store as? SQLiteQuarantineStore else { return }
            let storage = try await QuarantineCommand.run { try await store.storage() }
            if vacuum {
                printError("thugate: vacuum: rewriting \(store.path) (the gateway's holds wait meanwhile)")
                try await QuarantineCommand.run { try await store.vacuum() }
                let after = try await QuarantineCommand.run { try await store.storage() }
                printError("thugate: vacuum: \(storage.fileBytes - after.fileBytes) bytes given back to the file system")
            } else if storage.incremental {
                let pages = try await QuarantineCommand.run { try await store.reclaim() }
                printError("thugate: \(pages * storage.pageSize) bytes given back to the file system")
            } else if storage.freePages > 0 {
                printError(
                    "thugate: \(storage.freeBytes) bytes are free inside \(store.path) and are reused by later holds; "
                        + "`purge --vacuum` gives them back to the file system (it holds the write lock while it runs)"
                )
            }
        }
    }
}

extension QuarantineCommand.StoreOptions {
    static func openReadOnly(_ config: GatewayConfig) throws -> any GatewayStore {
        do {
            return try StoreAccess.open(config, readOnly: true)
        } catch let error as QuarantineError {
            throw QuarantineCommand.fail(error)
        }
    }
}
