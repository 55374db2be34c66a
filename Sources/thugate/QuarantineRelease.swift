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
    /// Categories an officer decides: releasing them needs `--force`.
    static let officerCategories: Set<String> = ["virus", "executable", "state-secret"]

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
        func open() async throws -> (GatewayConfig, SQLiteQuarantineStore, HeldMessage, [Int]?) {
            let config = try config.load()
            let path = config.quarantine.database
            guard FileManager.default.fileExists(atPath: path) else {
                throw QuarantineCommand.fail(QuarantineError(.unavailable, "quarantine store \(path): no such file"))
            }
            let store = try await QuarantineCommand.run {
                try SQLiteQuarantineStore(path: path, auditLogger: QuarantineCommand.auditLogger)
            }
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
                for it; a temporary refusal leaves it held, a permanent one marks it failed.
                """
        )

        @OptionGroup var action: ActionOptions
        @Flag(help: "Release a category an officer decides (virus, executable, state-secret).")
        var force = false

        func run() async throws {
            let (config, store, message, positions) = try await action.open()
            let rules = Set([message.request.category] + message.request.findings.map(\.rule))
            let officer = rules.intersection(QuarantineCommand.officerCategories).sorted()
            if !officer.isEmpty && !force {
                printError("thugate: \(message.id) was held for \(officer.joined(separator: ", ")): releasing it needs --force")
                throw ExitCode(77)
            }
            guard case .smtp(let target) = config.upstream.url else {
                printError("thugate: release needs an SMTP upstream ([upstream] url = \"smtp://…\")")
                throw ExitCode(78)
            }
            // The original bytes into a message buffer (a spool file past the memory threshold,
            // as in the proxy), each chunk checked against its sha256, before anything is claimed.
            let spooled = Spooled(
                MessageBuffer(threshold: config.server.memoryThreshold, spoolDirectory: config.server.spoolDirectory)
            )
            try await QuarantineCommand.run { try await store.readContent(of: message.id) { try spooled.append($0) } }
            let claimed = try await QuarantineCommand.run {
                try await store.claimRelease(of: message.id, positions: positions, reason: action.reason)
            }
            guard !claimed.isEmpty else {
                printError("thugate: no recipient of \(message.id) to release is held; nothing sent")
                return
            }
            let header = ReleasedHeader.field(id: message.id, by: Actor.current.name, date: rfc5322Date())
            let outcomes: [ReleaseOutcome]
            do {
                outcomes = try await Self.deliver(
                    spooled.buffer,
                    eightBit: spooled.eightBit,
                    header: header,
                    of: message,
                    to: claimed,
                    target: target,
                    config: config
                )
            } catch {
                // Nothing went out: every claimed recipient goes back to held.
                let reply = "not sent: \(error)"
                try await QuarantineCommand.run {
                    try await store.finishRelease(
                        of: message.id,
                        claimed.map { ReleaseOutcome(position: $0.position, state: .held, reply: reply) },
                        reason: action.reason
                    )
                }
                printError("thugate: \(message.id) not released: \(error); it stays held")
                throw ExitCode(70)
            }
            try await QuarantineCommand.run { try await store.finishRelease(of: message.id, outcomes, reason: action.reason) }
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

    init(_ buffer: MessageBuffer) { self.buffer = buffer }

    func append(_ chunk: UnsafeRawBufferPointer) throws {
        if !eightBit { eightBit = chunk.contains { $0 >= 0x80 } }
        try buffer.append(chunk)
    }
}
