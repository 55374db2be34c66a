import ArgumentParser
import Configuration
import Foundation
import Logging
import Policy
import Quarantine
import SMTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension QuarantineCommand {
    /// Exit code of `audit --verify` when the chain is broken (changed, removed or relinked rows).
    static let auditBrokenExit: Int32 = 76
    /// Exit code of `check` when the store or a message's bytes are damaged.
    static let checkFailedExit: Int32 = 74

    /// The log the command line mirrors audit rows to: standard error (standard output carries
    /// what was asked for), set up once per process.
    static let auditLogger: Logger = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .notice
            return handler
        }
        return Logger(label: "thugate.audit")
    }()

    /// The store opened for writing audit rows (the gateway's; a read command never creates a
    /// SQLite file).
    static func auditWriter(_ config: GatewayConfig) throws(QuarantineError) -> any GatewayStore {
        let path = config.quarantine.database
        if config.store.backend == .sqlite {
            guard FileManager.default.fileExists(atPath: path) else {
                throw QuarantineError(.unavailable, "quarantine store \(path): no such file")
            }
        }
        do {
            return try StoreAccess.open(config, auditLogger: auditLogger)
        } catch let error as QuarantineError {
            throw error
        } catch {
            throw QuarantineError(.unavailable, "quarantine store \(StoreAccess.describe(config)): \(error)")
        }
    }

    /// Appends the audit row for reading `message` (`view` or `export`) after the read and before
    /// anything is shown; when it cannot be written nothing is shown: one line, and the exit code
    /// of a busy or unavailable store.
    static func recordAccess(_ action: String, of message: HeldMessage, detail: String, config: GatewayConfig) async throws -> AuditEntry {
        do {
            return try await auditWriter(config).appendAudit(action: action, messageID: message.id, detail: detail)
        } catch let error as QuarantineError {
            let what = action == "export" ? "not exported" : "not shown"
            printError("thugate: \(message.id) \(what): its \(action) could not be written to the audit log: \(error.message)")
            throw exitCode(error.kind)
        }
    }

    /// A usage error: one line on standard error, exit 64.
    static func usage(_ text: String) -> ExitCode {
        printError("thugate: \(HoldRequest.stripped(text))")
        return ExitCode(64)
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The audit trail (of one message, or all), or --verify the SHA-256 chain of the whole log.",
            discussion: """
                --verify recomputes every row's hash and its link to the row before, and checks that every \
                held message still has its hold row; it names the first row changed, removed or relinked \
                and exits 76. Rows are mirrored to the log as they are written, so a copy survives elsewhere.
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, json
        }

        @OptionGroup var store: StoreOptions
        @Argument(help: "Only this message's rows (its id or a unique prefix).")
        var id: String?
        @Flag(help: "Check the whole chain instead of printing it.")
        var verify = false
        @Option(help: "table (for people) or json (one object per line, for scripts).")
        var format: Format = .table

        func run() async throws {
            let store = try store.open()
            if verify {
                let result = try await QuarantineCommand.run { try await store.verifyAudit() }
                if let problem = result.problem {
                    printError("thugate: the audit log is broken at row \(problem.sequence): \(problem.message)")
                    if format == .json {
                        writeOut(
                            "{\"ok\":false,\"rows\":\(result.rows),\"kind\":\(HeldJSON.string(problem.kind.rawValue)),\"sequence\":\(problem.sequence),\"problem\":\(HeldJSON.string(problem.message))}\n"
                        )
                    }
                    throw ExitCode(QuarantineCommand.auditBrokenExit)
                }
                writeOut(
                    format == .json ? "{\"ok\":true,\"rows\":\(result.rows)}\n" : "audit log: \(result.rows) rows, the chain is whole\n"
                )
                return
            }
            var messageID: String?
            if let id {
                messageID = try await QuarantineCommand.run { try await store.message(id) }.id
            }
            let entries = try await QuarantineCommand.run { [messageID] in try await store.audit(messageID: messageID) }
            switch format {
            case .json: writeOut(entries.map { AuditJSON.line($0) + "\n" }.joined())
            case .table: writeOut(AuditTable.render(entries, color: TerminalStyle.useColor))
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the store: SQLite's integrity check, then every message's chunks against their sha256.",
            discussion: """
                Every held message's stored bytes are read again and compared with each chunk's sha256, the \
                message's sha256 and its size; each damaged message is named. Exit 0 when all is well, 74 \
                when anything is wrong. Progress goes to standard error.
                """
        )

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let store = try store.open()
            let meter = ProgressMeter()
            let report = try await QuarantineCommand.run { try await store.check { meter.update($0, of: $1) } }
            meter.finish()
            var out = ""
            if report.integrity.isEmpty {
                out += "integrity check: ok\n"
            } else {
                for line in report.integrity { out += "integrity check: \(HoldRequest.stripped(line))\n" }
            }
            for message in report.bad {
                for problem in message.problems { out += "\(message.id): \(problem)\n" }
            }
            out += "\(report.messages) message\(report.messages == 1 ? "" : "s"), \(report.bytes) bytes checked: "
            out += report.bad.isEmpty ? "every chunk matches its sha256\n" : "\(report.bad.count) damaged\n"
            writeOut(out)
            if !report.isClean {
                printError(
                    "thugate: the store is damaged (\(report.integrity.count) integrity problems, \(report.bad.count) damaged messages)"
                )
                throw ExitCode(QuarantineCommand.checkFailedExit)
            }
        }
    }
}

/// Progress of a long check on standard error, at most once a second, after the first second.
private final class ProgressMeter: @unchecked Sendable {
    // Unchecked: the store calls `update` from its one task, in order; `finish` after it returned.
    private let started = Date()
    private var last = Date()
    private var shown = false

    func update(_ done: Int, of total: Int) {
        let now = Date()
        guard now.timeIntervalSince(started) >= 1, now.timeIntervalSince(last) >= 1 else { return }
        last = now
        shown = true
        printError("thugate: check: \(done) of \(total) messages")
    }

    func finish() {
        if shown { printError("thugate: check: done in \(String(format: "%.1f", Date().timeIntervalSince(started))) s") }
    }
}

/// The filters of `list`, parsed from the command line's text (so a bad value is one line and
/// exit 64, not the argument parser's usage text).
struct ListFilters {
    /// `7d`, `12h`, `30m` (`s`, `w` too) before now, or a date `2026-11-01` (local midnight), a
    /// local time `2026-11-01T08:30[:00]` or one with an offset (`…+07:00`, `…Z`).
    /// `endOfDay`: a date alone means the end of that day (`--until 2026-11-30` includes the 30th).
    static func time(_ text: String, option: String, now: Date, endOfDay: Bool) throws -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let amount = Int(trimmed.dropLast()), amount >= 0, amount < 100_000_000 {
            let seconds: Double? =
                switch unit {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86400
                case "w": 7 * 86400
                default: nil
                }
            if let seconds { return now.addingTimeInterval(-Double(amount) * seconds) }
        }
        if let date = parseDate(trimmed, endOfDay: endOfDay) { return date }
        throw QuarantineCommand.usage(
            "\(option) \(text): expected a duration before now (7d, 12h, 30m) or a date (2026-11-01, 2026-11-01T08:30, 2026-11-01T08:30:00+07:00)"
        )
    }

    /// `YYYY-MM-DD`, with `THH:MM[:SS]` (or a space), with `Z` or `±HH:MM`; without an offset, the
    /// local time zone (the one `list` prints times in).
    static func parseDate(_ text: String, endOfDay: Bool) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int32? {
            guard range.upperBound <= bytes.count, range.allSatisfy({ (0x30...0x39).contains(bytes[$0]) }) else { return nil }
            return range.reduce(0) { $0 * 10 + Int32(bytes[$1] - 0x30) }
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), year >= 1970, (1...daysIn(month, of: year)).contains(day)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_isdst = -1
        var at = 10
        var offset: Int?
        if bytes.count == 10 {
            if endOfDay { parts.tm_mday += 1 }
        } else {
            guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), let hour = number(11..<13),
                bytes.count >= 16, bytes[13] == UInt8(ascii: ":"), let minute = number(14..<16), hour < 24, minute < 60
            else { return nil }
            parts.tm_hour = hour
            parts.tm_min = minute
            at = 16
            if bytes.count >= 19, bytes[16] == UInt8(ascii: ":") {
                guard let second = number(17..<19), second < 61 else { return nil }
                parts.tm_sec = second
                at = 19
            }
            if at < bytes.count {
                if bytes[at] == UInt8(ascii: "Z") && at + 1 == bytes.count {
                    offset = 0
                } else if bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-"), bytes.count == at + 6,
                    bytes[at + 3] == UInt8(ascii: ":"), let h = number(at + 1..<at + 3), let m = number(at + 4..<at + 6)
                {
                    offset = (bytes[at] == UInt8(ascii: "-") ? -1 : 1) * Int(h * 3600 + m * 60)
                } else {
                    return nil
                }
            }
        }
        if let offset {
            let seconds = timegm(&parts)
            return Date(timeIntervalSince1970: Double(seconds - offset))
        }
        let seconds = mktime(&parts)
        guard seconds != -1 else { return nil }
        return Date(timeIntervalSince1970: Double(seconds))
    }

    /// Days in `month` (1-12) of `year`, Gregorian.
    static func daysIn(_ month: Int32, of year: Int32) -> Int32 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The addresses of agency `id` as a filter the store applies: narrowed by its domains in SQL,
    /// decided by the directory (most specific claim wins).
    static func party(_ id: String, in directory: AgencyDirectory) throws -> PartyFilter {
        guard let agency = directory[id] else {
            let known = directory.agencies.map(\.id)
            throw QuarantineCommand.usage(
                "--agency \(id): no such agency in the configuration"
                    + (known.isEmpty ? " (no [[agency]] is configured)" : " (known: \(known.joined(separator: ", ")))")
            )
        }
        var endings = agency.domains.map { $0.subdomains ? ".\($0.domain)" : "@\($0.domain)" }
        for address in agency.addresses {
            if let at = address.lastIndex(of: "@") { endings.append("@" + address[address.index(after: at)...].lowercased()) }
        }
        return PartyFilter(name: id, domainEndings: Array(Set(endings)).sorted()) { stored in
            let bare = stored.hasPrefix("<") && stored.hasSuffix(">") && stored.count >= 2 ? String(stored.dropFirst().dropLast()) : stored
            return directory.agency(for: MailAddress(bare))?.id == id
        }
    }
}

/// Colour on a terminal only: standard output is a TTY and `NO_COLOR` is unset or empty.
/// - SeeAlso: https://no-color.org
enum TerminalStyle {
    static var useColor: Bool {
        guard isatty(1) == 1 else { return false }
        if let value = ProcessInfo.processInfo.environment["NO_COLOR"], !value.isEmpty { return false }
        return ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    static func bold(_ text: String, _ on: Bool) -> String { on ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    static func yellow(_ text: String, _ on: Bool) -> String { on ? "\u{1B}[33m\(text)\u{1B}[0m" : text }
    static func red(_ text: String, _ on: Bool) -> String { on ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    static func green(_ text: String, _ on: Bool) -> String { on ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
    static func dim(_ text: String, _ on: Bool) -> String { on ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    /// Columns aligned on the text's width (colour added after the padding, so it never counts).
    static func table(_ rows: [[String]], color: Bool, style: (Int, Int, String) -> String = { _, _, text in text }) -> String {
        guard let first = rows.first else { return "" }
        let widths = first.indices.map { column in rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return rows.enumerated().map { index, row in
            row.enumerated().map { column, value in
                let padded = column == row.count - 1 ? value : value.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                return index == 0 ? bold(padded, color) : (color ? style(index, column, padded) : padded)
            }.joined(separator: "  ").trimmingTrailingSpaces
        }.joined(separator: "\n") + "\n"
    }
}

/// `audit --format json`: one object per line, `seq` first.
enum AuditJSON {
    static func line(_ e: AuditEntry) -> String {
        let fields: [(String, String)] = [
            ("seq", String(e.sequence)),
            ("at", HeldJSON.string(HeldJSON.iso(e.at))),
            ("actor", HeldJSON.string(e.actor)),
            ("sudo_user", e.sudoUser.map(HeldJSON.string) ?? "null"),
            ("action", HeldJSON.string(e.action)),
            ("message_id", e.messageID.map(HeldJSON.string) ?? "null"),
            ("detail", HeldJSON.string(e.detail)),
            ("previous_hash", HeldJSON.string(e.previousHash)),
            ("hash", HeldJSON.string(e.hash)),
        ]
        return "{" + fields.map { "\(HeldJSON.string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// The audit trail as a table.
enum AuditTable {
    static func render(_ entries: [AuditEntry], color: Bool) -> String {
        let rows =
            [["SEQ", "TIME", "ACTOR", "ACTION", "MESSAGE", "DETAIL"]]
            + entries.map { e in
                [
                    String(e.sequence), HeldTable.local(e.at), e.sudoUser.map { "\($0) (as \(e.actor))" } ?? e.actor, e.action,
                    e.messageID ?? "-", e.detail,
                ].map { HoldRequest.stripped($0) }
            }
        return TerminalStyle.table(rows, color: color) { _, column, text in column == 4 ? TerminalStyle.yellow(text, true) : text }
    }
}

extension String {
    /// Without the spaces at its end (a table's empty last columns).
    var trimmingTrailingSpaces: String {
        var text = Substring(self)
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
