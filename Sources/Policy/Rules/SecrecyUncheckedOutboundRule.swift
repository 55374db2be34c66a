import SMTPCore

extension Finding.RuleID {
    public static let secrecyUncheckedOutbound = Finding.RuleID(rawValue: "secrecy-unchecked-outbound")
}

/// A document that could not be fully checked for state-secret stamps (see
/// ``SecrecyUncheckedRule``), sent from a state-issued mailbox (a configured agency's, or any
/// under a ``StateDomains`` entry, `gov.vn` by default) to at least one mailbox that is not: where an unseen stamp would leave the
/// state system, so it is held for review by default.
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ11 k2, Đ14 k8; Luật 117/2025/QH15.
public struct SecrecyUncheckedOutboundRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .secrecyUncheckedOutbound,
        order: 1250,
        configKey: "secrecy_unchecked_outbound",
        defaultAction: .quarantine,
        needsContentScan: true,
        refusal: Refusal(
            554,
            EnhancedStatus(5, 7, 1),
            vi: "Không đọc được toàn bộ tài liệu gửi ra ngoài hệ thống nhà nước để kiểm tra dấu chỉ độ mật",
            en: "Document leaving the state system could not be fully checked for state-secret stamps"
        )
    ) { _ in SecrecyUncheckedOutboundRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        guard SecrecyUncheckedRule.leavesStateSystem(input.parties) else { return [] }
        return SecrecyUncheckedRule.findings(.secrecyUncheckedOutbound, in: input)
    }
}
