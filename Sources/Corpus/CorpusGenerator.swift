import Foundation
import VietText

/// One generated message: its file name, bytes and manifest entry.
public struct GeneratedMessage: Sendable {
    public var file: String
    public var bytes: [UInt8]
    public var entry: ManifestEntry
}

/// What the manifest says of one message: its envelope, its kind, and what ThuGate's shipped
/// configuration (Config/thugate.toml) decides.
public struct ManifestEntry: Sendable, Equatable {
    public var file: String
    public var mailFrom: String
    public var rcptTo: [String]
    public var kind: MessageKind
    /// `accept` (no finding), `tag` (delivered with findings), `quarantine` or `reject`.
    public var action: String
    /// The rule ids of the findings, sorted, each once.
    public var rules: [String]

    /// One line of manifest.jsonl, keys in a fixed order.
    public var jsonLine: String {
        "{\"file\":\(json(file)),\"mail_from\":\(json(mailFrom)),\"rcpt_to\":[\(rcptTo.map(json).joined(separator: ","))],"
            + "\"kind\":\(json(kind.rawValue)),\"expected\":{\"action\":\(json(action)),"
            + "\"rules\":[\(rules.map(json).joined(separator: ","))]}}"
    }

    private func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{00}"..."\u{1F}": out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// The corpus of issue 14: provincial mail with its expected verdicts. Pure: the same seed and
/// count give the same bytes, and message `index` does not depend on the others, so a caller may
/// build them in any order or in parallel.
public struct CorpusGenerator: Sendable {
    public let seed: UInt64
    public let kinds: [MessageKind]

    public init(seed: UInt64, count: Int, mix: CorpusMix = CorpusMix()) {
        self.seed = seed
        self.kinds = corpusPlan(seed: seed, count: count, mix: mix)
    }

    /// `000001.eml` for the first message.
    public static func fileName(_ index: Int) -> String {
        let digits = String(index + 1)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".eml"
    }

    public func message(at index: Int) -> GeneratedMessage {
        var builder = MessageBuilder(seed: seed, index: index, kind: kinds[index])
        return builder.build()
    }
}

/// The expected verdict of each kind under the shipped defaults ([policy] in Config/thugate.toml,
/// the rules' `defaultAction`s).
extension MessageKind {
    var expected: (action: String, rules: [String]) {
        switch self {
        case .notice, .meeting, .congvan, .scan, .reply, .forward, .list, .large: ("accept", [])
        // TCVN 6909 conversion (Transforms' legacy-encoding finding): delivered converted, tagged.
        case .legacyTCVN3, .legacyVNI, .legacyCP1258: ("tag", ["legacy-encoding"])
        case .virus, .virusZip: ("reject", ["virus"])
        case .executable: ("reject", ["executable"])
        // encrypted_archive = "quarantine" (the finding names the members it could not read).
        case .encryptedZip: ("quarantine", ["encrypted-archive"])
        case .oversize: ("reject", ["attachment-size"])
        case .secretDocument, .secretSubject: ("reject", ["state-secret"])
        case .autoForward: ("reject", ["auto-forward"])
        }
    }
}

/// The standard antivirus test file (EICAR).
let eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

/// Builds one message: its people, dates, text, attachments and envelope.
struct MessageBuilder {
    typealias Province = VietnameseText.Province
    typealias Agency = VietnameseText.Agency

    struct Person {
        var name: String
        var title: String
        var address: String
    }

    let seed: UInt64
    let index: Int
    let kind: MessageKind
    var random: CorpusRandom
    let province: Province
    let agency: Agency
    let date: CorpusDate
    /// A reference only this message has (the e-document identifier of its documents), so that no
    /// two attachments of a corpus are the same bytes.
    let documentID: String
    let documentNumber: Int

    init(seed: UInt64, index: Int, kind: MessageKind) {
        self.seed = seed
        self.index = index
        self.kind = kind
        var random = CorpusRandom(seed: seed, stream: UInt64(index))
        province = random.pick(VietnameseText.provinces)
        agency = random.pick(VietnameseText.agencies)
        date = CorpusDate(workday: index / 60, secondsIntoDay: random.int(7 * 3600 + 30 * 60...17 * 3600))
        documentID = "000.00.\(random.int(10...99)).H\(random.int(10...63))-\(seed)-\(index + 1)"
        documentNumber = random.int(12...2400)
        self.random = random
    }

