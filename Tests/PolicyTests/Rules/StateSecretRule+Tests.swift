import SMTPCore
import SecrecyMarks
import Testing

@testable import Policy

@Suite struct StateSecretRuleTests {
    static func document(
        _ units: [TextUnit],
        name: String = "cong-van.docx",
        format: String = "docx",
        problems: [String] = []
    )
        -> ContentReport.SecrecyDocument
    {
        .init(part: "2", name: name, format: format, report: SecrecyMatcher.match(units), problems: problems)
    }

    static func input(_ documents: [ContentReport.SecrecyDocument], parties: MessageParties? = nil) -> RuleInput {
        var content = ContentReport()
        content.secrecy = documents
        return RuleInput(envelope: nil, message: RuleFixture.plain, content: content, parties: parties)
    }

    @Test func aStampInAPageHeaderNamesTheLevelAndThePlaceNotTheText() {
        let units = [
            TextUnit("TỐI MẬT", container: .pageHeader, page: 1),
            TextUnit("Kế hoạch phòng thủ năm 2027", container: .documentBody, page: 1, index: 0),
        ]
        let findings = StateSecretRule().evaluate(Self.input([Self.document(units)]))
        #expect(findings == [Finding(.stateSecret, detail: "TỐI MẬT stamp in cong-van.docx: page-header, page 1", part: "2")])
    }

    @Test func theHighestLevelOfADocumentIsNamed() {
        let units = [
            TextUnit("MẬT", container: .pageHeader, page: 1),
            TextUnit("UBND TỈNH QUẢNG NINH", container: .tableCell, page: 1, region: .letterheadLeft),
            TextUnit("Số: 12/KH-UBND", container: .tableCell, page: 1, region: .letterheadLeft),
            TextUnit("TUYỆT MẬT", container: .textBox, page: 1),
        ]
        let findings = StateSecretRule().evaluate(Self.input([Self.document(units)]))
        #expect(findings.map(\.detail) == ["TUYỆT MẬT stamp in cong-van.docx: text-box, page 1"])
    }

    @Test func aSubjectTagIsTheMessagesOwn() {
        let document = Self.document([TextUnit("[MẬT] Báo cáo", container: .subject)], name: "(message)", format: "mail")
        let findings = StateSecretRule().evaluate(Self.input([document]))
        #expect(findings.map(\.detail) == ["MẬT stamp in the message's Subject: subject-tag"])
    }

    @Test func trapWordsADeclassifiedDocumentAndNoContentAreNothing() {
        let traps = [
            TextUnit("Hướng dẫn đặt MẬT KHẨU và BẢO MẬT hộp thư", container: .documentBody, page: 1, index: 0),
            TextUnit("Độ mật: Thường", container: .documentBody, page: 1, index: 1),
        ]
        let declassified = [
            TextUnit("MẬT", container: .pageHeader, page: 1),
            TextUnit("GIẢI MẬT", container: .pageHeader, page: 1),
        ]
        #expect(StateSecretRule().evaluate(Self.input([Self.document(traps), Self.document(declassified)])).isEmpty)
        #expect(StateSecretRule().evaluate(RuleFixture.input()).isEmpty)
    }

    static let state = AddressOwner(agency: "quangninh", stateIssued: true)
    static let govVN = AddressOwner(agency: nil, stateIssued: true)

    @Test func anUnreadDocumentLeavingTheStateSystemIsTheOutboundRules() {
        let unread = Self.document([], problems: ["zip-bomb: word/document.xml inflates past 256 MiB", "xml-too-deep: x"])
        let out = MessageParties(sender: Self.state, recipients: [Self.govVN, .outside])
        let outbound = SecrecyUncheckedOutboundRule().evaluate(Self.input([unread], parties: out))
        #expect(
            outbound == [
                Finding(
                    .secrecyUncheckedOutbound,
                    detail:
                        "cong-van.docx not fully checked for secrecy stamps: zip-bomb: word/document.xml inflates past 256 MiB (and 1 more)",
                    part: "2"
                )
            ]
        )
        #expect(SecrecyUncheckedRule().evaluate(Self.input([unread], parties: out)).isEmpty)
        // Inside the state system, into it, or without an envelope (`thugate scan`): the other rule.
        for parties in [
            MessageParties(sender: Self.state, recipients: [Self.govVN]),
            MessageParties(sender: .outside, recipients: [Self.state]),
            nil,
        ] {
            #expect(SecrecyUncheckedOutboundRule().evaluate(Self.input([unread], parties: parties)).isEmpty)
            #expect(SecrecyUncheckedRule().evaluate(Self.input([unread], parties: parties)).map(\.rule) == [.secrecyUnchecked])
        }
    }

    @Test func aDocumentReadCompletelyIsNoUncheckedFinding() {
        let read = Self.document([TextUnit("Kính gửi", container: .documentBody)])
        #expect(SecrecyUncheckedRule().evaluate(Self.input([read])).isEmpty)
    }
}
