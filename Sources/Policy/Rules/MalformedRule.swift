import MIMECore
import SMTPCore

extension Finding.RuleID {
    public static let malformed = Finding.RuleID(rawValue: "malformed")
}

/// A message that cannot be checked reliably, or is built to exhaust the checker: a parser limit
/// passed (nesting, parts, header section or field size, decoded size), a header section that
/// never ends, or a message/partial fragment (RFC 2046 5.2.2: joined by the reader, never here). Default action: reject with 554 5.6.0. Everything else that is wrong with MIME is
/// read the way readers read it, and every byte is scanned, so it is `mime-irregular` or
/// `mime-ambiguous`, not this.
public struct MalformedRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .malformed,
        order: 100,
        configKey: "malformed",
        defaultAction: .reject,
        needsContentScan: false,
        refusal: Refusal(
            554,
            EnhancedStatus(5, 6, 0),
            vi: "Thư sai cấu trúc MIME, không kiểm tra được",
            en: "Malformed message, cannot be checked"
        )
    ) { _ in MalformedRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        defects(in: input.message, .malformed, as: .malformed)
    }
}

/// The findings of one defect severity, one per defect, under `rule`.
func defects(in message: ParsedMessage, _ severity: MIMEDefect.Severity, as rule: Finding.RuleID) -> [Finding] {
    message.parts.flatMap { part in
        part.defects.filter { $0.severity == severity }.map { Finding(rule, detail: $0.description, part: message.partNumber(of: part)) }
    }
}
