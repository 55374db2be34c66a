import Foundation
public import NIOCore
import Policy
import SMTPCore
import TOMLKit

/// `[notify]`: who is told of what the rules found, how, and how notices are sent.
///
/// Each `[notify.RULE]` table (the rule's `[policy]` key) names who is told (`officer`,
/// `sender_agency`, `recipient_agency`, `sender`, or literal addresses) and how (`immediate` or
/// `digest`, daily at `digest_time`, Asia/Ho_Chi_Minh). Notices only ever go to configured agency
/// addresses, an agency's own sender, or the addresses listed: never to `<>` or a sender outside
/// the agencies (backscatter).
public struct NotifySettings: Sendable, Equatable {
    /// Who a rule's notice goes to.
    public enum Target: Sendable, Hashable, CustomStringConvertible {
        /// The security officers of the agencies involved (`[[agency]] officer`).
        case officer
        /// The `notify` addresses of the sender's agency, when the sender is verified as the agency's.
        case senderAgency
        /// The `notify` addresses of each recipient's agency.
        case recipientAgency
        /// The envelope sender itself, when it is a verified agency address.
        case sender
        /// This address.
        case address(String)

        public var description: String {
            switch self {
            case .officer: return "officer"
            case .senderAgency: return "sender_agency"
            case .recipientAgency: return "recipient_agency"
            case .sender: return "sender"
            case .address(let address): return address
            }
        }
    }

    public enum Mode: String, Sendable, CaseIterable {
        case immediate
        case digest
    }

    /// One rule's notices.
    public struct Rule: Sendable, Equatable {
        public var to: [Target]
        public var mode: Mode
        /// Whether the notice names the message's Subject (false by default for `state-secret`:
        /// the Subject of a secret document is itself secret).
        public var includeSubject: Bool

        public init(to: [Target], mode: Mode, includeSubject: Bool = true) {
            self.to = to
            self.mode = mode
            self.includeSubject = includeSubject
        }
    }

    /// A time of day in Asia/Ho_Chi_Minh (+07:00).
    public struct LocalTime: Sendable, Equatable, CustomStringConvertible {
        public var hour: Int
        public var minute: Int
        public init(hour: Int, minute: Int) {
            self.hour = hour
            self.minute = minute
        }

        /// `HH:MM`, 00:00 to 23:59.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }), let h = Int(parts[0]),
                let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
            else { return nil }
            self.init(hour: h, minute: m)
        }

        public var description: String { (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)" }
    }

    /// The notices' `From:` address; empty: `postmaster@` the server's hostname.
    public var from = ""
    /// The HMAC-SHA256 key that marks ThuGate's own notices (`X-ThuGate-Notice`): 32 random bytes
    /// as hex, created (mode 0600) by `serve` when missing; the same file on every node.
    public var keyFile = "Config/notice.key"
    /// The directory of the bilingual templates (`held.txt`, `refused.txt`, `refused-kept.txt`, `digest.txt`, `digest-item.txt`).
    public var templates = "Config/notices"
    public var digestTime = LocalTime(hour: 8, minute: 0)
    /// The wait after each failed attempt; the last one repeats.
    public var retry: [TimeAmount] = [.minutes(1), .minutes(5), .minutes(30), .hours(2), .hours(6)]
    /// A notice not sent this long after it was written is dead.
    public var giveUpAfter = TimeAmount.hours(48)
    /// By rule id (`virus`, `scan-crash`).
    public var rules: [String: Rule] = [
        "virus": Rule(to: [.officer, .senderAgency], mode: .immediate),
        "executable": Rule(to: [.senderAgency], mode: .digest),
        "encrypted-archive": Rule(to: [.recipientAgency], mode: .digest),
        "archive-limit": Rule(to: [.officer], mode: .digest),
        "scan-crash": Rule(to: [.officer], mode: .immediate),
        // QĐ 40/2022 (Quảng Ninh) Đ13 k9, Đ14 k10: the security officer and the sending agency.
        "state-secret": Rule(to: [.officer, .senderAgency], mode: .immediate, includeSubject: false),
    ]

    public init() {}

    /// Rules outside the rule catalog that have findings of their own: `scan-crash` (the crash
    /// journal).
    static let otherRules = ["scan-crash"]

    /// The rule id of a `[notify.KEY]` table: the rule whose `[policy]` key is KEY.
    static func ruleID(forKey key: String) -> String? {
        if let declaration = RuleCatalog.all.first(where: { $0.configKey == key }) { return declaration.id.rawValue }
        let id = key.replacingOccurrences(of: "_", with: "-")
        return otherRules.contains(id) ? id : nil
    }

