import Policy
import SMTPCore

/// The replies of the policy: a rule's refusal is the one its declaration gives (``Refusal``);
/// the text names the rule (and the part), never the message's content beyond the finding's
/// short detail.
enum PolicyReplies {
    static func reject(_ finding: Finding) -> Reply {
        guard let refusal = RuleCatalog.declaration(of: finding.rule)?.refusal else {
            return .custom(
                554,
                EnhancedStatus(5, 7, 1),
                "Thư bị từ chối theo quy chế / Message refused by policy: \(finding.rule)\(where_(finding))"
            )
        }
        return .custom(refusal.code, refusal.status, refusal.text(for: finding))
    }

    static func tempfail(_ finding: Finding) -> Reply {
        .custom(451, EnhancedStatus(4, 7, 0), "Thư tạm thời bị giữ lại / Message deferred by policy: \(finding.rule)\(where_(finding))")
    }

    /// Content inspection failed (engine error, scan time limit): never accept unseen.
    static let scanFailed = Reply.custom(
        451,
        EnhancedStatus(4, 7, 0),
        "Không kiểm tra được nội dung thư, xin gửi lại sau / Content scan failed, try again later"
    )

    static func quarantined(_ queueID: String) -> Reply {
        .custom(250, EnhancedStatus(2, 0, 0), "Thư được giữ lại chờ kiểm tra, mã \(queueID) / Held for review as \(queueID)")
    }

    private static func where_(_ finding: Finding) -> String { Refusal.location(of: finding) }
}
