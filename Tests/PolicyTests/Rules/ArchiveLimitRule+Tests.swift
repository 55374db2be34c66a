import Testing

@testable import Policy

@Suite struct ArchiveLimitRuleTests {
    @Test func eachLimitPassedIsAFinding() {
        var content = ContentReport()
        content.limitsExceeded = [
            .init(part: "2", detail: "bomb.zip: expands past 100 MiB"), .init(part: "3", detail: "deep.zip: nested 17 deep"),
        ]
        #expect(
            ArchiveLimitRule().evaluate(RuleFixture.input(content: content)) == [
                Finding(.archiveLimit, detail: "bomb.zip: expands past 100 MiB", part: "2"),
                Finding(.archiveLimit, detail: "deep.zip: nested 17 deep", part: "3"),
            ]
        )
    }

    @Test func otherNotesAreNot() {
        var content = ContentReport()
        content.encryptedDocuments = [.init(part: "2", detail: "x")]
        #expect(ArchiveLimitRule().evaluate(RuleFixture.input(content: content)).isEmpty)
        #expect(ArchiveLimitRule().evaluate(RuleFixture.input()).isEmpty)
    }
}
