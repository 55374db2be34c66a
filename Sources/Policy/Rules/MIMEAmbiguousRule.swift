import MIMECore
import SMTPCore

extension Finding.RuleID {
    public static let mimeAmbiguous = Finding.RuleID(rawValue: "mime-ambiguous")
}

/// MIME that readers may take in different ways: a multipart without a usable boundary or whose
/// boundary never occurs (split at the boundary its body uses, or scanned whole), junk inside
/// base64 data (scanned both as stopping there and as skipping the junk), Content-Type,
/// -Transfer-Encoding or -Disposition given twice with different values (scanned both ways).
/// Nothing is hidden from the scanner, but what a recipient sees depends on the client; default
/// action: tag.
public struct MIMEAmbiguousRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .mimeAmbiguous,
        order: 300,
        configKey: "mime_ambiguous",
        defaultAction: .tag,
        needsContentScan: false,
        refusal: Refusal(554, EnhancedStatus(5, 6, 0), vi: "Thư có cấu trúc MIME bất thường", en: "Irregular MIME structure")
    ) { _ in MIMEAmbiguousRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        defects(in: input.message, .ambiguous, as: .mimeAmbiguous)
    }
}
