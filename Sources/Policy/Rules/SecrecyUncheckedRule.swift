import SMTPCore

extension Finding.RuleID {
    public static let secrecyUnchecked = Finding.RuleID(rawValue: "secrecy-unchecked")
}

/// A document whose text could not be read completely (encrypted, corrupt, past a bound: a zip
/// bomb, XML nested too deep, a PDF the reader helper could not finish), so it was not fully
/// checked for state-secret stamps: never "clean". This rule covers the copies that stay inside
/// the state system or come into it, and only tags them by default; a document that leaves a
/// state-issued mailbox for one that is not is ``SecrecyUncheckedOutboundRule``'s, held by default.
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ11 k2; Luật 117/2025/QH15.
public struct SecrecyUncheckedRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .secrecyUnchecked,
        order: 1200,
        configKey: "secrecy_unchecked",
        defaultAction: .tag,
        needsContentScan: true,
        refusal: Refusal(
            554,
            EnhancedStatus(5, 7, 1),
            vi: "Không đọc được toàn bộ tài liệu để kiểm tra dấu chỉ độ mật",
            en: "Document could not be fully checked for state-secret stamps"
        )
    ) { _ in SecrecyUncheckedRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        guard !Self.leavesStateSystem(input.parties) else { return [] }
        return Self.findings(.secrecyUnchecked, in: input)
    }

    /// Whether a state-issued sender writes to any recipient whose mailbox is not state-issued.
    static func leavesStateSystem(_ parties: MessageParties?) -> Bool {
        guard let parties, parties.sender.stateIssued else { return false }
        return parties.recipients.contains { !$0.stateIssued }
    }

    /// One finding per document not read completely, naming the first problem.
    static func findings(_ rule: Finding.RuleID, in input: RuleInput) -> [Finding] {
        (input.content?.secrecy ?? []).compactMap { document in
            guard let problem = document.problems.first else { return nil }
            let more = document.problems.count > 1 ? " (and \(document.problems.count - 1) more)" : ""
            return Finding(rule, detail: "\(document.name) not fully checked for secrecy stamps: \(problem)\(more)", part: document.part)
        }
    }
}
