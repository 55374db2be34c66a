public import Foundation

/// What the client was finally told about a message, as the reports count it.
public enum VerdictOutcome: String, Sendable, Codable, CaseIterable {
    /// The upstream accepted it (tagged mail too).
    case delivered
    /// A permanent refusal (5xx): a rule's, or the upstream's passed on.
    case refused
    /// A temporary refusal (4xx): the client sends it again later.
    case tempfailed
    /// Held in the quarantine (`250 … Held for review`).
    case held
}

/// One message in the verdict log: every message the gateway finished, not only held ones.
public struct VerdictEntry: Sendable, Equatable {
    /// When the outcome was known.
    public var at: Date
    public var queueID: String
    public var node: String
    public var clientAddress: String
    /// The envelope sender, `""` for the null sender.
    public var sender: String
    public var recipients: Int
    public var size: Int
    /// `in`, `out`, `internal` or `transit`.
    public var direction: String
    /// The ids of the agencies involved (the sender's and the recipients'), sorted, unique.
    public var agencies: [String]
    public var outcome: VerdictOutcome
    /// The rule ids of the findings, unique, plus ``VerdictEntry/conversionRule`` when a
    /// legacy-encoding conversion was applied.
    public var rules: [String]
    /// The quarantine id, when held.
    public var heldID: String?
    /// The notices about the message (a refused one: a held one's go with its hold), written
    /// into the outbox in ``VerdictLog/record(_:)``'s transaction.
    public var notices: [NoticeRequest] = []

    /// The roll-ups' name for "a legacy Vietnamese encoding was converted to TCVN 6909".
    public static let conversionRule = "tcvn-conversion"

    public init(
        at: Date,
        queueID: String,
        node: String,
        clientAddress: String,
        sender: String,
        recipients: Int,
        size: Int,
        direction: String,
        agencies: [String],
        outcome: VerdictOutcome,
        rules: [String],
        heldID: String? = nil
    ) {
        self.at = at
        self.queueID = queueID
        self.node = node
        self.clientAddress = clientAddress
        self.sender = sender
        self.recipients = recipients
        self.size = size
        self.direction = direction
        // Usually none, one or two: sorted and deduplicated without a set.
        let sorted = agencies.sorted()
        self.agencies = sorted.indices.filter { $0 == 0 || sorted[$0 - 1] != sorted[$0] }.map { sorted[$0] }
        self.outcome = outcome
        self.rules = rules.enumerated().filter { !rules[..<$0.offset].contains($0.element) }.map(\.element)
        self.heldID = heldID
    }
}

/// One roll-up row: the messages of one local day with one direction, agency, rule and outcome.
///
/// An entry counts in the rows of every agency in `{"*"} ∪ agencies` and every rule in
/// `{"*"} ∪ rules`, so the total is agency `*` rule `*`, an agency's share agency `A` rule `*`,
/// a rule's share agency `*` rule `R`, each message once in each.
public struct DailyCount: Sendable, Equatable {
    /// The local day (Asia/Ho_Chi_Minh), `YYYY-MM-DD`.
    public var day: String
    public var direction: String
    /// `*` for all agencies, else one agency id (`""`: none of the agencies).
    public var agency: String
    /// `*` for all messages, else one rule id.
    public var rule: String
    public var outcome: VerdictOutcome
    public var messages: Int
    public var bytes: Int64

    public static let all = "*"

    public init(day: String, direction: String, agency: String, rule: String, outcome: VerdictOutcome, messages: Int, bytes: Int64) {
        self.day = day
        self.direction = direction
        self.agency = agency
        self.rule = rule
        self.outcome = outcome
        self.messages = messages
        self.bytes = bytes
    }
}

/// Messages of one envelope sender over a span of days.
public struct SenderCount: Sendable, Equatable {
    public var sender: String
    public var messages: Int
    public init(sender: String, messages: Int) {
        self.sender = sender
        self.messages = messages
    }
}

/// The per-message verdict log and its daily roll-ups, behind the reports. Written off the
/// reply path, in batches: a crash may lose the last seconds of counts, never a held message
/// (held mail is in the quarantine's own transaction).
public protocol VerdictLog: Sendable {
    /// Appends the entries and adds them to the daily roll-ups, in one transaction.
    func record(_ entries: [VerdictEntry]) async throws
    /// The roll-up rows of the local days `first` through `last` (`YYYY-MM-DD`, inclusive).
    func dailyCounts(first: String, last: String) async throws -> [DailyCount]
    /// The senders with most messages of `outcome` over those days, most first (ties by address).
    func topSenders(outcome: VerdictOutcome, first: String, last: String, limit: Int) async throws -> [SenderCount]
    /// Deletes the per-message rows older than `perMessage` and the roll-ups of days before
    /// `rollups`; returns how many rows went.
    func expireVerdicts(before perMessage: Date, rollupsBefore rollups: Date) async throws -> Int
}

/// Days as the province counts them: Asia/Ho_Chi_Minh, UTC+07:00 all year (no summer time since 1975).
public enum LocalDay {
    public static let offsetSeconds: Int64 = 7 * 3600

    /// The local day of `date`, `YYYY-MM-DD`.
    public static func of(_ date: Date) -> String { name(ofDay: number(of: date)) }

    /// The local day of `date` as days since 1970-01-01.
    public static func number(of date: Date) -> Int64 {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down)) + offsetSeconds
        return seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
    }

    /// Day `number` (days since 1970-01-01) as `YYYY-MM-DD`.
    public static func name(ofDay number: Int64) -> String {
        let (y, m, d) = civil(fromDays: number)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// The first instant of local day `day` (`YYYY-MM-DD`), nil when it is not a date.
    public static func start(of day: String) -> Date? {
        let parts = day.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]),
            (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y)
        else { return nil }
        return Date(timeIntervalSince1970: Double(days(fromCivil: y, m, d) * 86400 - offsetSeconds))
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Proleptic Gregorian calendar <-> days since 1970-01-01.
    // - SeeAlso: Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms", http://howardhinnant.github.io/date_algorithms.html
    public static func civil(fromDays z: Int64) -> (Int64, Int64, Int64) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func days(fromCivil year: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
