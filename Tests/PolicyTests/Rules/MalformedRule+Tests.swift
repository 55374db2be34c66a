import MIMECore
import Testing

@testable import Policy

@Suite struct MalformedRuleTests {
    @Test func aMessagePartialFragmentCannotBeChecked() {
        let message = RuleFixture.message(["Content-Type: message/partial; id=\"abc@example\"; number=2; total=3", "", "phần 2", ""])
        #expect(
            MalformedRule().evaluate(RuleFixture.input(message))
                == [Finding(.malformed, detail: "message-partial: fragment 2 of 3: the whole cannot be checked", part: "1")]
        )
    }

    @Test func aParserLimitPassedIsAFinding() {
        var limits = MIMELimits()
        limits.maxParts = 2
        let bytes = ["Content-Type: multipart/mixed; boundary=b", "", "--b", "", "1", "--b", "", "2", "--b", "", "3", "--b--", ""]
        let message = MIMEParser.parse(Array(bytes.joined(separator: "\r\n").utf8), limits: limits)
        let findings = MalformedRule().evaluate(RuleFixture.input(message))
        #expect(!findings.isEmpty)
        #expect(findings.allSatisfy { $0.rule == .malformed && $0.detail.hasPrefix("limit-exceeded") })
    }

    @Test func irregularAndCleanMessagesAreNotMalformed() {
        #expect(MalformedRule().evaluate(RuleFixture.input()).isEmpty)
        let unclosed = RuleFixture.message(["Content-Type: multipart/mixed; boundary=b", "", "--b", "", "x", ""])
        #expect(MalformedRule().evaluate(RuleFixture.input(unclosed)).isEmpty)
    }
}
