public import MIMECore
import SMTPCore

extension Finding.RuleID {
    public static let attachmentSize = Finding.RuleID(rawValue: "attachment-size")
}

/// QĐ 40/2022 (Quảng Ninh) Đ8 k1: attachments at most 20 MB per message; QĐ 03/2013 (Quận 4)
/// Đ4 k2: 15 MB. The sum of the decoded sizes of a message's attachments, against a per-policy
/// limit (`[policy] max_attachments_size`).
public struct AttachmentSizeRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .attachmentSize,
        order: 1000,
        configKey: "attachment_size",
        defaultAction: .reject,
        needsContentScan: false,
        refusal: Refusal(
            552,
            EnhancedStatus(5, 3, 4),
            vi: "Tệp đính kèm vượt dung lượng cho phép",
            en: "Attachments too large",
            article: "Quy chế Đ8 k1",
            namesPart: false
        ),
        parameters: [
            RuleParameter(
                key: maxSizeKey,
                kind: .size(min: 1024),
                defaultValue: .size(20 * 1_000_000),
                profiles: [.quangNinh: .size(20 * 1_000_000), .quan4: .size(15 * 1_000_000)]
            )
        ]
    ) { AttachmentSizeRule(limit: $0.maxAttachmentsSize) }
    /// `[policy] max_attachments_size`: QĐ 40/2022 (Quảng Ninh) Đ8 k1 allows 20 MB, QĐ 03/2013
    /// (Quận 4) Đ4 k2 15 MB (`profile = "quan-4"`).
    public static let maxSizeKey = "max_attachments_size"
    public var limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// An attachment is a leaf part with a file name, `Content-Disposition: attachment`, or a
    /// type other than text (a text body carrying uuencoded files counts whole); inline text bodies
    /// are the message, not attachments.
    public static func isAttachment(_ part: MIMEPart) -> Bool {
        // A message/rfc822 leaf is opened by the scanner; one in base64 is still its bytes.
        guard part.children.isEmpty, !part.isMessage || part.transferEncoding == "base64" else { return false }
        if part.filename != nil || part.disposition?.value == "attachment" || !part.uuencodedNames.isEmpty { return true }
        return !part.mediaType.hasPrefix("text/") && !part.mediaType.hasPrefix("multipart/")
    }

    public static func attachmentBytes(_ message: ParsedMessage) -> Int {
        message.parts.lazy.filter(isAttachment).reduce(0) { $0 + $1.decodedSize }
    }

    public func evaluate(_ input: RuleInput) -> [Finding] {
        let total = Self.attachmentBytes(input.message)
        guard total > limit else { return [] }
        return [Finding(.attachmentSize, detail: "attachments \(Self.megabytes(total)) > limit \(Self.megabytes(limit))", part: nil)]
    }

    static func megabytes(_ n: Int) -> String {
        let tenths = (n * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}

extension RuleParameters {
    /// ``AttachmentSizeRule``'s limit (`max_attachments_size`, or the profile's).
    public var maxAttachmentsSize: Int {
        get { self[size: AttachmentSizeRule.maxSizeKey] }
        set { self[size: AttachmentSizeRule.maxSizeKey] = newValue }
    }
}
