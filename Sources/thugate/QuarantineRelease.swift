import ArgumentParser
import Configuration
import Foundation
import GatewayServer
import Logging
import NIOCore
import NIOPosix
import Quarantine
import SMTPCore

extension QuarantineCommand {
    /// Options of the commands that change a message: the store opened for writing.
    struct ActionOptions: ParsableArguments {
        @OptionGroup var config: ConfigOptions
        @Argument(help: "The message's id, or a prefix of it that names one message.")
        var id: String
        @Option(name: .customLong("to"), parsing: .upToNextOption, help: "Only these recipients (default: all of them).")
        var recipients: [String] = []
        @Option(help: "Why (kept in the audit log).")
        var reason: String

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--reason must not be empty") }
        }

        /// The store (it must exist: an action never creates one), the message, and the positions
        /// `--to` names (nil: all). An address that is not a recipient is a usage error.
        func open() async throws -> (GatewayConfig, any GatewayStore, HeldMessage, [Int]?) {
            let config = try config.load()
            let store = try await QuarantineCommand.openForWriting(config)
            let message = try await QuarantineCommand.run { try await store.message(id) }
            guard !recipients.isEmpty else { return (config, store, message, nil) }
            var positions: [Int] = []
            for wanted in recipients {
                let key = Self.bare(wanted)
                let matches = message.recipients.indices.filter { Self.bare(message.recipients[$0].address) == key }
                guard !matches.isEmpty else {
                    printError("thugate: \(HoldRequest.stripped(wanted)) is not a recipient of \(message.id)")
                    throw ExitCode(64)
                }
                positions += matches
            }
            return (config, store, message, positions)
        }

        /// `<a@b.vn>` or `a@b.vn`, compared without the brackets and case.
        static func bare(_ address: String) -> String {
            var text = Substring(address.trimmingCharacters(in: .whitespaces))
            if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 { text = text.dropFirst().dropLast() }
            return text.lowercased()
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver a held message through the upstream, to all its recipients or those given with --to.",
            discussion: """
                The original bytes go out unchanged from the original envelope sender, with one added \
                X-ThuGate-Released header. A recipient is marked released only after the upstream's 250 \
                for it; a temporary refusal leaves it held, a permanent one marks it failed. A category in \
                [quarantine] approval_categories (state-secret) is not sent: the release is recorded, and a \
                different person sends it with `approve ID --reason`.
                """
        )

        @OptionGroup var action: ActionOptions
        @Flag(help: "Release a category an officer decides ([quarantine] force_categories: virus, executable, state-secret).")
        var force = false

        func run() async throws {
            let (config, store, message, positions) = try await action.open()
            try QuarantineCommand.refuseIfPurged(message)
            let lifecycle = config.quarantine.lifecycle
            let categories = lifecycle.categories(category: message.request.category, findingRules: message.request.findings.map(\.rule))
            let officer = categories.intersection(lifecycle.forceCategories).sorted()
            if !officer.isEmpty && !force {
                printError("thugate: \(message.id) was held for \(officer.joined(separator: ", ")): releasing it needs --force")
                throw ExitCode(77)
            }
            if !categories.isDisjoint(with: lifecycle.approvalCategories) {
                try await Self.requestApproval(of: message, positions: positions, reason: action.reason, store: store)
                return
            }
            try await Self.release(message, positions: positions, reason: action.reason, config: config, store: store)
        }

        /// A category that needs two people: the release is recorded for a second person to
        /// approve, and nothing is sent.
        static func requestApproval(of message: HeldMessage, positions: [Int]?, reason: String, store: any GatewayStore) async throws {
            let pending = try await QuarantineCommand.run { try await store.releaseRequest(of: message.id) }
            if let pending, pending.approvedBy == nil {
                printError(
                    "thugate: \(message.id): a release requested by \(pending.requestedByName) at \(HeldTable.local(pending.requestedAt)) "
                        + "already awaits approval; nothing sent, the recipients stay held until a different person runs "
                        + "`thugate quarantine approve \(message.id) --reason TEXT`"
                )
                return
            }
            let request = try await QuarantineCommand.run {
                try await store.requestRelease(of: message.id, positions: positions, reason: reason)
            }
            let addresses = message.recipients.indices.filter { request.positions?.contains($0) ?? true }.map {
                HoldRequest.stripped(message.recipients[$0].address)
            }
            printError(
                "thugate: \(message.id): release to \(addresses.joined(separator: ", ")) requested by \(request.requestedByName); "
                    + "NOTHING WAS SENT and the recipients stay held: mail of this category needs a second, different person "
                    + "to run `thugate quarantine approve \(message.id) --reason TEXT`"
            )
        }

