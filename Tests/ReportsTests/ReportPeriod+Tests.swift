import Reports
import Testing

@Suite struct ReportPeriodTests {
    @Test(arguments: [
        ("2026-11", "2026-11-01", "2026-11-30", ReportPeriod.Kind.month, "2026-11", "Tháng 11/2026", "November 2026"),
        ("2026-02", "2026-02-01", "2026-02-28", .month, "2026-02", "Tháng 02/2026", "February 2026"),
        ("2028-02", "2028-02-01", "2028-02-29", .month, "2028-02", "Tháng 02/2028", "February 2028"),
        ("2026-Q4", "2026-10-01", "2026-12-31", .quarter, "2026-Q4", "Quý IV/2026", "Q4 2026"),
        ("2026-q1", "2026-01-01", "2026-03-31", .quarter, "2026-Q1", "Quý I/2026", "Q1 2026"),
        ("2026-Q3", "2026-07-01", "2026-09-30", .quarter, "2026-Q3", "Quý III/2026", "Q3 2026"),
        ("2026-H1", "2026-01-01", "2026-06-30", .half, "2026-H1", "6 tháng đầu năm 2026", "H1 2026"),
        ("2026-h2", "2026-07-01", "2026-12-31", .half, "2026-H2", "6 tháng cuối năm 2026", "H2 2026"),
    ])
    func periods(text: String, first: String, last: String, kind: ReportPeriod.Kind, label: String, vi: String, en: String) throws {
        let period = try ReportPeriod.parse(text)
        #expect(period.first.description == first)
        #expect(period.last.description == last)
        #expect(period.kind == kind)
        #expect(period.label == label)
        #expect(period.vietnameseName == vi)
        #expect(period.englishName == en)
        #expect(period.days.count == period.dayCount)
        #expect(period.days.first?.description == first && period.days.last?.description == last)
        // Each day follows the one before, and the list has no gap.
        for (a, b) in zip(period.days, period.days.dropFirst()) { #expect(b.dayNumber == a.dayNumber + 1) }
    }

    @Test(arguments: [
        "2026-13", "2026-00", "2026-Q0", "2026-Q5", "2026-H3", "2026-H0", "26-11", "2026-1", "2026/11", "", "2026-11-01",
        "1969-12", "2026-Qx", "２０２６-11", "2026-11\u{1B}[31m",
    ])
    func badPeriods(text: String) {
        #expect(throws: ReportPeriodError.self) { try ReportPeriod.parse(text) }
    }

    @Test func errorsSayWhatIsExpected() {
        #expect(
            throws: ReportPeriodError(
                "--period \"2026-Q5\": expected YYYY-MM (a month), YYYY-Qn (a quarter, n from 1 to 4) or YYYY-Hn (a half year, n 1 or 2), e.g. 2026-11, 2026-Q4, 2026-H2"
            )
        ) { try ReportPeriod.parse("2026-Q5") }
        #expect(throws: ReportPeriodError("--from \"2026-02-30\": expected a date YYYY-MM-DD (a real day, year 1970 to 9999)")) {
            try ReportPeriod.range(from: "2026-02-30", to: "2026-03-01")
        }
        #expect(throws: ReportPeriodError("--from 2026-10-15 is after --to 2026-10-01")) {
            try ReportPeriod.range(from: "2026-10-15", to: "2026-10-01")
        }
        // A control character in the input is not echoed to the terminal.
        #expect(throws: ReportPeriodError("--to \"2026-10-0?\": expected a date YYYY-MM-DD (a real day, year 1970 to 9999)")) {
            try ReportPeriod.range(from: "2026-10-01", to: "2026-10-0\u{1B}")
        }
    }

    @Test func ranges() throws {
        let period = try ReportPeriod.range(from: "2026-09-28", to: "2026-10-03")
        #expect(period.kind == .range)
        #expect(period.days.map(\.description) == ["2026-09-28", "2026-09-29", "2026-09-30", "2026-10-01", "2026-10-02", "2026-10-03"])
        #expect(period.label == "2026-09-28..2026-10-03")
        #expect(period.vietnameseName == "Từ 28/09/2026 đến 03/10/2026")
        let one = try ReportPeriod.range(from: "2026-10-01", to: "2026-10-01")
        #expect(one.dayCount == 1)
        #expect(throws: ReportPeriodError.self) { try ReportPeriod.range(from: "2016-01-01", to: "2026-12-31") }
        #expect(try ReportPeriod.range(from: "2020-01-01", to: "2026-12-31").dayCount == 2557)
    }

    /// Local days are Asia/Ho_Chi_Minh's, UTC+07:00: the UTC day and the local day differ from
    /// 17:00 UTC to midnight UTC.
    @Test func localDaysAreVietnamTime() throws {
        // 2026-09-30T16:59:59Z = 2026-09-30 23:59:59 +07:00; 2026-09-30T17:00:00Z = 2026-10-01 00:00:00 +07:00.
        let lastSecondOfQ3: Int64 = 1_790_787_599_000
        let firstSecondOfQ4: Int64 = 1_790_787_600_000
        #expect(LocalDay(containing: lastSecondOfQ3).description == "2026-09-30")
        #expect(LocalDay(containing: firstSecondOfQ4).description == "2026-10-01")
        #expect(localTimestamp(firstSecondOfQ4) == "2026-10-01 00:00:00")
        #expect(localTimestamp(lastSecondOfQ3) == "2026-09-30 23:59:59")
        let q3 = try ReportPeriod.parse("2026-Q3")
        let q4 = try ReportPeriod.parse("2026-Q4")
        #expect(q3.contains(milliseconds: lastSecondOfQ3) && !q3.contains(milliseconds: firstSecondOfQ4))
        #expect(q4.contains(milliseconds: firstSecondOfQ4) && !q4.contains(milliseconds: lastSecondOfQ3))
        #expect(q3.endMilliseconds == q4.startMilliseconds)
        #expect(q4.startMilliseconds == firstSecondOfQ4)
        #expect(LocalDay("1970-01-01")?.dayNumber == 0)
        #expect(LocalDay("2000-03-01")?.dayNumber == 11017)
        #expect(LocalDay(dayNumber: 20727).description == "2026-10-01")
        // Every day of four centuries round-trips through its number.
        for number in stride(from: 0, to: 146_097, by: 1) where number % 7 == 0 {
            let day = LocalDay(dayNumber: number)
            #expect(LocalDay(day.description) == day && day.dayNumber == number)
        }
    }
}
