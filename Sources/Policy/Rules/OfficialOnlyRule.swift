import MIMECore
public import SMTPCore

extension Finding.RuleID {
    public static let officialOnly = Finding.RuleID(rawValue: "official-only")
}

/// Mailboxes that take mail only from state-issued mailboxes (`[policy] official_only_mailboxes`:
/// an office's request mailbox such as `q4@tphcm.gov.vn`, or `@domain` for every mailbox of a
/// domain). A sender that is not state-issued ([domains], [[agency]]) is refused at RCPT, before
/// any data: the other recipients of the transaction go on. The null sender passes there (RFC 5321
/// 4.5.5: bounces are accepted), and after DATA the author is judged: a From that is not
/// state-issued (a request written in Gmail and sent on by a state relay, or under the null
/// sender) refuses the whole message, which the reply says when there are other recipients,
/// unless a state-issued `Sender:` (RFC 5322 3.6.2: the mailbox that sent it, a state portal
/// relaying a citizen's form) answers for it. Delivery reports and automatic replies (RFC 3464,
/// RFC 3834) answer the office's own mail and pass after DATA; an automatic reply sent with its
/// author's mailbox as MAIL FROM is refused at RCPT like any mail of that sender.
/// - SeeAlso: QĐ 03/2013/QĐ-UBND (Quận 4) Đ6 k2 ("any request sent to the Quận 4 People's
///   Committee Office from Yahoo, Gmail, … or personal mailboxes is not accepted"); QĐ 70/2009
///   (Đồng Nai) Đ11 k2 (mailboxes outside the province's system are not used for official work).
public struct OfficialOnlyRule: RecipientRule {
    public static let declaration = RuleDeclaration(
        id: .officialOnly,
        order: 1400,
        configKey: "official_only",
        defaultAction: .reject,
        needsContentScan: false,
        refusal: Refusal(
            550,
            EnhancedStatus(5, 7, 1),
            vi: "Hộp thư này chỉ nhận thư gửi từ hộp thư công vụ của cơ quan nhà nước",
            en: "This mailbox accepts mail only from state-issued mailboxes",
            article: "QĐ 03/2013 Quận 4 Đ6 k2; QĐ 70/2009 Đồng Nai Đ11 k2",
            namesPart: false
        ),
        parameters: [RuleParameter(key: mailboxesKey, kind: .mailboxes, defaultValue: .strings([]))]
    ) { OfficialOnlyRule(mailboxes: $0.officialOnlyMailboxes) }
    /// `[policy] official_only_mailboxes`: the mailboxes (or `@domain`s) that take mail only from
    /// state-issued senders.
    public static let mailboxesKey = "official_only_mailboxes"

    /// The mailboxes, lowercased, without a `+detail`.
    public var mailboxes: Set<String>
    /// The domains given as `@domain`, lowercased.
    public var domains: Set<String>

    public init(mailboxes entries: [String]) {
        var mailboxes: Set<String> = []
        var domains: Set<String> = []
        for entry in entries {
            let entry = entry.lowercased()
            if entry.hasPrefix("@") {
                domains.insert(String(entry.dropFirst()))
            } else if let (local, domain) = AgencyDirectory.split(MailAddress(entry)) {
                mailboxes.insert(ForwardingSignals.normalizedMailbox(local + "@" + domain))
            }
        }
        self.mailboxes = mailboxes
        self.domains = domains
    }

    /// Whether the address is one of the configured mailboxes: compared as Postfix delivers it,
    /// with a quoted local part unquoted (`"q4"@…` is `q4@…`), case folded, and a `+detail` being
    /// the same mailbox.
    public func isOfficialOnly(_ address: MailAddress) -> Bool {
        guard !mailboxes.isEmpty || !domains.isEmpty, let (local, domain) = AgencyDirectory.split(address) else { return false }
        return domains.contains(domain) || mailboxes.contains(ForwardingSignals.normalizedMailbox(local + "@" + domain))
    }

    public func evaluate(recipient: MailAddress, sender: MailAddress, agencies: AgencyDirectory) -> Finding? {
        guard isOfficialOnly(recipient), !sender.isNull, !agencies.owner(of: sender).stateIssued else { return nil }
        return Finding(
            .officialOnly,
            detail: "sender <\(sender.address)> is not a state-issued mailbox; <\(recipient.address)> takes mail only"
                + " from state-issued mailboxes; only this recipient is refused"
        )
    }

    public func evaluate(_ input: RuleInput) -> [Finding] {
        guard let envelope = input.envelope else { return [] }
        let official = envelope.recipients.filter(isOfficialOnly)
        guard !official.isEmpty else { return [] }
        let whom =
            official.prefix(5).map { "<\($0.address)>" }.joined(separator: ", ")
            + (official.count > 5 ? " and \(official.count - 5) more" : "")
        var detail: String
        if !envelope.sender.isNull, !input.agencies.owner(of: envelope.sender).stateIssued {
            detail = "sender <\(envelope.sender.address)> is not a state-issued mailbox"
        } else if let author = Self.outsideAuthor(input) {
            detail = "the author <\(author)> (From) is not a state-issued mailbox"
        } else {
            return []
        }
        detail += "; \(whom) take\(official.count == 1 ? "s" : "") mail only from state-issued mailboxes"
        let others = envelope.recipients.count - official.count
        if others > 0 {
            detail += refusedForAll(envelope.recipients.count, others: others)
        }
        return [Finding(.officialOnly, detail: detail)]
    }

    /// The first From mailbox that is not state-issued, unless the message is a delivery report or
    /// an automatic reply, or a state-issued `Sender:` sent it.
    static func outsideAuthor(_ input: RuleInput) -> String? {
        guard let root = input.message.parts.first, let from = input.message.headerValue("From", of: root) else { return nil }
        if let sender = input.message.headerValue("Sender", of: root).flatMap({ AddressList.parse($0).first }),
            !sender.address.isEmpty, input.agencies.owner(of: MailAddress(sender.address)).stateIssued
        {
            return nil
        }
        let outside = AddressList.parse(from).map { $0.address.lowercased() }.first { address in
            !address.isEmpty && !input.agencies.owner(of: MailAddress(address)).stateIssued
        }
        guard let outside else { return nil }
        let excluded = ForwardingSignals.exclusions(envelopeSender: input.envelope?.sender, message: input.message)
        return excluded.contains(.report) || excluded.contains(.autoReply) ? nil : outside
    }
}

extension RuleParameters {
    /// ``OfficialOnlyRule``'s mailboxes (`official_only_mailboxes`).
    public var officialOnlyMailboxes: [String] {
        get { self[strings: OfficialOnlyRule.mailboxesKey] }
        set { self[strings: OfficialOnlyRule.mailboxesKey] = newValue }
    }
}
