/// The report as one CSV table (RFC 4180: CRLF line ends, a header row, fields quoted when they
/// hold a comma, a quote or a line end, quotes doubled), in one long shape every row shares:
///
/// `section,key,name,measure,value`
///
/// - `period`: key the label (`2026-Q4`), measures `first`, `last`, `days`, `generated`.
/// - `total`, `direction` (key `in`/`out`/`internal`/`transit`), `day`, `agency` or `rule` (the
///   main table, as `--by` chooses; `name` is the agency's name) and `conversions` (key
///   `tcvn-conversion`): measures `handled`, `delivered`, `refused`, `tempfailed`, `held`, `bytes`.
/// - `refused-sender`: key the envelope sender (`<>` for the null sender), measure `refused`.
/// - `decisions`: key `all`, measures `recipients`, `released`, `deleted`, `failed`, `pending`,
///   `median_seconds_to_decision`, `median_seconds_to_release`, `median_seconds_to_delete`
///   (empty value when there was no decision).
///
/// A spreadsheet pivots it by section and measure. Text cells that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, tab or CR: a sender address is chosen by the
/// sender) get a leading `'`, as OWASP advises, and control characters are dropped.
///
/// - SeeAlso: RFC 4180; https://owasp.org/www-community/attacks/CSV_Injection
public enum CSVRenderer {
    public static let header = ["section", "key", "name", "measure", "value"]

    public static func render(_ report: UsageReport) -> String {
        var rows: [[String]] = [header]
        let p = report.period
        rows += [
            ["period", p.label, p.vietnameseName, "first", p.first.description],
            ["period", p.label, p.vietnameseName, "last", p.last.description],
            ["period", p.label, p.vietnameseName, "days", String(p.dayCount)],
            ["period", p.label, p.vietnameseName, "generated", ReportText.rfc3339(report.generatedAt)],
        ]
        func counts(_ section: String, _ key: String, _ name: String?, _ c: OutcomeCounts) {
            let measures: [(String, Int64)] = [
                ("handled", Int64(c.handled)), ("delivered", Int64(c.delivered)), ("refused", Int64(c.refused)),
                ("tempfailed", Int64(c.tempfailed)), ("held", Int64(c.held)), ("bytes", c.bytes),
            ]
            for (measure, value) in measures { rows.append([section, key, name ?? "", measure, String(value)]) }
        }
        counts("total", "*", nil, report.totals)
        for row in report.directions { counts("direction", row.key, ReportText.direction(row.key).en, row.counts) }
        for row in report.breakdown { counts(report.by.rawValue, row.key, row.name, row.counts) }
        counts("conversions", UsageReport.conversionRule, nil, report.conversions)
        for sender in report.topRefusedSenders {
            rows.append(["refused-sender", sender.sender.isEmpty ? "<>" : sender.sender, "", "refused", String(sender.messages)])
        }
        let d = report.decisions
        let decisions: [(String, String)] = [
            ("recipients", String(d.recipients)), ("released", String(d.released)), ("deleted", String(d.deleted)),
            ("failed", String(d.failed)), ("pending", String(d.pending)),
            ("median_seconds_to_decision", d.medianToDecision.map(seconds) ?? ""),
            ("median_seconds_to_release", d.medianToRelease.map(seconds) ?? ""),
            ("median_seconds_to_delete", d.medianToDelete.map(seconds) ?? ""),
        ]
        for (measure, value) in decisions { rows.append(["decisions", "all", "", measure, value]) }
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// Whole seconds, rounded to the nearest.
    static func seconds(_ milliseconds: Int64) -> String { String((milliseconds + 500) / 1000) }

    /// One RFC 4180 field, quoted when it must be, and defused against formula injection.
    static func field(_ text: String) -> String {
        // Control characters out (a terminal may show the file); quoting keeps the rest intact.
        var value = ReportText.clean(text, limit: 1000)
        if let first = value.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first), Int64(value) == nil {
            value = "'" + value
        }
        guard value.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return value }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in value.unicodeScalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }
}
