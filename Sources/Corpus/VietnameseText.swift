import Foundation

/// The words of the corpus: provincial agencies, officials, and the notices, meeting schedules
/// and công văn they send each other (Nghị định 30/2020/NĐ-CP shapes: "Số: 123/UBND-VP", the
/// national motto, "V/v ..." summaries, "Nơi nhận:"). Every string is precomposed (NFC), and none
/// holds a word a secrecy matcher reads (the stamps are put in only by the violations).
enum VietnameseText {
    struct Province {
        var name: String
        var domain: String
        /// Where công văn are dated ("Hạ Long, ngày ...").
        var city: String
        var districts: [String]
    }

    struct Agency {
        var name: String
        /// The short code in a công văn number: "UBND-VP", "STTTT-BCVT".
        var code: String
        /// The mailbox's subdomain under the province ("" for the province's own).
        var subdomain: String
        var mailbox: String
    }

    static let provinces: [Province] = [
        Province(
            name: "Quảng Ninh",
            domain: "quangninh.gov.vn",
            city: "Hạ Long",
            districts: ["Vân Đồn", "Cô Tô", "Tiên Yên", "Đầm Hà", "Hải Hà", "Ba Chẽ"]
        ),
        Province(
            name: "Hòa Bình",
            domain: "hoabinh.gov.vn",
            city: "Hòa Bình",
            districts: ["Mai Châu", "Lạc Sơn", "Kim Bôi", "Tân Lạc", "Đà Bắc", "Cao Phong"]
        ),
        Province(
            name: "Đồng Nai",
            domain: "dongnai.gov.vn",
            city: "Biên Hòa",
            districts: ["Long Thành", "Nhơn Trạch", "Trảng Bom", "Định Quán", "Xuân Lộc", "Vĩnh Cửu"]
        ),
        Province(
            name: "Nghệ An",
            domain: "nghean.gov.vn",
            city: "Vinh",
            districts: ["Diễn Châu", "Quỳnh Lưu", "Nghi Lộc", "Thanh Chương", "Con Cuông", "Kỳ Sơn"]
        ),
        Province(
            name: "Thừa Thiên Huế",
            domain: "thuathienhue.gov.vn",
            city: "Huế",
            districts: ["Phú Vang", "Phong Điền", "Quảng Điền", "Hương Trà", "A Lưới", "Nam Đông"]
        ),
    ]

    static let agencies: [Agency] = [
        Agency(name: "Văn phòng UBND tỉnh", code: "UBND-VP", subdomain: "", mailbox: "vanphong"),
        Agency(name: "Sở Thông tin và Truyền thông", code: "STTTT-BCVT", subdomain: "stttt", mailbox: "vanthu"),
        Agency(name: "Sở Tài chính", code: "STC-QLNS", subdomain: "stc", mailbox: "vanthu"),
        Agency(name: "Sở Kế hoạch và Đầu tư", code: "SKHĐT-TH", subdomain: "skhdt", mailbox: "vanthu"),
        Agency(name: "Sở Nội vụ", code: "SNV-TCBC", subdomain: "snv", mailbox: "vanthu"),
        Agency(name: "Sở Giáo dục và Đào tạo", code: "SGDĐT-VP", subdomain: "sgddt", mailbox: "vanphong"),
        Agency(name: "Sở Y tế", code: "SYT-NVY", subdomain: "syt", mailbox: "vanthu"),
        Agency(name: "Sở Tài nguyên và Môi trường", code: "STNMT-QLĐĐ", subdomain: "stnmt", mailbox: "vanthu"),
        Agency(name: "Sở Xây dựng", code: "SXD-QLXD", subdomain: "sxd", mailbox: "vanthu"),
        Agency(name: "Sở Nông nghiệp và Phát triển nông thôn", code: "SNN-KH", subdomain: "snnptnt", mailbox: "vanthu"),
        Agency(name: "Sở Lao động - Thương binh và Xã hội", code: "SLĐTBXH-VP", subdomain: "sldtbxh", mailbox: "vanthu"),
        Agency(name: "Thanh tra tỉnh", code: "TTr-VP", subdomain: "thanhtra", mailbox: "vanthu"),
    ]

    static let familyNames = [
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Phan", "Trịnh",
    ]
    static let middleNames = ["Văn", "Thị", "Đức", "Minh", "Thanh", "Quốc", "Ngọc", "Hữu", "Thu", "Hồng", "Xuân", "Kim"]
    static let givenNames = [
        "Anh", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiền", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh",
        "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quang", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Tuấn", "Vân", "Yến",
    ]
    static let titles = ["Chánh Văn phòng", "Phó Giám đốc", "Giám đốc", "Trưởng phòng", "Phó Trưởng phòng", "Chuyên viên", "Văn thư"]

