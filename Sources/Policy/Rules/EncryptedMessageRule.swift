import MIMECore
import SMTPCore

extension Finding.RuleID {
    public static let encryptedMessage = Finding.RuleID(rawValue: "encrypted-message")
}

/// Content no one but the recipient can read cannot be checked for viruses, executables or
/// anything else the regulations ask (QĐ 40/2022 Quảng Ninh Đ15 k5, k6): S/MIME enveloped data
/// (`application/pkcs7-mime`, `application/x-pkcs7-mime`), PGP/MIME (`multipart/encrypted`) and
/// inline PGP (`-----BEGIN PGP MESSAGE-----` in a part) and binary OpenPGP or CMS enveloped files
/// (both found by the scanner in the bytes). It gets a finding
/// of its own, never an unseen pass. Default action: tag (encrypted mail between agencies is
/// legitimate); quarantine or reject where the province's rules forbid it.
///
/// - SeeAlso: RFC 8551 3.2 (smime-type), RFC 3156 4 (PGP/MIME), RFC 4880 6.2 (ASCII armor).
public struct EncryptedMessageRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .encryptedMessage,
        order: 400,
        configKey: "encrypted_message",
        defaultAction: .tag,
        needsContentScan: true,
        refusal: Refusal(
            554,
            EnhancedStatus(5, 7, 1),
            vi: "Thư được mã hóa, không kiểm tra được nội dung",
            en: "Encrypted message, content cannot be checked"
        )
    ) { _ in EncryptedMessageRule() }

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        var findings: [Finding] = []
        var reported: Set<String> = []
        for part in input.message.parts {
            guard let what = Self.opaque(part) else { continue }
            // The parts of a multipart/encrypted are the same finding.
            if let parent = part.parent, input.message.parts[parent].mediaType == "multipart/encrypted" { continue }
            findings.append(Finding(.encryptedMessage, detail: what, part: input.message.partNumber(of: part)))
            reported.insert(input.message.partNumber(of: part))
        }
        // A part inside one already reported (the armored part of a multipart/encrypted).
        // Part numbers (ParsedMessage.partNumber): the root is "0" (multipart) or "1" (single part).
        func covered(_ path: String) -> Bool { reported.contains { $0 == "0" || path == $0 || path.hasPrefix($0 + ".") } }
        for note in input.content?.encryptedMessages ?? [] where !covered(note.part) {
            findings.append(Finding(.encryptedMessage, detail: note.detail, part: note.part))
            reported.insert(note.part)
        }
        return findings
    }

    /// What makes a part unreadable by its MIME type, or nil.
    static func opaque(_ part: MIMEPart) -> String? {
        switch part.mediaType {
        case "application/pkcs7-mime", "application/x-pkcs7-mime":
            // signed-data is opened and scanned (its content is inside, unencrypted), and so is a
            // part without smime-type that turns out to be signed; certs-only carries no content.
            // What the scanner cannot open, it reports.
            guard let type = part.contentType["smime-type"]?.lowercased(),
                ["enveloped-data", "authenveloped-data", "compressed-data"].contains(type)
            else { return nil }
            return "S/MIME \(type) (\(part.mediaType)): content cannot be inspected"
        case "multipart/encrypted":
            return "PGP/MIME or other multipart/encrypted (\(part.contentType["protocol"] ?? "no protocol")): content cannot be inspected"
        case "application/pgp-encrypted":
            return "PGP encrypted (application/pgp-encrypted): content cannot be inspected"
        default:
            return nil
        }
    }
}
