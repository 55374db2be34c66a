extension Finding.RuleID {
    public static let encryptedArchive = Finding.RuleID(rawValue: "encrypted-archive")
    public static let encryptedDocument = Finding.RuleID(rawValue: "encrypted-document")
    public static let archiveLimit = Finding.RuleID(rawValue: "archive-limit")
}

/// QĐ 40/2022 (Quảng Ninh) Đ2 k8 and Đ15 k6: sending and receiving password-protected archives
/// (`*.zip, *.rar`, ...) is restricted; what is inside cannot be checked. Default: hold.
public struct EncryptedArchiveRule: Rule {
    public let id = Finding.RuleID.encryptedArchive

    public init() {}

    public func evaluate(_ message: InspectedMessage) -> [Finding] {
        (message.content?.encryptedArchives ?? []).map { archive in
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

/// Password-protected PDF or Office documents cannot be checked either; by default they are only
/// tagged (the regulations name archives, not documents).
public struct EncryptedDocumentRule: Rule {
    public let id = Finding.RuleID.encryptedDocument

    public init() {}

    public func evaluate(_ message: InspectedMessage) -> [Finding] {
        (message.content?.encryptedDocuments ?? []).map { Finding(.encryptedDocument, detail: $0.detail, part: $0.part) }
    }
}

/// An archive nested too deep, with too many members or expanding too far (a zip bomb) was not
/// fully checked: it gets a finding rather than an unseen pass.
public struct ArchiveLimitRule: Rule {
    public let id = Finding.RuleID.archiveLimit

    public init() {}

    public func evaluate(_ message: InspectedMessage) -> [Finding] {
        (message.content?.limitsExceeded ?? []).map { Finding(.archiveLimit, detail: $0.detail, part: $0.part) }
    }
}
