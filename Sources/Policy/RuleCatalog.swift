public import SMTPCore

/// How a rule refuses a message when its action is `reject`: the reply as data (code, enhanced
/// status, Vietnamese and English text, the article it cites). The gateway turns it into the
/// SMTP reply; the text names the rule's finding (and the part), never more of the message.
public struct Refusal: Sendable, Equatable {
    public var code: Int
    public var status: EnhancedStatus
    public var vietnamese: String
    public var english: String
    /// The article the reply cites, `Quy chế Đ15 k5`; nil when it cites none.
    public var article: String?
    /// Whether the text ends with the part the finding is about, ` (part 2)`.
    public var namesPart: Bool

    public init(
        _ code: Int,
        _ status: EnhancedStatus,
        vi vietnamese: String,
        en english: String,
        article: String? = nil,
        namesPart: Bool = true
    ) {
        self.code = code
        self.status = status
        self.vietnamese = vietnamese
        self.english = english
        self.article = article
        self.namesPart = namesPart
    }

    /// `Thư chứa virus, mã độc (Quy chế Đ15 k5) / Virus found: Eicar-Signature (part 2)`.
    public func text(for finding: Finding) -> String {
        let cited = article.map { " (\($0))" } ?? ""
        return "\(vietnamese)\(cited) / \(english): \(finding.detail)\(namesPart ? Self.location(of: finding) : "")"
    }

    /// ` (part 2)`, or nothing for a finding about the whole message.
    public static func location(of finding: Finding) -> String {
        guard let part = finding.part, !part.isEmpty else { return "" }
        return " (part \(part))"
    }
}

/// One `[policy]` setting a rule takes beside its action (`max_attachments_size`), declared in
/// the rule's own file: the key, the kind of value, the default, and the value each province
/// profile (`[policy] profile`) gives it. `[policy]` reads every declared parameter generically.
public struct RuleParameter: Sendable {
    /// The kinds of values a parameter holds, as the configuration file writes them.
    public enum Kind: Sendable, Equatable {
        /// A byte count (`"20MB"` or an integer), at least `min`.
        case size(min: Int)
        /// A list of non-empty strings.
        case strings
        /// A list of mailboxes, each `local@domain` or `@domain` (every mailbox of the domain).
        case mailboxes
    }

    public var key: String
    public var kind: Kind
    public var defaultValue: RuleParameters.Value
    /// What `[policy] profile` sets the parameter to; a profile not listed leaves it alone.
    public var profiles: [PolicyProfile: RuleParameters.Value]

    public init(key: String, kind: Kind, defaultValue: RuleParameters.Value, profiles: [PolicyProfile: RuleParameters.Value] = [:]) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.profiles = profiles
    }
}

/// The values of the rules' parameters (``RuleParameter``), by key: every declared parameter
/// starts at its default. A rule reads its own through a typed accessor in its file.
public struct RuleParameters: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case size(Int)
        case strings([String])
    }

    public private(set) var values: [String: Value]

    /// Every parameter the catalog's rules declare, at its default.
    public init() {
        self.init(declared: RuleCatalog.all.flatMap(\.parameters))
    }

    /// The given parameters at their defaults.
    public init(declared: [RuleParameter]) {
        values = Dictionary(declared.map { ($0.key, $0.defaultValue) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(_ key: String) -> Value? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// A size parameter's value; 0 when `key` is not a declared size (a programming error the
    /// catalog tests catch).
    public subscript(size key: String) -> Int {
        get { if case .size(let n)? = values[key] { return n } else { return 0 } }
        set { values[key] = .size(newValue) }
    }

    /// A list parameter's value; empty when `key` is not a declared list.
    public subscript(strings key: String) -> [String] {
        get { if case .strings(let list)? = values[key] { return list } else { return [] } }
        set { values[key] = .strings(newValue) }
    }

    /// Applies `profile`: each parameter that gives the profile a value takes it.
    public mutating func apply(_ profile: PolicyProfile, declared: [RuleParameter] = RuleCatalog.all.flatMap(\.parameters)) {
        for parameter in declared {
            if let value = parameter.profiles[profile] { values[parameter.key] = value }
        }
    }
}

/// Everything about one configurable rule, declared in the rule's own file: what it is called,
/// how `[policy]` names it, what it does by default, what it needs, how it refuses, and how it
/// is built from the parameters.
public struct RuleDeclaration: Sendable {
    public var id: Finding.RuleID
    /// The rule's place in the evaluation order: the rule set runs the rules by ascending order,
    /// so it is the order of the findings in `X-ThuGate-Findings`, and among rules whose findings
    /// carry the same action the first names the finding a refusal or hold reports. Unique among
    /// the rules (the build checks it); spaced by 100 (`malformed` is 100, `office-macro` 1100) so
    /// that a new rule can go between two without renumbering the others.
    public var order: Int
    /// The `[policy]` key holding the rule's action, `encrypted_archive`.
    public var configKey: String
    public var defaultAction: PolicyAction
    /// Whether the rule reads the ``ContentReport`` (libclamav and libmagic must run).
    public var needsContentScan: Bool
    public var refusal: Refusal
    /// The `[policy]` settings the rule takes beside its action.
    public var parameters: [RuleParameter]
    public var make: @Sendable (RuleParameters) -> any Rule

    public init(
        id: Finding.RuleID,
        order: Int,
        configKey: String,
        defaultAction: PolicyAction,
        needsContentScan: Bool,
        refusal: Refusal,
        parameters: [RuleParameter] = [],
        make: @escaping @Sendable (RuleParameters) -> any Rule
    ) {
        self.id = id
        self.order = order
        self.configKey = configKey
        self.defaultAction = defaultAction
        self.needsContentScan = needsContentScan
        self.refusal = refusal
        self.parameters = parameters
        self.make = make
    }
}

/// The configurable rules: every rule declared in `Rules/`. Nothing is listed by hand: the
/// RuleRegistry build tool (`Sources/RuleRegistry`, run by `Sources/RuleRegistryPlugin` when this
/// target is built) finds each type's `static let declaration = RuleDeclaration(` and generates
/// `registered`; it fails the build on a rule without one, or on two rules with one id or order.
public enum RuleCatalog {
    /// In the order the rule set runs them (``RuleDeclaration/order``), which is the order of the
    /// findings in `X-ThuGate-Findings`, and decides whose finding a refusal names among rules
    /// with the same action.
    public static let all: [RuleDeclaration] = registered.sorted { $0.order < $1.order }

    private static let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    /// The declaration of a configurable rule; nil for findings of other origin (`scan-crash`).
    public static func declaration(of id: Finding.RuleID) -> RuleDeclaration? { byID[id] }

    /// Each rule's default action.
    public static var defaultActions: [Finding.RuleID: PolicyAction] {
        Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.defaultAction) })
    }

    /// Every rule built from `parameters`, with its action; rules whose action is `off` do not run.
    public static func ruleSet(actions: [Finding.RuleID: PolicyAction], parameters: RuleParameters) -> RuleSet {
        RuleSet(rules: all.map { ($0.make(parameters), actions[$0.id] ?? $0.defaultAction) })
    }
}
