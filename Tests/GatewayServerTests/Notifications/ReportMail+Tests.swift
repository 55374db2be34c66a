import Foundation
import MIMECore
import Quarantine
import Testing

@testable import GatewayServer

/// A report mailed through the outbox, as the notice service composes it: a `multipart/mixed`
/// that the gateway's own MIME parser reads without a defect, the HTML attachment exactly the
/// report, the table as the text part, the notice headers and MAC, nothing a hostile address or
/// period could smuggle into the header section.
@Suite struct ReportMailTests {
    static let html = "<!DOCTYPE html>\n<html lang=\"vi\"><body><h1>Báo cáo Quý IV/2026</h1>\r\n<p>a\u{00A0}b — 100%</p>\n</body></html>\n"
    static let table =
        "Báo cáo sử dụng thư điện tử — 2026-Q4\nGenerated: 2027-01-01 08:00:00 +07:00\n\nday         handled\n2026-10-01  3\n"

    static func notice(_ report: ReportMail, to: String = "lanhdao@quangninh.gov.vn") -> Notice {
        let created = Date(timeIntervalSince1970: 1_798_765_200)
        return Notice(
            id: "01kbd3ms2v4x6z8a0c",
            createdAt: created,
            messageID: nil,
            request: .report(report, to: to, now: created),
            state: .sending,
            attempts: 1,
            dueAt: created,
            digestAt: nil
        )
    }

    static func parts(_ bytes: [UInt8]) -> (ParsedMessage, [MIMEPart]) {
        let parsed = MIMEParser.parse(bytes)
        return (parsed, parsed.leaves)
    }

