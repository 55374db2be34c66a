import Configuration
import Foundation
import MIMECore
import NIOCore
import Policy
import Quarantine
import SMTPCore
import Testing

@testable import GatewayServer

/// The notice as a message: the shipped templates, headers made safe from hostile values, the
/// MAC that recognises it and refuses a copy.
@Suite struct NoticeComposerTests {
    /// The time a composed notice was signed at (its `t=`): the checks run as if then.
    static func signedAt(_ bytes: [UInt8]) -> Date {
        let text = String(decoding: bytes.prefix(8192), as: UTF8.self)
        guard let range = text.range(of: #"; t=[0-9]+;"#, options: .regularExpression) else { return Date() }
        return Date(timeIntervalSince1970: Double(text[range].dropFirst(4).dropLast()) ?? 0)
    }

    static let templatesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/notices").path

    static let key = NoticeKey(bytes: Array(repeating: 7, count: 32))

    static func composer(key: NoticeKey = key) throws -> NoticeComposer {
        NoticeComposer(
            templates: try NoticeTemplates.load(directory: templatesDirectory),
            key: key,
            from: "thugate@quangninh.gov.vn",
            hostname: "gw.test"
        )
    }

    static func notice(
        subject: String? = "Hồ sơ",
        detail: String = "a.zip",
        mode: NoticeMode = .immediate,
        outcome: String = "held"
    ) -> Notice {
        let event = NoticeEvent(
            outcome: outcome,
            queueID: "0B1C2D3F4G5H",
            receivedAt: Date(timeIntervalSince1970: 1_796_086_799),
            sender: "<vanthu@quangninh.gov.vn>",
            recipients: ["<lanhdao@quangninh.gov.vn>"],
            headerFrom: "Văn thư <vanthu@quangninh.gov.vn>",
            subject: subject,
            rule: "encrypted-archive",
            findings: [HeldFinding(rule: "encrypted-archive", detail: detail, part: "2")]
        )
        let created = Date(timeIntervalSince1970: 1_796_086_800)
        return Notice(
            id: "01kbd3ms2v4x6z8a0c",
            createdAt: created,
            messageID: outcome == "held" ? "01kbd3ms2ta1b2c3d4" : nil,
            request: NoticeRequest(recipient: "antoan@quangninh.gov.vn", role: .officer, mode: mode, event: event, dueAt: created),
            state: .sending,
            attempts: 1,
            dueAt: created,
            digestAt: mode == .digest ? created : nil
        )
    }

    /// The header section's fields, unfolded, by name (lower case).
    static func fields(_ bytes: [UInt8]) -> [(String, String)] {
        let text = String(decoding: bytes, as: UTF8.self)
        let header = String(text[..<text.range(of: "\r\n\r\n")!.lowerBound])
        return header.replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n").map { line in
            let colon = line.firstIndex(of: ":")!
            return (line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
    }

    static func body(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        let encoded = text[text.range(of: "\r\n\r\n")!.upperBound...].filter { !$0.isWhitespace }
        return String(decoding: Data(base64Encoded: String(encoded))!, as: UTF8.self)
    }

    @Test func aNoticeHasItsHeadersAndNoneOfTheMessage() throws {
        let composed = try #require(try Self.composer().compose([Self.notice()]))
        let fields = Self.fields(composed.bytes)
        #expect(
            fields.map(\.0) == [
                "from", "to", "subject", "date", "message-id", "auto-submitted", "x-auto-response-suppress", "mime-version", "content-type",
                "content-transfer-encoding", "x-thugate-notice",
            ]
        )
        let value = Dictionary(uniqueKeysWithValues: fields)
        #expect(value["from"] == "ThuGate <thugate@quangninh.gov.vn>" && value["to"] == "<antoan@quangninh.gov.vn>")
        #expect(value["auto-submitted"] == "auto-generated" && value["date"] == "Tue, 1 Dec 2026 08:00:00 +0700")
        #expect(value["message-id"] == "<notice.01kbd3ms2v4x6z8a0c@gw.test>" && composed.mailID == value["message-id"])
        #expect(
            EncodedWords.decode(value["subject"]!) == "[ThuGate] Thư bị giữ lại để xem xét / Message held for review: encrypted-archive"
        )
        let body = Self.body(composed.bytes)
        #expect(body.contains("Mã thư / ID:             01kbd3ms2ta1b2c3d4"))
        #expect(body.contains("thugate quarantine show 01kbd3ms2ta1b2c3d4"))
        #expect(body.contains("Thời gian / Received:    2026-12-01 07:59:59 +07:00"))
        #expect(body.contains("encrypted-archive(2): a.zip") && body.contains("Hồ sơ"))
        #expect(!body.contains("{"))
    }