        /// The release itself: the original bytes read (checked) and spooled, the recipients
        /// claimed, sent through the upstream, each recipient's outcome recorded and printed.
        static func release(
            _ message: HeldMessage,
            positions: [Int]?,
            reason: String,
            config: GatewayConfig,
            store: any GatewayStore
        ) async throws {
            // The original bytes into a message buffer (a spool file past the memory threshold,
            // as in the proxy), each chunk checked against its sha256, before anything is claimed.
            let spooled = Spooled(
                MessageBuffer(threshold: config.server.memoryThreshold, spoolDirectory: config.server.spoolDirectory)
            )
            do {
                try await store.readContent(of: message.id) { try spooled.append($0) }
            } catch let error as QuarantineError {
                // A spool file that cannot be made is this command's problem, not the store's.
                if let failure = spooled.failure {
                    printError(
                        "thugate: cannot spool \(message.id) for its release: \(failure) "
                            + "([server] spool_directory = \(config.server.spoolDirectory)); nothing sent, it stays held"
                    )
                    throw ExitCode(73)
                }
                throw QuarantineCommand.fail(error)
            }
            let claimed = try await QuarantineCommand.run {
                try await store.claimRelease(
                    of: message.id,
                    positions: positions,
                    reason: reason,
                    lease: Double(config.quarantine.releaseLease.nanoseconds) / 1e9,
                    now: Date()
                )
            }
            guard !claimed.isEmpty else {
                printError("thugate: no recipient of \(message.id) to release is held; nothing sent")
                return
            }
            let header = ReleasedHeader.field(id: message.id, by: Actor.current.name, date: rfc5322Date())
            let outcomes: [ReleaseOutcome]
            do {
                // `[quarantine] release_to` (a port of the MTA that calls no milter) or the upstream.
                switch config.quarantine.releaseTo ?? config.upstream.url {
                case .smtp(let target):
                    outcomes = try await Self.deliver(
                        spooled.buffer,
                        eightBit: spooled.eightBit,
                        header: header,
                        of: message,
                        to: claimed,
                        target: target,
                        config: config
                    )
                case .maildir(let directory):
                    outcomes = try await Self.deliver(
                        spooled.buffer,
                        header: header,
                        of: message,
                        to: claimed,
                        maildir: directory,
                        config: config
                    )
                }
            } catch {
                // Nothing went out: every claimed recipient goes back to held.
                let reply = "not sent: \(error)"
                try await QuarantineCommand.run {
                    try await store.finishRelease(
                        of: message.id,
                        claimed.map { ReleaseOutcome(position: $0.position, state: .held, reply: reply) },
                        reason: reason
                    )
                }
                printError("thugate: \(message.id) not released: \(error); it stays held")
                throw ExitCode(70)
            }
            try await QuarantineCommand.run { try await store.finishRelease(of: message.id, outcomes, reason: reason) }
            var allReleased = true
            for (recipient, outcome) in zip(claimed, outcomes) {
                let address = HoldRequest.stripped(recipient.address)
                switch outcome.state {
                case .released: printError("thugate: \(message.id) released to \(address): \(outcome.reply)")
                case .held: printError("thugate: \(message.id) not released to \(address), still held: \(outcome.reply)")
                default: printError("thugate: \(message.id) not released to \(address), failed: \(outcome.reply)")
                }
                if outcome.state != .released { allReleased = false }
            }
            if !allReleased { throw ExitCode(70) }
        }

