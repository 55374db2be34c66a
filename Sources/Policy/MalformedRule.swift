import MIMECore

extension Finding.RuleID {
    public static let malformed = Finding.RuleID(rawValue: "malformed")
    public static let mimeIrregular = Finding.RuleID(rawValue: "mime-irregular")
    public static let mimeAmbiguous = Finding.RuleID(rawValue: "mime-ambiguous")
}

/// A message that cannot be checked reliably, or is built to exhaust the checker: a parser limit
/// passed (nesting, parts, header section or field size, decoded size), a header section that
/// never ends, or a message/partial fragment (RFC 2046 5.2.2: joined by the reader, never here). Default action: reject with 554 5.6.0. Everything else that is wrong with MIME is
/// read the way readers read it, and every byte is scanned, so it is `mime-irregular` or
/// `mime-ambiguous`, not this.
public struct MalformedRule: Rule {
    public let id = Finding.RuleID.malformed

    public init() {}

    public func evaluate(_ message: InspectedMessage) -> [Finding] {
        defects(in: message.message, .malformed, as: .malformed)
    }
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
    public let id = Finding.RuleID.mimeIrregular

    public init() {}

    public func evaluate(_ message: InspectedMessage) -> [Finding] {
        defects(in: message.message, .irregular, as: .mimeIrregular)
    }
}

/// MIME that readers may take in different ways: a multipart without a usable boundary or whose
/// boundary never occurs (split at the boundary its body uses, or scanned whole), junk inside
/// base64 data (scanned both as stopping there and as skipping the junk), Content-Type,
/// -Transfer-Encoding or -Disposition given twice with different values (scanned both ways).
/// Nothing is hidden from the scanner, but what a recipient sees depends on the client; default
/// action: tag.
public struct MIMEAmbiguousRule: Rule {
    public let id = Finding.RuleID.mimeAmbiguous

    public init() {}

    public func evaluate(_ message: InspectedMessage) -> [Finding] {
        defects(in: message.message, .ambiguous, as: .mimeAmbiguous)
    }
}

private func defects(in message: ParsedMessage, _ severity: MIMEDefect.Severity, as rule: Finding.RuleID) -> [Finding] {
    message.parts.flatMap { part in
        part.defects.filter { $0.severity == severity }.map { Finding(rule, detail: $0.description, part: message.partNumber(of: part)) }
    }
}
