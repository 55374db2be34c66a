import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The current time as an RFC 5322 3.3 date-time in local time, e.g. `Mon, 23 Nov 2026 21:00:00 +0700`.
/// Formatted at most once a second: every message's Received: header needs it.
public func rfc5322Date() -> String {
    let now = time(nil)
    if let cached = dateCache.withLockedValue({ $0.second == now ? $0.text : nil }) { return cached }
    let text = formatRFC5322Date(now)
    dateCache.withLockedValue { $0 = (now, text) }
    return text
}

private let dateCache = NIOLockedValueBox<(second: time_t, text: String)>((0, ""))

func formatRFC5322Date(_ seconds: time_t) -> String {
    var now = seconds
    var parts = tm()
    localtime_r(&now, &parts)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    let offset = parts.tm_gmtoff / 60
    let sign = offset < 0 ? "-" : "+"
    return "\(days[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
        + format2(parts.tm_hour) + ":" + format2(parts.tm_min) + ":" + format2(parts.tm_sec)
        + " \(sign)\(format2(Int32(abs(offset) / 60)))\(format2(Int32(abs(offset) % 60)))"
}

private func format2(_ value: Int32) -> String {
    value < 10 ? "0\(value)" : "\(value)"
}
