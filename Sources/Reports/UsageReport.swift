/// What became of a message at the gateway, as the verdict log counts it.
public enum Outcome: String, Sendable, Equatable, CaseIterable {
    /// The upstream accepted it (tagged mail too).
    case delivered
    /// A 5xx to the client: refused by a rule or by the upstream.
    case refused
    /// A 4xx to the client: the sender tries again later.
    case tempfailed
    /// Held in the quarantine for review (the client heard 250).
    case held
}

/// One roll-up row of the verdict log: messages of one local day, direction, agency, rule and
/// outcome. `agency` `"*"` is every message once; `rule` `"*"` is every message, else the messages
/// with a finding of that rule (once per rule). So the total is agency `*` rule `*`, an agency's
/// count is agency A rule `*`, a rule's count is agency `*` rule R.
public struct RollupRow: Sendable, Equatable {
    /// The key that stands for "all" in `agency` and `rule`.
    public static let all = "*"

    /// Local day, `YYYY-MM-DD`.
    public var day: String
    /// `in`, `out`, `internal` or `transit`.
    public var direction: String
    public var agency: String
    public var rule: String
    public var outcome: Outcome
    public var messages: Int
    public var bytes: Int64

    public init(day: String, direction: String, agency: String, rule: String, outcome: Outcome, messages: Int, bytes: Int64) {
        self.day = day
        self.direction = direction
        self.agency = agency
        self.rule = rule
        self.outcome = outcome
        self.messages = messages
        self.bytes = bytes
    }
}

/// A sender and how many of its messages had one outcome (the refused ones, for the report).
public struct SenderTotal: Sendable, Equatable {
    /// The envelope sender as given (`""` for the null sender `<>`).
    public var sender: String
    public var messages: Int
    public init(sender: String, messages: Int) {
        self.sender = sender
        self.messages = messages
    }
}

/// One recipient of a held message and what a reviewer decided for it.
public struct HeldDecision: Sendable, Equatable {
    public enum State: String, Sendable, Equatable, CaseIterable {
        /// Released to the recipient (the upstream took it).
        case released
        /// Deleted by a reviewer.
        case deleted
        /// A release the upstream refused for good.
        case failed
        /// No decision yet (still held, or a release under way).
        case pending
    }

    /// When the message was received and held, milliseconds since 1970 UTC.
    public var heldAt: Int64
    /// When the recipient's state last changed (the decision), nil while pending.
    public var decidedAt: Int64?
    public var state: State

    public init(heldAt: Int64, decidedAt: Int64?, state: State) {
        self.heldAt = heldAt
        self.decidedAt = decidedAt
        self.state = state
    }
}

/// Messages by outcome, and their bytes.
public struct OutcomeCounts: Sendable, Equatable {
    public var delivered = 0
    public var refused = 0
    public var tempfailed = 0
    public var held = 0
    public var bytes: Int64 = 0

    public init() {}

    public init(delivered: Int, refused: Int, tempfailed: Int, held: Int, bytes: Int64) {
        self.delivered = delivered
        self.refused = refused
        self.tempfailed = tempfailed
        self.held = held
        self.bytes = bytes
    }

    /// Every message the gateway handled, whatever became of it.
    public var handled: Int { delivered + refused + tempfailed + held }

    public subscript(outcome: Outcome) -> Int {
        switch outcome {
        case .delivered: delivered
        case .refused: refused
        case .tempfailed: tempfailed
        case .held: held
        }
    }

    mutating func add(_ row: RollupRow) {
        switch row.outcome {
        case .delivered: delivered += row.messages
        case .refused: refused += row.messages
        case .tempfailed: tempfailed += row.messages
        case .held: held += row.messages
        }
        bytes += row.bytes
    }
}

/// The dimension of the report's main table (`--by`).
public enum Breakdown: String, Sendable, Equatable, CaseIterable {
    case agency, rule, day
}

/// One row of a breakdown: its key (an agency id, a rule id, a day, a direction), the name
/// people read when there is one (the agency's name from the configuration), and its counts.
public struct BreakdownRow: Sendable, Equatable {
    public var key: String
    public var name: String?
    public var counts: OutcomeCounts
    public init(key: String, name: String? = nil, counts: OutcomeCounts) {
        self.key = key
        self.name = name
        self.counts = counts
    }
}

/// Held mail and what reviewers decided, per recipient of the messages held in the period.
public struct DecisionSummary: Sendable, Equatable {
    public var recipients = 0
    public var released = 0
    public var deleted = 0
    public var failed = 0
    public var pending = 0
    /// Median time from hold to decision (released or deleted), milliseconds; nil with no decision.
    public var medianToDecision: Int64?
    public var medianToRelease: Int64?
    public var medianToDelete: Int64?

    public init() {}

    public init(_ decisions: [HeldDecision]) {
        var toRelease: [Int64] = []
        var toDelete: [Int64] = []
        for decision in decisions {
            recipients += 1
            switch decision.state {
            case .released: released += 1
            case .deleted: deleted += 1
            case .failed: failed += 1
            case .pending: pending += 1
            }
            guard let decidedAt = decision.decidedAt else { continue }
            // A clock stepped back between hold and decision is a zero wait, not a negative one.
            let wait = max(0, decidedAt - decision.heldAt)
            if decision.state == .released { toRelease.append(wait) }
            if decision.state == .deleted { toDelete.append(wait) }
        }
        medianToDecision = Self.median(toRelease + toDelete)
        medianToRelease = Self.median(toRelease)
        medianToDelete = Self.median(toDelete)
    }

