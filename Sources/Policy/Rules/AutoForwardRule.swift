import MIMECore
public import SMTPCore

extension Finding.RuleID {
    public static let autoForward = Finding.RuleID(rawValue: "auto-forward")
}

/// Mail a machine forwarded between a state-issued mailbox and one that is not, either way: a
/// forwarding system's trace (``ForwardingSignals``: Gmail, Exchange, Zimbra, Sieve, `.forward`,
/// SRS, `Auto-Submitted: auto-forwarded`, `Resent-*`) on a message whose forwarding mailbox and a
/// recipient are on the two sides of the state system. The forwarding mailbox is the one the trace
/// names, else the envelope sender (a forwarder rewrites it to its own). A person's "Fwd:",
/// replies, auto-replies, reports, calendar replies, lists and bulk mail are no evidence, and
/// forwarding between two state-issued mailboxes is allowed. Which mailboxes are state-issued is
/// `[domains]` and `[[agency]]`.
///
/// Only the recipients across the edge are refused when MAIL FROM already shows the forwarder
/// (Gmail's `+caf_=` sender, SRS): at RCPT, one by one. What only the header shows is known after
/// DATA, when SMTP can refuse only the whole message: the reply then says that the recipients on
/// the forwarder's side were refused with it.
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ14 k8: no automatic forwarding from the official
///   mailbox to mailboxes not issued by a state agency, or the reverse.
public struct AutoForwardRule: RecipientRule {
    public static let declaration = RuleDeclaration(
        id: .autoForward,
        order: 1300,
        configKey: "auto_forward",
        defaultAction: .reject,
        needsContentScan: false,
        refusal: Refusal(
            550,
            EnhancedStatus(5, 7, 1),
            vi: "Không được tự động chuyển tiếp thư giữa hộp thư công vụ và hộp thư ngoài hệ thống nhà nước",
            en: "Automatic forwarding between state and non-state mailboxes is not allowed",
            article: "QĐ 40/2022 Đ14 k8",
            namesPart: false
        )
    ) { _ in AutoForwardRule() }

    public init() {}

    /// The first To or Cc mailbox of the header that is none of the envelope's recipients.
    static func addressedMailbox(_ message: ParsedMessage, notIn recipients: [MailAddress]) -> String? {
        guard let root = message.parts.first else { return nil }
        let envelope = Set(recipients.map { $0.address.lowercased() })
        for name in ["To", "Cc"] {
            guard let value = message.headerValue(name, of: root) else { continue }
            for mailbox in AddressList.parse(value) where !mailbox.address.isEmpty {
                let address = mailbox.address.lowercased()
                if !envelope.contains(address) { return address }
            }
        }
        return nil
    }

    /// Whether a trace's forwarder is state-issued: a mailbox, or `@domain` for SRS.
    static func isStateIssued(forwarder: String, agencies: AgencyDirectory) -> Bool {
        guard forwarder.hasPrefix("@") else { return agencies.owner(of: MailAddress(forwarder)).stateIssued }
        return agencies.isStateIssued(domain: String(forwarder.dropFirst()))
    }

    /// At RCPT: refused when MAIL FROM is a forwarder's and this recipient is on the other side.
    /// A recipient with no domain (`postmaster`, RFC 5321 4.5.1) or an address literal is this
    /// site's own or no one's: never judged.
    public func evaluate(recipient: MailAddress, sender: MailAddress, agencies: AgencyDirectory) -> Finding? {
        let evidence = ForwardingSignals.envelopeEvidence(sender: sender)
        guard let forwarder = evidence.compactMap(\.forwarder).first, AgencyDirectory.split(recipient) != nil else { return nil }
        let forwarderState = Self.isStateIssued(forwarder: forwarder, agencies: agencies)
        guard agencies.owner(of: recipient).stateIssued != forwarderState else { return nil }
        return Finding(
            .autoForward,
            detail: Self.detail(evidence, forwarder: forwarder, fromState: forwarderState, across: [recipient.address])
                + "; only this recipient is refused"
        )
    }

    public func evaluate(_ input: RuleInput) -> [Finding] {
        guard let envelope = input.envelope, let parties = input.parties, !envelope.recipients.isEmpty else { return [] }
        let evidence = ForwardingSignals.evidence(envelopeSender: envelope.sender, recipients: envelope.recipients, message: input.message)
        guard !evidence.isEmpty else { return [] }
        // The forwarding mailbox: the one a trace names (its domain for SRS), else the envelope sender.
        let forwarderState: Bool
        let forwarder: String
        if let named = evidence.compactMap(\.forwarder).first {
            forwarder = named
            forwarderState = Self.isStateIssued(forwarder: named, agencies: input.agencies)
        } else if let addressed = Self.addressedMailbox(input.message, notIn: envelope.recipients) {
            // No trace names it (Exchange's Organization-AutoForwarded, Auto-Submitted): the mailbox
            // the message was written to and is no longer going to is the one that forwarded it,
            // whatever envelope sender the forwarder kept.
            forwarder = addressed
            forwarderState = input.agencies.owner(of: MailAddress(addressed)).stateIssued
        } else {
            forwarder = envelope.sender.address
            forwarderState = parties.sender.stateIssued
        }
        let across = zip(envelope.recipients, parties.recipients).filter {
            AgencyDirectory.split($0.0) != nil && $0.1.stateIssued != forwarderState
        }.map(\.0.address)
        guard !across.isEmpty else { return [] }
        var detail = Self.detail(evidence, forwarder: forwarder, fromState: forwarderState, across: across)
        let others = envelope.recipients.count - across.count
        if others > 0 { detail += refusedForAll(envelope.recipients.count, others: others) }
        return [Finding(.autoForward, detail: detail)]
    }

    /// `automatically forwarded (srs-sender) from the state mailbox <@hoabinh.gov.vn> to non-state <a@gmail.com>`.
    static func detail(_ evidence: [ForwardingEvidence], forwarder: String, fromState: Bool, across: [String]) -> String {
        let signals = Array(Set(evidence.map(\.signal.rawValue))).sorted().joined(separator: ", ")
        let direction = fromState ? "from the state mailbox" : "from the non-state mailbox"
        let to = across.prefix(5).map { "<\($0)>" }.joined(separator: ", ") + (across.count > 5 ? " and \(across.count - 5) more" : "")
        return "automatically forwarded (\(signals)) \(direction) <\(forwarder)> to \(fromState ? "non-state" : "state") \(to)"
    }
}
