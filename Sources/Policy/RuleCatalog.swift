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

    public init(_ code: Int, _ status: EnhancedStatus, vi vietnamese: String, en english: String, article: String? = nil,
                namesPart: Bool = true) {
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

/// Settings of the rules that take any: the `[policy]` keys beside the actions.
public struct RuleParameters: Sendable, Equatable {
    /// ``AttachmentSizeRule``'s limit (`max_attachments_size`, or the profile's).
    public var maxAttachmentsSize = PolicyProfile.quangNinh.maxAttachmentsSize
    /// ``ExecutableRule``'s real types (`executable_types`).
    public var executableTypes = ExecutableRule.defaultTypes
    /// ``ExecutableRule``'s file name extensions (`executable_extensions`).
    public var executableExtensions = ExecutableRule.defaultExtensions

    public init() {}
}

/// Everything about one configurable rule, declared in the rule's own file: what it is called,
/// how `[policy]` names it, what it does by default, what it needs, how it refuses, and how it
/// is built from the parameters.
public struct RuleDeclaration: Sendable {
    public var id: Finding.RuleID
    /// The `[policy]` key holding the rule's action, `encrypted_archive`.
    public var configKey: String
    public var defaultAction: PolicyAction
    /// Whether the rule reads the ``ContentReport`` (libclamav and libmagic must run).
    public var needsContentScan: Bool
    public var refusal: Refusal
    public var make: @Sendable (RuleParameters) -> any Rule

    public init(id: Finding.RuleID, configKey: String, defaultAction: PolicyAction, needsContentScan: Bool, refusal: Refusal,
                make: @escaping @Sendable (RuleParameters) -> any Rule) {
        self.id = id
        self.configKey = configKey
        self.defaultAction = defaultAction
        self.needsContentScan = needsContentScan
        self.refusal = refusal
        self.make = make
    }
}

/// The configurable rules: the one list a new rule is added to.
public enum RuleCatalog {
    /// In the order the pipeline runs them, which is the order of the findings in
    /// `X-ThuGate-Findings`, and decides whose finding a refusal names among rules with the same
    /// action.
    public static let all: [RuleDeclaration] = [
        MalformedRule.declaration,
        MIMEIrregularRule.declaration,
        MIMEAmbiguousRule.declaration,
        EncryptedMessageRule.declaration,
        VirusRule.declaration,
        ExecutableRule.declaration,
        EncryptedArchiveRule.declaration,
        EncryptedDocumentRule.declaration,
        ArchiveLimitRule.declaration,
        AttachmentSizeRule.declaration,
        OfficeMacroRule.declaration,
    ]

    private static let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    /// The declaration of a configurable rule; nil for findings of other origin (`scan-crash`).
    public static func declaration(of id: Finding.RuleID) -> RuleDeclaration? { byID[id] }

    /// Each rule's default action.
    public static var defaultActions: [Finding.RuleID: PolicyAction] {
        Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.defaultAction) })
    }

    /// Every rule built from `parameters`, with its action; rules whose action is `off` do not run.
    public static func pipeline(actions: [Finding.RuleID: PolicyAction], parameters: RuleParameters) -> FilterPipeline {
        FilterPipeline(rules: all.map { ($0.make(parameters), actions[$0.id] ?? $0.defaultAction) })
    }
}
