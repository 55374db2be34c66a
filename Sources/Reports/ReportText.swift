/// The words a report prints, Vietnamese and English, and the small formatting every renderer
/// shares: numbers, durations, and text from mail made safe to show.
enum ReportText {
    struct Label {
        var vi: String
        var en: String
    }

    static let title = Label(vi: "Báo cáo tình hình sử dụng hệ thống thư điện tử", en: "E-mail system usage report")
    static let period = Label(vi: "Kỳ báo cáo", en: "Period")
    static let generated = Label(vi: "Lập lúc", en: "Generated")
    static let timeZone = Label(vi: "Giờ Việt Nam (UTC+07:00)", en: "Vietnam time (UTC+07:00)")
    static let summary = Label(vi: "Tổng quan", en: "Summary")
    static let handled = Label(vi: "Tổng số thư", en: "Handled")
    static let bytes = Label(vi: "Dung lượng", en: "Size")
    static let total = Label(vi: "Tổng", en: "Total")
    static let direction = Label(vi: "Hướng thư", en: "Direction")
    static let byDay = Label(vi: "Theo ngày", en: "By day")
    static let byAgency = Label(vi: "Theo cơ quan", en: "By agency")
    static let byRule = Label(vi: "Theo quy tắc", en: "By rule")
    static let day = Label(vi: "Ngày", en: "Day")
    static let agency = Label(vi: "Cơ quan", en: "Agency")
    static let rule = Label(vi: "Quy tắc", en: "Rule")
    static let conversions = Label(vi: "Chuyển đổi bảng mã cũ sang TCVN 6909", en: "Legacy-encoding conversions (TCVN 6909)")
    static let topSenders = Label(vi: "Người gửi có nhiều thư bị từ chối nhất", en: "Top senders of refused mail")
    static let sender = Label(vi: "Người gửi", en: "Sender")
    static let refusedMessages = Label(vi: "Thư bị từ chối", en: "Refused messages")
    static let decisions = Label(vi: "Thư bị giữ lại: kết quả xử lý", en: "Held mail: decisions")
    static let heldRecipients = Label(vi: "Người nhận của thư bị giữ", en: "Recipients of held mail")
    static let median = Label(vi: "Thời gian xử lý (trung vị)", en: "Median time to decision")
    static let none = Label(vi: "Không có", en: "None")

    static let noAgency = Label(vi: "Không thuộc cơ quan nào", en: "No configured agency")

    static func outcome(_ outcome: Outcome) -> Label {
        switch outcome {
        case .delivered: Label(vi: "Đã chuyển", en: "Delivered")
        case .refused: Label(vi: "Bị từ chối", en: "Refused")
        case .tempfailed: Label(vi: "Tạm hoãn", en: "Tempfailed")
        case .held: Label(vi: "Bị giữ lại", en: "Held")
        }
    }

    static func direction(_ key: String) -> Label {
        switch key {
        case "in": Label(vi: "Thư đến", en: "Inbound")
        case "out": Label(vi: "Thư đi", en: "Outbound")
        case "internal": Label(vi: "Nội bộ", en: "Internal")
        case "transit": Label(vi: "Chuyển tiếp", en: "Transit")
        default: Label(vi: key, en: key)
        }
    }

    static func decision(_ state: HeldDecision.State) -> Label {
        switch state {
        case .released: Label(vi: "Đã cho chuyển", en: "Released")
        case .deleted: Label(vi: "Đã xóa", en: "Deleted")
        case .failed: Label(vi: "Chuyển không thành công", en: "Release failed")
        case .pending: Label(vi: "Đang chờ xử lý", en: "Awaiting decision")
        }
    }

    /// `12 345`: groups of three digits split by a narrow no-break space (ISO 80000-1), which
    /// reads the same in Vietnamese (which writes `12.345`) and English (`12,345`).
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "\u{202F}" }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    static func grouped(_ value: Int) -> String { grouped(Int64(value)) }

    /// `1.5 MB`: bytes in decimal units, one decimal past kB.
    static func size(_ bytes: Int64) -> String {
        let units = ["kB", "MB", "GB", "TB", "PB"]
        guard bytes >= 1000 else { return "\(bytes) B" }
        var unit = -1
        var scaled = Double(bytes)
        while scaled >= 1000, unit < units.count - 1 {
            scaled /= 1000
            unit += 1
        }
        let tenths = Int((scaled * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// `2 h 05 min`, `3 d 4 h`, `2 d`, `45 s`: a wait as people read it (the same in both languages).
    static func duration(_ milliseconds: Int64) -> String {
        let seconds = (milliseconds + 500) / 1000
        if seconds < 60 { return "\(seconds) s" }
        let minutes = seconds / 60
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 24 { return "\(hours) h \(LocalDay.digits(Int(minutes % 60), 2)) min" }
        return hours % 24 == 0 ? "\(hours / 24) d" : "\(hours / 24) d \(hours % 24) h"
    }

    /// Text that came from mail or configuration, made safe to show: control characters (C0, DEL,
    /// C1) and the bidirectional controls that could make an address read as another are
    /// dropped; at most `limit` characters, then `…`.
    static func clean(_ text: String, limit: Int = 200) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || (0x7F...0x9F).contains(v) || (0x200E...0x200F).contains(v) || (0x202A...0x202E).contains(v)
                || (0x2066...0x2069).contains(v) || v == 0x061C
            {
                continue
            }
            scalars.append(scalar)
        }
        let clean = String(scalars)
        return clean.count > limit ? String(clean.prefix(limit - 1)) + "…" : clean
    }

    /// The envelope sender as shown: `<>` for the null sender.
    static func sender(_ sender: String) -> String { sender.isEmpty ? "<>" : clean(sender) }

    /// `2026-12-01T20:00:00+07:00`.
    static func rfc3339(_ milliseconds: Int64) -> String {
        let stamp = localTimestamp(milliseconds)
        return String(stamp.prefix(10)) + "T" + String(stamp.suffix(8)) + "+07:00"
    }
}