    /// What công văn are about: the "V/v" summary and a sentence of its body.
    static let subjects: [(summary: String, body: String)] = [
        (
            "báo cáo kết quả thực hiện nhiệm vụ quý",
            "Thực hiện chỉ đạo của UBND tỉnh, đề nghị các đơn vị tổng hợp kết quả thực hiện nhiệm vụ trong quý và gửi báo cáo đúng thời hạn."
        ),
        (
            "triển khai phần mềm quản lý văn bản và điều hành",
            "Để thống nhất việc gửi, nhận văn bản điện tử, các cơ quan cập nhật phần mềm quản lý văn bản và điều hành phiên bản mới."
        ),
        (
            "góp ý dự thảo kế hoạch chuyển đổi số năm 2026",
            "Đề nghị các cơ quan, đơn vị nghiên cứu, góp ý dự thảo kế hoạch chuyển đổi số và gửi ý kiến bằng văn bản."
        ),
        (
            "đăng ký nhu cầu đào tạo, bồi dưỡng cán bộ, công chức",
            "Các đơn vị rà soát nhu cầu đào tạo, bồi dưỡng của cán bộ, công chức, viên chức và đăng ký theo biểu mẫu gửi kèm."
        ),
        (
            "tăng cường công tác phòng, chống thiên tai mùa mưa bão",
            "Trước diễn biến phức tạp của thời tiết, UBND các huyện, thị xã, thành phố chủ động rà soát phương án ứng phó."
        ),
        (
            "quyết toán kinh phí ngân sách năm 2025",
            "Đề nghị các đơn vị dự toán lập báo cáo quyết toán kinh phí ngân sách và gửi về Sở Tài chính để thẩm định."
        ),
        (
            "kiểm tra công tác cải cách hành chính",
            "Đoàn kiểm tra của tỉnh sẽ làm việc với các đơn vị theo lịch gửi kèm; đề nghị chuẩn bị báo cáo và hồ sơ liên quan."
        ),
        (
            "cung cấp số liệu phục vụ xây dựng báo cáo kinh tế - xã hội",
            "Để kịp thời tổng hợp, báo cáo UBND tỉnh, đề nghị các sở, ngành cung cấp số liệu theo biểu mẫu đính kèm."
        ),
        (
            "tổ chức hội nghị sơ kết 6 tháng đầu năm",
            "Văn phòng đề nghị các đơn vị chuẩn bị tham luận và cử đại biểu dự hội nghị sơ kết theo thành phần gửi kèm."
        ),
        (
            "hướng dẫn sử dụng chữ ký số trên văn bản điện tử",
            "Các cơ quan thực hiện ký số văn bản điện tử theo hướng dẫn, bảo đảm giá trị pháp lý như văn bản giấy."
        ),
    ]

    static let notices: [String] = [
        "Văn phòng thông báo lịch trực cơ quan dịp nghỉ lễ; đề nghị các phòng phân công cán bộ trực và báo cáo danh sách trước thứ Năm.",
        "Đề nghị các đồng chí cập nhật thông tin cá nhân trên phần mềm quản lý cán bộ trước ngày 15 hằng tháng.",
        "Hệ thống thư điện tử công vụ sẽ bảo trì từ 20 giờ đến 22 giờ tối nay; trong thời gian này các đồng chí tạm ngừng gửi thư.",
        "Công đoàn cơ quan thông báo tổ chức khám sức khỏe định kỳ cho cán bộ, công chức vào sáng thứ Bảy tại Bệnh viện đa khoa tỉnh.",
        "Phòng Tổng hợp đề nghị các đơn vị gửi báo cáo tuần trước 16 giờ chiều thứ Sáu để tổng hợp trình lãnh đạo.",
        "Thông báo kết luận của Giám đốc tại cuộc họp giao ban tháng: các phòng khẩn trương hoàn thành nhiệm vụ được giao.",
        "Đề nghị các đơn vị rà soát, đăng ký danh sách cán bộ tham gia lớp tập huấn kỹ năng số do Sở tổ chức.",
        "Ban Chấp hành Đoàn thanh niên cơ quan thông báo kế hoạch ra quân hưởng ứng Ngày Chủ nhật xanh.",
    ]

    static let meetingTopics: [String] = [
        "họp giao ban lãnh đạo tháng", "hội nghị triển khai nhiệm vụ năm", "họp thẩm định dự án đầu tư công",
        "họp Ban Chỉ đạo chuyển đổi số tỉnh", "làm việc với Đoàn kiểm tra liên ngành", "họp xét thi đua, khen thưởng",
        "hội nghị trực tuyến với các huyện, thị xã", "họp triển khai công tác phòng, chống thiên tai",
    ]

    static let rooms: [String] = [
        "Phòng họp tầng 3, trụ sở Văn phòng UBND tỉnh", "Hội trường A, Trung tâm hành chính công tỉnh", "Phòng họp trực tuyến số 2",
        "Phòng họp Sở Thông tin và Truyền thông", "Hội trường UBND huyện",
    ]

    static let weekdays = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"]

    static let replies: [String] = [
        "Kính gửi anh/chị,\n\nĐơn vị đã nhận được văn bản và sẽ gửi báo cáo đúng thời hạn.\n\nTrân trọng.",
        "Chào anh,\n\nEm gửi lại bản đã chỉnh sửa theo ý kiến góp ý. Anh xem giúp em nhé.\n\nCảm ơn anh.",
        "Kính gửi Văn phòng,\n\nPhòng chúng tôi xác nhận tham dự cuộc họp với 02 đại biểu.\n\nTrân trọng cảm ơn.",
        "Chị ơi,\n\nSố liệu tháng này em đã cập nhật vào biểu mẫu, chị kiểm tra lại giúp em.\n\nEm cảm ơn chị.",
    ]

    static let citizenMailboxes = ["gmail.com", "yahoo.com.vn", "outlook.com", "hotmail.com"]

    /// A name without marks, for mailbox local parts: "Nguyễn Thị Hạnh" → "hanhnt".
    static func mailboxName(family: String, middle: String, given: String) -> String {
        ascii(given).lowercased() + ascii(String(family.prefix(1))).lowercased() + ascii(String(middle.prefix(1))).lowercased()
    }

    /// Vietnamese letters to their ASCII bases (đ → d, marks dropped): mailbox names, and the text
    /// of the PDFs, whose standard Helvetica font has no Vietnamese letters.
    static func ascii(_ text: String) -> String {
        var out = ""
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar.value {
            case 0x300...0x36F: continue
            case 0x111: out.append("d")
            case 0x110: out.append("D")
            case 0..<0x80: out.unicodeScalars.append(scalar)
            default: out.append("?")
            }
        }
        return out
    }
}
