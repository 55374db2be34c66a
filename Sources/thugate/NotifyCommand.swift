import ArgumentParser
import Configuration
import Foundation
import GatewayServer
import Quarantine

/// `thugate notify`: the outbox of notices. `list` opens the store read-only, so it runs beside
/// the gateway; `retry` makes a dead notice due again (the gateway sends it within seconds).
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "The outbox of notices: list them, send a dead one again.",
        discussion: """
            Notices are rows in the quarantine store ([quarantine] database), written with the hold \
            they tell about and sent by `thugate serve` through the upstream. States: pending (due at \
            its time), sending (claimed by a gateway), sent (the upstream said 250), dead (refused, or \
            not sent within [notify] give_up_after). Exit codes as `thugate quarantine`: 64 usage, 65 \
            the prefix names several notices, 66 no such notice, 69 the store cannot be opened, 75 busy.
            """,
        subcommands: [List.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Notices, newest first.")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, json
        }

        @OptionGroup var store: QuarantineCommand.StoreOptions
        @Flag(help: "Only those not sent yet (pending or being sent).")
        var pending = false
        @Flag(help: "Only those that gave up.")
        var dead = false
        @Flag(help: "Only those sent.")
        var sent = false
        @Option(help: "table (aligned, for people) or json (one object per line, for scripts).")
        var format: Format = .table
        @Option(help: "At most this many notices, the newest.")
        var limit: Int?

        func validate() throws {
            if [pending, dead, sent].filter({ $0 }).count > 1 { throw ValidationError("give at most one of --pending, --dead, --sent") }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let store = try store.open()
            let states: [NoticeState]? = pending ? [.pending, .sending] : dead ? [.dead] : sent ? [.sent] : nil
            let notices = try await QuarantineCommand.run { try await store.notices(NoticeQuery(states: states, limit: limit)) }
            let out: String
            switch format {
            case .json: out = notices.map { NoticeJSON.line($0) + "\n" }.joined()
            case .table: out = NoticeTable.render(notices)
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a dead notice due again now, its attempts counted from zero (a digest's notice goes on its own)."
        )

        @OptionGroup var config: ConfigOptions
        @Argument(help: "The notice's id, or a prefix of it that names one notice.")
        var id: String

        func run() async throws {
            let store = try await QuarantineCommand.openForWriting(try config.load())
            let notice = try await QuarantineCommand.run { try await store.retryNotice(id, now: Date()) }
            let to = HoldRequest.stripped(notice.request.recipient)
            switch notice.state {
            case .pending: printError("thugate: notice \(notice.id) to <\(to)> is due again; the gateway sends it within seconds")
            default: printError("thugate: notice \(notice.id) to <\(to)> is \(notice.state.rawValue); nothing to retry")
            }
        }
    }
}

/// `notify list --format json`: one object per line, fields in a fixed order starting with `id`.
enum NoticeJSON {
    static func line(_ n: Notice) -> String {
        let string: (String) -> String = { HeldJSON.string($0) }
        let event = n.request.event
        let fields: [(String, String)] = [
            ("id", string(n.id)),
            ("state", string(n.state.rawValue)),
            ("created", string(HeldJSON.iso(n.createdAt))),
            ("recipient", string(n.request.recipient)),
            ("role", string(n.request.role.rawValue)),
            ("mode", string(n.request.mode.rawValue)),
            ("rule", string(event.rule)),
            ("outcome", string(event.outcome)),
            ("message_id", n.messageID.map(string) ?? "null"),
            ("queue_id", string(event.queueID)),
            ("attempts", String(n.attempts)),
            ("due", string(HeldJSON.iso(n.dueAt))),
            ("digest", n.digestAt.map { string(HeldJSON.iso($0)) } ?? "null"),
            ("sent", n.sentAt.map { string(HeldJSON.iso($0)) } ?? "null"),
            ("mail_id", n.mailID.map(string) ?? "null"),
            ("last_reply", n.lastReply.map(string) ?? "null"),
            ("kind", string(n.kind.rawValue)),
        ]
        return "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// The table `notify list` prints; times in Asia/Ho_Chi_Minh.
enum NoticeTable {
    static func render(_ notices: [Notice]) -> String {
        let header = ["ID", "STATE", "KIND", "CREATED", "TO", "RULE", "MODE", "TRIES", "MESSAGE", "LAST REPLY"]
        let rows = notices.map { n -> [String] in
            [
                n.id, n.state.rawValue, n.kind.rawValue, NoticeClock.text(n.createdAt), n.request.recipient, n.request.event.rule,
                n.request.mode.rawValue,
                String(n.attempts), n.messageID ?? "-", n.lastReply ?? "",
            ].map { clip(HoldRequest.stripped($0)) }
        }
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, value in
                column == row.count - 1 ? value : value.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// What `quarantine show` prints of a message's notices (``QuarantineStore/notices(messageID:)``),
    /// one line each: `antoan@… officer immediate sent 2026-12-01 08:00:00 +07:00 <notice.…@…>`.
    static func showLines(_ notices: [Notice]) -> [String] {
        notices.map { n in
            let when = n.sentAt.map(NoticeClock.text) ?? "due " + NoticeClock.text(n.dueAt)
            let detail = [
                n.request.recipient, n.request.role.rawValue, n.request.mode.rawValue, n.state.rawValue, when,
                n.mailID ?? n.lastReply ?? "",
            ]
            return HoldRequest.stripped(detail.joined(separator: " "))
        }
    }

    private static func clip(_ text: String) -> String { text.count > 60 ? String(text.prefix(59)) + "…" : text }
}
