import SMTPCore

extension Finding.RuleID {
    public static let encryptedDocument = Finding.RuleID(rawValue: "encrypted-document")
}

/// Password-protected PDF or Office documents cannot be checked either; by default they are only
/// tagged (the regulations name archives, not documents).
public struct EncryptedDocumentRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .encryptedDocument,
        order: 800,
        configKey: "encrypted_document",
        defaultAction: .tag,
        needsContentScan: true,
        refusal: Refusal(554, EnhancedStatus(5, 7, 1), vi: "Tài liệu có mật khẩu, không kiểm tra được", en: "Password-protected document")
    ) { _ in EncryptedDocumentRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        (input.content?.encryptedDocuments ?? []).map { Finding(.encryptedDocument, detail: $0.detail, part: $0.part) }
    }
}