    func domain(_ agency: Agency, in province: Province) -> String {
        agency.subdomain.isEmpty ? province.domain : "\(agency.subdomain).\(province.domain)"
    }

    mutating func person(in agency: Agency, province: Province) -> Person {
        let family = random.pick(VietnameseText.familyNames)
        let middle = random.pick(VietnameseText.middleNames)
        let given = random.pick(VietnameseText.givenNames)
        return Person(
            name: "\(family) \(middle) \(given)",
            title: random.pick(VietnameseText.titles),
            address: "\(VietnameseText.mailboxName(family: family, middle: middle, given: given))@\(domain(agency, in: province))"
        )
    }

    mutating func citizen() -> Person {
        let family = random.pick(VietnameseText.familyNames)
        let middle = random.pick(VietnameseText.middleNames)
        let given = random.pick(VietnameseText.givenNames)
        let local = VietnameseText.ascii("\(given)\(middle)\(family)").lowercased() + String(random.int(80...2005))
        return Person(name: "\(family) \(middle) \(given)", title: "", address: "\(local)@\(random.pick(VietnameseText.citizenMailboxes))")
    }

    /// The agency's own mailbox (văn thư), where công văn go.
    func office(_ agency: Agency, in province: Province) -> Person {
        Person(name: agency.name, title: "", address: "\(agency.mailbox)@\(domain(agency, in: province))")
    }

    mutating func otherAgency() -> Agency {
        var other = random.pick(VietnameseText.agencies)
        while other.name == agency.name { other = random.pick(VietnameseText.agencies) }
        return other
    }

    mutating func messageID(_ domain: String) -> String {
        "<\(date.pdfDigits).\(random.token(10))@\(domain)>"
    }

    mutating func boundary() -> String { "=_\(random.token(24))" }

    /// "Số: 123/UBND-VP".
    var number: String { "Số: \(documentNumber)/\(agency.code)" }

    func signature(_ person: Person) -> String {
        "--\n\(person.name)\n\(person.title), \(agency.name)\n\(agency.name == "Văn phòng UBND tỉnh" ? "UBND tỉnh \(province.name)" : "tỉnh \(province.name)")"
    }

    /// Sentences of a công văn body: the subject's, then others from the pool.
    mutating func paragraphs(_ subject: (summary: String, body: String), count: Int) -> [String] {
        var out = [subject.body]
        for _ in 0..<count {
            let other = random.pick(VietnameseText.subjects)
            out.append(other.body)
            if random.chance(0.3) { out.append(random.pick(VietnameseText.notices)) }
        }
        return out
    }

    // MARK: - Documents

    mutating func wordDocument(_ subject: (summary: String, body: String), from sender: Person, stamp: String? = nil) -> [UInt8] {
        let body = paragraphs(subject, count: random.int(4...30))
        var content: [OfficeWriter.Paragraph] = [
            .init(text: "V/v \(subject.summary)", centered: true, size: 24),
            .init(text: "Kính gửi: Các sở, ban, ngành; UBND các huyện, thị xã, thành phố.", centered: true),
        ]
        content += body.map { .init(text: $0) }
        content += [
            .init(text: "Mã định danh văn bản: \(documentID)"),
            .init(text: "Nơi nhận:", bold: true),
            .init(text: "- Như trên;"),
            .init(text: "- Lưu: VT."),
            .init(text: sender.title.uppercased(), bold: true, centered: true),
            .init(text: sender.name, bold: true, centered: true),
        ]
        let header: [OfficeWriter.Paragraph] =
            stamp.map { [.init(text: $0, bold: true, centered: true, size: 28)] } ?? [.init(text: agency.name, centered: true, size: 20)]
        return OfficeWriter.docx(
            .init(
                agency: agency.name,
                parentAgency: "UBND tỉnh \(province.name)",
                number: number,
                placeAndDate: "\(province.city), \(date.vietnamese)",
                paragraphs: content,
                header: header,
                title: "V/v \(subject.summary)",
                author: sender.name,
                created: date.w3cdtf
            ),
            date: date.ymd
        )
    }

