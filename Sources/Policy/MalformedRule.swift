import MIMECore

extension Finding.RuleID {
    public static let malformed = Finding.RuleID(rawValue: "malformed")
}

/// A message that cannot be read reliably cannot be checked against the other rules: a
/// multipart without boundary or never closed, broken base64 or quoted-printable, an unterminated
/// header section, or a parser limit passed (nesting, parts, header size, decoded size).
/// Default action: reject with 554 5.6.0. Defects that do not change how the message reads
/// (8-bit headers, bare line endings in a part, ...) are details for `thugate scan`, not findings.
public struct MalformedRule: Rule {
    public let id = Finding.RuleID.malformed

    public init() {}

    public func evaluate(_ message: InspectedMessage) -> [Finding] {
        message.message.parts.flatMap { part in
            part.defects.filter(\.isMalformation).map { Finding(.malformed, detail: $0.description, part: part.path) }
        }
    }
}
