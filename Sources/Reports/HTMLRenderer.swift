/// The report as one self-contained HTML file for a head of department to read and print: inline
/// CSS and inline SVG only (no JavaScript, no web fonts, no external reference of any kind), A4
/// print CSS with a page break between sections, Vietnamese labels with English beside them. A
/// daily chart by outcome (stacked bars) and bars per agency and per rule, each followed by its
/// data table, so the figures are readable without the chart (screen readers, black-and-white
/// print). Every text from mail or the configuration is cleaned and escaped.
public enum HTMLRenderer {
    /// Bars shown in an agency or rule chart; the table after it lists every row.
    public static let chartRows = 15

    static let colors: [Outcome: String] = [
        .delivered: "#2e7d32", .tempfailed: "#e69500", .refused: "#c62828", .held: "#1f5fa8",
    ]
    /// Bottom to top in a stacked bar, left to right in a legend.
    static let stackOrder: [Outcome] = [.delivered, .tempfailed, .refused, .held]

    public static func render(_ report: UsageReport) -> String {
        let p = report.period
        var out = """
            <!DOCTYPE html>
            <html lang="vi">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(h(ReportText.title.vi)) — \(h(p.vietnameseName)) · \(h(ReportText.title.en)) — \(h(p.englishName))</title>
            <style>
            \(css)</style>
            </head>
            <body>
            <header>
            <p class="brand">ThuGate</p>
            <h1>\(h(ReportText.title.vi.uppercased()))<span class="en">\(h(ReportText.title.en))</span></h1>
            <p class="period"><b>\(h(ReportText.period.vi))</b> <span class="en">\(h(ReportText.period.en))</span>: \
            <b>\(h(p.vietnameseName))</b> (\(p.kind == .range ? "" : "\(h(p.first.vietnamese)) – \(h(p.last.vietnamese)), ")\(p.dayCount) ngày) · \
            <span class="en">\(h(p.englishName)), \(p.dayCount) days</span></p>
            <p class="meta">\(h(ReportText.generated.vi)) <span class="en">\(h(ReportText.generated.en))</span>: \
            \(h(localTimestamp(report.generatedAt))) · \(h(ReportText.timeZone.vi)) <span class="en">\(h(ReportText.timeZone.en))</span></p>
            </header>

            """
        var number = 0
        func next() -> Int {
            number += 1
            return number
        }
        out += summary(report, number: next())
        let order: [Breakdown] = [report.by] + Breakdown.allCases.filter { $0 != report.by }
        for breakdown in order {
            switch breakdown {
            case .day: out += daySection(report, number: next())
            case .agency:
                out += barSection(
                    report.agencies,
                    title: ReportText.byAgency,
                    column: ReportText.agency,
                    id: "by-agency",
                    number: next(),
                    note: ReportText.Label(
                        vi: "Thư giữa hai cơ quan được tính cho cả hai.",
                        en: "A message between two agencies counts for each."
                    )
                )
            case .rule:
                out += barSection(
                    report.rules,
                    title: ReportText.byRule,
                    column: ReportText.rule,
                    id: "by-rule",
                    number: next(),
                    note: ReportText.Label(
                        vi:
                            "Thư có nhiều phát hiện được tính một lần cho mỗi quy tắc; tcvn-conversion: thư được chuyển từ bảng mã cũ sang TCVN 6909.",
                        en: "A message counts once per rule it has; tcvn-conversion: legacy-encoding text converted to TCVN 6909."
                    )
                )
            }
        }
        out += refusedAndHeld(report, number: next())
        out += """
            <footer><p>\(h("Số liệu từ nhật ký xử lý thư của ThuGate")) <span class="en">Figures from ThuGate's verdict log</span> · \
            \(h(p.label))</p></footer>
            </body>
            </html>

            """
        return out
    }

    // MARK: Sections

