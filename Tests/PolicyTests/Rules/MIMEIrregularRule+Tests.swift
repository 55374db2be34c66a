import MIMECore
import Testing

@testable import Policy

@Suite struct MIMEIrregularRuleTests {
    @Test func aMultipartNeverClosedIsIrregular() {
        let message = RuleFixture.message(["Content-Type: multipart/mixed; boundary=b", "", "--b", "", "phần cuối chạy tới hết", ""])
        let findings = MIMEIrregularRule().evaluate(RuleFixture.input(message))
        #expect(findings == [Finding(.mimeIrregular, detail: "missing-final-boundary", part: "0")])
    }

    @Test func aRawEqualsSignInQuotedPrintableIsIrregular() {
        let message = RuleFixture.message(["Content-Transfer-Encoding: quoted-printable", "", "1 = 1 =ZZ", ""])
        let findings = MIMEIrregularRule().evaluate(RuleFixture.input(message))
        #expect(findings.map(\.rule) == [.mimeIrregular])
        #expect(findings.first?.detail.hasPrefix("invalid-quoted-printable") == true)
    }

    @Test func otherSeveritiesAreNotIrregular() {
        #expect(MIMEIrregularRule().evaluate(RuleFixture.input()).isEmpty)
        let partial = RuleFixture.message(["Content-Type: message/partial; id=x; number=1; total=2", "", "x", ""])
        #expect(MIMEIrregularRule().evaluate(RuleFixture.input(partial)).isEmpty)
    }
}
