import Configuration
import Foundation
import Policy
import Quarantine
import SMTPCore
import Testing

@testable import GatewayServer

/// Who is told of what: the planner alone, on outcomes as the proxy makes them.
@Suite struct NoticePlannerTests {
    static let agencies = try! AgencyDirectory([
        Agency(
            id: "quangninh",
            name: "UBND tỉnh Quảng Ninh",
            domains: [DomainPattern("quangninh.gov.vn")!, DomainPattern("*.quangninh.gov.vn")!],
            officer: ["antoan@quangninh.gov.vn"],
            notify: ["vanthu-tonghop@quangninh.gov.vn"]
        ),
        Agency(
            id: "quan4",
            name: "UBND Quận 4",
            domains: [DomainPattern("tphcm.gov.vn")!],
            localPartSuffixes: [".q4"],
            officer: ["antoan.q4@tphcm.gov.vn"],
            notify: ["vanphong.q4@tphcm.gov.vn"]
        ),
    ])

    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func planner(
        _ rule: String = "encrypted-archive",
        to: [NotifySettings.Target],
        mode: NotifySettings.Mode = .immediate
    )
        -> NoticePlanner
    {
        var settings = NotifySettings()
        settings.rules = [rule: NotifySettings.Rule(to: to, mode: mode, includeSubject: NotifySettings.includesSubjectByDefault(rule))]
        return NoticePlanner(settings: settings, agencies: agencies)
    }

    static func outcome(sender: String, recipients: [String], rule: Finding.RuleID = .encryptedArchive) -> MessageOutcome {
        var envelope = Envelope(heloName: "mail.client", esmtp: true, sender: MailAddress(sender), parameters: MailParameters())
        envelope.recipients = recipients.map(MailAddress.init)
        let finding = Finding(rule, detail: "a.zip", part: "2")
        return MessageOutcome(
            queueID: "0B1C2D3F4G5H",
            client: .init(heloName: "mail.client", address: "192.0.2.1", tls: false),
            hostname: "gw.test",
            envelope: envelope,
            parties: agencies.parties(sender: envelope.sender, recipients: envelope.recipients),
            verdict: .quarantine(finding),
            findings: [finding]
        )
    }

    static func told(_ planner: NoticePlanner, _ outcome: MessageOutcome, from: String?) -> [String] {
        planner.notices(for: outcome, .held, headerFrom: from, subject: "Hồ sơ", now: now).map { "\($0.role.rawValue) \($0.recipient)" }
    }

