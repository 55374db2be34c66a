public import MIMECore
public import Policy

/// A change made to messages that are delivered, after the verdict: TCVN 6909 text today.
/// Transforms never judge; they rewrite, and say what they rewrote.
///
/// A transform reports its ``TransformResult/edits`` (fields inserted, added or changed, bodies
/// replaced), not only the rewritten bytes: the SMTP proxy writes the rewritten message, a milter
/// front end sends exactly those edits back to the MTA.
public protocol MessageTransform: Sendable {
    /// Stable name for logs and the message's outcome (`tcvn-6909`).
    var name: String { get }
    func transform(_ message: ParsedMessage) -> TransformResult
}

/// What one transform did to one message.
public struct TransformResult: Sendable, Equatable {
    /// The changes, on the original message's bytes; empty when nothing was rewritten.
    public var edits: MessageEdits
    /// What the transform found or did, informational (`legacy-encoding`).
    public var findings: [Finding]
    /// A line for people saying what changed (`tcvn3→utf-8 (part 1.1)`); nil when nothing did.
    public var summary: String?

    public init(edits: MessageEdits = MessageEdits(), findings: [Finding] = [], summary: String? = nil) {
        self.edits = edits
        self.findings = findings
        self.summary = summary
    }

    /// The message with the edits applied; nil when there are none.
    public func rewritten(_ message: ParsedMessage) -> [UInt8]? {
        edits.isEmpty ? nil : edits.applied(to: message.bytes)
    }
}