    mutating func workbook(from sender: Person) -> [UInt8] {
        var rows = [["STT", "Thời gian", "Nội dung", "Chủ trì", "Địa điểm", "Ghi chú"]]
        for row in 1...random.int(6...60) {
            let day = CorpusDate(workday: index / 60 + row / 4, secondsIntoDay: random.int(7...16) * 3600)
            rows.append([
                String(row), "\(day.time), \(day.weekdayName) \(day.short)", random.pick(VietnameseText.meetingTopics),
                "Đồng chí \(random.pick(VietnameseText.familyNames)) \(random.pick(VietnameseText.givenNames))",
                random.pick(VietnameseText.rooms), row == 1 ? documentID : "",
            ])
        }
        return OfficeWriter.xlsx(
            .init(sheetName: "Lịch công tác", rows: rows, title: "Lịch công tác tuần", author: sender.name, created: date.w3cdtf),
            date: date.ymd
        )
    }

    mutating func pdfDocument(_ subject: (summary: String, body: String), from sender: Person) -> [UInt8] {
        var lines = [
            "UBND tỉnh \(province.name)", agency.name, number, "\(province.city), \(date.vietnamese)", "", "V/v \(subject.summary)", "",
        ]
        for paragraph in paragraphs(subject, count: random.int(4...60)) { lines += wrap(paragraph, width: 90) + [""] }
        lines += ["Mã định danh văn bản: \(documentID)", "", sender.title, sender.name]
        return PDFWriter.pdf(title: "V/v \(subject.summary)", author: sender.name, lines: lines, created: date.pdfDigits)
    }

    mutating func scannedImage() -> [UInt8] {
        ImageWriter.scannedPage(width: random.int(380...460), height: random.int(540...640), noise: 0.01, random: &random)
    }

    /// An image of about `bytes` that does not compress (a high-resolution colour-free scan).
    mutating func bigImage(bytes: Int) -> [UInt8] {
        let width = 2480
        return ImageWriter.scannedPage(width: width, height: bytes / (width + 1), noise: 1, random: &random, level: 0)
    }

    func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = String(word)
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    func fileStem(_ summary: String) -> String {
        var words = summary.split(separator: " ").prefix(6).joined(separator: " ")
        while words.last == "," { words.removeLast() }
        return "CV \(number.dropFirst(4).replacingOccurrences(of: "/", with: "-")) \(words)"
    }

    // MARK: - Messages

    /// What a message is made of before it is written out.
    struct Draft {
        var sender: Person
        var recipients: [Person]
        /// The To field's people when not every recipient is named there (Bcc, a list).
        var visibleTo: [Person]? = nil
        var subject = ""
        var text = ""
        var attachments: [(bytes: [UInt8], type: String, name: String)] = []
        var extraFields: [(String, String)] = []
        /// The legacy encoding of the text and the charset label its client gave it.
        var legacy: (VietEncoding, String)? = nil
        var html = false
    }

    mutating func build() -> GeneratedMessage {
        let sender = person(in: agency, province: province)
        var recipients: [Person] = []
        for _ in 0..<random.int(1...3) {
            let other = otherAgency()
            recipients.append(random.chance(0.5) ? office(other, in: province) : person(in: other, province: province))
        }
        var draft = Draft(sender: sender, recipients: recipients)
        let topic = random.pick(VietnameseText.subjects)
        compose(&draft, topic: topic)
        address(&draft)
        if kind == .secretSubject { draft.subject = "[TỐI MẬT] " + draft.subject }
        if !draft.text.hasSuffix("\n\n") { draft.text += "\n" }
        if draft.sender.title.isEmpty == false { draft.text += signature(draft.sender) + "\n" }
        switch kind {
        case .legacyTCVN3: draft.legacy = (.tcvn3, "iso-8859-1")
        case .legacyVNI: draft.legacy = (.vni, "windows-1252")
        case .legacyCP1258: draft.legacy = (.cp1258, "windows-1258")
        default: break
        }

        return assemble(draft)
    }

