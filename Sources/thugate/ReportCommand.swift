import ArgumentParser
import Configuration
import Foundation
import GatewayServer
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
            store cannot be opened or read, 73 the output file exists, 74 it cannot be written, 75 the store is busy. \
            --mail-to ADDR (repeatable) also puts the report into the outbox, one notice per address (the table as \
            text, the HTML file attached), and the running gateway sends it as it sends notices; a bad address is \
            64 and a report too large to mail (over 5 MB) is 65, nothing queued.
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
    @Option(
        name: .customLong("mail-to"),
        help: "Also mail the report to this address (repeat for more) through the outbox; the running gateway sends it."
    )
    var mailTo: [String] = []

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
        let recipients = try Self.recipients(mailTo)
        let settings = try config.load()
        let store: any GatewayStore
        do {
            if recipients.isEmpty {
                store = try StoreAccess.open(settings, readOnly: true)
            } else {
                // Opened for writing (the outbox), never created: a missing store is a wrong path.
                if settings.store.backend == .sqlite {
                    guard FileManager.default.fileExists(atPath: settings.quarantine.database) else {
                        throw QuarantineError(.unavailable, "quarantine store \(settings.quarantine.database): no such file")
                    }
                }
                store = try StoreAccess.open(settings)
            }
        } catch let error as QuarantineError {
            throw QuarantineCommand.fail(error)
        }
        let source: ReportSource
        do {
            source = try await ReportSource.read(store, days, top: top)
        } catch let error as QuarantineError where error.kind == .unavailable && error.message.contains("no such table") {
            // A store the gateway has not opened since the verdict log came: its schema is older.
            printError(
                "thugate: \(StoreAccess.describe(settings)) has no verdict log yet; start this version's `thugate serve` once to update it"
            )
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
        // The mail's parts are the same report (same generation time) as the output; rendered
        // only to be mailed.
        let mail =
            recipients.isEmpty
            ? nil : ReportMail(period: days.label, text: TableRenderer.render(report), html: HTMLRenderer.render(report))
        if let mail, mail.byteCount > ReportMail.maxBytes {
            printError(
                "thugate: the report of \(days.label) is \(mail.byteCount) bytes (table and HTML), more than the \(ReportMail.maxBytes) "
                    + "a mailed report may be; nothing queued: mail a shorter period, or send the -o file yourself"
            )
            throw ExitCode(65)
        }
        if let output {
            try NewFile(output).write(Array(text.utf8))
            printError("thugate: wrote the \(format.rawValue) report for \(days.label) (\(text.utf8.count) bytes) to \(output)")
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        guard let mail else { return }
        try await Self.enqueue(mail, to: recipients, store: store, settings: settings)
    }

    /// The `--mail-to` addresses, each checked (one line and 64 for a bad one, before anything is
    /// read or written), the same address given twice once.
    static func recipients(_ given: [String]) throws -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for address in given {
            guard ReportMail.isValidAddress(address) else {
                printError(
                    "thugate: --mail-to \"\(HoldRequest.stripped(address))\" is not an address (one local@domain, no spaces, "
                        + "line breaks or angle brackets); nothing queued"
                )
                throw ExitCode(64)
            }
            if seen.insert(address.lowercased()).inserted { out.append(address) }
        }
        return out
    }

    /// One outbox row per address, in one transaction; says what was queued and who sends it.
    static func enqueue(_ mail: ReportMail, to recipients: [String], store: any GatewayStore, settings: GatewayConfig) async throws {
        let now = Date()
        let queued = try await QuarantineCommand.run {
            try await store.enqueueNotices(recipients.map { NoticeRequest.report(mail, to: $0, now: now) }, messageID: nil)
        }
        let list = queued.map { "notice \($0.id) to <\($0.request.recipient)>" }.joined(separator: ", ")
        printError(
            "thugate: queued the report of \(mail.period) (\(mail.html.utf8.count) bytes of HTML attached): \(list); "
                + "the running gateway (thugate serve) sends it through the upstream, see thugate notify list"
        )
        if !NoticePlanner(settings: settings.notify, agencies: settings.agencies).isActive {
            printError(
                "thugate: warning: this configuration's [notify] tells no one of anything, so thugate serve runs no notice "
                    + "service: the report waits in the outbox until notices are configured"
            )
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
    static func read(_ store: any GatewayStore, _ period: ReportPeriod, top: Int) async throws -> ReportSource {
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