    @Test func theMailIsAMultipartWithTheTableAndTheHTMLFileExactly() throws {
        let report = ReportMail(period: "2026-Q4", text: Self.table, html: Self.html)
        let composed = try #require(try NoticeComposerTests.composer().compose([Self.notice(report)]))
        #expect(composed.recipient == "lanhdao@quangninh.gov.vn")
        #expect(composed.mailID == "<report.01kbd3ms2v4x6z8a0c@gw.test>")
        #expect(composed.noticeIDs == ["01kbd3ms2v4x6z8a0c"])
        let (parsed, leaves) = Self.parts(composed.bytes)
        #expect(parsed.defects.isEmpty, "\(parsed.defects)")
        #expect(parsed.parts[0].mediaType == "multipart/mixed")
        #expect(leaves.map(\.mediaType) == ["text/plain", "text/html"])
        let text = parsed.decodedBody(of: leaves[0])
        #expect(text.clean)
        let body = String(decoding: text.bytes, as: UTF8.self)
        #expect(body.hasSuffix(Self.table.replacingOccurrences(of: "\n", with: "\r\n")))
        #expect(body.contains("bao-cao-2026-Q4.html"))
        #expect(leaves[0].charset == "utf-8")
        let html = parsed.decodedBody(of: leaves[1])
        #expect(html.clean)
        // The attachment is the file, byte for byte (its CRLF and LF both as they were).
        #expect(html.bytes == Array(Self.html.utf8))
        #expect(leaves[1].filename == "bao-cao-2026-Q4.html")
        #expect(leaves[1].disposition?.value == "attachment")
        #expect(leaves[1].transferEncoding == "base64")
        // Every line of the mail is short and the header section ASCII.
        let text7 = String(decoding: composed.bytes, as: UTF8.self)
        #expect(text7.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
        let header = text7[..<text7.range(of: "\r\n\r\n")!.lowerBound]
        #expect(header.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func itHasTheNoticeHeadersAndAMACThatVerifies() throws {
        let report = ReportMail(period: "2026-11", text: Self.table, html: Self.html)
        let composed = try #require(try NoticeComposerTests.composer().compose([Self.notice(report)]))
        let fields = NoticeComposerTests.fields(composed.bytes)
        let names = fields.map(\.0)
        #expect(
            names == [
                "from", "to", "subject", "date", "message-id", "auto-submitted", "x-auto-response-suppress", "mime-version", "content-type",
                "x-thugate-notice",
            ]
        )
        let value = { (name: String) in fields.first { $0.0 == name }?.1 ?? "" }
        #expect(value("from") == "ThuGate <thugate@quangninh.gov.vn>")
        #expect(value("to") == "<lanhdao@quangninh.gov.vn>")
        #expect(value("auto-submitted") == "auto-generated")
        #expect(value("date").hasSuffix("+0700"))
        #expect(
            EncodedWords.decode(value("subject")) == "Báo cáo sử dụng thư điện tử 2026-11 / E-mail usage report 2026-11"
        )
        let at = NoticeComposerTests.signedAt(composed.bytes)
        let check = composed.bytes.withUnsafeBytes { NoticeSignature.check($0, key: NoticeComposerTests.key, now: at) }
        #expect(check == .valid(id: "report.01kbd3ms2v4x6z8a0c"))
        // The MAC covers the attachment: one byte of it changed and it no longer verifies.
        var changed = composed.bytes
        let byte = changed.count - 60
        changed[byte] = changed[byte] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let forged = changed.withUnsafeBytes { NoticeSignature.check($0, key: NoticeComposerTests.key, now: at) }
        #expect(forged == .invalid("MAC does not verify"))
    }

    @Test func aHostileAddressOrPeriodNeverAddsAHeaderLine() throws {
        for hostile in [
            "a@b.vn\r\nBcc: victim@x.vn", "a@b.vn\nSubject: x", "<a@b.vn>", "a>@b.vn", "a@b@c.vn", "@b.vn", "a@", "", "a b@c.vn",
            "a@b.vn\u{2028}X: y", "a@b.vn,c@d.vn", "\"a\"@b.vn", "a@b..vn", String(repeating: "a", count: 65) + "@b.vn",
        ] {
            #expect(!ReportMail.isValidAddress(hostile), "\(hostile.debugDescription)")
        }
        for good in ["lanhdao@quangninh.gov.vn", "van.thu+bao-cao@so-tt.hanoi.gov.vn", "cán.bộ@bộ.vn"] {
            #expect(ReportMail.isValidAddress(good))
        }
        // Whatever reaches the composer (a row another writer made): headers stay one field each.
        let report = ReportMail(period: "2026-11\r\nBcc: victim@x.vn\"; x=\"", text: "t\r\n.\r\n", html: Self.html)
        let composed = try #require(try NoticeComposerTests.composer().compose([Self.notice(report, to: "a@b.vn\r\nBcc: victim@x.vn")]))
        let fields = NoticeComposerTests.fields(composed.bytes)
        #expect(!fields.contains { $0.0 == "bcc" })
        #expect(fields.filter { $0.0 == "to" }.count == 1)
        let (parsed, leaves) = Self.parts(composed.bytes)
        #expect(parsed.defects.isEmpty, "\(parsed.defects)")
        #expect(leaves.count == 2)
        #expect(leaves[1].filename == "bao-cao-2026-11__Bcc__victim_x.vn___x__.html")
        #expect(parsed.decodedBody(of: leaves[1]).bytes == Array(Self.html.utf8))
    }

    @Test func aReportIsNeverPartOfADigest() {
        let report = ReportMail(period: "2026-11", text: "t", html: "h")
        let event = NoticeComposerTests.notice(mode: .digest)
        var second = NoticeComposerTests.notice(mode: .digest)
        second.id = "01kbd3ms2v4x6z8a0d"
        var mailed = Self.notice(report)
        mailed.id = "01kbd3ms2v4x6z8a0e"
        let groups = NoticeService.messages([event, mailed, second])
        #expect(groups.map { $0.map(\.id) } == [["01kbd3ms2v4x6z8a0c", "01kbd3ms2v4x6z8a0d"], ["01kbd3ms2v4x6z8a0e"]])
        #expect(groups[1][0].kind == .report && groups[0].allSatisfy { $0.kind == .event })
    }
}
