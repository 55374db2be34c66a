public import MIMECore
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

    public var description: String { part.map { "\(rule)(\($0.isEmpty ? "message" : $0)): \(detail)" } ?? "\(rule): \(detail)" }
}

/// What the policy does when a rule finds something; configured per rule.
public enum PolicyAction: String, Sendable, CaseIterable, Comparable {
    /// The rule does not run.
    case off
    /// Deliver, with an `X-ThuGate-Findings` header.
    case tag
    /// Hold the message for review.
    case quarantine
    /// Ask the sender to try again later (4xx).
    case tempfail
    /// Refuse the message (5xx).
    case reject

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// What the rule set decided about a message. Rules build no replies and do no I/O.
public enum Verdict: Sendable, Equatable {
    case pass
    case tag(Finding)
    case quarantine(Finding)
    case tempfail(Finding)
    case reject(Finding)

    public var finding: Finding? {
        switch self {
        case .pass: return nil
        case .tag(let f), .quarantine(let f), .tempfail(let f), .reject(let f): return f
        }
    }

    public var action: String {
        switch self {
        case .pass, .tag: return "accept"
        case .quarantine: return "quarantine"
        case .tempfail: return "tempfail"
        case .reject: return "reject"
        }
    }
}

/// What a rule sees: the envelope (none for `thugate scan`) and the parsed message.
public struct RuleInput: Sendable {
    public var envelope: Envelope?
    public var message: ParsedMessage
    /// What content inspection found; nil when no content rule is on.
    public var content: ContentReport?
    /// Who the envelope's addresses belong to (the agencies, state-issued or not); nil without an
    /// envelope.
    public var parties: MessageParties?
    /// The agencies and the state-issued domains (`[[agency]]`, `[domains]`), for rules that judge
    /// mailboxes other than the envelope's (a forwarder named in a header).
    public var agencies: AgencyDirectory

    public init(
        envelope: Envelope?,
        message: ParsedMessage,
        content: ContentReport? = nil,
        parties: MessageParties? = nil,
        agencies: AgencyDirectory = AgencyDirectory()
    ) {
        self.envelope = envelope
        self.message = message
        self.content = content
        self.parties = parties
        self.agencies = agencies
    }
}

/// One regulation check: it reports what it finds; the configured action decides what happens.
/// Everything else about the rule (config key, default action, refusal, place in the order) is
/// its `declaration`, written `static let declaration = RuleDeclaration(...)` in the rule's file
/// in `Rules/`: the build finds it there and lists it in ``RuleCatalog/all``.
public protocol Rule: Sendable {
    static var declaration: RuleDeclaration { get }
    func evaluate(_ input: RuleInput) -> [Finding]
}

extension Rule {
    public var id: Finding.RuleID { Self.declaration.id }
}

/// The rules a message passes through, each with its action. The verdict follows the strongest
/// action among the rules that found something; every finding is kept.
public struct RuleSet: Sendable {
    public var rules: [(rule: any Rule, action: PolicyAction)]

    public init(rules: [(rule: any Rule, action: PolicyAction)] = []) {
        self.rules = rules.filter { $0.action != .off }
    }

    public struct Result: Sendable, Equatable {
        public var verdict: Verdict
        public var findings: [Finding]
        public init(verdict: Verdict, findings: [Finding]) {
            self.verdict = verdict
            self.findings = findings
        }
    }

    public func evaluate(_ input: RuleInput) -> Result {
        var findings: [Finding] = []
        var strongest: (PolicyAction, Finding)? = nil
        for (rule, action) in rules {
            let found = rule.evaluate(input)
            guard let first = found.first else { continue }
            findings += found
            if strongest == nil || action > strongest!.0 { strongest = (action, first) }
        }
        let verdict: Verdict
        switch strongest {
        case nil, (.off, _)?: verdict = .pass
        case (.tag, let f)?: verdict = .tag(f)
        case (.quarantine, let f)?: verdict = .quarantine(f)
        case (.tempfail, let f)?: verdict = .tempfail(f)
        case (.reject, let f)?: verdict = .reject(f)
        }
        return Result(verdict: verdict, findings: findings)
    }
}
