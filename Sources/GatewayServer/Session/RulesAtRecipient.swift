import Policy
import SMTPCore

/// The rules that judge a recipient from the envelope alone (``RecipientRule``), as the session
/// machine asks them at each RCPT: a finding under a refusing action is the rule's own reply
/// (`reject`: its ``Refusal``; `tempfail`: 451 4.7.0), for this recipient only.
struct RulesAtRecipient: RecipientPolicy {
    let ruleSet: RuleSet
    let agencies: AgencyDirectory

    /// Nil when no rule whose action refuses judges at RCPT: the machine then asks nothing.
    init?(ruleSet: RuleSet, agencies: AgencyDirectory) {
        guard ruleSet.judgesRecipients else { return nil }
        self.ruleSet = ruleSet
        self.agencies = agencies
    }

    func refusal(of recipient: MailAddress, from sender: MailAddress) -> RecipientRefusal? {
        guard let (action, finding) = ruleSet.judge(recipient: recipient, sender: sender, agencies: agencies) else { return nil }
        let reply = action == .reject ? PolicyReplies.reject(finding) : PolicyReplies.tempfail(finding)
        // Postfix's shape: the code and status, then why (`550 5.7.1 auto-forward: …`).
        return RecipientRefusal(reply, reason: "\(reply.code) \(reply.status.map { "\($0) " } ?? "")\(finding)")
    }
}
