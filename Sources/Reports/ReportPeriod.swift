/// The days a report covers, in local days (Asia/Ho_Chi_Minh): a month (`2026-11`, Quảng Ninh's
/// monthly report), a quarter (`2026-Q4`, Quận 4's), a half year (`2026-H2`, Hòa Bình's and Đồng
/// Nai's), or any inclusive range of days (`--from 2026-10-01 --to 2026-10-15`).
///
/// - SeeAlso: QĐ 40/2022/QĐ-UBND Quảng Ninh Đ9 k1e (monthly); QĐ 03/2013/QĐ-UBND Quận 4 Đ14
///   (quarterly, by the 10th of the quarter's last month); QĐ 06/2010/QĐ-UBND Hòa Bình Đ7 k3 and
///   QĐ 70/2009/QĐ-UBND Đồng Nai Đ13 (every six months).
public struct ReportPeriod: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case month, quarter, half, range
    }

    /// The longest range accepted: ten years of days, which keeps a report's memory and time bounded.
    public static let maximumDays = 3660

    public let kind: Kind
    public let first: LocalDay
    public let last: LocalDay

    /// Parses `YYYY-MM`, `YYYY-Qn` (n 1–4) or `YYYY-Hn` (n 1–2); `q` and `h` may be lower case.
    public static func parse(_ text: String) throws(ReportPeriodError) -> ReportPeriod {
        let usage =
            "--period \(ReportPeriodError.quoted(text)): expected YYYY-MM (a month), YYYY-Qn (a quarter, n from 1 to 4) or YYYY-Hn (a half year, n 1 or 2), e.g. 2026-11, 2026-Q4, 2026-H2"
        let bytes = Array(text.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"), let year = Self.number(bytes[0..<4]), (1970...9999).contains(year)
        else { throw ReportPeriodError(usage) }
        let tag = bytes[5] | 0x20  // ASCII lower case
        if tag == UInt8(ascii: "q") || tag == UInt8(ascii: "h"), let n = Self.number(bytes[6..<7]) {
            let months = tag == UInt8(ascii: "q") ? 3 : 6
            guard n >= 1, n <= 12 / months else { throw ReportPeriodError(usage) }
            let firstMonth = (n - 1) * months + 1
            let lastMonth = firstMonth + months - 1
            return ReportPeriod(
                kind: months == 3 ? .quarter : .half,
                first: LocalDay(year: year, month: firstMonth, day: 1)!,
                last: LocalDay(year: year, month: lastMonth, day: LocalDay.daysIn(month: lastMonth, year: year))!
            )
        }
        guard let month = Self.number(bytes[5..<7]), (1...12).contains(month) else { throw ReportPeriodError(usage) }
        return ReportPeriod(
            kind: .month,
            first: LocalDay(year: year, month: month, day: 1)!,
            last: LocalDay(year: year, month: month, day: LocalDay.daysIn(month: month, year: year))!
        )
    }

    /// The days `from` through `to`, both included, each `YYYY-MM-DD`.
    public static func range(from: String, to: String) throws(ReportPeriodError) -> ReportPeriod {
        guard let first = LocalDay(from) else {
            throw ReportPeriodError("--from \(ReportPeriodError.quoted(from)): expected a date YYYY-MM-DD (a real day, year 1970 to 9999)")
        }
        guard let last = LocalDay(to) else {
            throw ReportPeriodError("--to \(ReportPeriodError.quoted(to)): expected a date YYYY-MM-DD (a real day, year 1970 to 9999)")
        }
        guard first <= last else { throw ReportPeriodError("--from \(first) is after --to \(last)") }
        guard last.dayNumber - first.dayNumber < maximumDays else {
            throw ReportPeriodError("--from \(first) --to \(last) is longer than \(maximumDays) days")
        }
        return ReportPeriod(kind: .range, first: first, last: last)
    }

    public init(kind: Kind, first: LocalDay, last: LocalDay) {
        self.kind = kind
        self.first = first
        self.last = last
    }

    /// Every local day of the period, in order.
    public var days: [LocalDay] { (first.dayNumber...last.dayNumber).map(LocalDay.init(dayNumber:)) }

    public var dayCount: Int { last.dayNumber - first.dayNumber + 1 }

    /// The first instant of the period (local midnight of `first`), milliseconds since 1970 UTC.
    public var startMilliseconds: Int64 { first.startMilliseconds }

    /// The first instant after the period (local midnight after `last`).
    public var endMilliseconds: Int64 { last.adding(days: 1).startMilliseconds }

    /// Whether the instant falls in the period.
    public func contains(milliseconds: Int64) -> Bool { milliseconds >= startMilliseconds && milliseconds < endMilliseconds }

    /// What `--period` would say for it (`2026-11`, `2026-Q4`, `2026-H2`), or `2026-10-01..2026-10-15`.
    public var label: String {
        switch kind {
        case .month: return "\(LocalDay.digits(first.year, 4))-\(LocalDay.digits(first.month, 2))"
        case .quarter: return "\(first.year)-Q\((first.month - 1) / 3 + 1)"
        case .half: return "\(first.year)-H\(first.month == 1 ? 1 : 2)"
        case .range: return "\(first)..\(last)"
        }
    }

    /// `Tháng 11/2026`, `Quý IV/2026`, `6 tháng cuối năm 2026`, `Từ 01/10/2026 đến 15/10/2026`.
    public var vietnameseName: String {
        switch kind {
        case .month: return "Tháng \(LocalDay.digits(first.month, 2))/\(first.year)"
        case .quarter: return "Quý \(["I", "II", "III", "IV"][(first.month - 1) / 3])/\(first.year)"
        case .half: return "6 tháng \(first.month == 1 ? "đầu" : "cuối") năm \(first.year)"
        case .range: return "Từ \(first.vietnamese) đến \(last.vietnamese)"
        }
    }

    /// `November 2026`, `Q4 2026`, `H2 2026`, `2026-10-01 to 2026-10-15`.
    public var englishName: String {
        switch kind {
        case .month: return "\(Self.monthNames[first.month - 1]) \(first.year)"
        case .quarter: return "Q\((first.month - 1) / 3 + 1) \(first.year)"
        case .half: return "H\(first.month == 1 ? 1 : 2) \(first.year)"
        case .range: return "\(first) to \(last)"
        }
    }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// A period that cannot be read, with the option, what was given and what is expected.
public struct ReportPeriodError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// The text as given, control characters shown as `?` (it goes to a terminal), at most 40 characters.
    static func quoted(_ text: String) -> String {
        let clean = String(String.UnicodeScalarView(text.unicodeScalars.prefix(40).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
        return "\"\(clean)\(text.unicodeScalars.count > 40 ? "…" : "")\""
    }
}
