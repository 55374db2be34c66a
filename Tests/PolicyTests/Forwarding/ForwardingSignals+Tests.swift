import MIMECore
import SMTPCore
import Testing

@testable import Policy

/// Header blocks in the shape each real system writes (see /work/notes/forwarding-signals.md for
/// the public examples they follow), with the deployment's names: `hoabinh.gov.vn` is state-issued.
enum ForwardingFixture {
    static func message(_ text: String) -> ParsedMessage {
        MIMEParser.parse(Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8))
    }

    static func evidence(_ text: String, from sender: String?, to recipients: [String]) -> [ForwardingEvidence] {
        ForwardingSignals.evidence(
            envelopeSender: sender.map(MailAddress.init),
            recipients: recipients.map(MailAddress.init),
            message: message(text)
        )
    }

    static func exclusions(_ text: String, from sender: String?) -> [ForwardingExclusion] {
        ForwardingSignals.exclusions(envelopeSender: sender.map(MailAddress.init), message: message(text))
    }
}

@Suite struct ForwardingSignalsTests {
    // MARK: - Each signal found

    /// Gmail forwarding a personal account into the state mailbox: X-Forwarded-To/-For above the
    /// account's Delivered-To, and the `+caf_=` envelope sender naming the target.
    @Test func gmailForwardingIntoAStateMailbox() {
        let text = """
            X-Received: by 2002:ac2:414f:: with SMTP id c15mr16768994lfi.157.1571044489502;
                    Mon, 14 Oct 2019 02:14:49 -0700 (PDT)
            X-Forwarded-To: nguyenvana@hoabinh.gov.vn
            X-Forwarded-For: vana.nguyen@gmail.com nguyenvana@hoabinh.gov.vn
            Delivered-To: vana.nguyen@gmail.com
            Received: by 2002:a05:6504:749:0:0:0:0 with SMTP id g9csp4150952ltq;
                    Mon, 14 Oct 2019 02:14:48 -0700 (PDT)
            Return-Path: <partner@example.com>
            From: =?UTF-8?B?xJDhu5FpIHTDoWM=?= <partner@example.com>
            To: vana.nguyen@gmail.com
            Subject: =?UTF-8?B?QsOhbyBnacOh?=
            Date: Mon, 14 Oct 2019 16:14:40 +0700
            Message-ID: <CAF1234@mail.gmail.com>
            Content-Type: text/plain; charset=UTF-8

            Kính gửi anh.

            """
        let found = ForwardingFixture.evidence(
            text,
            from: "vana.nguyen+caf_=nguyenvana=hoabinh.gov.vn@gmail.com",
            to: ["nguyenvana@hoabinh.gov.vn"]
        )
        #expect(
            found == [
                ForwardingEvidence(
                    .gmailForwardedHeader,
                    field: "X-Forwarded-For",
                    value: "vana.nguyen@gmail.com nguyenvana@hoabinh.gov.vn",
                    forwarder: "vana.nguyen@gmail.com",
                    targets: ["nguyenvana@hoabinh.gov.vn"]
                ),
                ForwardingEvidence(
                    .gmailForwardedHeader,
                    field: "X-Forwarded-To",
                    value: "nguyenvana@hoabinh.gov.vn",
                    targets: ["nguyenvana@hoabinh.gov.vn"]
                ),
                ForwardingEvidence(
                    .gmailForwardingSender,
                    field: "MAIL FROM",
                    value: "vana.nguyen+caf_=nguyenvana=hoabinh.gov.vn@gmail.com",
                    forwarder: "vana.nguyen@gmail.com",
                    targets: ["nguyenvana@hoabinh.gov.vn"]
                ),
                ForwardingEvidence(
                    .deliveredElsewhere,
                    field: "Delivered-To",
                    value: "vana.nguyen@gmail.com",
                    forwarder: "vana.nguyen@gmail.com"
                ),
            ]
        )
    }

    /// Google Workspace on a state domain forwarding out: the headers name the state mailbox.
    @Test func workspaceForwardingOut() {
        let text = """
            X-Forwarded-To: canhan.b@gmail.com
            X-Forwarded-For: vanthu@sotc.hoabinh.gov.vn canhan.b@gmail.com
            Delivered-To: vanthu@sotc.hoabinh.gov.vn
            From: Sở Tài chính <ketoan@stc.hoabinh.gov.vn>
            To: vanthu@sotc.hoabinh.gov.vn
            Subject: Công văn 123

            x

            """
        let found = ForwardingFixture.evidence(
            text,
            from: "vanthu+caf_=canhan.b=gmail.com@sotc.hoabinh.gov.vn",
            to: ["canhan.b@gmail.com"]
        )
        #expect(found.map(\.signal) == [.gmailForwardedHeader, .gmailForwardedHeader, .gmailForwardingSender, .deliveredElsewhere])
        #expect(found.allSatisfy { $0.forwarder == nil || $0.forwarder == "vanthu@sotc.hoabinh.gov.vn" })
        #expect(found[2].targets == ["canhan.b@gmail.com"])
    }

    /// An Outlook inbox rule "forward to" on an on-premises Exchange: a new message from the
    /// mailbox, FW: subject, the rule stamps and PidTagAutoForwarded.
    @Test func exchangeInboxRuleForward() {
        let text = """
            From: Nguyen Van B <nvb@sotc.hoabinh.gov.vn>
            To: "canhan@gmail.com" <canhan@gmail.com>
            Subject: FW: =?utf-8?B?Q8O0bmcgdsSDbiBz4buRIDEyMw==?=
            Thread-Topic: =?utf-8?B?Q8O0bmcgdsSDbiBz4buRIDEyMw==?=
            Thread-Index: AQHTVoX48qQf/rL9R02Db7+QqglAPw==
            Date: Sun, 5 Nov 2017 22:32:32 +0000
            Message-ID: <b5d66930e76243eb8bddd885ad3fafdd@EXCH01.sotc.hoabinh.local>
            Accept-Language: vi-VN, en-US
            Content-Language: vi-VN
            X-MS-Has-Attach:
            X-MS-Exchange-Inbox-Rules-Loop: nvb@sotc.hoabinh.gov.vn
            X-MS-TNEF-Correlator:
            x-ms-exchange-parent-message-id: <7895a7aa177b6668da30d8332fd365b6@stc.hoabinh.gov.vn>
            auto-submitted: auto-generated
            x-ms-exchange-generated-message-source: Mailbox Rules Agent
            X-MS-Exchange-Organization-AutoForwarded: true
            Content-Type: text/plain; charset="utf-8"
            Content-Transfer-Encoding: base64
            MIME-Version: 1.0

            Q8O0bmcgdsSDbg==

            """
        let found = ForwardingFixture.evidence(text, from: "nvb@sotc.hoabinh.gov.vn", to: ["canhan@gmail.com"])
        #expect(found.map(\.signal) == [.exchangeInboxRule, .exchangeInboxRule, .exchangeAutoForwarded])
        #expect(found[0].forwarder == "nvb@sotc.hoabinh.gov.vn")
        #expect(found[1].value == "Mailbox Rules Agent")
    }

    /// Exchange Online mailbox forwarding (ForwardingSmtpAddress) as a redirect: From kept, the
    /// loop stamp folded over two lines, the Microsoft 365 SRS envelope sender.
    @Test func exchangeOnlineMailboxForwarding() {
        let text = """
            Received: from SEZPR06MB5621.apcprd06.prod.outlook.com (2603:1096:101:4::10)
             by TYZPR06MB4270.apcprd06.prod.outlook.com with HTTPS; Tue, 1 Dec 2026 08:10:02 +0000
            From: Partner <partner@example.com>
            To: nvb@hoabinh.gov.vn
            Subject: Hồ sơ
            Date: Tue, 1 Dec 2026 15:09:55 +0700
            Message-ID: <0c1d2e3f@example.com>
            Content-Type: text/plain; charset="utf-8"
            X-ExternalRecipientOutboundConnectors: 44d81603-6a98-429d-8ab9-bb947b669639
            X-MS-Exchange-ForwardingLoop: nvb@hoabinh.gov.vn;
            \tf7a17af6-1c5c-4a36-aa8b-f5be247aa4ba
            X-OriginatorOrg: hoabinh.gov.vn
            X-MS-Exchange-CrossTenant-OriginalArrivalTime: 01 Dec 2026 08:10:02.1598 (UTC)

            x

            """
        let found = ForwardingFixture.evidence(
            text,
            from: "bounces+SRS=Ab1cD=XY=example.com=partner@hoabinhgov.onmicrosoft.com",
            to: ["nvb.canhan@outlook.com"]
        )
        #expect(found.map(\.signal) == [.exchangeForwardingLoop, .srsSender])
        #expect(found[0].forwarder == "nvb@hoabinh.gov.vn")
        #expect(found[0].value == "nvb@hoabinh.gov.vn;\tf7a17af6-1c5c-4a36-aa8b-f5be247aa4ba".replacing("\t", with: " "))
        #expect(found[1].forwarder == "@hoabinhgov.onmicrosoft.com")
    }

    /// `ForwardingHandled;…` names no mailbox but is still the stamp.
    @Test func exchangeForwardingHandled() {
        let found = ForwardingFixture.evidence(
            "From: a@example.com\nX-MS-Exchange-ForwardingLoop: ForwardingHandled;2109ce83\n\nx\n",
            from: "a@example.com",
            to: ["b@hoabinh.gov.vn"]
        )
        #expect(
            found == [
                ForwardingEvidence(.exchangeForwardingLoop, field: "X-MS-Exchange-ForwardingLoop", value: "ForwardingHandled;2109ce83")
            ]
        )
    }

    /// A Zimbra filter redirect of a ticket system's mail: the Zimbra stamp survives the
    /// `Precedence: bulk` the original carried (a forwarder's own stamp is not a list's).
    @Test func zimbraRedirectOfBulkMail() {
        let text = """
            Subject: [RT #4711] Yêu cầu hỗ trợ
            From: "Hệ thống RT" <rt@example.com>
            Reply-To: rt@example.com
            X-RT-Loop-Prevention: example
            Precedence: bulk
            Date: Tue, 19 Jul 2022 09:41:05 +0200
            Content-Transfer-Encoding: quoted-printable
            X-Zimbra-Forwarded: tecni1@xaphuong.hoabinh.gov.vn
            To: Undisclosed recipients:;
            Content-Type: text/plain; charset="utf-8"

            x

            """
        let found = ForwardingFixture.evidence(text, from: "tecni1@xaphuong.hoabinh.gov.vn", to: ["tecni1@yahoo.com"])
        #expect(
            found == [
                ForwardingEvidence(
                    .zimbraForwarded,
                    field: "X-Zimbra-Forwarded",
                    value: "tecni1@xaphuong.hoabinh.gov.vn",
                    forwarder: "tecni1@xaphuong.hoabinh.gov.vn"
                )
            ]
        )
        #expect(ForwardingFixture.exclusions(text, from: "tecni1@xaphuong.hoabinh.gov.vn") == [.bulk])
    }

    /// Dovecot Pigeonhole `redirect`: the LMTP Delivered-To and the Sieve stamp; the forwarder's
    /// envelope sender is the original's (sieve_redirect_envelope_from = sender).
    @Test func sieveRedirect() {
        let text = """
            Delivered-To: vanthu@hoabinh.gov.vn
            Received: from mail.hoabinh.gov.vn
            \tby mail.hoabinh.gov.vn with LMTP
            \tid 278FD40BBE (envelope-from <partner@example.com>)
            \tfor <vanthu@hoabinh.gov.vn>; Sat, 29 Jun 2024 17:16:55 +0200
            X-Sieve-Redirected-From: vanthu@hoabinh.gov.vn
            Subject: =?utf-8?Q?C=C3=B4ng_v=C4=83n?=
            To: vanthu@hoabinh.gov.vn
            From: partner@example.com

            x

            """
        let found = ForwardingFixture.evidence(text, from: "partner@example.com", to: ["vanthu.nha@gmail.com"])
        #expect(found.map(\.signal) == [.sieveRedirect, .deliveredElsewhere])
        #expect(found.allSatisfy { $0.forwarder == "vanthu@hoabinh.gov.vn" })
    }

    /// A Postfix `.forward` (or virtual alias to an outside address) with postsrsd: Delivered-To
    /// of the local mailbox and an SRS0 envelope sender.
    @Test func postfixDotForwardWithPostsrsd() {
        let text = """
            Delivered-To: nvc@hoabinh.gov.vn
            Received: from mail.example.com (mail.example.com [203.0.113.5])
            \tby mx.hoabinh.gov.vn (Postfix) with ESMTPS id 4F2C31A0
            \tfor <nvc@hoabinh.gov.vn>; Tue,  1 Dec 2026 15:00:00 +0700 (+07)
            From: partner@example.com
            To: nvc@hoabinh.gov.vn
            Subject: test

            x

            """
        let found = ForwardingFixture.evidence(text, from: "SRS0=HHH=TT=example.com=partner@hoabinh.gov.vn", to: ["nvc.canhan@gmail.com"])
        #expect(
            found == [
                ForwardingEvidence(
                    .deliveredElsewhere,
                    field: "Delivered-To",
                    value: "nvc@hoabinh.gov.vn",
                    forwarder: "nvc@hoabinh.gov.vn"
                ),
                ForwardingEvidence(
                    .srsSender,
                    field: "MAIL FROM",
                    value: "SRS0=HHH=TT=example.com=partner@hoabinh.gov.vn",
                    forwarder: "@hoabinh.gov.vn"
                ),
            ]
        )
        // Delivered to the recipient itself (a subaddress of it): not elsewhere.
        #expect(ForwardingFixture.evidence(text, from: "partner@example.com", to: ["NVC+so@hoabinh.gov.vn"]).isEmpty)
    }

    @Test func srsForms() {
        for sender in [
            "SRS0+xxxx=yy=example.com=alice@forward.example.org", "SRS0-ab=cd=example.com=alice@f.example",
            "srs1=HHH=forward.example==HHH=TT=example.com=alice@second.example",
        ] {
            #expect(ForwardingSignals.srsSender(MailAddress(sender)).map(\.signal) == [.srsSender], "\(sender)")
        }
        for sender in ["srsadmin@example.com", "", "SRS0=nodomain"] {
            #expect(ForwardingSignals.srsSender(MailAddress(sender)).isEmpty, "\(sender)")
        }
    }

    @Test func autoSubmittedAutoForwarded() {
        let text = "From: a@hoabinh.gov.vn\nTo: a@hoabinh.gov.vn\nAuto-Submitted: auto-forwarded (rule 3)\nSubject: x\n\nx\n"
        #expect(ForwardingFixture.evidence(text, from: "a@hoabinh.gov.vn", to: ["a@gmail.com"]).map(\.signal) == [.autoSubmittedForwarded])
        // auto-generated alone is every notification, not forwarding.
        let notice = "From: noreply@hoabinh.gov.vn\nAuto-Submitted: auto-generated\nSubject: x\n\nx\n"
        #expect(ForwardingFixture.evidence(notice, from: "noreply@hoabinh.gov.vn", to: ["a@gmail.com"]).isEmpty)
    }

    /// A mail client's "bounce" / formail re-send: Resent-* above the original fields.
    @Test func resentFields() {
        let text = """
            Resent-From: Nguyen Van D <nvd@hoabinh.gov.vn>
            Resent-Date: Tue, 1 Dec 2026 15:00:00 +0700
            Resent-Message-ID: <20261201080000.GA1234@hoabinh.gov.vn>
            Resent-To: nvd.home@yahoo.com
            From: Sở Nội vụ <vanthu@snv.hoabinh.gov.vn>
            To: nvd@hoabinh.gov.vn
            Subject: Thông báo

            x

            """
        let found = ForwardingFixture.evidence(text, from: "nvd@hoabinh.gov.vn", to: ["nvd.home@yahoo.com"])
        #expect(
            found == [
                ForwardingEvidence(
                    .resent,
                    field: "Resent-From",
                    value: "Nguyen Van D <nvd@hoabinh.gov.vn>",
                    forwarder: "nvd@hoabinh.gov.vn",
                    targets: ["nvd.home@yahoo.com"]
                )
            ]
        )
    }

    // MARK: - Each negative not

    /// A person forwarding by hand in Thunderbird: Fwd: subject, the original quoted, another
    /// attached as message/rfc822 with its own forwarding headers, and a body that talks about
    /// the header names. None of it is read.
    @Test func personForwardingByHand() {
        let text = """
            From: Nguyen Van B <nvb@hoabinh.gov.vn>
            To: canhan@gmail.com
            Subject: Fwd: Công văn 123
            Message-ID: <3f1e2d@hoabinh.gov.vn>
            User-Agent: Mozilla Thunderbird
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="------------b1"

            --------------b1
            Content-Type: text/plain; charset=UTF-8

            -------- Forwarded Message --------
            Subject: Công văn 123
            X-Forwarded-To: someone@gmail.com
            X-MS-Exchange-Inbox-Rules-Loop: nvb@hoabinh.gov.vn
            Delivered-To: other@hoabinh.gov.vn

            --------------b1
            Content-Type: message/rfc822; name="cv.eml"
            Content-Disposition: attachment; filename="cv.eml"

            Delivered-To: nvb@hoabinh.gov.vn
            X-Forwarded-For: nvb@hoabinh.gov.vn x@gmail.com
            X-Sieve-Redirected-From: nvb@hoabinh.gov.vn
            From: ketoan@stc.hoabinh.gov.vn
            Subject: Công văn 123

            x
            --------------b1--

            """
        #expect(ForwardingFixture.evidence(text, from: "nvb@hoabinh.gov.vn", to: ["canhan@gmail.com"]).isEmpty)
        #expect(ForwardingFixture.exclusions(text, from: "nvb@hoabinh.gov.vn").isEmpty)
    }

    @Test func reply() {
        let text = """
            From: canhan@gmail.com
            To: nvb@hoabinh.gov.vn
            Subject: Re: Công văn 123
            In-Reply-To: <3f1e2d@hoabinh.gov.vn>
            References: <3f1e2d@hoabinh.gov.vn>

            > trích

            """
        #expect(ForwardingFixture.evidence(text, from: "canhan@gmail.com", to: ["nvb@hoabinh.gov.vn"]).isEmpty)
    }

    /// A vacation reply (Sieve vacation / RFC 3834), null sender.
    @Test func vacationAutoReply() {
        let text = """
            Delivered-To: nvb@hoabinh.gov.vn
            From: nvb@hoabinh.gov.vn
            To: canhan@gmail.com
            Subject: Auto: Công văn 123
            Auto-Submitted: auto-replied (vacation)
            Precedence: bulk
            In-Reply-To: <abc@gmail.com>

            Tôi đang đi công tác.

            """
        #expect(ForwardingFixture.evidence(text, from: "", to: ["canhan@gmail.com"]).isEmpty)
        #expect(ForwardingFixture.exclusions(text, from: "").contains(.autoReply))
        #expect(ForwardingFixture.exclusions(text, from: "").contains(.nullSender))
    }

    /// Exchange out-of-office: made by the Mailbox Rules Agent with the rule-loop stamp, but an
    /// answer from the mailbox itself.
    @Test func exchangeOutOfOffice() {
        let text = """
            From: Nguyen Van B <nvb@hoabinh.gov.vn>
            To: Ca Nhan <canhan@gmail.com>
            Subject: Automatic reply: Hồ sơ
            Thread-Topic: Hồ sơ
            Date: Tue, 1 Dec 2026 08:10:02 +0000
            Message-ID: <a1b2c3@EXCH01.hoabinh.local>
            In-Reply-To: <CAF1234@mail.gmail.com>
            X-MS-Has-Attach:
            X-Auto-Response-Suppress: All
            X-MS-Exchange-Inbox-Rules-Loop: nvb@hoabinh.gov.vn
            X-MS-TNEF-Correlator:
            auto-submitted: auto-generated
            x-ms-exchange-generated-message-source: Mailbox Rules Agent
            Content-Type: text/plain; charset="utf-8"

            Tôi vắng mặt.

            """
        // Exchange sends it with a null reverse path; with the mailbox as sender too.
        #expect(ForwardingFixture.evidence(text, from: "", to: ["canhan@gmail.com"]).isEmpty)
        #expect(ForwardingFixture.evidence(text, from: "nvb@hoabinh.gov.vn", to: ["canhan@gmail.com"]).isEmpty)
    }

    /// An on-premises Exchange 2013 template reply ("reply using a specific message"), shaped
    /// after a real one (/work/notes/exchange-samples.md S3): the mailbox as envelope sender, no
    /// In-Reply-To, the parent id; it answers and forwards nothing. A rule's forward from the same
    /// parent ("FW: …") keeps its stamp.
    @Test func exchangeTemplateReplyWithoutInReplyToIsAnAnswerAndARuleForwardIsNot() {
        func text(_ subject: String) -> String {
            """
            Return-Path: <xaydung_hoso@hoabinh.gov.vn>
            From: BCA <xaydung_hoso@hoabinh.gov.vn>
            To: <doanhnghiep@example.com>
            Subject: \(subject)
            Message-ID: <8e2a1c@EXCH01.hoabinh.local>
            X-Auto-Response-Suppress: All
            X-MS-Exchange-Inbox-Rules-Loop: Xaydung_Hoso@hoabinh.gov.vn
            x-ms-exchange-parent-message-id: <7895a7aa177b6668da30d8332fd365b6@example.com>
            auto-submitted: auto-generated
            x-ms-exchange-generated-message-source: Mailbox Rules Agent
            Content-Type: text/plain; charset="utf-8"

            Chúng tôi đã nhận hồ sơ.

            """
        }
        let sender = "xaydung_hoso@hoabinh.gov.vn"
        #expect(ForwardingFixture.evidence(text("Hoa Binh Autoreply"), from: sender, to: ["doanhnghiep@example.com"]).isEmpty)
        #expect(ForwardingFixture.exclusions(text("Trả lời tự động: Hồ sơ"), from: sender).contains(.autoReply))
        for forward in ["FW: Hồ sơ", "TR: Hồ sơ", " Fwd: Hồ sơ"] {
            let found = ForwardingFixture.evidence(text(forward), from: sender, to: ["canhan@gmail.com"])
            #expect(found.map(\.signal).contains(.exchangeInboxRule), "\(forward)")
        }
    }

    /// Microsoft 365's `bounces+SRS=` sender alone is a relay from on-premises as often as a
    /// forward (S5): no evidence without Exchange's forwarding stamp.
    @Test func microsoft365SRSAloneIsNoEvidence() {
        let text =
            "From: Dev <dev@corp-partner.example.com>\nTo: list@hoabinh.gov.vn\nSubject: patch\n"
            + "X-MS-Exchange-CrossTenant-FromEntityHeader: HybridOnPrem\n\nx\n"
        #expect(ForwardingFixture.evidence(text, from: "bounces+SRS=HnE87=C7@amdcloud.onmicrosoft.com", to: ["a@hoabinh.gov.vn"]).isEmpty)
        #expect(ForwardingSignals.envelopeEvidence(sender: MailAddress("bounces+SRS=HnE87=C7@amdcloud.onmicrosoft.com")).isEmpty)
    }

    /// Transport rules and journaling are the organization's own copies, not an inbox rule.
    @Test func exchangeTransportAndJournalAgents() {
        for agent in ["Transport Rule Agent", "Journal Agent", "DC Pre Content Filter Agent"] {
            let text =
                "From: postmaster@hoabinh.gov.vn\nAuto-Submitted: auto-generated\nX-MS-Exchange-Generated-Message-Source: \(agent)\n\nx\n"
            #expect(ForwardingFixture.evidence(text, from: "postmaster@hoabinh.gov.vn", to: ["a@gmail.com"]).isEmpty, "\(agent)")
        }
    }

    /// A Postfix bounce: null sender, multipart/report.
    @Test func deliveryStatusNotification() {
        let text = """
            Return-Path: <>
            Delivered-To: nvb@hoabinh.gov.vn
            From: MAILER-DAEMON@mx.hoabinh.gov.vn (Mail Delivery System)
            Subject: Undelivered Mail Returned to Sender
            To: nvb@hoabinh.gov.vn
            Auto-Submitted: auto-replied
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status;
            \tboundary="4F2C31A0.1733040000/mx.hoabinh.gov.vn"

            --4F2C31A0.1733040000/mx.hoabinh.gov.vn
            Content-Type: text/plain

            I'm sorry to have to inform you
            --4F2C31A0.1733040000/mx.hoabinh.gov.vn
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.hoabinh.gov.vn
            --4F2C31A0.1733040000/mx.hoabinh.gov.vn--

            """
        #expect(ForwardingFixture.evidence(text, from: "", to: ["nvb.canhan@gmail.com"]).isEmpty)
        #expect(Set(ForwardingFixture.exclusions(text, from: "")) == [.autoReply, .nullSender, .report])
    }

    /// An Outlook attendee's "Accept": multipart/alternative with text/calendar; method=REPLY,
    /// re-sent through the attendee's own alias (Delivered-To elsewhere).
    @Test func calendarReply() {
        let text = """
            Delivered-To: lich@hoabinh.gov.vn
            From: Nguyen Van B <nvb@hoabinh.gov.vn>
            To: canhan@gmail.com
            Subject: Accepted: Họp giao ban
            Content-Type: multipart/alternative; boundary="_000_"
            MIME-Version: 1.0

            --_000_
            Content-Type: text/plain; charset="utf-8"

            Accepted
            --_000_
            Content-Type: text/calendar; charset="utf-8"; method=REPLY

            BEGIN:VCALENDAR
            METHOD:REPLY
            END:VCALENDAR
            --_000_--

            """
        #expect(ForwardingFixture.exclusions(text, from: "nvb@hoabinh.gov.vn") == [.calendarReply])
        #expect(ForwardingFixture.evidence(text, from: "nvb@hoabinh.gov.vn", to: ["canhan@gmail.com"]).isEmpty)
        // Without the calendar part the same Delivered-To is evidence: the exclusion did it.
        let plain = text.replacing("method=REPLY", with: "method=REQUEST")
        #expect(
            ForwardingFixture.evidence(plain, from: "nvb@hoabinh.gov.vn", to: ["canhan@gmail.com"]).map(\.signal) == [.deliveredElsewhere]
        )
    }

    /// Mailman 3 fan-out: the list's Delivered-To, its bounce sender, List-Id, Precedence: list,
    /// and list software that writes `Auto-Submitted: auto-forwarded` on its copies.
    @Test func mailingList() {
        let text = """
            Delivered-To: thongbao@lists.hoabinh.gov.vn
            From: Văn phòng <vanphong@hoabinh.gov.vn>
            To: thongbao@lists.hoabinh.gov.vn
            Subject: [Thong bao] Lịch họp
            List-Id: Thong bao <thongbao.lists.hoabinh.gov.vn>
            List-Post: <mailto:thongbao@lists.hoabinh.gov.vn>
            List-Unsubscribe: <mailto:thongbao-leave@lists.hoabinh.gov.vn>
            Precedence: list
            Auto-Submitted: auto-forwarded
            Sender: thongbao-bounces@lists.hoabinh.gov.vn
            Resent-From: thongbao@lists.hoabinh.gov.vn
            Resent-To: canhan@gmail.com

            x

            """
        #expect(
            ForwardingFixture.evidence(text, from: "thongbao-bounces+canhan=gmail.com@lists.hoabinh.gov.vn", to: ["canhan@gmail.com"])
                .isEmpty
        )
        #expect(ForwardingFixture.exclusions(text, from: "thongbao-bounces+canhan=gmail.com@lists.hoabinh.gov.vn").contains(.mailingList))
    }

    /// The same list's message delivered to a member's state mailbox, whose `.forward` (postsrsd)
    /// sends it on to Gmail: the member's Delivered-To and the SRS sender still count; the list's own
    /// Delivered-To does not.
    @Test func aListMessageForwardedByDotForward() {
        let text = """
            Delivered-To: canbo@hoabinh.gov.vn
            Delivered-To: thongbao@lists.hoabinh.gov.vn
            From: Văn phòng <vanphong@hoabinh.gov.vn>
            To: thongbao@lists.hoabinh.gov.vn
            Subject: [Thong bao] Lịch họp
            List-Id: Thong bao <thongbao.lists.hoabinh.gov.vn>
            List-Post: <mailto:thongbao@lists.hoabinh.gov.vn>
            Precedence: list

            x

            """
        let found = ForwardingFixture.evidence(
            text,
            from: "SRS0=HHH=TT=lists.hoabinh.gov.vn=thongbao-bounces@hoabinh.gov.vn",
            to: ["canbo.canhan@gmail.com"]
        )
        #expect(found.map(\.signal) == [.deliveredElsewhere, .srsSender])
        #expect(found.first?.forwarder == "canbo@hoabinh.gov.vn")
    }

    /// A newsletter through an ESP: VERP bounce envelope sender unlike From, no other trace.
    @Test func espBulkMail() {
        let text = """
            From: Báo Điện tử <news@example.vn>
            To: nvb@hoabinh.gov.vn
            Subject: Bản tin
            List-Unsubscribe: <https://u.example.vn/unsub?u=1>
            Feedback-ID: 123:456:sendgrid

            x

            """
        for sender in [
            "bounces+123456-abcd-nvb=hoabinh.gov.vn@em.example.vn", "msprvs1=19123abcDEF=bounces-12345@bounce.example.vn",
            "prvs=0123456789=news@example.vn",
        ] {
            #expect(ForwardingFixture.evidence(text, from: sender, to: ["nvb@hoabinh.gov.vn"]).isEmpty, "\(sender)")
            #expect(ForwardingSignals.isBounceAddress(MailAddress(sender)), "\(sender)")
        }
        // A mismatch between envelope sender and From alone is nothing, bounce address or not.
        #expect(ForwardingFixture.evidence(text, from: "marketing@other.example", to: ["nvb@hoabinh.gov.vn"]).isEmpty)
        #expect(!ForwardingSignals.isBounceAddress(MailAddress("a+caf_=b=c.vn@gmail.com")))
        #expect(!ForwardingSignals.isBounceAddress(MailAddress("SRS0=h=t=example.com=a@f.example")))
    }

    /// VERP: an envelope per recipient, the recipient encoded in the bounce address, with a
    /// Delivered-To the list host kept: bulk, so the weak trace goes; Gmail's `+caf_=` encodes the
    /// same way and stays a signal.
    @Test func verpSender() {
        let text = "Delivered-To: tin@lists.example.vn\nFrom: Ban tin <tin@example.vn>\nSubject: x\n\nx\n"
        let verp = "tin+nvb=hoabinh.gov.vn@lists.example.vn"
        #expect(ForwardingFixture.evidence(text, from: verp, to: ["nvb@hoabinh.gov.vn"]).isEmpty)
        #expect(
            ForwardingSignals.exclusions(
                envelopeSender: MailAddress(verp),
                recipients: [MailAddress("nvb@hoabinh.gov.vn")],
                message: ForwardingFixture.message(text)
            ) == [.bulk]
        )
        // With two recipients it is not VERP, and the Delivered-To elsewhere is evidence again.
        #expect(
            ForwardingFixture.evidence(text, from: verp, to: ["nvb@hoabinh.gov.vn", "x@hoabinh.gov.vn"]).map(\.signal) == [
                .deliveredElsewhere
            ]
        )
        #expect(
            !ForwardingSignals.isVERP(MailAddress("a+caf_=nvb=hoabinh.gov.vn@gmail.com"), recipients: [MailAddress("nvb@hoabinh.gov.vn")])
        )
    }

    // MARK: - Reading values

    @Test func cafSenderDecoding() {
        let found = ForwardingSignals.gmailForwardingSender(MailAddress("Le.Thi+caf_=vt=x=so.hoabinh.gov.vn@gmail.com"))
        #expect(found.first?.forwarder == "le.thi@gmail.com")
        #expect(found.first?.targets == ["vt=x@so.hoabinh.gov.vn"])
        #expect(ForwardingSignals.gmailForwardingSender(MailAddress("a+caf_=@gmail.com")).first?.targets == [])
        #expect(ForwardingSignals.gmailForwardingSender(nil).isEmpty)
        #expect(ForwardingSignals.gmailForwardingSender(MailAddress("a+cafe@gmail.com")).isEmpty)
    }

    @Test func autoSubmittedKeywords() {
        #expect(ForwardingSignals.autoSubmittedKeyword("auto-replied (vacation)") == "auto-replied")
        #expect(ForwardingSignals.autoSubmittedKeyword("(comment) Auto-Forwarded; owner-email=a@b") == "auto-forwarded")
        #expect(ForwardingSignals.autoSubmittedKeyword("no") == "no")
        #expect(ForwardingSignals.autoSubmittedKeyword("(unclosed auto-forwarded") == "(unclosed")
    }

    /// A header with thousands of Delivered-To fields costs a bounded amount and yields at most
    /// `maxFieldsPerName` findings of that signal.
    @Test func hostileRepetitionIsBounded() {
        var lines: [String] = []
        for i in 0..<5000 { lines.append("Delivered-To: box\(i)@hoabinh.gov.vn") }
        lines.append("X-Forwarded-To: \(String(repeating: "a", count: 5000))@gmail.com")
        let text = lines.joined(separator: "\n") + "\nSubject: x\n\nx\n"
        let found = ForwardingFixture.evidence(text, from: "a@example.com", to: ["z@gmail.com"])
        #expect(found.filter { $0.signal == .deliveredElsewhere }.count <= ForwardingSignals.maxFieldsPerName)
        #expect(found.allSatisfy { $0.value.utf8.count <= ForwardingSignals.maxValueBytes })
    }

    /// The header-section entry point gives the same as the parsed-message one.
    @Test func headerSectionEntryPoint() {
        let message = ForwardingFixture.message("X-Sieve-Redirected-From: <vanthu@hoabinh.gov.vn>\nFrom: a@example.com\n\nx\n")
        let found = message.bytes.withUnsafeBytes {
            ForwardingSignals.evidence(
                envelopeSender: MailAddress("a@example.com"),
                recipients: [MailAddress("b@gmail.com")],
                header: message.parts[0].header,
                in: $0
            )
        }
        #expect(found.map(\.forwarder) == ["vanthu@hoabinh.gov.vn"])
    }
}
