import Testing

@testable import Policy

@Suite struct EncryptedDocumentRuleTests {
    @Test func eachEncryptedDocumentIsAFinding() {
        var content = ContentReport()
        content.encryptedDocuments = [.init(part: "2", detail: "to-trinh.pdf: encrypted PDF (/Encrypt)")]
        #expect(
            EncryptedDocumentRule().evaluate(RuleFixture.input(content: content))
                == [Finding(.encryptedDocument, detail: "to-trinh.pdf: encrypted PDF (/Encrypt)", part: "2")]
        )
    }

    @Test func otherNotesAreNot() {
        var content = ContentReport()
        content.limitsExceeded = [.init(part: "2", detail: "x")]
        content.macros = [.init(part: "2", detail: "y")]
        #expect(EncryptedDocumentRule().evaluate(RuleFixture.input(content: content)).isEmpty)
        #expect(EncryptedDocumentRule().evaluate(RuleFixture.input()).isEmpty)
    }
}