    /// The subject, text and attachments of the message's kind.
    private mutating func compose(_ draft: inout Draft, topic: (summary: String, body: String)) {
        func notice(_ builder: inout MessageBuilder) -> (String, String) {
            let notice = builder.random.pick(VietnameseText.notices)
            let words = notice.split(separator: ";")[0].split(separator: " ").prefix(9).joined(separator: " ")
            let title = words.hasPrefix("Thông báo") ? words : "Thông báo: " + words
            return (title, "Kính gửi: Các phòng, đơn vị trực thuộc\n\n\(notice)\n\nTrân trọng./.\n\n")
        }

        switch kind {
        case .notice, .list, .legacyTCVN3, .legacyVNI, .legacyCP1258, .secretSubject:
            (draft.subject, draft.text) = notice(&self)
            draft.html = kind == .notice && random.chance(0.3)
        case .meeting:
            let topicName = random.pick(VietnameseText.meetingTopics)
            let day = CorpusDate(workday: index / 60 + random.int(1...4), secondsIntoDay: random.int(7...16) * 3600)
            draft.subject = "Lịch \(topicName) \(day.weekdayName.lowercased()) \(day.short)"
            let chair = person(in: agency, province: province)
            draft.text = """
                Kính gửi: Các đồng chí lãnh đạo và trưởng các phòng

                \(agency.name) trân trọng thông báo lịch \(topicName) như sau:
                - Thời gian: \(day.hour) giờ 00, \(day.weekdayName), ngày \(day.short)
                - Địa điểm: \(random.pick(VietnameseText.rooms))
                - Chủ trì: đồng chí \(chair.name), \(chair.title)
                - Thành phần: lãnh đạo các phòng, đơn vị trực thuộc

                Đề nghị các đồng chí tham dự đầy đủ, đúng giờ.

                """
            if random.chance(0.3) {
                draft.attachments.append(
                    (
                        workbook(from: draft.sender), xlsxType,
                        "Lịch công tác tuần \(day.short.replacingOccurrences(of: "/", with: "-")).xlsx"
                    )
                )
            }
        case .congvan, .encryptedZip, .secretDocument:
            draft.subject = "V/v \(topic.summary)"
            draft.text =
                "Kính gửi: \(draft.recipients[0].name)\n\n\(agency.name) gửi kèm \(number.dropFirst(4)) ngày \(date.short) về việc \(topic.summary).\n\nĐề nghị quý cơ quan nghiên cứu, thực hiện.\n\nTrân trọng./.\n\n"
            let stem = fileStem(topic.summary)
            if kind == .secretDocument {
                draft.attachments.append((wordDocument(topic, from: draft.sender, stamp: "TỐI MẬT"), docxType, "\(stem).docx"))
            } else if kind == .encryptedZip {
                var zip = ZipWriter(year: date.year, month: date.month, day: date.day, hour: date.hour, minute: date.minute)
                let password = random.token(8)
                zip.add("\(stem).docx", wordDocument(topic, from: draft.sender), password: password, salt: random.bytes(11))
                zip.add("\(stem).pdf", pdfDocument(topic, from: draft.sender), password: password, salt: random.bytes(11))
                draft.attachments.append((zip.finished(), "application/zip", "\(stem).zip"))
                // As people do: the password in the same mail (so a test can open the archive with it).
                draft.text += "Mật khẩu giải nén: \(password)\n\n"
            } else {
                let choice = random.int(0...5)
                if choice != 1 { draft.attachments.append((wordDocument(topic, from: draft.sender), docxType, "\(stem).docx")) }
                if choice == 1 || choice >= 3 {
                    draft.attachments.append((pdfDocument(topic, from: draft.sender), "application/pdf", "\(stem).pdf"))
                }
                if choice == 2 || choice == 5 {
                    draft.attachments.append(
                        (
                            workbook(from: draft.sender), xlsxType,
                            "Biểu mẫu kèm theo \(number.dropFirst(4).replacingOccurrences(of: "/", with: "-")).xlsx"
                        )
                    )
                }
            }
        case .scan, .large, .oversize:
            draft.subject = "Bản scan \(number.dropFirst(4)) V/v \(topic.summary)"
            draft.text =
                "Kính gửi: \(draft.recipients[0].name)\n\nVăn thư gửi bản scan văn bản đã ký, đóng dấu để các đơn vị theo dõi.\n\nTrân trọng.\n\n"
            let name = "Scan_\(date.pdfDigits.prefix(8))_\(date.pdfDigits.suffix(6)).png"
            switch kind {
            case .large: draft.attachments.append((bigImage(bytes: random.int(5_000_000...19_000_000)), "image/png", name))
            case .oversize: draft.attachments.append((bigImage(bytes: random.int(21_500_000...23_000_000)), "image/png", name))
            default: draft.attachments.append((scannedImage(), "image/png", name))
            }
        case .reply:
            let original = draft.recipients[0]
            draft.subject = "Re: V/v \(topic.summary)"
            let originalDate = CorpusDate(workday: max(0, index / 60 - random.int(0...2)), secondsIntoDay: random.int(7...16) * 3600)
            let quoted = "Kính gửi các đơn vị,\n\nGửi kèm văn bản về việc \(topic.summary).\n\n\(topic.body)\n\nTrân trọng."
            draft.text =
                random.pick(VietnameseText.replies)
                + "\n\nVào \(originalDate.time) \(originalDate.weekdayName), \(originalDate.short), \(original.name) <\(original.address)> đã viết:\n"
                + quoted.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n") + "\n\n"
            let inReplyTo = "<\(originalDate.pdfDigits).\(random.token(10))@\(original.address.split(separator: "@")[1])>"
            draft.extraFields += [("In-Reply-To", inReplyTo), ("References", inReplyTo)]
            draft.recipients = [original]
        case .forward:
            let original = office(otherAgency(), in: province)
            draft.subject = "Fwd: V/v \(topic.summary)"
            draft.text = """
                Chuyển các đồng chí nghiên cứu, tham mưu xử lý.

                ---------- Forwarded message ---------
                From: \(original.name) <\(original.address)>
                Date: \(date.weekdayName), \(date.short)
                Subject: V/v \(topic.summary)
                To: \(office(agency, in: province).address)

                \(topic.body)

                Trân trọng./.

                """
            if random.chance(0.5) {
                draft.attachments.append((wordDocument(topic, from: draft.sender), docxType, "\(fileStem(topic.summary)).docx"))
            }
            if random.chance(0.25) {
                // Forwarded by hand to the official's own personal mailbox: a person's "Fwd:" is no
                // automatic forwarding (auto_forward), and a readable document is checked whole.
                let local = VietnameseText.ascii(draft.sender.name).lowercased().split(separator: " ").joined(separator: ".")
                draft.recipients = [Person(name: draft.sender.name, title: "", address: "\(local)\(random.int(1...99))@gmail.com")]
                draft.text = "Gửi để đọc trên điện thoại.\n\n" + draft.text
            }
        case .virus, .virusZip, .executable:
            draft.subject = "V/v \(topic.summary)"
            draft.text = "Kính gửi: \(draft.recipients[0].name)\n\nGửi anh/chị tài liệu kèm theo.\n\nTrân trọng.\n\n"
            // The standard string, then a line of this message's own: libclamav's cache of clean files
            // must never answer for another message's file.
            let test = Array((eicar + "\r\n" + documentID + "\r\n").utf8)
            switch kind {
            case .virus: draft.attachments.append((test, "text/plain", "tai-lieu-\(index + 1).txt"))
            case .virusZip:
                var zip = ZipWriter(year: date.year, month: date.month, day: date.day)
                zip.add("\(fileStem(topic.summary)).docx", wordDocument(topic, from: draft.sender))
                zip.add("eicar.com.txt", test)
                draft.attachments.append(
                    (zip.finished(), "application/zip", "Tài liệu \(date.short.replacingOccurrences(of: "/", with: "-")).zip")
                )
            default:
                let program = ExecutableWriter.pe32(timestamp: UInt32(truncatingIfNeeded: random.next()), filler: random.bytes(0x1F0))
                draft.attachments.append((program, "application/octet-stream", "Cai dat phan mem \(index + 1).exe"))
            }
        case .autoForward:
            (draft.subject, draft.text) = notice(&self)
        }

    }