    /// The middle value; of an even count, the mean of the two middle ones (rounded down).
    static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// A usage report for one period: what the regulations' periodic reports ask of the mail system,
/// made from the verdict log's daily roll-ups, the senders of refused mail and the decisions on
/// held mail. A value: renderers (``TableRenderer``, ``CSVRenderer``, ``JSONRenderer``,
/// ``HTMLRenderer``) only format it.
public struct UsageReport: Sendable, Equatable {
    /// The rule id the verdict log gives a message whose legacy Vietnamese text was converted.
    public static let conversionRule = "tcvn-conversion"
    /// The agency key of the messages of no configured agency (so the agencies add up to the total).
    public static let noAgency = ""
    /// Directions in the order reports list them.
    public static let directions = ["in", "out", "internal", "transit"]

    public var period: ReportPeriod
    public var by: Breakdown
    /// When the report was made, milliseconds since 1970 UTC.
    public var generatedAt: Int64
    /// Every message once (agency `*`, rule `*`).
    public var totals: OutcomeCounts
    /// `in`, `out`, `internal`, `transit`, then any other direction found, each with its counts.
    public var directions: [BreakdownRow]
    /// Every day of the period, in order (days without mail too).
    public var days: [BreakdownRow]
    /// Every agency: the configured ones and any other id the roll-ups name, most mail first.
    /// A message between two agencies counts for each.
    public var agencies: [BreakdownRow]
    /// Every rule with a finding in the period, most messages first. A message counts once per rule.
    public var rules: [BreakdownRow]
    /// Messages whose legacy-encoding text was converted to TCVN 6909 (rule `tcvn-conversion`).
    public var conversions: OutcomeCounts
    /// The senders with the most refused messages, most first.
    public var topRefusedSenders: [SenderTotal]
    public var decisions: DecisionSummary

    /// Builds the report. Rows outside the period are ignored. `agencies` are the configured
    /// agencies (id, name), listed even with no mail.
    public init(
        period: ReportPeriod,
        by: Breakdown = .day,
        generatedAt: Int64,
        rows: [RollupRow],
        refusedSenders: [SenderTotal] = [],
        decisions: [HeldDecision] = [],
        agencies configured: [(id: String, name: String)] = []
    ) {
        self.period = period
        self.by = by
        self.generatedAt = generatedAt
        let first = period.first.description
        let last = period.last.description
        var totals = OutcomeCounts()
        var byDirection: [String: OutcomeCounts] = [:]
        var byDay: [String: OutcomeCounts] = [:]
        var byAgency: [String: OutcomeCounts] = [:]
        var byRule: [String: OutcomeCounts] = [:]
        // Days are `YYYY-MM-DD`, so comparing the text compares the dates.
        for row in rows where row.day >= first && row.day <= last {
            switch (row.agency == RollupRow.all, row.rule == RollupRow.all) {
            case (true, true):
                totals.add(row)
                byDirection[row.direction, default: OutcomeCounts()].add(row)
                byDay[row.day, default: OutcomeCounts()].add(row)
            case (false, true):
                byAgency[row.agency, default: OutcomeCounts()].add(row)
            case (true, false):
                byRule[row.rule, default: OutcomeCounts()].add(row)
            case (false, false):
                // Agency by rule: not in this report.
                break
            }
        }
        self.totals = totals
        let known = Self.directions.map { BreakdownRow(key: $0, counts: byDirection[$0] ?? OutcomeCounts()) }
        let other = byDirection.keys.filter { !Self.directions.contains($0) }.sorted().map {
            BreakdownRow(key: $0, counts: byDirection[$0]!)
        }
        directions = known + other
        days = period.days.map { BreakdownRow(key: $0.description, counts: byDay[$0.description] ?? OutcomeCounts()) }
        var names: [String: String] = [:]
        for agency in configured where names[agency.id] == nil {
            names[agency.id] = agency.name
            if byAgency[agency.id] == nil { byAgency[agency.id] = OutcomeCounts() }
        }
        agencies = Self.ranked(byAgency).map { BreakdownRow(key: $0.key, name: names[$0.key], counts: $0.counts) }
        rules = Self.ranked(byRule)
        conversions = byRule[Self.conversionRule] ?? OutcomeCounts()
        topRefusedSenders = refusedSenders
        self.decisions = DecisionSummary(decisions)
    }

    /// The main table's rows, as `by` chooses.
    public var breakdown: [BreakdownRow] {
        switch by {
        case .agency: agencies
        case .rule: rules
        case .day: days
        }
    }

    /// Most messages first; equal counts by key, so the order is the same every time.
    private static func ranked(_ counts: [String: OutcomeCounts]) -> [BreakdownRow] {
        counts.map { BreakdownRow(key: $0.key, counts: $0.value) }.sorted {
            $0.counts.handled != $1.counts.handled ? $0.counts.handled > $1.counts.handled : $0.key < $1.key
        }
    }
}
