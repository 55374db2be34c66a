import Foundation
import Testing

@testable import Reports

/// The report's figures from hand-made roll-up rows, shaped as the verdict log writes them: each
/// message adds one to every (agency, rule) pair of `*` and its agencies by `*` and its rules.
@Suite struct UsageReportTests {
    /// Roll-up rows of one message, as the verdict log adds them.
    static func rows(
        day: String,
        direction: String = "in",
        agencies: [String] = [],
        rules: [String] = [],
        outcome: Outcome,
        size: Int64 = 1000
    ) -> [RollupRow] {
        var rows: [RollupRow] = []
        for agency in ["*"] + agencies {
            for rule in ["*"] + rules {
                rows.append(
                    RollupRow(day: day, direction: direction, agency: agency, rule: rule, outcome: outcome, messages: 1, bytes: size)
                )
            }
        }
        return rows
    }

    static let sample: [RollupRow] =
        rows(day: "2026-10-01", agencies: ["quangninh"], outcome: .delivered)
        + rows(day: "2026-10-01", direction: "out", agencies: ["quangninh"], rules: ["tcvn-conversion"], outcome: .delivered, size: 3000)
        + rows(day: "2026-10-02", agencies: ["quangninh"], rules: ["executable"], outcome: .refused)
        + rows(day: "2026-10-02", agencies: ["quangninh"], rules: ["virus", "executable"], outcome: .refused)
        + rows(day: "2026-10-03", direction: "internal", agencies: ["quan4", "quangninh"], rules: ["encrypted-archive"], outcome: .held)
        + rows(day: "2026-10-03", direction: "transit", outcome: .tempfailed)
        // Outside the period: ignored.
        + rows(day: "2026-09-30", agencies: ["quangninh"], rules: ["virus"], outcome: .refused)
        + rows(day: "2026-11-01", outcome: .delivered)

    static func report(by: Breakdown = .day) throws -> UsageReport {
        UsageReport(
            period: try ReportPeriod.range(from: "2026-10-01", to: "2026-10-05"),
            by: by,
            generatedAt: 1_790_800_000_000,
            rows: sample,
            refusedSenders: [SenderTotal(sender: "<x@spam.example>", messages: 2), SenderTotal(sender: "", messages: 1)],
            decisions: [
                HeldDecision(heldAt: 0, decidedAt: 60_000, state: .released),
                HeldDecision(heldAt: 0, decidedAt: 3_600_000, state: .deleted),
                HeldDecision(heldAt: 0, decidedAt: 7_200_000, state: .deleted),
                HeldDecision(heldAt: 0, decidedAt: nil, state: .pending),
                HeldDecision(heldAt: 10_000, decidedAt: 20_000, state: .failed),
            ],
            agencies: [
                (id: "quangninh", name: "UBND tỉnh Quảng Ninh"), (id: "quan4", name: "UBND Quận 4"), (id: "hoabinh", name: "Hòa Bình"),
            ]
        )
    }

    @Test func countsFromRollups() throws {
        let report = try Self.report()
        #expect(report.totals == OutcomeCounts(delivered: 2, refused: 2, tempfailed: 1, held: 1, bytes: 8000))
        #expect(report.totals.handled == 6)
        #expect(report.directions.map(\.key) == ["in", "out", "internal", "transit"])
        #expect(report.directions.map(\.counts.handled) == [3, 1, 1, 1])
        #expect(report.days.map(\.key) == ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"])
        #expect(report.days.map(\.counts.handled) == [2, 2, 2, 0, 0])
        // Configured agencies are listed with no mail too; a message between two agencies counts for each.
        #expect(report.agencies.map(\.key) == ["quangninh", "quan4", "hoabinh"])
        #expect(report.agencies.map(\.counts.handled) == [5, 1, 0])
        #expect(report.agencies.map(\.name) == ["UBND tỉnh Quảng Ninh", "UBND Quận 4", "Hòa Bình"])
        #expect(report.rules.map(\.key) == ["executable", "encrypted-archive", "tcvn-conversion", "virus"])
        #expect(report.rules.map(\.counts.handled) == [2, 1, 1, 1])
        #expect(report.conversions == OutcomeCounts(delivered: 1, refused: 0, tempfailed: 0, held: 0, bytes: 3000))
        #expect(report.breakdown == report.days)
        #expect(try Self.report(by: .agency).breakdown == report.agencies)
        #expect(try Self.report(by: .rule).breakdown == report.rules)
    }

