import SMTPCore

extension Finding.RuleID {
    public static let archiveLimit = Finding.RuleID(rawValue: "archive-limit")
}

/// An archive nested too deep, with too many members or expanding too far (a zip bomb) was not
/// fully checked: it gets a finding rather than an unseen pass.
public struct ArchiveLimitRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .archiveLimit,
        order: 900,
        configKey: "archive_limit",
        defaultAction: .quarantine,
        needsContentScan: true,
        refusal: Refusal(554, EnhancedStatus(5, 7, 0), vi: "Tệp nén vượt giới hạn kiểm tra", en: "Archive exceeds inspection limits")
    ) { _ in ArchiveLimitRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        (input.content?.limitsExceeded ?? []).map { Finding(.archiveLimit, detail: $0.detail, part: $0.part) }
    }
}
