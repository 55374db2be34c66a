import Testing

@testable import Policy

@Suite struct EncryptedArchiveRuleTests {
    static func archive(headers: Bool = false, members: [String]) -> ContentReport {
        var content = ContentReport()
        content.encryptedArchives = [
            .init(
                part: "2",
                name: "ho-so.7z",
                format: "7z",
                headersEncrypted: headers,
                encryptedMembers: members,
                method: "AES-256"
            )
        ]
        return content
    }

    @Test func encryptedMembersAreNamedFiveAtMost() {
        let few = EncryptedArchiveRule().evaluate(RuleFixture.input(content: Self.archive(members: ["a.doc", "b.xls"])))
        #expect(few == [Finding(.encryptedArchive, detail: "ho-so.7z (7z, AES-256): encrypted members: a.doc, b.xls", part: "2")])
        let many = EncryptedArchiveRule().evaluate(RuleFixture.input(content: Self.archive(members: (1...8).map { "\($0).txt" })))
        #expect(many.map(\.detail) == ["ho-so.7z (7z, AES-256): encrypted members: 1.txt, 2.txt, 3.txt, 4.txt, 5.txt, +3 more"])
    }

    @Test func anEncryptedFileListSaysSo() {
        #expect(
            EncryptedArchiveRule().evaluate(RuleFixture.input(content: Self.archive(headers: true, members: ["a"]))).map(\.detail)
                == ["ho-so.7z (7z, AES-256): file list encrypted"]
        )
        #expect(
            EncryptedArchiveRule().evaluate(RuleFixture.input(content: Self.archive(members: []))).map(\.detail)
                == ["ho-so.7z (7z, AES-256): encrypted"]
        )
    }

    @Test func noEncryptedArchiveIsNoFinding() {
        #expect(EncryptedArchiveRule().evaluate(RuleFixture.input(content: ContentReport())).isEmpty)
        #expect(EncryptedArchiveRule().evaluate(RuleFixture.input()).isEmpty)
    }
}
