import MIMECore
import Testing

@testable import Policy

@Suite struct MIMEAmbiguousRuleTests {
    @Test func conflictingContentTypesAreAmbiguous() {
        let message = RuleFixture.message(["Content-Type: text/plain", "Content-Type: text/html", "", "<b>x</b>", ""])
        let findings = MIMEAmbiguousRule().evaluate(RuleFixture.input(message))
        #expect(findings.contains(Finding(.mimeAmbiguous, detail: "conflicting-fields: Content-Type given 2 ways", part: "1")))
        #expect(findings.allSatisfy { $0.rule == .mimeAmbiguous })
    }

    @Test func aMultipartWithoutBoundaryIsAmbiguous() {
        let message = RuleFixture.message(["Content-Type: multipart/mixed", "", "--b", "", "x", "--b--", ""])
        let findings = MIMEAmbiguousRule().evaluate(RuleFixture.input(message))
        #expect(findings.contains { $0.detail.hasPrefix("multipart-without-boundary") })
    }

    @Test func irregularAndCleanMessagesAreNotAmbiguous() {
        #expect(MIMEAmbiguousRule().evaluate(RuleFixture.input()).isEmpty)
        let unclosed = RuleFixture.message(["Content-Type: multipart/mixed; boundary=b", "", "--b", "", "x", ""])
        #expect(MIMEAmbiguousRule().evaluate(RuleFixture.input(unclosed)).isEmpty)
    }
}
