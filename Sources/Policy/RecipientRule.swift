public import SMTPCore

/// A rule that can judge a recipient from MAIL FROM and the RCPT alone, before any message data
/// (nothing else, so that a pipelined RCPT is judged alike whenever it is asked): the proxy refuses that recipient at RCPT when the rule's action refuses
/// (`reject`, `tempfail`), and the others in the transaction go on. Its ``Rule/evaluate(_:)``
/// still judges the whole message: in `thugate scan`, with the other actions, and for what only
/// the header shows.
public protocol RecipientRule: Rule {
    /// The finding for this recipient of this sender; nil when the two alone clear it.
    func evaluate(recipient: MailAddress, sender: MailAddress, agencies: AgencyDirectory) -> Finding?
}

extension RuleSet {
    /// What the rules that judge at RCPT find about one recipient, with the action that refuses
    /// it: the strongest action among those that found something, the first in order among
    /// equals (as for a message). Nil when no rule whose action refuses finds anything.
    public func judge(recipient: MailAddress, sender: MailAddress, agencies: AgencyDirectory) -> (action: PolicyAction, finding: Finding)? {
        var strongest: (action: PolicyAction, finding: Finding)?
        for (rule, action) in rules where action >= .tempfail {
            guard let rule = rule as? any RecipientRule,
                let finding = rule.evaluate(recipient: recipient, sender: sender, agencies: agencies)
            else { continue }
            if strongest == nil || action > strongest!.action { strongest = (action, finding) }
        }
        return strongest
    }

    /// Whether any rule whose action refuses judges at RCPT (the proxy then asks at each RCPT).
    public var judgesRecipients: Bool {
        rules.contains { $0.action >= .tempfail && $0.rule is any RecipientRule }
    }
}

/// What a rule's finding after DATA adds when some recipients are not the ones it is about: SMTP
/// answers the message data once, so they are refused with it.
/// `; refused for all 3 recipients, the 2 others too: SMTP answers the message data once`.
func refusedForAll(_ total: Int, others: Int) -> String {
    "; the message is refused for all \(total) recipients, the \(others) other\(others == 1 ? "" : "s") too:"
        + " SMTP answers the message data once, so send it to \(others == 1 ? "that one" : "them") again on its own"
}
