import Testing

@testable import Policy

@Suite struct VirusRuleTests {
    @Test func eachSignatureIsAFinding() {
        var content = ContentReport()
        content.viruses = [.init(part: "2", signature: "Eicar-Signature"), .init(part: "3", signature: "Win.Trojan.Agent-1")]
        #expect(
            VirusRule().evaluate(RuleFixture.input(content: content))
                == [Finding(.virus, detail: "Eicar-Signature", part: "2"), Finding(.virus, detail: "Win.Trojan.Agent-1", part: "3")]
        )
    }

    @Test func noSignatureOrNoScanIsNoFinding() {
        #expect(VirusRule().evaluate(RuleFixture.input(content: ContentReport())).isEmpty)
        #expect(VirusRule().evaluate(RuleFixture.input()).isEmpty)
    }
}