    @Test func theOfficersOfTheRecipientsAgenciesAndAVerifiedSendersAreTold() {
        let planner = Self.planner(to: [.officer, .senderAgency, .recipientAgency])
        let outcome = Self.outcome(sender: "vanthu@quangninh.gov.vn", recipients: ["an.q4@tphcm.gov.vn", "lanhdao@quangninh.gov.vn"])
        #expect(
            Self.told(planner, outcome, from: "Văn thư <vanthu@quangninh.gov.vn>") == [
                "officer antoan@quangninh.gov.vn", "officer antoan.q4@tphcm.gov.vn", "sender_agency vanthu-tonghop@quangninh.gov.vn",
                "recipient_agency vanphong.q4@tphcm.gov.vn",
            ]
        )
    }

    @Test(arguments: [
        ("", "Văn thư <vanthu@quangninh.gov.vn>"),  // the null sender
        ("someone@example.com", "someone@example.com"),  // outside the agencies
        ("vanthu@quangninh.gov.vn", "boss@example.com"),  // header From of someone else
        ("vanthu@quangninh.gov.vn", "an.q4@tphcm.gov.vn"),  // header From of another agency
        ("vanthu@quangninh.gov.vn", "vanthu@quangninh.gov.vn, x@example.com"),  // several From mailboxes
        ("vanthu@quangninh.gov.vn", ""),  // no From
    ])
    func anUnverifiedSenderAndItsAgencyAreNeverTold(sender: String, from: String) {
        let planner = Self.planner(to: [.sender, .senderAgency])
        let outcome = Self.outcome(sender: sender, recipients: ["an.q4@tphcm.gov.vn"])
        #expect(Self.told(planner, outcome, from: from.isEmpty ? nil : from) == [])
        // Without a verified sender, "officer" is the recipients' agency's only.
        #expect(Self.told(Self.planner(to: [.officer]), outcome, from: from) == ["officer antoan.q4@tphcm.gov.vn"])
    }

    @Test func aVerifiedSenderIsToldOnceEvenWhenListedTwice() {
        let planner = Self.planner(to: [.sender, .address("VANTHU@quangninh.gov.vn"), .senderAgency])
        let outcome = Self.outcome(sender: "vanthu@quangninh.gov.vn", recipients: ["x@example.com"])
        #expect(
            Self.told(planner, outcome, from: "vanthu@QUANGNINH.gov.vn") == [
                "sender vanthu@quangninh.gov.vn", "sender_agency vanthu-tonghop@quangninh.gov.vn",
            ]
        )
    }

    @Test func aRuleWithoutNoticesAThuGateNoticeAndADeliveredMessageGetNone() {
        let outcome = Self.outcome(sender: "vanthu@quangninh.gov.vn", recipients: ["lanhdao@quangninh.gov.vn"])
        #expect(Self.told(Self.planner("virus", to: [.officer]), outcome, from: "vanthu@quangninh.gov.vn") == [])
        var own = outcome
        own.isOwnNotice = true
        #expect(Self.told(Self.planner(to: [.officer, .address("x@quangninh.gov.vn")]), own, from: nil) == [])
        var clean = outcome
        clean.verdict = .pass
        clean.findings = []
        #expect(Self.told(Self.planner(to: [.officer]), clean, from: nil) == [])
    }

    @Test func aNoticeHoldsTheEnvelopeAndFindingsButAStateSecretsSubjectNot() throws {
        let outcome = Self.outcome(sender: "vanthu@quangninh.gov.vn", recipients: ["lanhdao@quangninh.gov.vn"])
        let notices = Self.planner(to: [.officer]).notices(for: outcome, .held, headerFrom: nil, subject: "Hồ sơ\u{1B}[2J", now: Self.now)
        try #require(notices.count == 1)
        let notice = notices[0]
        #expect(notice.mode == .immediate && notice.dueAt == Self.now)
        // The whole escape sequence goes, not only its ESC.
        #expect(notice.event.subject == "Hồ sơ")
        #expect(notice.event.sender == "<vanthu@quangninh.gov.vn>" && notice.event.recipients == ["<lanhdao@quangninh.gov.vn>"])
        #expect(notice.event.findings == [HeldFinding(rule: "encrypted-archive", detail: "a.zip", part: "2")])
        let secret = Self.outcome(
            sender: "vanthu@quangninh.gov.vn",
            recipients: ["lanhdao@quangninh.gov.vn"],
            rule: .init(rawValue: "state-secret")
        )
        let withhelds = Self.planner("state-secret", to: [.officer]).notices(
            for: secret,
            .held,
            headerFrom: nil,
            subject: "Mật",
            now: Self.now
        )
        try #require(withhelds.count == 1)
        let withheld = withhelds[0]
        #expect(withheld.event.subject == nil)
    }

    @Test func aDigestNoticeIsDueAtTheNextDigestTime() throws {
        let planner = Self.planner(to: [.officer], mode: .digest)
        let outcome = Self.outcome(sender: "a@example.com", recipients: ["lanhdao@quangninh.gov.vn"])
        let notices = planner.notices(for: outcome, .held, headerFrom: nil, subject: nil, now: Self.now)
        try #require(notices.count == 1)
        let notice = notices[0]
        #expect(notice.mode == .digest)
        #expect(notice.dueAt == NoticeClock.nextDigest(after: Self.now, at: NotifySettings.LocalTime(hour: 8, minute: 0)))
    }
}

/// Asia/Ho_Chi_Minh times: +07:00 all year.
@Suite struct NoticeClockTests {
    /// 2026-12-01 00:59:59 UTC is 07:59:59 +07:00.
    static let beforeEight = Date(timeIntervalSince1970: 1_796_086_799)

    @Test func theNextDigestIsTheFirstDigestTimeStrictlyAfter() {
        let eight = NotifySettings.LocalTime(hour: 8, minute: 0)
        #expect(NoticeClock.text(Self.beforeEight) == "2026-12-01 07:59:59 +07:00")
        #expect(NoticeClock.text(NoticeClock.nextDigest(after: Self.beforeEight, at: eight)) == "2026-12-01 08:00:00 +07:00")
        let atEight = Self.beforeEight.addingTimeInterval(1)
        #expect(NoticeClock.text(NoticeClock.nextDigest(after: atEight, at: eight)) == "2026-12-02 08:00:00 +07:00")
        // 23:30 local, a digest at 00:15: the same night, past the UTC day boundary.
        let late = Date(timeIntervalSince1970: 1_796_142_600)
        #expect(NoticeClock.text(late) == "2026-12-01 23:30:00 +07:00")
        #expect(NoticeClock.text(NoticeClock.nextDigest(after: late, at: .init(hour: 0, minute: 15))) == "2026-12-02 00:15:00 +07:00")
        #expect(NoticeClock.day(late) == "2026-12-01")
    }

    @Test func rfc5322DatesAreAtPlusSeven() {
        #expect(NoticeClock.rfc5322(Self.beforeEight) == "Tue, 1 Dec 2026 07:59:59 +0700")
        #expect(NoticeClock.rfc5322(Date(timeIntervalSince1970: 0)) == "Thu, 1 Jan 1970 07:00:00 +0700")
        #expect(NoticeClock.rfc5322(Date(timeIntervalSince1970: 951_782_400)) == "Tue, 29 Feb 2000 07:00:00 +0700")
    }
}
