import Testing

@testable import Policy

@Suite struct ExecutableRuleTests {
    @Test func theRealTypeDecidesWhateverTheName() {
        var content = ContentReport()
        content.objects = [
            .init(
                part: "2",
                name: "bao-cao.pdf",
                containers: ["ho-so.zip"],
                size: 10,
                mimeType: "application/vnd.microsoft.portable-executable"
            )
        ]
        #expect(
            ExecutableRule().evaluate(RuleFixture.input(content: content)) == [
                Finding(
                    .executable,
                    detail: "ho-so.zip/bao-cao.pdf is application/vnd.microsoft.portable-executable",
                    part: "2"
                )
            ]
        )
    }

    @Test(arguments: [("setup.EXE", "*.exe"), ("invoice.js. ", "*.js"), ("chay.com", "*.com"), ("a.b.ps1", "*.ps1")])
    func namesOfExecutablesAreFindings(name: String, reason: String) {
        var content = ContentReport()
        content.objects = [.init(part: "3", name: name, size: 10, mimeType: "text/plain")]
        #expect(ExecutableRule().evaluate(RuleFixture.input(content: content)).map(\.detail) == ["\(name) is \(reason)"])
    }

    @Test func documentsAreNotAndTheListsAreConfigurable() {
        var content = ContentReport()
        content.objects = [
            .init(part: "2", name: "cong-van.docx", size: 10, mimeType: "application/zip"),
            .init(part: "3", name: "bang.ods", size: 10, mimeType: "application/x-custom"),
        ]
        #expect(ExecutableRule().evaluate(RuleFixture.input(content: content)).isEmpty)
        let custom = ExecutableRule(types: ["Application/X-Custom"], extensions: [".DOCX"])
        #expect(
            custom.evaluate(RuleFixture.input(content: content)).map(\.detail)
                == ["cong-van.docx is *.docx", "bang.ods is application/x-custom"]
        )
        #expect(ExecutableRule().evaluate(RuleFixture.input()).isEmpty)
    }
}