    @Test func hostileValuesNeverMakeAHeaderOrAControlCharacter() throws {
        let hostile = Self.notice(subject: "x\r\nBcc: victim@example.com\u{1B}[2J", detail: "a.zip\r\nX-Injected: 1")
        let composed = try #require(try Self.composer().compose([hostile]))
        let header = String(decoding: composed.bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
        #expect(!header.lowercased().contains("\r\nbcc:") && !header.contains("X-Injected"))
        #expect(header.utf8.allSatisfy { $0 < 0x80 && ($0 >= 0x20 || $0 == 0x0D || $0 == 0x0A || $0 == 0x09) })
        #expect(header.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
        let body = Self.body(composed.bytes)
        // CR and LF became spaces: the text is on the Subject's line, not a line of its own.
        #expect(!body.unicodeScalars.contains { $0.value == 0x1B })
        #expect(body.contains("Tiêu đề / Subject:       x  Bcc: victim@example.com\r\n"))
        #expect(!body.components(separatedBy: "\r\n").contains { $0.hasPrefix("Bcc:") || $0.hasPrefix("X-Injected") })
    }

    @Test func aStateSecretNoticeWithholdsTheSubjectAndARefusedOneHasNoReview() throws {
        let withheld = Self.body(try #require(try Self.composer().compose([Self.notice(subject: nil)])).bytes)
        #expect(withheld.contains("(không hiển thị / withheld)") && !withheld.contains("Hồ sơ"))
        let refused = try #require(try Self.composer().compose([Self.notice(outcome: "refused")]))
        #expect(EncodedWords.decode(Dictionary(uniqueKeysWithValues: Self.fields(refused.bytes))["subject"]!).contains("Message refused"))
        #expect(!Self.body(refused.bytes).contains("thugate quarantine show"))
    }

    @Test func aDigestListsItsNoticesInOneMessage() throws {
        var second = Self.notice(subject: "Báo cáo", mode: .digest)
        second.id = "01kbd3ms2v4x6z8a0d"
        let composed = try #require(try Self.composer().compose([Self.notice(mode: .digest), second]))
        #expect(composed.noticeIDs == ["01kbd3ms2v4x6z8a0c", "01kbd3ms2v4x6z8a0d"])
        #expect(composed.mailID == "<digest.01kbd3ms2v4x6z8a0c@gw.test>")
        let body = Self.body(composed.bytes)
        #expect(body.contains("Hồ sơ") && body.contains("Báo cáo") && body.contains("(2)"))
        #expect(body.components(separatedBy: "giữ lại / held").count == 3)
    }

    @Test func theMACVerifiesItsOwnNoticeAndNothingElse() throws {
        let composed = try #require(try Self.composer().compose([Self.notice()]))
        func check(_ bytes: [UInt8], key: NoticeKey? = Self.key) -> NoticeSignature.Check {
            bytes.withUnsafeBytes { NoticeSignature.check($0, key: key, now: Self.signedAt(bytes)) }
        }
        #expect(check(composed.bytes) == .valid(id: "notice.01kbd3ms2v4x6z8a0c"))
        // A relay that rewraps the base64 lines changes nothing.
        let text = String(decoding: composed.bytes, as: UTF8.self)
        let split = text.range(of: "\r\n\r\n")!
        let rewrapped = text[..<split.upperBound] + text[split.upperBound...].replacingOccurrences(of: "\r\n", with: "") + "\r\n"
        #expect(check(Array(rewrapped.utf8)) == .valid(id: "notice.01kbd3ms2v4x6z8a0c"))
        // The header copied onto another body, a changed id, another key, two headers: not ours.
        let header = String(text[..<split.upperBound])
        #expect(check(Array((header + "SGVsbG8=\r\n").utf8)) == .invalid("MAC does not verify"))
        let otherID = text.replacingOccurrences(of: "id=notice.01kbd3ms2v4x6z8a0c", with: "id=notice.01kbd3ms2v4x6z8a0d")
        #expect(check(Array(otherID.utf8)) == .invalid("MAC does not verify"))
        #expect(check(composed.bytes, key: NoticeKey(bytes: Array(repeating: 8, count: 32))) == .invalid("MAC does not verify"))
        let field = text.components(separatedBy: "\r\n").first { $0.hasPrefix("X-ThuGate-Notice:") }!
        #expect(check(Array((field + "\r\n" + text).utf8)) == .invalid("2 X-ThuGate-Notice fields"))
        #expect(check(Array("X-ThuGate-Notice: v=1; id=x; t=1; mac=zz\r\n\r\nhi\r\n".utf8)) == .invalid("malformed field"))
        #expect(check(Array("Subject: hi\r\n\r\nhi\r\n".utf8)) == .absent)
        // A captured notice sent again with other headers gains nothing: the signed fields are
        // covered, an unsigned field of the sender's own is refused, and so is an old one.
        let resubjected = text.replacingOccurrences(of: "\r\nSubject: ", with: "\r\nSubject: TUYỆT MẬT ")
        #expect(check(Array(resubjected.utf8)) == .invalid("MAC does not verify"))
        let redirected = text.replacingOccurrences(of: "\r\nTo: <", with: "\r\nTo: <x")
        #expect(check(Array(redirected.utf8)) == .invalid("MAC does not verify"))
        #expect(check(Array(("X-Secret: TUYỆT MẬT\r\n" + text).utf8)) == .invalid("unsigned field x-secret"))
        #expect(check(Array(("Subject: again\r\n" + text).utf8)) == .invalid("a signed field appears twice"))
        let traced = "Received: from relay.quangninh.gov.vn by mail.quangninh.gov.vn; Tue, 1 Dec 2026 08:00:00 +0700\r\n" + text
        #expect(check(Array(traced.utf8)) == .valid(id: "notice.01kbd3ms2v4x6z8a0c"))
        let signed = Self.signedAt(composed.bytes)
        let late = composed.bytes.withUnsafeBytes { NoticeSignature.check($0, key: Self.key, now: signed.addingTimeInterval(8 * 86400)) }
        #expect(late == .invalid("t=\(Int64(signed.timeIntervalSince1970)) is not a notice being delivered now"))
        // As the notice service sends it: from <>, to its To: only.
        func sent(_ sender: String, _ recipients: [String]) -> NoticeSignature.Check {
            composed.bytes.withUnsafeBytes { NoticeSignature.check($0, key: Self.key, now: signed, envelope: (sender, recipients)) }
        }
        let to = composed.recipient
        #expect(sent("", [to]) == .valid(id: "notice.01kbd3ms2v4x6z8a0c"))
        #expect(sent("", [to.uppercased()]) == .valid(id: "notice.01kbd3ms2v4x6z8a0c"))
        #expect(sent("a@b.vn", [to]) == .invalid("not sent as a notice (from <>, to its one To: address)"))
        #expect(sent("", [to, "outside@example.com"]) == .invalid("not sent as a notice (from <>, to its one To: address)"))
    }

    @Test func onAVerifiedNoticeOnlyMalwareKeepsItsVerdict() {
        let marking = Finding(.init(rawValue: "state-secret"), detail: "TỐI MẬT", part: "1")
        #expect(NoticeSignature.verdictForOwnNotice(.quarantine(marking), findings: [marking]) == .tag(marking))
        #expect(NoticeSignature.verdictForOwnNotice(.reject(marking), findings: [marking]) == .tag(marking))
        let virus = Finding(.virus, detail: "Eicar", part: "1")
        #expect(NoticeSignature.verdictForOwnNotice(.reject(virus), findings: [marking, virus]) == .reject(virus))
        #expect(NoticeSignature.verdictForOwnNotice(.pass, findings: []) == .pass)
    }

    @Test func aTemplateWithAnUnknownPlaceholderIsRefusedWithItsLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("notices-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["held.txt", "refused.txt", "refused-kept.txt", "digest.txt", "digest-item.txt"] {
            try FileManager.default.copyItem(atPath: Self.templatesDirectory + "/" + name, toPath: directory + "/" + name)
        }
        try "Subject: {rule}\n\nline\n{body_of_message}\n".write(toFile: directory + "/held.txt", atomically: true, encoding: .utf8)
        #expect {
            try NoticeTemplates.load(directory: directory)
        } throws: { error in
            "\(error)".hasSuffix(
                "held.txt:4: unknown placeholder {body_of_message} (known: detail, from, id, notice_id, outcome, queue_id, recipients, review, rule, sender, subject, time)"
            )
        }
        try "no subject line\n".write(toFile: directory + "/held.txt", atomically: true, encoding: .utf8)
        #expect(throws: NoticeTemplates.Failure.self) { try NoticeTemplates.load(directory: directory) }
        #expect(NoticeTemplates.render("{rule} {unknown} {{rule}} {", ["rule": "virus"]) == "virus {unknown} {virus} {")
    }