    static func summary(_ report: UsageReport, number: Int) -> String {
        let t = report.totals
        var cards: [(ReportText.Label, Int, String?)] = [(ReportText.handled, t.handled, nil)]
        for outcome in [Outcome.delivered, .refused, .tempfailed, .held] {
            cards.append((ReportText.outcome(outcome), t[outcome], colors[outcome]))
        }
        cards.append((ReportText.conversions, report.conversions.handled, nil))
        var out = """
            <section id="summary" class="first">
            <h2>\(number). \(h(ReportText.summary.vi)) <span class="en">\(h(ReportText.summary.en))</span></h2>
            <div class="cards">

            """
        for (label, value, color) in cards {
            let share = t.handled > 0 && label.en != ReportText.handled.en ? " <small>\(percent(value, of: t.handled))</small>" : ""
            let swatch = color.map { "<i class=\"sw\" style=\"background:\($0)\"></i>" } ?? ""
            out += """
                <div class="card"><p class="value">\(h(ReportText.grouped(value)))\(share)</p>\
                <p class="label">\(swatch)\(h(label.vi))<span class="en">\(h(label.en))</span></p></div>

                """
        }
        out += "</div>\n"
        out += "<p class=\"note\">\(h(ReportText.bytes.vi)) <span class=\"en\">\(h(ReportText.bytes.en))</span>: "
        out += "\(h(ReportText.size(t.bytes)))</p>\n"
        let rows = report.directions.map { row in
            (ReportText.direction(row.key), row.key, row.counts)
        }
        out += "<table>\n<caption>\(h(ReportText.direction.vi)) <span class=\"en\">\(h(ReportText.direction.en))</span></caption>\n"
        out += countsHead(ReportText.direction)
        out += "<tbody>\n"
        for (label, key, counts) in rows {
            out += "<tr><th scope=\"row\" title=\"\(h(key))\">\(h(label.vi)) <span class=\"en\">\(h(label.en))</span></th>"
            out += countsCells(counts) + "</tr>\n"
        }
        out += "</tbody>\n<tfoot><tr><th scope=\"row\">\(h(ReportText.total.vi)) <span class=\"en\">\(h(ReportText.total.en))</span></th>"
        out += countsCells(t) + "</tr></tfoot>\n</table>\n"
        let c = report.conversions
        out += "<table>\n<caption>\(h(ReportText.conversions.vi)) <span class=\"en\">\(h(ReportText.conversions.en))</span></caption>\n"
        out += countsHead(ReportText.rule)
        out += "<tbody><tr><th scope=\"row\"><code>\(h(UsageReport.conversionRule))</code></th>\(countsCells(c))</tr></tbody>\n</table>\n"
        out += "</section>\n\n"
        return out
    }

