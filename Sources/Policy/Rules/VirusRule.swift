import SMTPCore

extension Finding.RuleID {
    public static let virus = Finding.RuleID(rawValue: "virus")
}

/// QĐ 40/2022 (Quảng Ninh) Đ9 k1đ, Đ14 k7, Đ15 k5; QĐ 70/2009 (Đồng Nai) Đ9 k7, Đ11 k3: mail is
/// scanned for viruses and malware. The finding names the signature libclamav matched.
public struct VirusRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .virus,
        order: 500,
        configKey: "virus",
        defaultAction: .reject,
        needsContentScan: true,
        refusal: Refusal(554, EnhancedStatus(5, 7, 0), vi: "Thư chứa virus, mã độc", en: "Virus found", article: "Quy chế Đ15 k5")
    ) { _ in VirusRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        (input.content?.viruses ?? []).map { Finding(.virus, detail: $0.signature, part: $0.part) }
    }
}
