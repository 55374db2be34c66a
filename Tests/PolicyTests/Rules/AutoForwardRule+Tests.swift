import MIMECore
import SMTPCore
import Testing

@testable import Policy

@Suite struct AutoForwardRuleTests {
    static func input(
        _ lines: [String],
        from sender: String,
        to recipients: [String],
        domains: StateDomains = StateDomains()
    )
        -> RuleInput
    {
        let message = RuleFixture.message(lines + ["", "Kính gửi.", ""])
        var envelope = Envelope(heloName: "mx.test", esmtp: true, sender: MailAddress(sender), parameters: MailParameters())
        envelope.recipients = recipients.map(MailAddress.init)
        let agencies = AgencyDirectory(domains: domains)
        let parties = agencies.parties(sender: envelope.sender, recipients: envelope.recipients)
        return RuleInput(envelope: envelope, message: message, parties: parties, agencies: agencies)
    }

    @Test func aStateMailboxsRedirectToGmailIsAFindingNamingBothSides() {
        let found = AutoForwardRule().evaluate(
            Self.input(
                ["X-Zimbra-Forwarded: lanhdao@hoabinh.gov.vn", "From: vanthu@hoabinh.gov.vn", "Subject: Lịch họp"],
                from: "vanthu@hoabinh.gov.vn",
                to: ["lanhdao.canhan@gmail.com", "pho@hoabinh.gov.vn"]
            )
        )
        #expect(
            found.map(\.detail) == [
                "automatically forwarded (zimbra-forwarded) from the state mailbox <lanhdao@hoabinh.gov.vn> to non-state"
                    + " <lanhdao.canhan@gmail.com>; the message is refused for all 2 recipients, the 1 other too: SMTP answers"
                    + " the message data once, so send it to that one again on its own"
            ]
        )
    }

    @Test func theReverseDirectionTooAndNotBetweenStateMailboxes() {
        let into = Self.input(
            ["X-Forwarded-To: canbo@quangninh.gov.vn", "From: ban@example.com", "Subject: Hello"],
            from: "canbo.ca.nhan+caf_=canbo=quangninh.gov.vn@gmail.com",
            to: ["canbo@quangninh.gov.vn"]
        )
        #expect(AutoForwardRule().evaluate(into).count == 1)
        let between = Self.input(
            ["X-Sieve-Redirected-From: vanthu@hoabinh.gov.vn", "From: a@hoabinh.gov.vn"],
            from: "a@hoabinh.gov.vn",
            to: ["vanthu.so@quangninh.gov.vn"]
        )
        #expect(AutoForwardRule().evaluate(between).isEmpty)
        // A province's own non-gov.vn domain counts as state-issued once [domains] names it.
        let own = Self.input(
            ["X-Sieve-Redirected-From: vanthu@hoabinh.gov.vn", "From: a@hoabinh.gov.vn"],
            from: "a@hoabinh.gov.vn",
            to: ["thu@congan-hoabinh.vn"],
            domains: StateDomains(own: ["congan-hoabinh.vn"], stateSuffixes: ["gov.vn"])!
        )
        #expect(AutoForwardRule().evaluate(own).isEmpty)
    }

    /// On-premises Exchange keeps the author's envelope sender and names no forwarder: the
    /// mailbox the message was written to, and is no longer going to, forwarded it.
    @Test func aTraceNamingNoForwarderIsJudgedByTheAddressedMailbox() {
        let lines = [
            "X-MS-Exchange-Organization-AutoForwarded: true",
            "From: ban@example.com",
            "To: lethic@quangninh.gov.vn",
            "Subject: Hỏi",
        ]
        let out = AutoForwardRule().evaluate(Self.input(lines, from: "ban@example.com", to: ["lethic.qn@gmail.com"]))
        #expect(out.map(\.detail).first?.contains("from the state mailbox <lethic@quangninh.gov.vn>") == true)
        let between = AutoForwardRule().evaluate(Self.input(lines, from: "ban@example.com", to: ["nguyenvana@quangninh.gov.vn"]))
        #expect(between.isEmpty)
    }

    @Test func noTraceOrNoEnvelopeIsNothing() {
        let byHand = Self.input(
            ["From: vanthu@hoabinh.gov.vn", "Subject: Fwd: Lịch họp"],
            from: "vanthu@hoabinh.gov.vn",
            to: ["doitac@example.com"]
        )
        #expect(AutoForwardRule().evaluate(byHand).isEmpty)
        #expect(AutoForwardRule().evaluate(RuleFixture.input()).isEmpty)
    }

    static func envelope(_ sender: String) -> Envelope {
        Envelope(heloName: "mx.test", esmtp: true, sender: MailAddress(sender), parameters: MailParameters())
    }

    /// At RCPT, before any header: a forwarder's MAIL FROM (SRS, Gmail's `+caf_=`) refuses the
    /// recipients on the other side of the edge, one by one, and no others.
    @Test func atRCPTAForwardersSenderRefusesOnlyTheRecipientsAcrossTheEdge() throws {
        let rule = AutoForwardRule()
        let agencies = AgencyDirectory()
        let srs = Self.envelope("SRS0=HHH=TT=example.org=ban@hoabinh.gov.vn")
        let refused = try #require(
            rule.evaluate(recipient: MailAddress("lanhdao.canhan@gmail.com"), sender: srs.sender, agencies: agencies)
        )
        #expect(
            refused.detail
                == "automatically forwarded (srs-sender) from the state mailbox <@hoabinh.gov.vn> to non-state"
                + " <lanhdao.canhan@gmail.com>; only this recipient is refused"
        )
        #expect(rule.evaluate(recipient: MailAddress("pho@hoabinh.gov.vn"), sender: srs.sender, agencies: agencies) == nil)
        let caf = Self.envelope("canbo.ca.nhan+caf_=canbo=quangninh.gov.vn@gmail.com")
        #expect(rule.evaluate(recipient: MailAddress("canbo@quangninh.gov.vn"), sender: caf.sender, agencies: agencies) != nil)
        #expect(rule.evaluate(recipient: MailAddress("ban@example.com"), sender: caf.sender, agencies: agencies) == nil)
        // A person's sender, a bounce address and the null sender are not known forwarders.
        // The bare postmaster (RFC 5321 4.5.1) and an address literal are never judged.
        for recipient in ["postmaster", "Postmaster", "u@[192.0.2.1]"] {
            #expect(rule.evaluate(recipient: MailAddress(recipient), sender: srs.sender, agencies: agencies) == nil, "\(recipient)")
        }
        for sender in ["vanthu@hoabinh.gov.vn", "bounces+123-abc=hoabinh.gov.vn@em.sendgrid.net", ""] {
            #expect(rule.evaluate(recipient: MailAddress("a@gmail.com"), sender: MailAddress(sender), agencies: agencies) == nil)
        }
    }

    /// The rule set asks the RCPT rules only under an action that refuses.
    @Test func theRuleSetJudgesRecipientsOnlyUnderARefusingAction() {
        let srs = Self.envelope("SRS0=HHH=TT=example.org=ban@hoabinh.gov.vn")
        let gmail = MailAddress("a@gmail.com")
        for action in [PolicyAction.tag, .quarantine, .off] {
            let set = RuleSet(rules: [(AutoForwardRule(), action)])
            #expect(!set.judgesRecipients)
            #expect(set.judge(recipient: gmail, sender: srs.sender, agencies: AgencyDirectory()) == nil)
        }
        for action in [PolicyAction.tempfail, .reject] {
            let set = RuleSet(rules: [(AutoForwardRule(), action)])
            #expect(set.judgesRecipients)
            #expect(set.judge(recipient: gmail, sender: srs.sender, agencies: AgencyDirectory())?.action == action)
        }
    }
}
