import MIMECore
import Testing

@testable import Policy

@Suite struct AttachmentSizeRuleTests {
    /// A text body and a 3000-byte attachment (4000 base64 characters).
    static let message = RuleFixture.message(
        [
            "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "Content-Type: text/plain; charset=utf-8", "", String(repeating: "Nội dung công văn. ", count: 200),
            "--b", "Content-Type: application/pdf; name=bao-cao.pdf", "Content-Transfer-Encoding: base64", "",
        ] + Array(repeating: String(repeating: "QUJD", count: 19), count: 52) + [String(repeating: "QUJD", count: 12), "--b--", ""]
    )

    @Test func onlyAttachmentsCount() {
        #expect(AttachmentSizeRule.attachmentBytes(Self.message) == 3000)
    }

    @Test func overTheLimitIsAFinding() {
        #expect(
            AttachmentSizeRule(limit: 2999).evaluate(RuleFixture.input(Self.message))
                == [Finding(.attachmentSize, detail: "attachments 0.0 MiB > limit 0.0 MiB", part: nil)]
        )
        #expect(AttachmentSizeRule(limit: 3000).evaluate(RuleFixture.input(Self.message)).isEmpty)
    }

    @Test func sizesAreShownInTenthsOfMebibytes() {
        #expect(AttachmentSizeRule.megabytes(20_000_000) == "19.1 MiB")
        #expect(AttachmentSizeRule.megabytes(1_048_576) == "1.0 MiB")
    }
}
