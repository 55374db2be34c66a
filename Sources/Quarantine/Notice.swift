public import Foundation

/// How a notice goes out: on its own as soon as it can, or in the recipient's daily digest.
public enum NoticeMode: String, Sendable, Equatable, Codable, CaseIterable {
    case immediate
    case digest
}

/// Why an address is told: the security officer of an agency involved, the sender's agency, the
/// recipients' agency, the sender itself, or an address the configuration lists.
public enum NoticeRole: String, Sendable, Equatable, Codable, CaseIterable {
    case officer
    case senderAgency = "sender_agency"
    case recipientAgency = "recipient_agency"
    case sender
    case address
}

/// A notice's state in the outbox: `pending → sending → sent`, or `dead` once it gave up.
/// `sending` is a claim (compare-and-set from `pending`) with a lease: a claim whose process
/// died is taken again after the lease or, on the same node, at the next start.
public enum NoticeState: String, Sendable, Equatable, Codable, CaseIterable {
    case pending
    case sending
    case sent
    case dead
}

/// What a notice tells about one message: what the rules found and what became of it. Never
/// any of its content (not a byte of a body or an attachment); the Subject only when the rule
/// allows it (nil otherwise).
public struct NoticeEvent: Sendable, Equatable, Codable {
    /// `held` (in the quarantine under the notice's message id) or `refused`.
    public var outcome: String
    public var queueID: String
    public var receivedAt: Date
    /// The envelope sender, `<a@b>` (`<>` for the null sender).
    public var sender: String
    /// The envelope recipients, `<a@b>`.
    public var recipients: [String]
    /// The header `From:`, control characters stripped.
    public var headerFrom: String?
    /// The decoded Subject, or nil when the rule keeps it out of notices (state secrets).
    public var subject: String?
    /// The rule whose finding decided the outcome.
    public var rule: String
    public var findings: [HeldFinding]

    public init(
        outcome: String,
        queueID: String,
        receivedAt: Date,
        sender: String,
        recipients: [String],
        headerFrom: String?,
        subject: String?,
        rule: String,
        findings: [HeldFinding]
    ) {
        self.outcome = outcome
        self.queueID = queueID
        self.receivedAt = receivedAt
        self.sender = sender
        self.recipients = recipients
        self.headerFrom = headerFrom
        self.subject = subject
        self.rule = rule
        self.findings = findings
    }
}

/// One notice to write into the outbox: who is told, why, how, and about what.
public struct NoticeRequest: Sendable, Equatable {
    /// The address told, `a@b` (no angle brackets).
    public var recipient: String
    public var role: NoticeRole
    public var mode: NoticeMode
    public var event: NoticeEvent
    /// When it is first due: now for `immediate`, the digest time for `digest`.
    public var dueAt: Date
    /// A report to mail (`thugate report --mail-to`): the row's content instead of a template's.
    public var report: ReportMail?

    public init(recipient: String, role: NoticeRole, mode: NoticeMode, event: NoticeEvent, dueAt: Date, report: ReportMail? = nil) {
        self.recipient = recipient
        self.role = role
        self.mode = mode
        self.event = event
        self.dueAt = dueAt
        self.report = report
    }
}

/// A notice as stored in the outbox.
public struct Notice: Sendable, Equatable {
    /// Time-ordered, as a held message's (``HeldID``).
    public var id: String
    public var createdAt: Date
    /// The held message it is about (nil for a message that was not held).
    public var messageID: String?
    public var request: NoticeRequest
    public var state: NoticeState
    /// Attempts so far (a claim counts as one).
    public var attempts: Int
    /// When it is next due (pending), or the claim's lease end (sending).
    public var dueAt: Date
    /// For a digest notice: the digest it belongs to (one per recipient per day).
    public var digestAt: Date?
    public var claimedBy: String?
    /// The upstream's last reply, or why it could not be sent.
    public var lastReply: String?
    public var sentAt: Date?
    /// The Message-ID it went out under (a digest's is shared by its notices).
    public var mailID: String?

    public init(
        id: String,
        createdAt: Date,
        messageID: String?,
        request: NoticeRequest,
        state: NoticeState,
        attempts: Int,
        dueAt: Date,
        digestAt: Date?,
        claimedBy: String? = nil,
        lastReply: String? = nil,
        sentAt: Date? = nil,
        mailID: String? = nil
    ) {
        self.id = id
        self.createdAt = createdAt
        self.messageID = messageID
        self.request = request
        self.state = state
        self.attempts = attempts
        self.dueAt = dueAt
        self.digestAt = digestAt
        self.claimedBy = claimedBy
        self.lastReply = lastReply
        self.sentAt = sentAt
        self.mailID = mailID
    }
}

/// Which notices ``QuarantineStore/notices(_:)`` returns, newest first.
public struct NoticeQuery: Sendable, Equatable {
    /// Only those in one of these states (nil: all).
    public var states: [NoticeState]?
    public var limit: Int?

    public init(states: [NoticeState]? = nil, limit: Int? = nil) {
        self.states = states
        self.limit = limit
    }
}

/// What became of a claimed notice: sent after the upstream's 250, due again after a temporary
/// failure, or dead (a permanent refusal, or too many attempts).
public struct NoticeResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case sent(mailID: String)
        case retry(at: Date)
        case dead
    }

    public var id: String
    public var outcome: Outcome
    /// The upstream's reply, as one line.
    public var reply: String

    public init(id: String, outcome: Outcome, reply: String) {
        self.id = id
        self.outcome = outcome
        self.reply = reply
    }
}
