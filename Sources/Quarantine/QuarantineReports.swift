public import Foundation

/// One recipient of a held message as the usage report counts decisions: when the message was
/// held, the recipient's state, and when that state was last set (by a release or a delete).
public struct HeldRecipientDecision: Sendable, Equatable {
    public var messageID: String
    public var receivedAt: Date
    public var state: RecipientState
    /// When a reviewer last changed the recipient (nil while it was never touched).
    public var changedAt: Date?

    public init(messageID: String, receivedAt: Date, state: RecipientState, changedAt: Date?) {
        self.messageID = messageID
        self.receivedAt = receivedAt
        self.state = state
        self.changedAt = changedAt
    }
}

/// What `thugate report` reads besides the verdict log's roll-ups, on either store: the held
/// messages' decisions and the verdict rows as stored.
public protocol QuarantineReportSource: Sendable {
    /// The recipients of the messages received at or after `start` and before `end`, with their
    /// state and when it changed, oldest message first, recipients in envelope order. One snapshot.
    func heldDecisions(receivedFrom start: Date, before end: Date) async throws -> [HeldRecipientDecision]

    /// The verdict rows as stored: `(at, day, queue id, outcome, rules, held id)`, oldest first.
    func verdictRows(limit: Int) async throws -> [(at: Date, day: String, queueID: String, outcome: String, rules: String, heldID: String?)]
}