        /// Into the `maildir:` upstream, as the proxy delivers there: one file for every claimed
        /// recipient, written, fsynced and renamed into `new/`; each recipient gets its reply.
        static func deliver(
            _ buffer: MessageBuffer,
            header: String,
            of message: HeldMessage,
            to claimed: [ClaimedRecipient],
            maildir directory: String,
            config: GatewayConfig
        ) async throws -> [ReleaseOutcome] {
            let upstream = try MaildirUpstream(directory: directory, hostname: config.server.hostname)
            let sender = MailAddress(Self.unbracketed(message.request.sender))
            var envelope = Envelope(heloName: config.server.hostname, esmtp: true, sender: sender, parameters: MailParameters())
            envelope.recipients = claimed.map { MailAddress(ActionOptions.bare($0.address)) }
            let transaction = upstream.beginTransaction(
                eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
                logger: Logger(label: "thugate.release")
            )
            let reply = await transaction.data(envelope: envelope, header: header, message: buffer, queueID: "release-\(message.id)")
            await upstream.shutdown()
            let state: RecipientState = reply.code == 250 ? .released : (400..<500).contains(reply.code) ? .held : .failed
            return claimed.map { ReleaseOutcome(position: $0.position, state: state, reply: reply.description) }
        }

        /// One SMTP transaction to the upstream, with the pool the proxy uses; the outcome of each
        /// claimed recipient, in order.
        static func deliver(
            _ buffer: MessageBuffer,
            eightBit: Bool,
            header: String,
            of message: HeldMessage,
            to claimed: [ClaimedRecipient],
            target: HostPort,
            config: GatewayConfig
        ) async throws -> [ReleaseOutcome] {
            let pool = try UpstreamPool(
                target: target,
                config: config.upstream,
                heloName: config.upstream.heloName.isEmpty ? config.server.hostname : config.upstream.heloName
            )
            let addresses = claimed.map { MailAddress(ActionOptions.bare($0.address)) }
            let sender = MailAddress(Self.unbracketed(message.request.sender))
            // The parameters the original needed: 8BITMIME for 8-bit bytes, SMTPUTF8 for
            // non-ASCII addresses.
            let parameters = MailParameters(
                body: eightBit ? .eightBitMIME : nil,
                smtpUTF8: !sender.isASCII || addresses.contains { !$0.isASCII }
            )
            var envelope = Envelope(heloName: config.server.hostname, esmtp: true, sender: sender, parameters: parameters)
            envelope.recipients = addresses
            let result = await pool.send(
                envelope,
                header: header,
                message: buffer,
                queueID: "release-\(message.id)",
                eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
                logger: Logger(label: "thugate.release")
            )
            await pool.shutdown()
            return claimed.indices.map { index in
                let reply = index < result.recipients.count ? result.recipients[index] : result.mail
                let accepted = reply.code == 250 || reply.code == 251
                // A recipient is released only when its RCPT and the message both got their 250.
                let final = accepted ? (result.message ?? reply) : reply
                let state: RecipientState =
                    accepted && result.delivered ? .released : (400..<500).contains(final.code) || final.code < 400 ? .held : .failed
                return ReleaseOutcome(position: claimed[index].position, state: state, reply: final.description)
            }
        }

        /// The stored envelope address (`<a@b.vn>`, `<>` for the null sender) without its brackets.
        static func unbracketed(_ address: String) -> String {
            address.hasPrefix("<") && address.hasSuffix(">") && address.count >= 2 ? String(address.dropFirst().dropLast()) : address
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a held message deleted, for all its recipients or those given with --to (its bytes stay until a purge)."
        )

        @OptionGroup var action: ActionOptions

        func run() async throws {
            let (_, store, message, positions) = try await action.open()
            let deleted = try await QuarantineCommand.run {
                try await store.delete(message.id, positions: positions, reason: action.reason)
            }
            if deleted.isEmpty {
                printError("thugate: no recipient of \(message.id) to delete is held")
            } else {
                printError("thugate: \(message.id) deleted for \(deleted.map { HoldRequest.stripped($0.address) }.joined(separator: ", "))")
            }
        }
    }
}

/// The message buffer a release sends, filled from the store's `@Sendable` read callback.
private final class Spooled: @unchecked Sendable {
    // Unchecked: only the store's read closure appends, and it returns before the buffer is sent.
    let buffer: MessageBuffer
    /// A byte above 0x7F was seen: MAIL needs BODY=8BITMIME (RFC 6152).
    private(set) var eightBit = false

    /// What the buffer threw (a spool file that could not be made or written), if anything.
    private(set) var failure: (any Error)?

    init(_ buffer: MessageBuffer) { self.buffer = buffer }

    func append(_ chunk: UnsafeRawBufferPointer) throws {
        if !eightBit { eightBit = chunk.contains { $0 >= 0x80 } }
        do {
            try buffer.append(chunk)
        } catch {
            failure = error
            throw error
        }
    }
}
