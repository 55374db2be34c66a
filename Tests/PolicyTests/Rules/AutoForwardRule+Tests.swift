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
                "automatically forwarded (zimbra-forwarded) from the state mailbox <lanhdao@hoabinh.gov.vn> to non-state <lanhdao.canhan@gmail.com>"
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
}
