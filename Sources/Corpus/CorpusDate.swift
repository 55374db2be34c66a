import Foundation

/// A local time in Việt Nam (UTC+7, no daylight saving): message dates, document dates, zip
/// entry times. Counted from 2026-03-02, a Monday, so a corpus has the same dates everywhere.
struct CorpusDate {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    /// 0 = Sunday.
    var weekday: Int

    /// `workday` working days after Monday 2 March 2026, at `secondsIntoDay` after midnight.
    init(workday: Int, secondsIntoDay: Int) {
        let days = workday / 5 * 7 + workday % 5
        // Seconds since 1970 of 2026-03-02 00:00 UTC+7, read with a fixed calendar and zone.
        let instant = Date(timeIntervalSince1970: TimeInterval((20514 + days) * 86_400 + secondsIntoDay - 7 * 3600))
        let parts = Self.calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: instant)
        year = parts.year ?? 0
        month = parts.month ?? 1
        day = parts.day ?? 1
        hour = parts.hour ?? 0
        minute = parts.minute ?? 0
        second = parts.second ?? 0
        weekday = (parts.weekday ?? 1) - 1
    }

    /// Gregorian, UTC+7: the same dates on every machine whatever its locale and zone.
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 7 * 3600) ?? .gmt
        return calendar
    }()

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// RFC 5322 3.3: `Mon, 02 Mar 2026 08:15:00 +0700`.
    var rfc5322: String {
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return
            "\(days[weekday]), \(Self.two(day)) \(months[month - 1]) \(year) \(Self.two(hour)):\(Self.two(minute)):\(Self.two(second)) +0700"
    }

    /// W3CDTF in UTC, as OOXML core properties carry it.
    var w3cdtf: String {
        // Working hours are after 07:00 local, so UTC is the same day.
        "\(year)-\(Self.two(month))-\(Self.two(day))T\(Self.two(hour - 7)):\(Self.two(minute)):\(Self.two(second))Z"
    }

    /// PDF date digits, local time: `20260302081500`.
    var pdfDigits: String { "\(year)\(Self.two(month))\(Self.two(day))\(Self.two(hour))\(Self.two(minute))\(Self.two(second))" }

    /// "ngày 02 tháng 3 năm 2026", as a công văn is dated.
    var vietnamese: String { "ngày \(Self.two(day)) tháng \(month) năm \(year)" }

    /// "02/03/2026".
    var short: String { "\(Self.two(day))/\(Self.two(month))/\(year)" }

    var time: String { "\(Self.two(hour)):\(Self.two(minute))" }

    var weekdayName: String { VietnameseText.weekdays[weekday] }

    var ymd: (Int, Int, Int) { (year, month, day) }
}
