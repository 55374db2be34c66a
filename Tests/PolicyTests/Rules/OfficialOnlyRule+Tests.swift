import MIMECore
import SMTPCore
import Testing

@testable import Policy

/// Quận 4 QĐ 03/2013 Đ6 k2, Đồng Nai QĐ 70/2009 Đ11 k2: a request mailbox takes mail only from
/// state-issued mailboxes.
@Suite struct OfficialOnlyRuleTests {
    let rule = OfficialOnlyRule(mailboxes: ["Q4@tphcm.gov.vn", "@motcua.dongnai.gov.vn"])
    let agencies = AgencyDirectory()

    func envelope(_ sender: String, _ recipients: [String] = []) -> Envelope {
        var envelope = Envelope(heloName: "mx.test", esmtp: true, sender: MailAddress(sender), parameters: MailParameters())
        envelope.recipients = recipients.map(MailAddress.init)
        return envelope
    }

    func input(_ lines: [String], from sender: String, to recipients: [String]) -> RuleInput {
        let envelope = envelope(sender, recipients)
        return RuleInput(
            envelope: envelope,
            message: RuleFixture.message(lines + ["", "Đề nghị cấp hộp thư.", ""]),
            parties: agencies.parties(sender: envelope.sender, recipients: envelope.recipients),
            agencies: agencies
        )
    }

    @Test func atRCPTASenderOutsideTheStateSystemIsRefusedForTheOfficialMailboxOnly() throws {
        let gmail = MailAddress("phuong1.q4@gmail.com")
        let refused = try #require(rule.evaluate(recipient: MailAddress("q4@TPHCM.gov.vn"), sender: gmail, agencies: agencies))
        #expect(
            refused.detail
                == "sender <phuong1.q4@gmail.com> is not a state-issued mailbox; <q4@TPHCM.gov.vn> takes mail only from"
                + " state-issued mailboxes; only this recipient is refused"
        )
        // As Postfix delivers it: a quoted local part, another case, a subaddress; every mailbox of
        // a listed domain.
        for same in ["\"q4\"@tphcm.gov.vn", "\"Q4+x\"@tphcm.gov.vn", "Q4@tphcm.gov.vn."] {
            #expect(rule.evaluate(recipient: MailAddress(same), sender: gmail, agencies: agencies) != nil, "\(same)")
        }
        #expect(rule.evaluate(recipient: MailAddress("q4+hopthu@tphcm.gov.vn"), sender: gmail, agencies: agencies) != nil)
        #expect(rule.evaluate(recipient: MailAddress("tiepnhan@motcua.dongnai.gov.vn"), sender: gmail, agencies: agencies) != nil)
        // Other mailboxes, state senders and the null sender (a report, judged after DATA) pass.
        #expect(rule.evaluate(recipient: MailAddress("q5@tphcm.gov.vn"), sender: gmail, agencies: agencies) == nil)
        #expect(
            rule.evaluate(recipient: MailAddress("q4@tphcm.gov.vn"), sender: MailAddress("vp@phuong1.q4.tphcm.gov.vn"), agencies: agencies)
                == nil
        )
        #expect(rule.evaluate(recipient: MailAddress("q4@tphcm.gov.vn"), sender: MailAddress(""), agencies: agencies) == nil)
        #expect(
            OfficialOnlyRule(mailboxes: []).evaluate(recipient: MailAddress("q4@tphcm.gov.vn"), sender: gmail, agencies: agencies) == nil
        )
    }

    @Test func afterDataAnAuthorOutsideTheStateSystemRefusesTheWholeMessageAndSaysSo() {
        let relayed = input(
            ["From: Phuong 1 <phuong1.q4@gmail.com>", "To: q4@tphcm.gov.vn", "Subject: De nghi cap hop thu"],
            from: "vp@phuong1.q4.tphcm.gov.vn",
            to: ["q4@tphcm.gov.vn", "ketoan@tphcm.gov.vn"]
        )
        #expect(
            rule.evaluate(relayed).map(\.detail) == [
                "the author <phuong1.q4@gmail.com> (From) is not a state-issued mailbox; <q4@tphcm.gov.vn> takes mail only"
                    + " from state-issued mailboxes; the message is refused for all 2 recipients, the 1 other too: SMTP"
                    + " answers the message data once, so send it to that one again on its own"
            ]
        )
        // A state portal relaying a citizen's form says so in Sender: it answers for the message.
        let portal = input(
            ["From: Cong dan <congdan@gmail.com>", "Sender: Cong dich vu cong <dvc@tphcm.gov.vn>", "Subject: De nghi"],
            from: "dvc@tphcm.gov.vn",
            to: ["q4@tphcm.gov.vn"]
        )
        #expect(rule.evaluate(portal).isEmpty)
        // `thugate scan` and non-refusing actions judge the envelope sender here too.
        let gmail = input(["From: phuong1.q4@gmail.com"], from: "phuong1.q4@gmail.com", to: ["q4@tphcm.gov.vn"])
        #expect(rule.evaluate(gmail).first?.detail.hasPrefix("sender <phuong1.q4@gmail.com> is not") == true)
    }

    @Test func reportsAutomaticRepliesAndStateAuthorsPass() {
        let official = ["q4@tphcm.gov.vn"]
        let dsn = input(
            ["From: MAILER-DAEMON@mx.gmail.com", "Content-Type: multipart/report; report-type=delivery-status; boundary=b"],
            from: "",
            to: official
        )
        #expect(rule.evaluate(dsn).isEmpty)
        let vacation = input(["From: phuong1.q4@gmail.com", "Auto-Submitted: auto-replied", "Subject: Vắng mặt"], from: "", to: official)
        #expect(rule.evaluate(vacation).isEmpty)
        let state = input(["From: Phuong 1 <vp@phuong1.q4.tphcm.gov.vn>"], from: "vp@phuong1.q4.tphcm.gov.vn", to: official)
        #expect(rule.evaluate(state).isEmpty)
        let elsewhere = input(["From: phuong1.q4@gmail.com"], from: "phuong1.q4@gmail.com", to: ["q5@tphcm.gov.vn"])
        #expect(rule.evaluate(elsewhere).isEmpty)
        // The null sender with an outside author and no report: a request all the same.
        let nullRequest = input(["From: phuong1.q4@gmail.com", "Subject: De nghi"], from: "", to: official)
        #expect(rule.evaluate(nullRequest).count == 1)
    }
}