    /// A rule's default for `include_subject`: false for state secrets.
    public static func includesSubjectByDefault(_ rule: String) -> Bool { rule != "state-secret" }
}

extension ConfigReader {
    static let notifyKeys: Set<String> = ["from", "key_file", "templates", "digest_time", "retry", "give_up_after"]

    /// `[notify]` and its `[notify.RULE]` tables.
    func notify(_ value: any TOMLValueConvertible, into settings: inout NotifySettings) throws(ConfigError) {
        guard let table = value.table else {
            throw ConfigError(file: file, line: line(of: "notify", in: nil), key: "notify", message: "expected a [notify] table")
        }
        let s = Section(reader: self, name: "notify", table: table)
        for key in table.keys where !Self.notifyKeys.contains(key) {
            guard table[key]?.table != nil, NotifySettings.ruleID(forKey: key) != nil else {
                let message =
                    table[key]?.table != nil
                    ? "no rule has this [policy] key (tables under [notify] are rules, e.g. [notify.virus])" : "unknown key"
                throw ConfigError(
                    file: file,
                    line: line(of: "notify.\(key)", in: nil) ?? line(of: key, in: "notify"),
                    key: "notify.\(key)",
                    message: message
                )
            }
        }
        if let v = try s.string("from") {
            guard v.isEmpty || Self.isMailbox(v) else {
                throw s.error("from", "\"\(v)\" is not a mail address such as \"thugate@quangninh.gov.vn\"")
            }
            settings.from = v
        }
        if let v = try s.path("key_file") {
            guard !v.isEmpty else { throw s.error("key_file", "must name a file") }
            settings.keyFile = v
        }
        if let v = try s.path("templates") {
            guard !v.isEmpty else { throw s.error("templates", "must name a directory") }
            settings.templates = v
        }
        if let v = try s.string("digest_time") {
            guard let time = NotifySettings.LocalTime(v) else {
                throw s.error("digest_time", "expected HH:MM (Asia/Ho_Chi_Minh), e.g. \"08:00\"")
            }
            settings.digestTime = time
        }
        if let v = try s.stringList("retry") {
            guard !v.isEmpty else { throw s.error("retry", "list at least one wait, e.g. [\"1m\", \"5m\", \"30m\"]") }
            settings.retry = try v.map { (text) throws(ConfigError) in
                guard let amount = ConfigReader.parseDuration(text), amount > .zero, amount <= .hours(24 * 7) else {
                    throw s.error("retry", "\"\(text)\" is not a duration such as \"5m\" (at most 7 days)")
                }
                return amount
            }
        }
        if let v = try s.duration("give_up_after") { settings.giveUpAfter = v }
        for key in table.keys.sorted() where !Self.notifyKeys.contains(key) {
            guard let id = NotifySettings.ruleID(forKey: key), let ruleTable = table[key]?.table else { continue }
            let r = Section(reader: self, name: "notify.\(key)", table: ruleTable)
            for inner in ruleTable.keys where !["to", "mode", "include_subject"].contains(inner) { throw r.error(inner, "unknown key") }
            var rule =
                settings.rules[id]
                ?? NotifySettings.Rule(to: [], mode: .immediate, includeSubject: NotifySettings.includesSubjectByDefault(id))
            if let to = try r.stringList("to") {
                var targets: [NotifySettings.Target] = []
                for text in to {
                    let target: NotifySettings.Target
                    switch text {
                    case "officer": target = .officer
                    case "sender_agency": target = .senderAgency
                    case "recipient_agency": target = .recipientAgency
                    case "sender": target = .sender
                    default:
                        guard Self.isMailbox(text) else {
                            throw r.error(
                                "to",
                                "\"\(text)\" is neither \"officer\", \"sender_agency\", \"recipient_agency\", \"sender\" nor a mail address"
                            )
                        }
                        target = .address(text)
                    }
                    if !targets.contains(target) { targets.append(target) }
                }
                rule.to = targets
            }
            if let v = try r.choice("mode", NotifySettings.Mode.self) { rule.mode = v }
            if let v = try r.bool("include_subject") { rule.includeSubject = v }
            settings.rules[id] = rule
        }
    }

    /// A mailbox with a domain, as a RCPT TO path takes it.
    static func isMailbox(_ text: String) -> Bool {
        guard case .rcpt(let address)? = try? SMTPCommand.parse(Array("RCPT TO:<\(text)>".utf8)), address.address == text else {
            return false
        }
        return !address.domain.isEmpty && !address.domain.hasPrefix("[")
    }
}
