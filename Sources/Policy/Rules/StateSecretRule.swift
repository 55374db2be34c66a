import SMTPCore
import SecrecyMarks

extension Finding.RuleID {
    public static let stateSecret = Finding.RuleID(rawValue: "state-secret")
}

/// A document (or the message's own Subject or text) bearing a state-secret stamp: TUYỆT MẬT,
/// TỐI MẬT or MẬT where a stamp stands (``SecrecyMatcher``), not withdrawn by a GIẢI MẬT stamp.
/// Such documents never travel by ordinary e-mail: the message is refused and, by `[quarantine]
/// keep_refused`, a copy is kept for the security officer, who is notified with the sending
/// agency (`[notify.state_secret]`).
///
/// The finding names the level and where the stamp is (part, document, placement, page); never
/// the document's text.
/// - SeeAlso: Luật Bảo vệ bí mật nhà nước 117/2025/QH15 (in force 1 March 2026) and Nghị định
///   63/2026/NĐ-CP (the stamp forms of Thông tư 24/2020/TT-BCA).
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ11 k2 (state-secret documents are not sent by
///   e-mail), Đ13 k9 and Đ14 k10 (the Department of Information and Communications and the sending
///   agency are told); Hòa Bình Đ11; Đồng Nai Đ6 k2, k8; Thái Nguyên k1e.
public struct StateSecretRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .stateSecret,
        // Before every other refusing rule: when a message is refused for several reasons, the
        // reply, the kept copy and the notices name the state secret.
        order: 150,
        configKey: "state_secret",
        defaultAction: .reject,
        needsContentScan: true,
        refusal: Refusal(
            554,
            EnhancedStatus(5, 7, 1),
            vi: "Tài liệu mang dấu chỉ độ mật, không được gửi qua thư điện tử",
            en: "Document bears a state-secret stamp and must not be sent by e-mail",
            article: "Luật 117/2025/QH15; QĐ 40/2022 Đ11 k2"
        )
    ) { _ in StateSecretRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        (input.content?.secrecy ?? []).compactMap { document in
            guard let level = document.report.highestLevel,
                let first = document.report.findings.first(where: { $0.level == level })
            else { return nil }
            return Finding(.stateSecret, detail: Self.detail(level: level, at: first, in: document), part: document.part)
        }
    }

    /// `TỐI MẬT stamp in cong-van.docx: page header, page 1`.
    static func detail(level: SecrecyLevel, at finding: SecrecyFinding, in document: ContentReport.SecrecyDocument) -> String {
        var place = finding.placement.rawValue
        if let page = finding.page { place += ", page \(page)" }
        if let region = finding.region, region != .other { place += ", \(region.rawValue)" }
        let field = finding.container == .subject ? "Subject" : finding.container == .attachmentName ? "attachment names" : "text"
        let what =
            switch document.name {
            case _ where document.format != "mail": document.name
            case "(message)": "the message's \(field)"
            case "(attached message)": "the attached message's \(field)"
            default: "the \(field) of \(document.name)"
            }
        return "\(level.vietnamese) stamp in \(what): \(place)"
    }
}
