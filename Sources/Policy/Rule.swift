public import SMTPCore

/// A finding names the rule that found something, what it found, and where.
public struct Finding: Sendable, Equatable, CustomStringConvertible {
    /// Stable rule identifiers, as printed by `thugate scan` and logged.
    public struct RuleID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }
    public var rule: RuleID
    public var detail: String
    /// MIME part path such as `1.2`, when the finding is about one part.
    public var part: String?

    public init(_ rule: RuleID, detail: String, part: String? = nil) {
        self.rule = rule
        self.detail = detail
        self.part = part
    }

    public var description: String { part.map { "\(rule)(\($0)): \(detail)" } ?? "\(rule): \(detail)" }
}

/// What a rule decided about a message. Rules build no replies and do no I/O.
public enum Verdict: Sendable, Equatable {
    case pass
    case tag(Finding)
    case quarantine(Finding)
    case tempfail(Finding)
    case reject(Finding)

    /// Severity order: the pipeline keeps the strongest verdict.
    var rank: Int {
        switch self {
        case .pass: return 0
        case .tag: return 1
        case .quarantine: return 2
        case .tempfail: return 3
        case .reject: return 4
        }
    }

    public var finding: Finding? {
        switch self {
        case .pass: return nil
        case .tag(let f), .quarantine(let f), .tempfail(let f), .reject(let f): return f
        }
    }
}

/// What a rule sees: the envelope and the complete message as received (after unstuffing).
public struct InspectedMessage: Sendable {
    public var envelope: Envelope
    /// The message bytes when they are held in memory; nil when the message was spooled to disk.
    public var bytes: [UInt8]?
    public var size: Int

    public init(envelope: Envelope, bytes: [UInt8]?, size: Int) {
        self.envelope = envelope
        self.bytes = bytes
        self.size = size
    }
}

/// One regulation check.
public protocol Rule: Sendable {
    var id: Finding.RuleID { get }
    func evaluate(_ message: InspectedMessage) -> Verdict
}

/// The rules a message passes through, in order; the result is the strongest verdict and every
/// finding along the way.
public struct FilterPipeline: Sendable {
    public var rules: [any Rule]
    public init(rules: [any Rule] = []) { self.rules = rules }

    public struct Result: Sendable, Equatable {
        public var verdict: Verdict
        public var findings: [Finding]
        public init(verdict: Verdict, findings: [Finding]) {
            self.verdict = verdict
            self.findings = findings
        }
    }

    public func evaluate(_ message: InspectedMessage) -> Result {
        var strongest = Verdict.pass
        var findings: [Finding] = []
        for rule in rules {
            let verdict = rule.evaluate(message)
            if let finding = verdict.finding { findings.append(finding) }
            if verdict.rank > strongest.rank { strongest = verdict }
        }
        return Result(verdict: strongest, findings: findings)
    }
}