    /// Who sends and who receives, where the kind decides it.
    private mutating func address(_ draft: inout Draft) {
        switch kind {
        case .list:
            let count = random.int(25...120)
            var many: [Person] = []
            for slot in 0..<count {
                if slot % 3 == 0 {
                    let district = VietnameseText.ascii(province.districts[slot / 3 % province.districts.count]).lowercased()
                        .replacingOccurrences(of: " ", with: "")
                    many.append(Person(name: "", title: "", address: "vanthu.\(slot / 3)@\(district).\(province.domain)"))
                } else {
                    many.append(person(in: random.pick(VietnameseText.agencies), province: province))
                }
            }
            draft.recipients = many
            draft.sender = office(.init(name: "Văn phòng UBND tỉnh", code: "UBND-VP", subdomain: "", mailbox: "vanphong"), in: province)
            draft.visibleTo = Array(many.prefix(30))
            draft.subject = "[Thông báo chung] " + draft.subject
        case .autoForward:
            // A Zimbra mailbox redirect: the state mailbox's owner forwards everything to a
            // personal Gmail; the envelope sender stays the colleague's.
            let owner = person(in: agency, province: province)
            draft.extraFields.append(("X-Zimbra-Forwarded", owner.address))
            let gmail = VietnameseText.ascii(owner.name).lowercased().replacingOccurrences(of: " ", with: ".") + ".canhan@gmail.com"
            draft.visibleTo = [owner]
            draft.sender = office(agency, in: province)
            draft.recipients = [Person(name: owner.name, title: "", address: gmail)]
        case .notice where random.chance(0.15):
            // A citizen writes to an office from a personal mailbox.
            let writer = citizen()
            draft.sender = writer
            draft.recipients = [office(agency, in: province)]
            draft.subject = "Đề nghị hướng dẫn thủ tục hành chính"
            draft.text =
                "Kính gửi \(agency.name),\n\nTôi là \(writer.name), xin được hướng dẫn hồ sơ thủ tục cấp phép theo quy định.\n\nXin cảm ơn.\n\n"
        default:
            if kind == .meeting || kind == .notice { draft.recipients.append(person(in: agency, province: province)) }
        }

    }

