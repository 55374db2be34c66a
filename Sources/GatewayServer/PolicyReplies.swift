import Policy
import SMTPCore

/// The reply for each rule's refusal: an enhanced status and Vietnamese / English text naming
/// the rule (and the part), never the message's content beyond the finding's short detail.
enum PolicyReplies {
    static func reject(_ finding: Finding) -> Reply {
        switch finding.rule {
        case .malformed:
            return .custom(554, EnhancedStatus(5, 6, 0),
                           "Thư sai cấu trúc MIME, không kiểm tra được / Malformed message, cannot be checked: \(finding.detail)\(where_(finding))")
        case .mimeIrregular, .mimeAmbiguous:
            return .custom(554, EnhancedStatus(5, 6, 0),
                           "Thư có cấu trúc MIME bất thường / Irregular MIME structure: \(finding.detail)\(where_(finding))")
        case .encryptedMessage:
            return .custom(554, EnhancedStatus(5, 7, 1),
                           "Thư được mã hóa, không kiểm tra được nội dung / Encrypted message, content cannot be checked: \(finding.detail)\(where_(finding))")
        case .virus:
            return .custom(554, EnhancedStatus(5, 7, 0),
                           "Thư chứa virus, mã độc (Quy chế Đ15 k5) / Virus found: \(finding.detail)\(where_(finding))")
        case .executable:
            return .custom(554, EnhancedStatus(5, 7, 1),
                           "Tệp đính kèm là tệp thực thi (Quy chế Đ15 k6) / Executable attachment: \(finding.detail)\(where_(finding))")
        case .encryptedArchive:
            return .custom(554, EnhancedStatus(5, 7, 1),
                           "Tệp nén có mật khẩu không được phép (Quy chế Đ15 k6) / Password-protected archive: \(finding.detail)\(where_(finding))")
        case .encryptedDocument:
            return .custom(554, EnhancedStatus(5, 7, 1),
                           "Tài liệu có mật khẩu, không kiểm tra được / Password-protected document: \(finding.detail)\(where_(finding))")
        case .archiveLimit:
            return .custom(554, EnhancedStatus(5, 7, 0),
                           "Tệp nén vượt giới hạn kiểm tra / Archive exceeds inspection limits: \(finding.detail)\(where_(finding))")
        case .attachmentSize:
            return .custom(552, EnhancedStatus(5, 3, 4),
                           "Tệp đính kèm vượt dung lượng cho phép (Quy chế Đ8 k1) / Attachments too large: \(finding.detail)")
        case .officeMacro:
            return .custom(554, EnhancedStatus(5, 7, 1),
                           "Tài liệu Office có macro không được phép / Office document with macros: \(finding.detail)\(where_(finding))")
        default:
            return .custom(554, EnhancedStatus(5, 7, 1), "Thư bị từ chối theo quy chế / Message refused by policy: \(finding.rule)\(where_(finding))")
        }
    }

    static func tempfail(_ finding: Finding) -> Reply {
        .custom(451, EnhancedStatus(4, 7, 0), "Thư tạm thời bị giữ lại / Message deferred by policy: \(finding.rule)\(where_(finding))")
    }

    /// Content inspection failed (engine error, scan time limit): never accept unseen.
    static let scanFailed = Reply.custom(451, EnhancedStatus(4, 7, 0),
                                         "Không kiểm tra được nội dung thư, xin gửi lại sau / Content scan failed, try again later")

    static func quarantined(_ queueID: String) -> Reply {
        .custom(250, EnhancedStatus(2, 0, 0), "Thư được giữ lại chờ kiểm tra, mã \(queueID) / Held for review as \(queueID)")
    }

    private static func where_(_ finding: Finding) -> String {
        guard let part = finding.part, !part.isEmpty else { return "" }
        return " (part \(part))"
    }
}
