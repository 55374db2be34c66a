public import Configuration
public import Foundation
import MIMECore
public import Policy
public import Quarantine
import SMTPCore

/// Decides the notices about one message, from its ``MessageOutcome`` and `[notify]`: the one
/// place that says who is told of what. Pure: no I/O, time passed in.
///
/// Only the message's deciding rule (the finding the hold or the refusal names) is told about.
/// Notices go only to addresses the configuration names (agencies' `officer` and `notify`, the
/// rule's literal addresses) and, for `sender` / `sender_agency`, only when the sender is verified
/// as an agency's: the envelope sender and the one header `From:` mailbox both belong to that
/// agency. `<>`, or a sender outside the agencies, is never told anything, so a forged sender
/// cannot turn ThuGate into a backscatter source (the amavis lesson). ThuGate's own notices
/// (``MessageOutcome/isOwnNotice``) get no notice about themselves.
/// - SeeAlso: RFC 3834 (automatic responses), RFC 5321 4.5.5 (the null reverse path).
public struct NoticePlanner: Sendable, Equatable {
    public var settings: NotifySettings
    public var agencies: AgencyDirectory

    public init(settings: NotifySettings, agencies: AgencyDirectory) {
        self.settings = settings
        self.agencies = agencies
    }

    /// What became of the message the notice is about.
    public enum Result: String, Sendable {
        case held
        case refused
        /// Refused, and a copy kept in the quarantine (`[quarantine] keep_refused`).
        case refusedKept = "refused-kept"
    }

    /// Whether any notice can ever be written: a rule names someone, and there is an agency or a
    /// literal address to tell.
    public var isActive: Bool {
        settings.rules.values.contains { rule in
            rule.to.contains { target in
                if case .address = target { return true }
                return !agencies.agencies.isEmpty
            }
        }
    }

    /// The notices about `outcome`, held or refused at `now`; `headerFrom` and `subject` as the
    /// quarantine stores them (unfolded, decoded, control characters stripped).
    public func notices(for outcome: MessageOutcome, _ result: Result, headerFrom: String?, subject: String?, now: Date) -> [NoticeRequest]
    {
        guard !outcome.isOwnNotice else { return [] }
        guard let finding = outcome.verdict?.finding ?? outcome.findings.first else { return [] }
        let ruleID = finding.rule.rawValue
        guard let rule = settings.rules[ruleID], !rule.to.isEmpty else { return [] }

        let senderAgency = verifiedSenderAgency(outcome, headerFrom: headerFrom)
        let recipientAgencies = uniqueAgencies(outcome.parties.recipientAgencies)
        var told: [(String, NoticeRole)] = []
        var seen = Set<String>()
        func tell(_ addresses: [String], _ role: NoticeRole) {
            for address in addresses where seen.insert(address.lowercased()).inserted { told.append((address, role)) }
        }
        for target in rule.to {
            switch target {
            case .officer:
                tell((senderAgency.map { [$0] } ?? []).flatMap(\.officer) + recipientAgencies.flatMap(\.officer), .officer)
            case .senderAgency:
                tell(senderAgency?.notify ?? [], .senderAgency)
            case .recipientAgency:
                tell(recipientAgencies.flatMap(\.notify), .recipientAgency)
            case .sender:
                if senderAgency != nil { tell([outcome.envelope.sender.address], .sender) }
            case .address(let address):
                tell([address], .address)
            }
        }
        guard !told.isEmpty else { return [] }
        let event = NoticeEvent(
            outcome: result.rawValue,
            queueID: outcome.queueID,
            receivedAt: now,
            sender: outcome.envelope.sender.description,
            recipients: outcome.envelope.recipients.map(\.description),
            headerFrom: headerFrom.map(HoldRequest.stripped),
            subject: rule.includeSubject ? subject.map(HoldRequest.stripped) : nil,
            rule: ruleID,
            findings: outcome.findings.map { HeldFinding(rule: $0.rule.rawValue, detail: HoldRequest.stripped($0.detail), part: $0.part) }
        )
        let due = rule.mode == .digest ? NoticeClock.nextDigest(after: now, at: settings.digestTime) : now
        let mode: NoticeMode = rule.mode == .digest ? .digest : .immediate
        return told.map { NoticeRequest(recipient: $0.0, role: $0.1, mode: mode, event: event, dueAt: due) }
    }

    /// The sender's agency when both the envelope sender and the only `From:` mailbox are its
    /// addresses; nil for `<>`, an address outside the agencies, or a From of another agency
    /// (or none, or several).
    func verifiedSenderAgency(_ outcome: MessageOutcome, headerFrom: String?) -> Agency? {
        let sender = outcome.envelope.sender
        guard !sender.isNull, let id = outcome.parties.senderAgency, let agency = agencies[id] else { return nil }
        guard let headerFrom else { return nil }
        let mailboxes = AddressList.parse(headerFrom)
        guard mailboxes.count == 1, agencies.agency(for: MailAddress(mailboxes[0].address))?.id == id else { return nil }
        return agency
    }

    private func uniqueAgencies(_ ids: [String?]) -> [Agency] {
        var seen = Set<String>()
        return ids.compactMap { id in
            guard let id, seen.insert(id).inserted else { return nil }
            return agencies[id]
        }
    }
}

/// Times as notices show them: Asia/Ho_Chi_Minh, which has been UTC+07:00 all year since 1975 (no
/// daylight saving), so a fixed offset is exact and needs no time zone database.
public enum NoticeClock {
    public static let offset = TimeInterval(LocalDay.offsetSeconds)

    /// The first `time` (local) strictly after `date`.
    public static func nextDigest(after date: Date, at time: NotifySettings.LocalTime) -> Date {
        let local = date.timeIntervalSince1970 + offset
        let dayStart = (local / 86400).rounded(.down) * 86400
        var candidate = dayStart + Double(time.hour * 3600 + time.minute * 60)
        if candidate <= local { candidate += 86400 }
        return Date(timeIntervalSince1970: candidate - offset)
    }

    /// `2026-12-01 20:15:03 +07:00`.
    public static func text(_ date: Date) -> String {
        let (day, seconds) = parts(date)
        return "\(day) \(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)) +07:00"
    }

    /// The local day, `2026-12-01`.
    public static func day(_ date: Date) -> String { parts(date).day }

    /// RFC 5322 3.3 date-time at +0700: `Tue, 1 Dec 2026 20:15:03 +0700`.
    public static func rfc5322(_ date: Date) -> String {
        let (days, seconds) = local(date)
        let (y, m, d) = LocalDay.civil(fromDays: Int64(days))
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[((days % 7) + 7) % 7]
        return "\(weekday), \(d) \(months[Int(m) - 1]) \(y) \(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)) +0700"
    }

    private static func parts(_ date: Date) -> (day: String, seconds: Int) {
        let (days, seconds) = local(date)
        return (LocalDay.name(ofDay: Int64(days)), seconds)
    }

    /// Local days since 1970-01-01 and seconds into that day (``LocalDay``'s calendar).
    private static func local(_ date: Date) -> (days: Int, seconds: Int) {
        let days = Int(LocalDay.number(of: date))
        let local = Int((date.timeIntervalSince1970 + offset).rounded(.down))
        return (days, local - days * 86400)
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
