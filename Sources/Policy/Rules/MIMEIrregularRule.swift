import MIMECore
import SMTPCore

extension Finding.RuleID {
    public static let mimeIrregular = Finding.RuleID(rawValue: "mime-irregular")
}

/// MIME that breaks RFC 2045–2049 in a way every reader recovers from alike, and ThuGate reads it
/// that way too: a multipart never closed (its last part runs to the end), a raw `=` in
/// quoted-printable (kept as written), text after a base64 body (a list footer: kept as text),
/// stray base64 padding. What Postfix, rspamd and mail clients deliver is delivered; default
/// action: tag.
///
/// - SeeAlso: RFC 2045 6.7 (rule 1: `=` not followed by two hex digits), 6.8 (base64 decoders
///   ignore characters outside the alphabet); RFC 2046 5.1.1.
public struct MIMEIrregularRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .mimeIrregular,
        order: 200,
        configKey: "mime_irregular",
        defaultAction: .tag,
        needsContentScan: false,
        refusal: Refusal(554, EnhancedStatus(5, 6, 0), vi: "Thư có cấu trúc MIME bất thường", en: "Irregular MIME structure")
    ) { _ in MIMEIrregularRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        defects(in: input.message, .irregular, as: .mimeIrregular)
    }
}