    /// The MIME message and its manifest entry.
    private mutating func assemble(_ draft: Draft) -> GeneratedMessage {
        // The text body.
        let textEncoding: MIMEWriter.TextEncoding = random.pick([.quotedPrintable, .quotedPrintable, .base64, .eightBit])
        var body: MIMEWriter.Entity
        if let (encoding, charset) = draft.legacy {
            body = .legacyText(
                Self.legacyBytes(draft.text, encoding),
                charset: charset,
                encoding: random.chance(0.5) ? .quotedPrintable : .eightBit
            )
        } else if draft.html {
            let paragraphs = draft.text.split(separator: "\n\n").map {
                "<p>" + OfficeWriter.escape(String($0)).replacingOccurrences(of: "\n", with: "<br>") + "</p>"
            }
            body = .multipart(
                subtype: "alternative",
                boundary: boundary(),
                [
                    .text(draft.text, subtype: "plain", encoding: textEncoding),
                    .text(
                        "<html><body>" + paragraphs.joined(separator: "\n") + "</body></html>",
                        subtype: "html",
                        encoding: .quotedPrintable
                    ),
                ]
            )
        } else {
            body = .text(draft.text, subtype: "plain", encoding: textEncoding)
        }
        if !draft.attachments.isEmpty {
            body = .multipart(
                subtype: "mixed",
                boundary: boundary(),
                [body] + draft.attachments.map { .attachment($0.bytes, type: $0.type, filename: $0.name) }
            )
        }

        let senderHost = draft.sender.address.split(separator: "@").last.map(String.init) ?? domain(agency, in: province)
        var fields: [(String, String)] = [
            ("Date", date.rfc5322),
            ("From", MIMEWriter.address(draft.sender.name, draft.sender.address)),
            (
                "To",
                (draft.visibleTo ?? draft.recipients).map { MIMEWriter.address($0.name.isEmpty ? nil : $0.name, $0.address) }.joined(
                    separator: ", "
                )
            ),
            ("Subject", MIMEWriter.encodedWords(draft.subject)),
            ("Message-ID", messageID(senderHost)),
        ]
        fields += draft.extraFields
        fields.append(
            (
                "X-Mailer",
                draft.legacy != nil
                    ? "Microsoft Outlook Express 6.00.2900.5512"
                    : senderHost.hasSuffix(".gov.vn")
                        ? "Zimbra 8.8.15_GA_4508 (ZimbraWebClient - GC120 (Win)/8.8.15_GA_4481)" : "Mozilla Thunderbird 115.8.0"
            )
        )
        let file = CorpusGenerator.fileName(index)
        let (action, rules) = kind.expected
        let entry = ManifestEntry(
            file: file,
            mailFrom: draft.sender.address,
            rcptTo: draft.recipients.map(\.address),
            kind: kind,
            action: action,
            rules: rules
        )
        return GeneratedMessage(file: file, bytes: MIMEWriter.message(fields: fields, entity: body), entry: entry)
    }

    private var docxType: String { "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }
    private var xlsxType: String { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }

    /// `text` in a legacy encoding, CRLF lines. A letter the encoding lacks (TCVN3 has no toned
    /// capitals) is written as its lowercase, as typists with only the lowercase font did.
    static func legacyBytes(_ text: String, _ encoding: VietEncoding) -> [UInt8] {
        var out: [UInt8] = []
        for character in VietConverter.nfc(MIMEWriter.normalizedLines(text)) {
            let single = String(character)
            if let bytes = VietConverter.fromUnicode(single, to: encoding) {
                out += bytes
            } else if let bytes = VietConverter.fromUnicode(single.lowercased(), to: encoding) {
                out += bytes
            } else {
                out.append(0x3F)
            }
        }
        return out
    }
}
