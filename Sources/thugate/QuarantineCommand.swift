import ArgumentParser
import Configuration
import Foundation
import Quarantine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `thugate quarantine`: review held mail. Read commands open the store read-only, so they run
/// beside the gateway, and finish their read before printing.
struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Review held mail: list it, show it, export its original bytes, release, approve, delete or purge it.",
        discussion: """
            Held mail is in the store named by [quarantine] database. An ID may be shortened to any prefix \
            that names one message, as with git. Exit codes: 0 done, 64 usage, 65 the prefix names several \
            messages, 66 no such message, 69 the store cannot be opened or read, 73 the export file exists, \
            74 a stored chunk does not match its sha256 (check: the store is damaged), 75 the store is busy (try again), \
            76 audit --verify found the chain broken; release: 70 the upstream did not take it for every recipient (a temporary refusal leaves the recipient held), 73 the release cannot be spooled ([server] spool_directory), 77 the category needs --force; approve: 67 the approver is the person who asked; 68 the message was purged (its bytes are gone).
            """,
        subcommands: [
            List.self, Show.self, Export.self, Release.self, Delete.self, Approve.self, LiftHold.self, Resolve.self, Purge.self,
            ImportMaildir.self, Audit.self, Check.self,
        ]
    )

    struct StoreOptions: ParsableArguments {
        @OptionGroup var config: ConfigOptions

        /// The store, read-only.
        func open() throws -> any GatewayStore {
            try open(try config.load()).store
        }

        /// The store (SQLite: read-only), with the configuration it was found in.
        func open(_ loaded: GatewayConfig) throws -> (store: any GatewayStore, config: GatewayConfig) {
            do {
                return (try StoreAccess.open(loaded, readOnly: true), loaded)
            } catch let error as QuarantineError {
                throw QuarantineCommand.fail(error)
            }
        }
    }

    /// Runs `body`; a ``QuarantineError`` becomes one line on standard error and its exit code.
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as QuarantineError {
            throw fail(error)
        }
    }

    static func fail(_ error: QuarantineError) -> ExitCode {
        printError("thugate: \(error.message)")
        return exitCode(error.kind)
    }

    /// The exit code of each kind of store error.
    static func exitCode(_ kind: QuarantineError.Kind) -> ExitCode {
        switch kind {
        case .ambiguous: return ExitCode(65)
        case .notFound: return ExitCode(66)
        case .unavailable: return ExitCode(69)
        case .corrupt: return ExitCode(74)
        case .busy: return ExitCode(75)
        case .purged: return ExitCode(68)
        case .secondPersonRequired: return ExitCode(67)
        }
    }

    /// A purged message has its rows but not its bytes: one line naming when, exit 68.
    static func refuseIfPurged(_ message: HeldMessage) throws {
        guard let purged = message.purgedAt else { return }
        printError("thugate: \(message.id) was purged at \(HeldTable.local(purged)): its original bytes are gone (its rows and audit stay)")
        throw ExitCode(68)
    }

    /// The original bytes of `id`, read whole before anything is written out.
    static func content(of message: HeldMessage, in store: any QuarantineStore) async throws -> [UInt8] {
        let collected = Collected()
        try await run { try await store.readContent(of: message.id) { collected.append($0) } }
        return collected.bytes
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Held messages, newest first.")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, json
        }

        @OptionGroup var store: StoreOptions
        @Option(help: "table (aligned, for people) or json (one object per line, for scripts).")
        var format: Format = .table
        @Option(help: "At most this many messages, the newest.")
        var limit: String?
        @Option(help: "Received since: 7d, 12h, 30m before now, or a date/time (2026-11-01, 2026-11-01T08:30, …+07:00).")
        var since: String?
        @Option(help: "Received before: a duration before now or a date/time; a date alone includes that day.")
        var until: String?
        @Option(help: "With a finding of this rule (e.g. encrypted-archive).")
        var rule: String?
        @Option(help: "Held in this category ([quarantine.categories]: archive, virus, state-secret, ...).")
        var category: String?
        @Option(help: "The envelope sender or the From header contains this (case ignored).")
        var from: String?
        @Option(help: "A recipient contains this (case ignored).")
        var to: String?
        @Option(help: "The sender or a recipient belongs to this [[agency]] id.")
        var agency: String?
        @Option(help: "A recipient is in this state: held, releasing, released, failed or deleted.")
        var state: String?

        /// The query the options ask for; a bad value is one line and exit 64.
        func query(_ config: GatewayConfig, now: Date) throws -> MessageQuery {
            var query = MessageQuery()
            if let limit {
                guard let n = Int(limit), n >= 1 else {
                    throw QuarantineCommand.usage("--limit \(limit): expected a whole number, at least 1")
                }
                query.limit = n
            }
            if let since { query.since = try ListFilters.time(since, option: "--since", now: now, endOfDay: false) }
            if let until { query.until = try ListFilters.time(until, option: "--until", now: now, endOfDay: true) }
            if let since = query.since, let until = query.until, since >= until {
                throw QuarantineCommand.usage("--since is not before --until: nothing can match")
            }
            for (name, value) in [("--rule", rule), ("--category", category), ("--from", from), ("--to", to)] {
                if let value, value.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw QuarantineCommand.usage("\(name) must not be empty")
                }
            }
            query.rule = rule
            query.category = category
            query.from = from
            query.to = to
            if let state {
                guard let value = RecipientState(rawValue: state.lowercased()) else {
                    throw QuarantineCommand.usage(
                        "--state \(state): expected one of \(RecipientState.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                query.state = value
            }
            if let agency { query.party = try ListFilters.party(agency, in: config.agencies) }
            return query
        }

        func run() async throws {
            let loaded = try store.config.load()
            let query = try query(loaded, now: Date())
            let store = try store.open(loaded).store
            let messages = try await QuarantineCommand.run { try await store.messages(query) }
            var out = ""
            switch format {
            case .json:
                for message in messages { out += HeldJSON.line(message) + "\n" }
            case .table:
                out = HeldTable.render(messages, color: TerminalStyle.useColor)
            }
            writeOut(Array(out.utf8))
            if format == .table { HeldTable.warnReleasing(messages, now: Date()) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One held message: its envelope and findings, or its original bytes.")

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @OptionGroup var store: StoreOptions
        @Argument(help: "The message's id, or a prefix of it that names one message.")
        var id: String
        @Flag(help: "Write the original bytes, exactly as received, to standard output.")
        var raw = false
        @Option(help: "text (for people) or json (one object, for scripts).")
        var format: Format = .text

        /// Reads everything (read-only, one message), then writes the `view` audit row, then
        /// prints: if the row cannot be written nothing is printed.
        func run() async throws {
            let (store, config) = try store.open(try store.config.load())
            let message = try await QuarantineCommand.run { try await store.message(id) }
            if raw {
                // The bytes are the sender's: on a terminal they could set its title, write its
                // clipboard (OSC 52) or fake a prompt.
                guard isatty(STDOUT_FILENO) == 0 else {
                    printError("thugate: show --raw writes the sender's bytes unchanged: pipe it (| less, > file) or use export -o FILE")
                    throw ExitCode(64)
                }
                try QuarantineCommand.refuseIfPurged(message)
                let bytes = try await QuarantineCommand.content(of: message, in: store)
                _ = try await QuarantineCommand.recordAccess("view", of: message, detail: "raw", config: config)
                writeOut(bytes)
                return
            }
            // A purged message is shown from its rows: its bytes are gone.
            let bytes = message.purgedAt == nil ? try await QuarantineCommand.content(of: message, in: store) : []
            var trail = try await QuarantineCommand.run { try await store.audit(messageID: message.id) }
            var view = HeldView(message: message, bytes: bytes, audit: trail)
            view.notices = NoticeTable.showLines(try await QuarantineCommand.run { try await store.notices(messageID: message.id) })
            let entry = try await QuarantineCommand.recordAccess("view", of: message, detail: "show", config: config)
            trail.append(entry)
            view.audit = trail
            writeOut(Array((format == .json ? view.json() + "\n" : view.text(color: TerminalStyle.useColor)).utf8))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a held message's original bytes to a new file (mode 0600; an existing file is never replaced)."
        )

        @OptionGroup var store: StoreOptions
        @Argument(help: "The message's id, or a prefix of it that names one message.")
        var id: String
        @Option(name: .shortAndLong, help: "The file to create, e.g. message.eml.")
        var output: String

        /// Reads the bytes (read-only), creates the file (never over another), writes the `export`
        /// audit row, then the bytes: if the row cannot be written the new file is removed.
        func run() async throws {
            let (store, config) = try store.open(try store.config.load())
            let message = try await QuarantineCommand.run { try await store.message(id) }
            try QuarantineCommand.refuseIfPurged(message)
            let bytes = try await QuarantineCommand.content(of: message, in: store)
            let file = try NewFile(output)
            do {
                let absolute = ConfigPaths.resolve(output, against: FileManager.default.currentDirectoryPath)
                _ = try await QuarantineCommand.recordAccess(
                    "export",
                    of: message,
                    detail: "to \(absolute)",
                    config: config
                )
            } catch {
                file.discard()
                throw error
            }
            try file.write(bytes)
            printError("thugate: wrote \(message.id) (\(bytes.count) bytes, sha256 \(message.sha256)) to \(output)")
        }
    }
}

/// Chunks collected from the store's `@Sendable` read callback.
private final class Collected: @unchecked Sendable {
    // Unchecked: only the store's read closure appends, and it returns before `bytes` is read.
    var bytes: [UInt8] = []
    func append(_ chunk: UnsafeRawBufferPointer) { bytes.append(contentsOf: chunk) }
}

func writeOut(_ bytes: [UInt8]) {
    _ = writeAll(1, bytes)
}

func writeOut(_ text: String) {
    writeOut(Array(text.utf8))
}

/// `--format json`: one object per line, fields in a fixed order starting with `id`.
enum HeldJSON {
    static func line(_ m: HeldMessage) -> String {
        let r = m.request
        let fields: [(String, String)] = [
            ("id", string(m.id)),
            ("queue_id", string(r.queueID)),
            ("received", string(iso(r.receivedAt))),
            ("node", string(r.node)),
            ("client_address", string(r.clientAddress)),
            ("client_name", r.clientName.map(string) ?? "null"),
            ("helo", string(r.helo)),
            ("sender", string(r.sender)),
            (
                "recipients",
                "["
                    + m.recipients.map {
                        "{\"address\":\(string($0.address)),\"state\":\(string($0.state.rawValue)),\"changed\":\($0.changedAt.map { string(iso($0)) } ?? "null")}"
                    }.joined(
                        separator: ","
                    ) + "]"
            ),
            ("from", r.headerFrom.map(string) ?? "null"),
            ("subject", r.subject.map(string) ?? "null"),
            ("message_id", r.messageID.map(string) ?? "null"),
            ("size", String(m.size)),
            ("sha256", string(m.sha256)),
            ("category", string(r.category)),
            ("action", string(r.action)),
            (
                "findings",
                "["
                    + r.findings.map {
                        "{\"rule\":\(string($0.rule)),\"detail\":\(string($0.detail)),\"part\":\($0.part.map(string) ?? "null")}"
                    }
                    .joined(separator: ",") + "]"
            ),
            ("expires", string(iso(r.expiresAt))),
            ("legal_hold", r.legalHold ? "true" : "false"),
            ("purged", m.purgedAt.map { string(iso($0)) } ?? "null"),
        ]
        return "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// RFC 8259 string of `text` made safe for a terminal (``HoldRequest/stripped(_:)``, line
    /// breaks kept when `keepingLineBreaks`), then quote, backslash and line breaks escaped.
    static func string(_ text: String) -> String { string(text, keepingLineBreaks: false) }

    static func string(_ text: String, keepingLineBreaks: Bool) -> String {
        // Printable ASCII without a quote or backslash (ids, addresses, hashes, times) as it is.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in HoldRequest.stripped(text, keepingLineBreaks: keepingLineBreaks).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-12-01T04:49:07.123Z`.
    static func iso(_ date: Date) -> String { timestamp(date, utc: true) }
}

/// The table `list` prints and the summary `show` prints. Every value the sender chose is
/// stripped of control characters again: the output is a terminal.
enum HeldTable {
    static func render(_ messages: [HeldMessage], color: Bool = false) -> String {
        let header = ["ID", "RECEIVED", "FROM", "TO", "SIZE", "RULE", "SUBJECT"]
        let rows = messages.map { m -> [String] in
            let r = m.request
            let to = r.recipients.first.map { r.recipients.count > 1 ? "\($0) +\(r.recipients.count - 1)" : $0 } ?? ""
            return [m.id, local(r.receivedAt), r.sender, to, String(m.size), r.category, r.subject ?? ""].map {
                clip(HoldRequest.stripped($0))
            }
        }
        return TerminalStyle.table([header] + rows, color: color) { _, column, text in
            switch column {
            case 0: TerminalStyle.yellow(text, true)
            case 5: TerminalStyle.red(text, true)
            default: text
            }
        }
    }

    /// One stderr line per recipient left `releasing` (a release killed mid-send): never sent
    /// again by itself, it waits for someone to check the upstream's log.
    static func warnReleasing(_ messages: [HeldMessage], now: Date) {
        for m in messages {
            for recipient in m.recipients where recipient.state == .releasing {
                let since = recipient.changedAt.map { " for \(age(now.timeIntervalSince($0)))" } ?? ""
                printError(
                    "thugate: \(m.id) \(HoldRequest.stripped(recipient.address)) releasing\(since): if no release is running, "
                        + "check the upstream's log, then `thugate quarantine resolve \(m.id) released|held --to ADDR --reason TEXT`"
                )
            }
        }
    }

    /// `3d 4h`, `2h 05m`, `4m 10s`.
    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if s >= 86400 { return "\(s / 86400)d \(s % 86400 / 3600)h" }
        if s >= 3600 { return "\(s / 3600)h \(two(s % 3600 / 60))m" }
        return "\(s / 60)m \(two(s % 60))s"
    }

    /// Local time with its offset, `2026-12-01 11:49:07 +07:00`.
    static func local(_ date: Date) -> String { timestamp(date, utc: false) }

    private static func clip(_ text: String) -> String { text.count > 60 ? String(text.prefix(59)) + "…" : text }
}

/// `2026-12-01T04:49:07.123Z` (UTC) or `2026-12-01 11:49:07` (local time), with the C library:
/// a Foundation formatter per row made `list` cost a tenth of a millisecond a message.
func timestamp(_ date: Date, utc: Bool) -> String {
    let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    var seconds = time_t(milliseconds / 1000)
    var parts = tm()
    if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    let day = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
    let time = "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    guard utc else {
        // The zone is printed: a gateway's clock may be UTC while its people read +07:00.
        let offset = Int(parts.tm_gmtoff) / 60
        let sign = offset < 0 ? "-" : "+"
        return "\(day) \(time) \(sign)\(two(Int32(abs(offset) / 60))):\(two(Int32(abs(offset) % 60)))"
    }
    let fraction = milliseconds % 1000
    return "\(day)T\(time).\(fraction < 10 ? "00" : fraction < 100 ? "0" : "")\(fraction)Z"
}
