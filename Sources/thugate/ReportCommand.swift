import ArgumentParser
import Configuration
import Foundation
import Policy
import Quarantine
import Reports

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `thugate report`: the periodic usage report the regulations ask for, from the verdict log's
/// daily roll-ups, the senders of refused mail and the decisions on held mail, all in the
/// quarantine store (opened read-only, every read finished before anything is written).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The usage report of a month, quarter, half year or range of days: table, CSV, JSON or printable HTML.",
        discussion: """
            Periods are local days in Vietnam (UTC+07:00): --period 2026-11 (a month: Quảng Ninh QĐ 40/2022 Đ9 k1e), \
            2026-Q4 (a quarter: Quận 4 QĐ 03/2013 Đ14), 2026-H2 (a half year: Hòa Bình QĐ 06/2010 Đ7 k3, Đồng Nai \
            QĐ 70/2009 Đ13), or --from 2026-10-01 --to 2026-10-15 (both days included). --by chooses the main table \
            (the HTML form has all three charts, that one first). Exit codes: 0 done, 64 usage (a bad period), 69 the \
            store cannot be opened or read, 73 the output file exists, 74 it cannot be written, 75 the store is busy.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json, html
    }

    enum By: String, ExpressibleByArgument, CaseIterable {
        case agency, rule, day
        var breakdown: Breakdown {
            switch self {
            case .agency: .agency
            case .rule: .rule
            case .day: .day
            }
        }
    }

    @OptionGroup var config: ConfigOptions
    @Option(help: "A month (2026-11), a quarter (2026-Q4) or a half year (2026-H2), in Vietnam's local days.")
    var period: String?
    @Option(help: "The first day, YYYY-MM-DD (with --to, instead of --period).")
    var from: String?
    @Option(help: "The last day, YYYY-MM-DD, included.")
    var to: String?
    @Option(help: "The main table's rows: agency, rule or day.")
    var by: By = .day
    @Option(help: "table (aligned, for a terminal), csv (RFC 4180), json, or html (one self-contained file, A4 print).")
    var format: Format = .table
    @Option(name: .shortAndLong, help: "Write to this new file (an existing file is never replaced) instead of standard output.")
    var output: String?
    @Option(help: "How many senders of refused mail to list.")
    var top = 10

    func validate() throws {
        switch (period, from, to) {
        case (.some, nil, nil), (nil, .some, .some): break
        case (.some, _, _): throw ValidationError("give either --period or --from and --to, not both")
        case (nil, .some, nil): throw ValidationError("--from needs --to")
        case (nil, nil, .some): throw ValidationError("--to needs --from")
        case (nil, nil, nil): throw ValidationError("say which days: --period 2026-11 | 2026-Q4 | 2026-H2, or --from DATE --to DATE")
        }
        if top < 0 || top > 1000 { throw ValidationError("--top must be between 0 and 1000") }
    }

    func run() async throws {
        let days: ReportPeriod
        do {
            days = try period.map { try ReportPeriod.parse($0) } ?? ReportPeriod.range(from: from ?? "", to: to ?? "")
        } catch {
            printError("thugate: \(error)")
            throw ExitCode(64)
        }
        let settings = try config.load()
        let store: SQLiteQuarantineStore
        do {
            store = try SQLiteQuarantineStore(path: settings.quarantine.database, readOnly: true)
        } catch let error as QuarantineError {
            throw QuarantineCommand.fail(error)
        }
        let source: ReportSource
        do {
            source = try await ReportSource.read(store, days, top: top)
        } catch let error as QuarantineError where error.kind == .unavailable && error.message.contains("no such table") {
            // A store the gateway has not opened since the verdict log came: its schema is older.
            printError("thugate: \(store.path) has no verdict log yet; start this version's `thugate serve` once to update it")
            throw ExitCode(69)
        } catch let error as QuarantineError {
            throw QuarantineCommand.fail(error)
        }
        let report = source.report(
            period: days,
            by: by.breakdown,
            generatedAt: Int64((Date().timeIntervalSince1970 * 1000).rounded()),
            agencies: settings.agencies.agencies.map { (id: $0.id, name: $0.name) }
        )
        let text =
            switch format {
            case .table: TableRenderer.render(report)
            case .csv: CSVRenderer.render(report)
            case .json: JSONRenderer.render(report)
            case .html: HTMLRenderer.render(report)
            }
        guard let output else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        try Self.create(output, Array(text.utf8))
        printError("thugate: wrote the \(format.rawValue) report for \(days.label) (\(text.utf8.count) bytes) to \(output)")
    }

    /// Writes a new file (as `quarantine export` does: never replacing one; 73 when it exists).
    static func create(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            printError("thugate: cannot create \(path): \(String(cString: strerror(errno)))")
            throw ExitCode(errno == EEXIST ? 73 : 74)
        }
        defer { close(fd) }
        var done = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return fsync(fd) == 0
        }
        guard ok else {
            printError("thugate: cannot write \(path): \(String(cString: strerror(errno)))")
            unlink(path)
            throw ExitCode(74)
        }
    }
}

/// What a report reads from the store, mapped to the Reports target's own rows (Reports does
/// not depend on the store).
struct ReportSource {
    var rows: [RollupRow]
    var refusedSenders: [SenderTotal]
    var decisions: [HeldDecision]

    /// Every read, before anything is formatted: the roll-ups of the period's days, its top
    /// senders of refused mail, and the recipients of the mail held in it.
    static func read(_ store: SQLiteQuarantineStore, _ period: ReportPeriod, top: Int) async throws -> ReportSource {
        let first = period.first.description
        let last = period.last.description
        let counts = try await store.dailyCounts(first: first, last: last)
        let senders = top == 0 ? [] : try await store.topSenders(outcome: .refused, first: first, last: last, limit: top)
        let held = try await store.heldDecisions(
            receivedFrom: Date(timeIntervalSince1970: Double(period.startMilliseconds) / 1000),
            before: Date(timeIntervalSince1970: Double(period.endMilliseconds) / 1000)
        )
        return ReportSource(
            rows: counts.compactMap { count in
                Outcome(rawValue: count.outcome.rawValue).map {
                    RollupRow(
                        day: count.day,
                        direction: count.direction,
                        agency: count.agency,
                        rule: count.rule,
                        outcome: $0,
                        messages: count.messages,
                        bytes: count.bytes
                    )
                }
            },
            refusedSenders: senders.map { SenderTotal(sender: $0.sender, messages: $0.messages) },
            decisions: held.map { recipient in
                let state: HeldDecision.State =
                    switch recipient.state {
                    case .released: .released
                    case .deleted: .deleted
                    case .failed: .failed
                    case .held, .releasing: .pending
                    }
                return HeldDecision(
                    heldAt: milliseconds(recipient.receivedAt),
                    decidedAt: state == .pending ? nil : recipient.changedAt.map(milliseconds),
                    state: state
                )
            }
        )
    }

    func report(period: ReportPeriod, by: Breakdown, generatedAt: Int64, agencies: [(id: String, name: String)]) -> UsageReport {
        UsageReport(
            period: period,
            by: by,
            generatedAt: generatedAt,
            rows: rows,
            refusedSenders: refusedSenders,
            decisions: decisions,
            agencies: agencies
        )
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