    @Test func aKeyFileIsCreatedPrivateAndAReadableOneIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/notice.key"
        let (created, isNew) = try NoticeKey.loadOrCreate(path: path)
        #expect(isNew)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (loaded, again) = try NoticeKey.loadOrCreate(path: path)
        #expect(!again)
        // The same key: what one signs, the other verifies.
        let composed = try #require(try Self.composer(key: created).compose([Self.notice()]))
        #expect(
            composed.bytes.withUnsafeBytes { NoticeSignature.check($0, key: loaded, now: Self.signedAt(composed.bytes)) }
                == .valid(id: "notice.01kbd3ms2v4x6z8a0c")
        )
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: NoticeKey.Failure.self) { try NoticeKey.loadOrCreate(path: path) }
    }

    @Test func a250IsSentA5xxDeadA4xxDueAgainUntilItGivesUp() {
        var settings = NotifySettings()
        settings.retry = [.minutes(1), .minutes(5)]
        settings.giveUpAfter = .hours(1)
        var notice = Self.notice()
        let now = notice.createdAt.addingTimeInterval(10)
        func outcome(_ code: Int, attempts: Int, at: Date = now) -> NoticeResult.Outcome {
            notice.attempts = attempts
            return NoticeService.outcome(
                .custom(code, EnhancedStatus(code / 100, 0, 0), "x"),
                notice: notice,
                now: at,
                settings: settings,
                mailID: "<m>"
            )
        }
        #expect(outcome(250, attempts: 1) == .sent(mailID: "<m>"))
        #expect(outcome(550, attempts: 1) == .dead)
        #expect(outcome(451, attempts: 1) == .retry(at: now.addingTimeInterval(60)))
        #expect(outcome(451, attempts: 2) == .retry(at: now.addingTimeInterval(300)))
        #expect(outcome(451, attempts: 9) == .retry(at: now.addingTimeInterval(300)))
        #expect(outcome(451, attempts: 9, at: notice.createdAt.addingTimeInterval(3500)) == .dead)
    }
}
