public import MIMECore
public import Policy

/// What inspecting one message found and did: the one result the SMTP proxy and `thugate scan`
/// (and a milter front end) read.
public struct InspectionResult: Sendable, Equatable {
    /// What the rules decided.
    public var verdict: Verdict
    /// Every finding: the rules' (in catalog order), then the transforms'.
    public var findings: [Finding]
    /// What content scanning saw (every part and archive member with its real type); nil when
    /// no content rule is on or the message was not inspected.
    public var content: ContentReport?
    /// The transforms that changed the message, in the order they ran, each with its edits.
    public var transforms: [AppliedTransform]
    /// The message as rewritten by the transforms; nil when none changed it.
    public var rewritten: [UInt8]?

    public init(
        verdict: Verdict,
        findings: [Finding],
        content: ContentReport? = nil,
        transforms: [AppliedTransform] = [],
        rewritten: [UInt8]? = nil
    ) {
        self.verdict = verdict
        self.findings = findings
        self.content = content
        self.transforms = transforms
        self.rewritten = rewritten
    }

    /// Nothing to judge or change: no rule and no transform is on.
    public static let uninspected = InspectionResult(verdict: .pass, findings: [])
}

/// One transform that changed a message, and how.
public struct AppliedTransform: Sendable, Equatable {
    /// ``Transforms/MessageTransform/name`` (`tcvn-6909`).
    public var name: String
    /// The changes, on the bytes the transform was given (the received message for the first
    /// transform, the previous one's output for the next).
    public var edits: MessageEdits
    /// What changed, for people (the `X-ThuGate-Normalized` text).
    public var summary: String?

    public init(name: String, edits: MessageEdits, summary: String?) {
        self.name = name
        self.edits = edits
        self.summary = summary
    }
}
