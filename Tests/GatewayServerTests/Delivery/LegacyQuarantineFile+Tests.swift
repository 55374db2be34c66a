import Foundation
import MIMECore
import Policy
import Quarantine
import SMTPCore
import Testing

@testable import GatewayServer

/// Files of the Maildir quarantine of earlier versions, written here exactly as the old sink
/// wrote them (`AddedHeaders.held` before 660960e: the three fields through `HeaderText.sanitized`,
/// then the `Received:` field), read back.
@Suite struct LegacyQuarantineFileTests {
    static let original = Array("From: a@b.c\r\nSubject: Báo cáo\r\n\r\nnội dung\r\n.\r\n".utf8)

    /// What the old sink put above the message.
    static func oldHeader(findings: [Finding], sender: String, recipients: [String], queueID: String = "0B1C2D3F4G5H") -> String {
        let received = ReceivedHeader(
            heloName: "mail.client",
            clientAddress: "192.0.2.1",
            hostname: "gw.test",
            esmtp: true,
            tls: false,
            smtpUTF8: false,
            queueID: queueID,
            recipients: recipients.map { MailAddress(String($0.dropFirst().dropLast())) },
            date: "Tue, 1 Dec 2026 13:13:01 +0700"
        ).field
        return "X-ThuGate-Quarantine: \(HeaderText.sanitized(findings.map(\.description).joined(separator: "; ")))\r\n"
            + "X-ThuGate-Envelope-From: \(HeaderText.sanitized(sender))\r\n"
            + "X-ThuGate-Envelope-To: \(HeaderText.sanitized(recipients.joined(separator: ", ")))\r\n"
            + received
    }

    @Test(arguments: [["<x@y.z>"], ["<x@y.z>", "<w@y.z>"]]) func theEnvelopeFindingsAndTraceAreReadAndTheOriginalFollows(
        recipients: [String]
    ) throws {
        let findings = [
            Finding(.encryptedArchive, detail: "hồ sơ; bản 2.zip: encrypted", part: "2"),
            Finding(.officeMacro, detail: "whole", part: ""),
            Finding(.virus, detail: "Eicar"),
        ]
        let header = Self.oldHeader(findings: findings, sender: "<a@b.c>", recipients: recipients)
        let file = try LegacyQuarantineFile.parse(Array(header.utf8) + Self.original)
        #expect(file.headerLength == header.utf8.count)
        #expect(
            file.findings == [
                HeldFinding(rule: "encrypted-archive", detail: "hồ sơ; bản 2.zip: encrypted", part: "2"),
                HeldFinding(rule: "office-macro", detail: "whole", part: ""),
                HeldFinding(rule: "virus", detail: "Eicar", part: nil),
            ]
        )
        #expect(file.sender == "<a@b.c>" && file.recipients == recipients)
        #expect(file.helo == "mail.client" && file.clientAddress == "192.0.2.1" && file.node == "gw.test")
        #expect(file.queueID == "0B1C2D3F4G5H")
        #expect(file.receivedAt == Date(timeIntervalSince1970: 1_796_105_581))
        #expect(file.warnings.isEmpty)
    }

    @Test func aRecipientListCutAt900BytesKeepsTheWholeAddresses() throws {
        let recipients = (0..<60).map { "<nguoinhan\($0)@quangninh.gov.vn>" }
        let header = Self.oldHeader(findings: [Finding(.virus, detail: "x")], sender: "<>", recipients: recipients)
        let file = try LegacyQuarantineFile.parse(Array(header.utf8) + Self.original)
        #expect(file.recipients.count > 10 && file.recipients.count < 60)
        #expect(file.recipients == Array(recipients.prefix(file.recipients.count)))
        #expect(file.sender == "<>")
        #expect(file.warnings.count == 1)
        #expect(file.headerLength == header.utf8.count)
    }

    @Test func theFirstVersionsRawValuesAndNoTraceFieldAreReadToo() throws {
        // 55fa62b: values raw (CR, LF removed), no RFC 2047.
        let header =
            "X-ThuGate-Quarantine: encrypted-archive(2): tài liệu.zip\r\nX-ThuGate-Envelope-From: <a@b.c>\r\n"
            + "X-ThuGate-Envelope-To: <x@y.z>\r\n"
        let file = try LegacyQuarantineFile.parse(Array(header.utf8) + Self.original)
        #expect(file.findings == [HeldFinding(rule: "encrypted-archive", detail: "tài liệu.zip", part: "2")])
        #expect(file.headerLength == header.utf8.count && file.queueID == nil && file.receivedAt == nil)
    }

    @Test(arguments: [
        "", "From: a@b.c\r\n\r\nhello\r\n", "X-ThuGate-Quarantine: virus: x\r\nX-ThuGate-Envelope-To: <x@y.z>\r\n\r\n",
        "X-ThuGate-Quarantine: virus: x\r\nX-ThuGate-Envelope-From: a@b.c\r\nX-ThuGate-Envelope-To: <x@y.z>\r\n",
        "X-ThuGate-Quarantine: virus: x\r\nX-ThuGate-Envelope-From: <a@b.c>\r\nX-ThuGate-Envelope-To: \r\n",
        "X-ThuGate-Quarantine: virus: x\r\nX-ThuGate-Envelope-From: <a@b.c>",
    ])
    func otherFilesAreRefused(text: String) {
        #expect(throws: LegacyQuarantineFile.ParseError.self) { try LegacyQuarantineFile.parse(Array(text.utf8)) }
    }
}
