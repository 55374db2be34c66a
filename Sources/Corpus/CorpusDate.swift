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
        // Days since 1970-01-01 of 2026-03-02.
        let epochDay = 20514 + days
        (year, month, day) = Self.civil(epochDay)
        weekday = (epochDay + 4) % 7
        hour = secondsIntoDay / 3600
        minute = secondsIntoDay / 60 % 60
        second = secondsIntoDay % 60
    }

    /// Howard Hinnant's days-to-civil.
    private static func civil(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

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