    static func daySection(_ report: UsageReport, number: Int) -> String {
        let id = "by-day"
        var out = """
            <section id="\(id)">
            <h2>\(number). \(h(ReportText.byDay.vi)) <span class="en">\(h(ReportText.byDay.en))</span></h2>
            <figure>
            \(legend())
            \(dailyChart(report.days, id: id))
            <figcaption>\(h("Số thư mỗi ngày theo kết quả xử lý")) <span class="en">Messages per day by outcome</span> \
            (\(h(ReportText.timeZone.vi)))</figcaption>
            </figure>
            <table class="days">
            <caption>\(h(ReportText.byDay.vi)) <span class="en">\(h(ReportText.byDay.en))</span></caption>

            """
        out += countsHead(ReportText.day)
        out += "<tbody>\n"
        for row in report.days {
            let day = LocalDay(row.key).map(\.vietnamese) ?? row.key
            out +=
                "<tr\(row.counts.handled == 0 ? " class=\"zero\"" : "")><th scope=\"row\">\(h(day))</th>\(countsCells(row.counts))</tr>\n"
        }
        out += "</tbody>\n<tfoot><tr><th scope=\"row\">\(h(ReportText.total.vi)) <span class=\"en\">\(h(ReportText.total.en))</span></th>"
        out += countsCells(report.totals) + "</tr></tfoot>\n</table>\n</section>\n\n"
        return out
    }

    static func barSection(
        _ rows: [BreakdownRow],
        title: ReportText.Label,
        column: ReportText.Label,
        id: String,
        number: Int,
        note: ReportText.Label
    ) -> String {
        var out = """
            <section id="\(id)">
            <h2>\(number). \(h(title.vi)) <span class="en">\(h(title.en))</span></h2>

            """
        if rows.isEmpty {
            out += "<p class=\"empty\">\(h(ReportText.none.vi)) <span class=\"en\">\(h(ReportText.none.en))</span></p>\n</section>\n\n"
            return out
        }
        let shown = Array(rows.prefix(chartRows))
        let more =
            rows.count > shown.count
            ? " — \(shown.count) \(h("lớn nhất; bảng dưới có đủ")) <span class=\"en\">largest; the table has all \(rows.count)</span>" : ""
        out += """
            <figure>
            \(legend())
            \(barChart(shown, id: id))
            <figcaption>\(h("Số thư theo kết quả xử lý")) <span class="en">Messages by outcome</span>\(more)</figcaption>
            </figure>
            <table>
            <caption>\(h(title.vi)) <span class="en">\(h(title.en))</span></caption>

            """
        out += countsHead(column)
        out += "<tbody>\n"
        for row in rows {
            let label =
                if row.key == UsageReport.noAgency, column.en == ReportText.agency.en {
                    "\(h(ReportText.noAgency.vi)) <span class=\"en\">\(h(ReportText.noAgency.en))</span>"
                } else {
                    row.name.map { "\(h($0)) <code class=\"id\">\(h(row.key))</code>" } ?? "<code>\(h(row.key))</code>"
                }
            out += "<tr><th scope=\"row\">\(label)</th>\(countsCells(row.counts))</tr>\n"
        }
        out += "</tbody>\n</table>\n<p class=\"note\">\(h(note.vi)) <span class=\"en\">\(h(note.en))</span></p>\n</section>\n\n"
        return out
    }

    static func refusedAndHeld(_ report: UsageReport, number: Int) -> String {
        var out = """
            <section id="refused-held">
            <h2>\(number). \(h("Thư bị từ chối và thư bị giữ lại")) <span class="en">Refused and held mail</span></h2>
            <table class="senders">
            <caption>\(h(ReportText.topSenders.vi)) <span class="en">\(h(ReportText.topSenders.en))</span></caption>
            <thead><tr><th scope="col" class="rank">#</th><th scope="col">\(h(ReportText.sender.vi)) <span class="en">\(h(ReportText.sender.en))</span></th>\
            <th scope="col" class="n">\(h(ReportText.refusedMessages.vi)) <span class="en">\(h(ReportText.refusedMessages.en))</span></th></tr></thead>
            <tbody>

            """
        if report.topRefusedSenders.isEmpty {
            out += "<tr><td colspan=\"3\">\(h(ReportText.none.vi)) <span class=\"en\">\(h(ReportText.none.en))</span></td></tr>\n"
        }
        for (index, sender) in report.topRefusedSenders.enumerated() {
            out += "<tr><td class=\"n\">\(index + 1)</td><td class=\"addr\">\(h(ReportText.sender(sender.sender)))</td>"
            out += "<td class=\"n\">\(h(ReportText.grouped(sender.messages)))</td></tr>\n"
        }
        let d = report.decisions
        out += """
            </tbody>
            </table>
            <table class="decisions">
            <caption>\(h(ReportText.decisions.vi)) <span class="en">\(h(ReportText.decisions.en))</span></caption>
            <thead><tr><th scope="col">\(h("Kết quả")) <span class="en">Outcome</span></th>\
            <th scope="col" class="n">\(h("Số người nhận")) <span class="en">Recipients</span></th>\
            <th scope="col" class="n">\(h(ReportText.median.vi)) <span class="en">\(h(ReportText.median.en))</span></th></tr></thead>
            <tbody>

            """
        let lines: [(ReportText.Label, Int, Int64?)] = [
            (ReportText.decision(.released), d.released, d.medianToRelease),
            (ReportText.decision(.deleted), d.deleted, d.medianToDelete),
            (ReportText.decision(.failed), d.failed, nil),
            (ReportText.decision(.pending), d.pending, nil),
        ]
        for (label, count, median) in lines {
            out += "<tr><th scope=\"row\">\(h(label.vi)) <span class=\"en\">\(h(label.en))</span></th>"
            out +=
                "<td class=\"n\">\(h(ReportText.grouped(count)))</td><td class=\"n\">\(h(median.map(ReportText.duration) ?? "–"))</td></tr>\n"
        }
        out += """
            </tbody>
            <tfoot><tr><th scope="row">\(h(ReportText.heldRecipients.vi)) <span class="en">\(h(ReportText.heldRecipients.en))</span></th>\
            <td class="n">\(h(ReportText.grouped(d.recipients)))</td><td class="n">\(h(d.medianToDecision.map(ReportText.duration) ?? "–"))</td></tr></tfoot>
            </table>
            <p class="note">\(h("Tính theo từng người nhận của các thư bị giữ trong kỳ; thời gian từ lúc giữ đến quyết định (cho chuyển hoặc xóa).")) \
            <span class="en">Per recipient of the messages held in the period; the time from the hold to the decision (released or deleted).</span></p>
            </section>

            """
        return out
    }

    // MARK: Tables

    static func countsHead(_ first: ReportText.Label) -> String {
        var out = "<thead><tr><th scope=\"col\">\(h(first.vi)) <span class=\"en\">\(h(first.en))</span></th>"
        let labels = [ReportText.handled] + [Outcome.delivered, .refused, .tempfailed, .held].map(ReportText.outcome) + [ReportText.bytes]
        for label in labels { out += "<th scope=\"col\" class=\"n\">\(h(label.vi)) <span class=\"en\">\(h(label.en))</span></th>" }
        return out + "</tr></thead>\n"
    }

    static func countsCells(_ c: OutcomeCounts) -> String {
        [c.handled, c.delivered, c.refused, c.tempfailed, c.held].map { "<td class=\"n\">\(h(ReportText.grouped($0)))</td>" }.joined()
            + "<td class=\"n\">\(h(ReportText.size(c.bytes)))</td>"
    }

    static func legend() -> String {
        "<ul class=\"legend\">"
            + stackOrder.map { o in
                let label = ReportText.outcome(o)
                return
                    "<li><i class=\"sw\" style=\"background:\(colors[o]!)\"></i>\(h(label.vi)) <span class=\"en\">\(h(label.en))</span></li>"
            }.joined() + "</ul>"
    }

    // MARK: Charts

    /// Stacked bars, one per day, on a y axis with 0 and a few round values.
    static func dailyChart(_ days: [BreakdownRow], id: String) -> String {
        let width = 680.0
        let height = 250.0
        let left = 46.0
        let right = 8.0
        let top = 10.0
        let bottom = 36.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let peak = days.map(\.counts.handled).max() ?? 0
        let (scaleTop, step) = scale(peak)
        let total = days.reduce(0) { $0 + $1.counts.handled }
        var out = """
            <svg id="\(id)-chart" viewBox="0 0 \(n(width)) \(n(height))" width="100%" role="img" aria-labelledby="\(id)-title \(id)-desc">
            <title id="\(id)-title">\(h("Số thư mỗi ngày theo kết quả xử lý")) / Messages per day by outcome</title>
            <desc id="\(id)-desc">\(h("\(days.count) ngày, tổng \(ReportText.grouped(total)) thư, nhiều nhất \(ReportText.grouped(peak)) thư một ngày")) / \
            \(days.count) days, \(h(ReportText.grouped(total))) messages, at most \(h(ReportText.grouped(peak))) a day. \
            \(h("Số liệu ở bảng dưới")) / The figures are in the table below.</desc>

            """
        out += "<g class=\"axis\">\n"
        for value in stride(from: 0, through: scaleTop, by: step) {
            let y = top + plotHeight - Double(value) / Double(scaleTop) * plotHeight
            out +=
                "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(width - right))\" y2=\"\(n(y))\" class=\"\(value == 0 ? "base" : "grid")\"/>"
            out += "<text x=\"\(n(left - 5))\" y=\"\(n(y + 3.5))\" text-anchor=\"end\">\(h(ReportText.grouped(value)))</text>\n"
        }
        out += "</g>\n"
        let slot = plotWidth / Double(max(days.count, 1))
        // Narrow slots (a half year and more) touch: a gap under a pixel prints as random white lines.
        let barWidth = slot >= 4 ? slot * 0.72 : slot
        for (index, row) in days.enumerated() {
            // Both edges rounded as written, so touching bars share an edge exactly.
            let x = tenths(left + Double(index) * slot + (slot - barWidth) / 2)
            let width = tenths(left + Double(index) * slot + (slot + barWidth) / 2) - x
            let c = row.counts
            let day = LocalDay(row.key)
            guard c.handled > 0 else { continue }
            let parts = stackOrder.filter { c[$0] > 0 }.map { "\(ReportText.outcome($0).en) \(c[$0])" }.joined(separator: ", ")
            out += "<g><title>\(h(day?.vietnamese ?? row.key)): \(h(ReportText.grouped(c.handled))) — \(h(parts))</title>"
            var count = 0
            for outcome in stackOrder where c[outcome] > 0 {
                // Stacked from the bottom by cumulative counts: segments meet with no gap.
                let bottom = tenths(top + plotHeight - Double(count) / Double(scaleTop) * plotHeight)
                count += c[outcome]
                let upper = tenths(top + plotHeight - Double(count) / Double(scaleTop) * plotHeight)
                out +=
                    "<rect x=\"\(n(x))\" y=\"\(n(upper))\" width=\"\(n(width))\" height=\"\(n(bottom - upper))\" fill=\"\(colors[outcome]!)\"/>"
            }
            out += "</g>\n"
        }
        // Day labels: every day of a month-long period, else the first of each month.
        out += "<g class=\"axis\">\n"
        for (index, row) in days.enumerated() {
            guard let day = LocalDay(row.key) else { continue }
            let x = left + (Double(index) + 0.5) * slot
            let label: String
            if days.count <= 31 {
                label = String(day.day)
            } else if day.day == 1 || index == 0 {
                label = "\(LocalDay.digits(day.month, 2))/\(day.year)"
                out +=
                    "<line x1=\"\(n(left + Double(index) * slot))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(left + Double(index) * slot))\" "
                out += "y2=\"\(n(top + plotHeight + 5))\" class=\"base\"/>"
            } else {
                continue
            }
            let anchor = days.count <= 31 ? "middle" : "start"
            let lx = days.count <= 31 ? x : left + Double(index) * slot + 2
            out += "<text x=\"\(n(lx))\" y=\"\(n(top + plotHeight + 14))\" text-anchor=\"\(anchor)\">\(h(label))</text>\n"
        }
        let caption = days.count <= 31 ? "Ngày trong tháng / Day of the month" : "Tháng / Month"
        out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 4))\" text-anchor=\"middle\" class=\"title\">\(h(caption))</text>\n"
        out += "</g>\n</svg>"
        return out
    }

    /// Horizontal stacked bars, one per row, the name on the left and the total after the bar.
    static func barChart(_ rows: [BreakdownRow], id: String) -> String {
        let width = 680.0
        let labelWidth = 200.0
        let valueWidth = 56.0
        let rowHeight = 22.0
        let barHeight = 14.0
        let top = 4.0
        let axis = 22.0
        let plotWidth = width - labelWidth - valueWidth
        let height = top + Double(rows.count) * rowHeight + axis
        let peak = rows.map(\.counts.handled).max() ?? 0
        let (scaleTop, step) = scale(peak)
        var out = """
            <svg id="\(id)-chart" viewBox="0 0 \(n(width)) \(n(height))" width="100%" role="img" aria-labelledby="\(id)-title \(id)-desc">
            <title id="\(id)-title">\(h("Số thư theo kết quả xử lý")) / Messages by outcome</title>
            <desc id="\(id)-desc">\(rows.count) \(h("hàng, số liệu ở bảng dưới")) / \(rows.count) rows; the figures are in the table below.</desc>

            """
        out += "<g class=\"axis\">\n"
        let plotBottom = top + Double(rows.count) * rowHeight
        for value in stride(from: 0, through: scaleTop, by: step) {
            let x = labelWidth + Double(value) / Double(scaleTop) * plotWidth
            out +=
                "<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(plotBottom))\" class=\"\(value == 0 ? "base" : "grid")\"/>"
            out += "<text x=\"\(n(x))\" y=\"\(n(plotBottom + 14))\" text-anchor=\"middle\">\(h(ReportText.grouped(value)))</text>\n"
        }
        out += "</g>\n"
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight + (rowHeight - barHeight) / 2
            let c = row.counts
            let full = row.key == UsageReport.noAgency ? ReportText.noAgency.vi : row.name ?? row.key
            let name = ReportText.clean(full, limit: 30)
            let parts = stackOrder.filter { c[$0] > 0 }.map { "\(ReportText.outcome($0).en) \(c[$0])" }.joined(separator: ", ")
            out +=
                "<g><title>\(h(full)): \(h(ReportText.grouped(c.handled)))\(parts.isEmpty ? "" : " — \(h(parts))")</title>"
            out += "<text x=\"\(n(labelWidth - 6))\" y=\"\(n(y + barHeight - 3))\" text-anchor=\"end\" class=\"label\">\(h(name))</text>"
            var x = labelWidth
            var count = 0
            for outcome in stackOrder where c[outcome] > 0 {
                // Cumulative edges, rounded as written: segments meet with no gap.
                count += c[outcome]
                let end = tenths(labelWidth + Double(count) / Double(scaleTop) * plotWidth)
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(end - x))\" height=\"\(n(barHeight))\" fill=\"\(colors[outcome]!)\"/>"
                x = end
            }
            out += "<text x=\"\(n(x + 4))\" y=\"\(n(y + barHeight - 3))\" class=\"value\">\(h(ReportText.grouped(c.handled)))</text></g>\n"
        }
        out += "</svg>"
        return out
    }

    /// The top of an axis from 0 past `peak`, and its step: 1, 2 or 5 times a power of ten, about four steps.
    static func scale(_ peak: Int) -> (top: Int, step: Int) {
        guard peak > 0 else { return (4, 1) }
        let raw = max(1, (peak + 3) / 4)
        var magnitude = 1
        while magnitude * 10 <= raw { magnitude *= 10 }
        let step = [1, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return ((peak + step - 1) / step * step, step)
    }

    // MARK: Text

    /// `&`, `<`, `>`, `"` and `'` escaped, after ``ReportText/clean(_:limit:)``: safe in text and in quoted attributes.
    static func h(_ text: String) -> String {
        var out = ""
        for scalar in ReportText.clean(text, limit: 400).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `value` rounded to a tenth, as ``n(_:)`` writes it.
    static func tenths(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    /// A coordinate with at most one decimal: `12`, `12.5`.
    static func n(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = abs(tenths)
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }

    /// `38 %`, `<1 %`: a share of the messages handled, whole percent (no decimal separator to misread).
    static func percent(_ value: Int, of total: Int) -> String {
        guard value > 0 else { return "0 %" }
        let p = (value * 100 + total / 2) / total
        return p == 0 ? "<1 %" : "\(p) %"
    }

    static let css = """
        @page { size: A4; margin: 14mm 14mm 16mm 14mm; }
        * { box-sizing: border-box; }
        html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        body { font-family: "Noto Sans", "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10pt;
          line-height: 1.35; color: #1b1b1b; margin: 0 auto; max-width: 182mm; padding: 10mm 0; }
        header { border-bottom: 2px solid #8c1c13; padding-bottom: 4mm; margin-bottom: 5mm; }
        .brand { margin: 0; font-size: 9pt; letter-spacing: .12em; text-transform: uppercase; color: #8c1c13; font-weight: bold; }
        h1 { font-size: 15pt; margin: 1mm 0 2mm; line-height: 1.25; }
        h1 .en { display: block; font-size: 11pt; }
        h2 { font-size: 13pt; margin: 0 0 3mm; border-bottom: 1px solid #ccc; padding-bottom: 1mm; color: #8c1c13; }
        .en { color: #5a5a5a; font-weight: normal; font-style: italic; }
        th .en, caption .en { display: block; font-size: 8pt; }
        .period, .meta { margin: 1mm 0; }
        section { break-before: page; page-break-before: always; }
        section.first { break-before: auto; page-break-before: auto; }
        .cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; margin: 0 0 4mm; }
        .card { border: 1px solid #ccc; border-radius: 2mm; padding: 2mm 3mm; break-inside: avoid; }
        .card .value { font-size: 17pt; font-weight: bold; margin: 0; font-variant-numeric: tabular-nums; }
        .card .value small { font-size: 9pt; font-weight: normal; color: #5a5a5a; }
        .card .label { margin: 0; font-size: 9pt; }
        .card .label .en { display: block; }
        .sw { display: inline-block; width: 3mm; height: 3mm; margin-right: 1.5mm; vertical-align: baseline; border-radius: .5mm; }
        table { border-collapse: collapse; width: 100%; margin: 0 0 4mm; font-size: 9pt; }
        caption { text-align: left; font-weight: bold; padding: 1mm 0; }
        th, td { border: 1px solid #c8c8c8; padding: 1mm 1.6mm; vertical-align: top; }
        thead th { background: #f1ece6; text-align: left; }
        tfoot th, tfoot td { background: #f7f7f7; font-weight: bold; }
        th[scope="row"] { text-align: left; font-weight: normal; }
        .n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        thead { display: table-header-group; }
        tfoot { display: table-row-group; }
        tr { break-inside: avoid; page-break-inside: avoid; }
        tr.zero td { color: #9a9a9a; }
        th.rank { width: 8mm; }
        code, .addr { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
        code.id { display: block; color: #5a5a5a; }
        figure { margin: 0 0 4mm; break-inside: avoid; page-break-inside: avoid; }
        figcaption { font-size: 8.5pt; color: #444; margin-top: 1mm; }
        svg { display: block; width: 100%; height: auto; shape-rendering: crispEdges; }
        svg text { shape-rendering: auto; }
        svg text { font-size: 9px; fill: #333; }
        svg text.label { font-size: 10px; fill: #1b1b1b; }
        svg text.value { font-size: 9.5px; font-weight: bold; }
        svg text.title { font-size: 9.5px; fill: #555; }
        svg line.grid { stroke: #ddd; stroke-width: .6; }
        svg line.base { stroke: #555; stroke-width: .8; }
        .legend { list-style: none; margin: 0 0 1.5mm; padding: 0; font-size: 8.5pt; }
        .legend li { display: inline-block; margin-right: 5mm; }
        .note, .empty { font-size: 8.5pt; color: #444; }
        footer { margin-top: 6mm; border-top: 1px solid #ccc; font-size: 8pt; color: #666; }
        @media screen { body { padding: 10mm 6mm; } section { border-top: 1px dashed #bbb; margin-top: 8mm; padding-top: 5mm; }
          section.first { border-top: 0; margin-top: 0; padding-top: 0; } }

        """
}
