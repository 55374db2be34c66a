import MIMECore
import Testing
@testable import Policy

@Suite struct MIMEAmbiguousRuleTests {
    @Test func conflictingContentTypesAreAmbiguous() {
        let message = RuleInput.message(["Content-Type: text/plain", "Content-Type: text/html", "", "<b>x</b>", ""])
        let findings = MIMEAmbiguousRule().evaluate(RuleInput.inspected(message))
        #expect(findings.contains(Finding(.mimeAmbiguous, detail: "conflicting-fields: Content-Type given 2 ways", part: "1")))
        #expect(findings.allSatisfy { $0.rule == .mimeAmbiguous })
    }

    @Test func aMultipartWithoutBoundaryIsAmbiguous() {
        let message = RuleInput.message(["Content-Type: multipart/mixed", "", "--b", "", "x", "--b--", ""])
        let findings = MIMEAmbiguousRule().evaluate(RuleInput.inspected(message))
        #expect(findings.contains { $0.detail.hasPrefix("multipart-without-boundary") })
    }

    @Test func irregularAndCleanMessagesAreNotAmbiguous() {
        #expect(MIMEAmbiguousRule().evaluate(RuleInput.inspected()).isEmpty)
        let unclosed = RuleInput.message(["Content-Type: multipart/mixed; boundary=b", "", "--b", "", "x", ""])
        #expect(MIMEAmbiguousRule().evaluate(RuleInput.inspected(unclosed)).isEmpty)
    }
}
