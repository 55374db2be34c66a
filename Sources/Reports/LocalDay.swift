/// A calendar day in Vietnam's time, Asia/Ho_Chi_Minh: UTC+07:00 the whole year (Vietnam has kept
/// no daylight saving time since 1975), so a day is exactly 86,400 seconds and starts at 17:00 UTC
/// the day before. Pure arithmetic on the proleptic Gregorian calendar, no time-zone database.
///
/// - SeeAlso: Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms"
///   (`days_from_civil`, `civil_from_days`), https://howardhinnant.github.io/date_algorithms.html
public struct LocalDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Asia/Ho_Chi_Minh's offset from UTC, in seconds.
    public static let utcOffsetSeconds: Int64 = 7 * 3600
    static let millisecondsPerDay: Int64 = 86_400_000

    public let year: Int
    public let month: Int
    public let day: Int

    /// The day, or nil when there is no such date (February 30) or the year is outside 1970–9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1970...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= LocalDay.daysIn(month: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, exactly ten characters of digits and dashes; nil otherwise.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Self.number(bytes[0..<4]), let month = Self.number(bytes[5..<7]), let day = Self.number(bytes[8..<10])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The day `dayNumber` days after 1970-01-01.
    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        day = doy - (153 * mp + 2) / 5 + 1
    }

    /// The local day an instant (milliseconds since 1970-01-01T00:00:00Z) falls in.
    public init(containing milliseconds: Int64) {
        let local = milliseconds + Self.utcOffsetSeconds * 1000
        // Floor division: an instant before 1970 still lands on its own day.
        let days = local >= 0 ? local / Self.millisecondsPerDay : (local - Self.millisecondsPerDay + 1) / Self.millisecondsPerDay
        self.init(dayNumber: Int(days))
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Local midnight at the start of the day, as milliseconds since 1970-01-01T00:00:00Z.
    public var startMilliseconds: Int64 { Int64(dayNumber) * Self.millisecondsPerDay - Self.utcOffsetSeconds * 1000 }

    public func adding(days: Int) -> LocalDay { LocalDay(dayNumber: dayNumber + days) }

    /// `2026-10-01`, as the roll-ups key their rows.
    public var description: String { "\(Self.digits(year, 4))-\(Self.digits(month, 2))-\(Self.digits(day, 2))" }

    /// `01/10/2026`, as Vietnamese documents write a date.
    public var vietnamese: String { "\(Self.digits(day, 2))/\(Self.digits(month, 2))/\(Self.digits(year, 4))" }

    public static func < (a: LocalDay, b: LocalDay) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// Wall-clock time in Asia/Ho_Chi_Minh of an instant: `2026-10-01 00:00:00`.
public func localTimestamp(_ milliseconds: Int64) -> String {
    let day = LocalDay(containing: milliseconds)
    let local = milliseconds + LocalDay.utcOffsetSeconds * 1000 - Int64(day.dayNumber) * LocalDay.millisecondsPerDay
    let seconds = Int(local / 1000)
    return "\(day) \(LocalDay.digits(seconds / 3600, 2)):\(LocalDay.digits(seconds / 60 % 60, 2)):\(LocalDay.digits(seconds % 60, 2))"
}
