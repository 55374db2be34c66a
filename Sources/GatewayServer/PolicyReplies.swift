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
        default:
            return .custom(554, EnhancedStatus(5, 7, 1), "Thư bị từ chối theo quy chế / Message refused by policy: \(finding.rule)\(where_(finding))")
        }
    }

    static func tempfail(_ finding: Finding) -> Reply {
        .custom(451, EnhancedStatus(4, 7, 0), "Thư tạm thời bị giữ lại / Message deferred by policy: \(finding.rule)\(where_(finding))")
    }

    private static func where_(_ finding: Finding) -> String {
        guard let part = finding.part, !part.isEmpty else { return "" }
        return " (part \(part))"
    }
}
