/// The report as aligned text for a terminal: the summary, the main table (`--by`), directions,
/// conversions, the top senders of refused mail and the decisions on held mail. Text from mail
/// or the configuration is cleaned of control characters first (the output is a terminal).
public enum TableRenderer {
    public static func render(_ report: UsageReport) -> String {
        var out = "\(ReportText.title.en) / \(ReportText.title.vi)\n"
        let p = report.period
        out += "Period: \(p.label) (\(p.first) to \(p.last), \(p.dayCount) days, UTC+07:00)\n"
        out += "Generated: \(localTimestamp(report.generatedAt)) +07:00\n\n"

        out += aligned(counts(header: "", rows: [("total", report.totals)] + report.directions.map { ($0.key, $0.counts) }))
        let c = report.conversions
        out += "\nLegacy-encoding conversions (\(UsageReport.conversionRule)): \(c.handled)"
        out +=
            c.handled == 0
            ? "\n" : " (\(Outcome.allCases.filter { c[$0] > 0 }.map { "\($0.rawValue) \(c[$0])" }.joined(separator: ", ")))\n"

        let title: String
        let header: String
        switch report.by {
        case .day: (title, header) = ("By day", "DAY")
        case .agency: (title, header) = ("By agency", "AGENCY")
        case .rule: (title, header) = ("By rule", "RULE")
        }
        out += "\n\(title)\n"
        let rows = report.breakdown.map { row in
            if report.by == .agency, row.key == UsageReport.noAgency { return ("(no configured agency)", row.counts) }
            let key = ReportText.clean(row.key, limit: 60)
            return (row.name.map { "\(key) (\(ReportText.clean($0, limit: 40)))" } ?? key, row.counts)
        }
        out += rows.isEmpty ? "(none)\n" : aligned(counts(header: header, rows: rows))

        out += "\nTop senders of refused mail\n"
        if report.topRefusedSenders.isEmpty {
            out += "(none)\n"
        } else {
            out += aligned(
                [[.left("SENDER"), .right("REFUSED")]]
                    + report.topRefusedSenders.map { [.left(ReportText.sender($0.sender)), .right(String($0.messages))] }
            )
        }

        let d = report.decisions
        out += "\nHeld mail: decisions (recipients of the messages held in the period)\n"
        out += aligned(
            [[.left("RECIPIENTS"), .right(String(d.recipients))]]
                + HeldDecision.State.allCases.map { state in
                    let n =
                        switch state {
                        case .released: d.released
                        case .deleted: d.deleted
                        case .failed: d.failed
                        case .pending: d.pending
                        }
                    return [.left(state.rawValue), .right(String(n))]
                }
                + [
                    [.left("median to decision"), .right(d.medianToDecision.map(ReportText.duration) ?? "-")],
                    [.left("median to release"), .right(d.medianToRelease.map(ReportText.duration) ?? "-")],
                    [.left("median to delete"), .right(d.medianToDelete.map(ReportText.duration) ?? "-")],
                ]
        )
        return out
    }

    enum Cell {
        case left(String)
        case right(String)
        var text: String {
            switch self {
            case .left(let t), .right(let t): t
            }
        }
    }

    static func counts(header: String, rows: [(String, OutcomeCounts)]) -> [[Cell]] {
        [[.left(header), .right("HANDLED"), .right("DELIVERED"), .right("REFUSED"), .right("TEMPFAILED"), .right("HELD"), .right("BYTES")]]
            + rows.map { key, c in
                [.left(key)] + [c.handled, c.delivered, c.refused, c.tempfailed, c.held].map { .right(String($0)) } + [
                    .right(String(c.bytes))
                ]
            }
    }

    /// Columns padded to their widest cell, two spaces apart; no trailing spaces.
    static func aligned(_ rows: [[Cell]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].text.count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[column] - cell.text.count)
                if column > 0 { line += "  " }
                switch cell {
                case .left(let t): line += column == row.count - 1 ? t : t + pad
                case .right(let t): line += pad + t
                }
            }
            return line
        }.joined(separator: "\n") + "\n"
    }
}
