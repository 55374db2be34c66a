import SMTPCore

extension Finding.RuleID {
    public static let encryptedArchive = Finding.RuleID(rawValue: "encrypted-archive")
}

/// QĐ 40/2022 (Quảng Ninh) Đ2 k8 and Đ15 k6: sending and receiving password-protected archives
/// (`*.zip, *.rar`, ...) is restricted; what is inside cannot be checked. Default: hold.
public struct EncryptedArchiveRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .encryptedArchive,
        order: 700,
        configKey: "encrypted_archive",
        defaultAction: .quarantine,
        needsContentScan: true,
        refusal: Refusal(
            554,
            EnhancedStatus(5, 7, 1),
            vi: "Tệp nén có mật khẩu không được phép",
            en: "Password-protected archive",
            article: "Quy chế Đ15 k6"
        )
    ) { _ in EncryptedArchiveRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        (input.content?.encryptedArchives ?? []).map { archive in
            let what: String
            if archive.headersEncrypted {
                what = "file list encrypted"
            } else {
                let shown = archive.encryptedMembers.prefix(5).joined(separator: ", ")
                let more = archive.encryptedMembers.count > 5 ? ", +\(archive.encryptedMembers.count - 5) more" : ""
                what = archive.encryptedMembers.isEmpty ? "encrypted" : "encrypted members: \(shown)\(more)"
            }
            return Finding(.encryptedArchive, detail: "\(archive.name) (\(archive.format), \(archive.method)): \(what)", part: archive.part)
        }
    }
}