    @Test func decisions() throws {
        let d = try Self.report().decisions
        #expect((d.recipients, d.released, d.deleted, d.failed, d.pending) == (5, 1, 2, 1, 1))
        // Decisions: 1 min, 1 h, 2 h; the median is the middle one. Deletions alone: the mean of 1 h and 2 h.
        #expect(d.medianToDecision == 3_600_000)
        #expect(d.medianToRelease == 60_000)
        #expect(d.medianToDelete == 5_400_000)
        #expect(DecisionSummary([]).medianToDecision == nil)
        // A clock stepped back is a zero wait.
        #expect(DecisionSummary([HeldDecision(heldAt: 5000, decidedAt: 1000, state: .deleted)]).medianToDecision == 0)
    }

    @Test func tableIsAligned() throws {
        let text = TableRenderer.render(try Self.report(by: .agency))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("AGENCY") })
        #expect(lines[header + 1].hasPrefix("quangninh (UBND tỉnh Quảng Ninh)"))
        // Right-aligned numbers: every line of the table ends at the same column.
        let table = lines[header...].prefix { !$0.isEmpty }
        #expect(Set(table.map(\.count)).count == 1)
        #expect(lines.contains { $0.hasPrefix("<x@spam.example>  ") && $0.hasSuffix(" 2") })
        #expect(lines.contains { $0.hasPrefix("<>  ") && $0.hasSuffix(" 1") })
        #expect(text.contains("median to decision  1 h 00 min"))
        #expect(!text.contains(" \n"), "no trailing spaces")
    }

    /// Agency names come from the configuration and sender addresses from mail: nothing in them
    /// reaches the output as markup, a formula, a terminal escape or a broken CSV row.
    @Test func hostileTextIsEscaped() throws {
        let hostile = "<script>alert(1)</script>\u{1B}[31m\"'&\u{202E}gpj.exe"
        let report = UsageReport(
            period: try ReportPeriod.parse("2026-10"),
            by: .agency,
            generatedAt: 0,
            rows: Self.rows(day: "2026-10-05", agencies: ["evil"], rules: ["virus"], outcome: .refused),
            refusedSenders: [SenderTotal(sender: "=HYPERLINK(\"http://x\",\"a\r\nb\")@" + hostile, messages: 1)],
            agencies: [(id: "evil", name: hostile)]
        )
        let html = HTMLRenderer.render(report)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;[31m&quot;&#39;&amp;gpj.exe"))
        #expect(!html.contains("\u{1B}") && !html.contains("\u{202E}") && !html.contains("\r"))
        let csv = CSVRenderer.render(report)
        #expect(csv.contains("refused-sender,\"'=HYPERLINK(\"\"http://x\"\",\"\"a"))
        #expect(!csv.contains("\u{1B}"))
        let table = TableRenderer.render(report)
        #expect(!table.contains("\u{1B}") && !table.contains("\u{202E}"))
        let json = JSONRenderer.render(report)
        #expect(json.contains("\\u001b[31m"))
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let senders = try #require(object?["top_refused_senders"] as? [[String: Any]])
        #expect(senders.first?["sender"] as? String == "=HYPERLINK(\"http://x\",\"a\r\nb\")@" + hostile)
    }

    @Test func csvIsOneShape() throws {
        let csv = CSVRenderer.render(try Self.report())
        #expect(csv.hasSuffix("\r\n"))
        let lines = csv.components(separatedBy: "\r\n").dropLast()
        #expect(lines.first == "section,key,name,measure,value")
        // No field here has a comma or quote, so every line has exactly five fields.
        for line in lines { #expect(line.split(separator: ",", omittingEmptySubsequences: false).count == 5, "\(line)") }
        #expect(lines.contains("total,*,,handled,6"))
        #expect(lines.contains("day,2026-10-02,,refused,2"))
        #expect(lines.contains("conversions,tcvn-conversion,,delivered,1"))
        #expect(lines.contains("refused-sender,<>,,refused,1"))
        #expect(lines.contains("decisions,all,,median_seconds_to_decision,3600"))
    }

    @Test func jsonHasStableFields() throws {
        let json = JSONRenderer.render(try Self.report(by: .rule))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "period", "generated", "by", "totals", "directions", "breakdown", "conversions", "top_refused_senders", "decisions",
            ]
        )
        #expect(json.hasPrefix("{\n  \"period\": {\n    \"label\": \"2026-10-01..2026-10-05\""))
        #expect(object["generated"] as? String == "2026-10-01T03:26:40+07:00")
        let totals = try #require(object["totals"] as? [String: Int])
        #expect(totals == ["handled": 6, "delivered": 2, "refused": 2, "tempfailed": 1, "held": 1, "bytes": 8000])
        let breakdown = try #require(object["breakdown"] as? [[String: Any]])
        #expect(breakdown.map { $0["key"] as? String } == ["executable", "encrypted-archive", "tcvn-conversion", "virus"])
        let decisions = try #require(object["decisions"] as? [String: Any])
        #expect(decisions["median_seconds_to_release"] as? Int == 60)
    }

    @Test func htmlIsSelfContained() throws {
        for by in Breakdown.allCases {
            let html = HTMLRenderer.render(try Self.report(by: by))
            for forbidden in [
                "<script", "http:", "https:", "src=", "href=", "url(", "@import", "@font-face", "<link", "<iframe", "<object", "<img",
            ] {
                #expect(!html.lowercased().contains(forbidden), "\(forbidden)")
            }
            #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"vi\">"))
            #expect(html.contains("@page { size: A4;"))
            #expect(html.contains("break-before: page"))
            // Three charts, each followed by its data table.
            for id in ["by-day", "by-agency", "by-rule"] {
                let chart = try #require(html.range(of: "<svg id=\"\(id)-chart\""))
                let after = html[chart.upperBound...]
                let table = try #require(after.range(of: "<table"))
                #expect(!after[..<table.lowerBound].contains("<section"), "\(id): its table follows it in its section")
            }
            // The main breakdown comes first after the summary.
            let order = ["by-day", "by-agency", "by-rule"].sorted {
                html.range(of: "<section id=\"\($0)\"")!.lowerBound < html.range(of: "<section id=\"\($1)\"")!.lowerBound
            }
            #expect(order.first == "by-\(by.rawValue)")
        }
        let html = HTMLRenderer.render(try Self.report())
        #expect(html.contains("BÁO CÁO TÌNH HÌNH SỬ DỤNG HỆ THỐNG THƯ ĐIỆN TỬ<span class=\"en\">E-mail system usage report</span>"))
        // Day 1: one delivered of 1 kB and one of 3 kB stacked; the bar's title says what is in it.
        #expect(html.contains("<title>01/10/2026: 2 — Delivered 2</title>"))
        #expect(html.contains("<td class=\"n\">6</td>"))
    }

    @Test func axisScale() {
        #expect(HTMLRenderer.scale(0) == (4, 1))
        #expect(HTMLRenderer.scale(1) == (1, 1))
        #expect(HTMLRenderer.scale(7) == (8, 2))
        #expect(HTMLRenderer.scale(95) == (100, 25) || HTMLRenderer.scale(95) == (100, 50))
        #expect(HTMLRenderer.scale(12_345) == (15_000, 5000))
    }
}
