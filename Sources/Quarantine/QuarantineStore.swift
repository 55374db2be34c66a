public import Foundation

/// Where held mail is kept until someone decides about it. A message is held once
/// ``hold(_:content:)`` returned: its row, its recipients, its original bytes, its findings and
/// its audit row are then committed together, or none of them is.
///
/// No SQLite type appears here: a PostgreSQL store (several nodes) implements the same protocol
/// and passes the same contract tests (`Tests/QuarantineTests`).
public protocol QuarantineStore: Sendable {
    /// Stores `message` with its original bytes, read from `content` in order, in one
    /// transaction; returns the row as stored (its id, size, sha256). Throws when it could not
    /// be stored, and then nothing of it is.
    func hold(_ message: HoldRequest, content: any HeldContent) async throws -> HeldMessage

    /// The messages that match, newest first.
    func messages(_ query: MessageQuery) async throws -> [HeldMessage]

    /// The message whose id is `id` or, as git does, starts with `id` (a unique prefix).
    /// Throws ``QuarantineError`` `.notFound` or `.ambiguous`.
    func message(_ id: String) async throws -> HeldMessage

    /// Calls `body` with the original bytes of the message `id` (a full id), chunk by chunk, in
    /// order, each chunk checked against its stored sha256. The read is one snapshot.
    func readContent(of id: String, _ body: @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws

    /// The audit rows, oldest first; of one message when `messageID` is given.
    func audit(messageID: String?) async throws -> [AuditEntry]

    /// Claims the recipients of message `id` (a full id) for a release: each one still `held`
    /// becomes `releasing` by a compare-and-set update, so two reviewers (or two nodes) never both
    /// deliver it. `positions` nil means every recipient. Returns the recipients claimed (none
    /// when another release got there first); the claim and its audit row are one transaction.
    ///
    /// The claim records this store's owner (node and process) and a lease of `lease` seconds
    /// from `now`: a recipient left `releasing` by a process that died (SIGKILL, a lost node) is
    /// claimable again, by any node, once `now` is past its lease. Delivery is therefore
    /// at least once, not exactly once: a process that got the upstream's 250 but died before
    /// ``finishRelease(of:_:reason:)`` leaves a recipient that a later claim delivers again
    /// (a duplicate, never a loss). Keep `lease` well above the time one release takes.
    /// A claim made before leases existed has none and is only settled by hand
    /// (``resolveReleasing(of:positions:as:reason:)``).
    func claimRelease(of id: String, positions: [Int]?, reason: String, lease: TimeInterval, now: Date) async throws -> [ClaimedRecipient]

    /// Records what the upstream said for each claimed recipient: `released` after its 250,
    /// `failed` with a permanent refusal, back to `held` after a temporary one; with its audit row
    /// in the same transaction. Only recipients still `releasing` under this store's own claim
    /// change: one another process took over after the lease ran out is that process's (this
    /// outcome is then ignored, and the recipient may be delivered twice: at least once).
    func finishRelease(of id: String, _ outcomes: [ReleaseOutcome], reason: String) async throws

    /// Marks the recipients (nil: all) that are still held, or failed, as `deleted`, with its audit
    /// row in the same transaction; returns those marked. The bytes stay until a purge.
    func delete(_ id: String, positions: [Int]?, reason: String) async throws -> [ClaimedRecipient]

    // MARK: Life cycle (retention, legal hold, two-person release, recovery, purge, import)

    /// Clears the legal hold of message `id`, with its audit row; false when it was not under one.
    func liftLegalHold(of id: String, reason: String) async throws -> Bool

    /// Records a request to release message `id` (to `positions`, nil: all) that a second person
    /// must approve; nothing is sent and the recipients stay held. Returns the pending request:
    /// this one, or the one already pending (then nothing changes).
    func requestRelease(of id: String, positions: [Int]?, reason: String) async throws -> ReleaseRequest

    /// The release request of message `id`, pending or approved; nil when there is none.
    func releaseRequest(of id: String) async throws -> ReleaseRequest?

    /// Approves the release request of message `id` as this store's actor, with its audit row.
    /// Throws `.notFound` when none is pending and `.secondPersonRequired` when the actor is the
    /// person who requested it. The caller then releases the request's recipients.
    func approveRelease(of id: String, reason: String) async throws -> ReleaseRequest

    /// Settles recipients left `releasing` (a release killed mid-send) after someone checked the
    /// upstream's log: each one still `releasing` becomes `state` (`released` or `held`) by a
    /// compare-and-set update, with the audit row. Returns those changed.
    func resolveReleasing(of id: String, positions: [Int]?, as state: RecipientState, reason: String) async throws -> [ClaimedRecipient]

    /// The messages a purge at `now` would remove the bytes of: released or deleted for every
    /// recipient and received before `decidedBefore`, or still held past their expiry and not
    /// under legal hold; none with a recipient `releasing`. Oldest first.
    func purgeCandidates(decidedBefore: Date, now: Date) async throws -> [PurgeCandidate]

    /// Removes the original bytes of each of `candidates` that still qualifies (checked again in
    /// the same transaction), marks its still-held recipients deleted and writes one `purge` audit
    /// row for it, all in one transaction; returns the ids purged. The caller keeps batches small,
    /// so the gateway's holds never wait long for the write lock.
    func purge(_ candidates: [PurgeCandidate], decidedBefore: Date, now: Date) async throws -> [String]

    /// Holds a message imported from elsewhere (the Maildir quarantine of earlier versions) in one
    /// transaction with an `import` audit row, keyed by `source` (its file name) and `sourceSHA256`
    /// (the file's): nil, and nothing stored, when either was imported before.
    func importHeld(_ message: HoldRequest, content: any HeldContent, source: String, sourceSHA256: String) async throws -> HeldMessage?

    // MARK: Outbox (notices; the rows of a held message's notices are written by `hold`)

    /// Writes notices into the outbox in one transaction (notices about no held message, or
    /// about `messageID`); returns them as stored.
    func enqueueNotices(_ notices: [NoticeRequest], messageID: String?) async throws -> [Notice]

    /// Claims up to `limit` notices that are due at `now` (pending, or claimed by a process whose
    /// lease ran out), each by a compare-and-set update to `sending` with `owner` and a lease of
    /// `lease` seconds; a digest notice is claimed with the others of its digest (same recipient,
    /// same day). Returns those claimed: no two owners ever hold one notice.
    func claimDueNotices(now: Date, owner: String, lease: TimeInterval, limit: Int) async throws -> [Notice]

    /// Records what became of notices `owner` claimed; a notice another owner took since (its
    /// lease ran out) is left alone.
    func finishNotices(_ results: [NoticeResult], owner: String, now: Date) async throws

    /// Puts the claims of owners `isStale` names (a process of this node that is gone) back to
    /// pending, due at `now`; returns how many.
    func releaseNoticeClaims(now: Date, where isStale: @Sendable (String) -> Bool) async throws -> Int

    /// The notices that match, newest first.
    func notices(_ query: NoticeQuery) async throws -> [Notice]

    /// The notices about the held message `messageID` (a full id), oldest first.
    func notices(messageID: String) async throws -> [Notice]

    /// Makes the dead (or pending) notice `id` (or a unique prefix) due again at `now`, with its
    /// attempts counted from zero; returns it. Throws `.notFound`, `.ambiguous`.
    func retryNotice(_ id: String, now: Date) async throws -> Notice

    /// When the next pending notice is due, if any.
    func nextNoticeDue() async throws -> Date?

    /// Appends one audit row in a transaction of its own (reading is audited too: `view`,
    /// `export`) and returns it once committed. Throws when it could not be written; then the
    /// caller shows nothing.
    func appendAudit(action: String, messageID: String?, detail: String) async throws -> AuditEntry

    /// Walks the whole audit chain, oldest first, recomputing every row's hash: the first row
    /// changed, removed (a gap in the sequence, a message without its hold row) or relinked.
    func verifyAudit() async throws -> AuditVerification

    /// The store's own integrity check (SQLite: `PRAGMA integrity_check`), then every message's
    /// stored bytes against its chunks' sha256, its sha256 and its size. `progress` is called
    /// with (messages checked, messages in all) as it goes.
    func check(progress: @Sendable (Int, Int) -> Void) async throws -> StoreCheckReport

    // MARK: Several nodes

    /// Wake-ups for the notice sender: an element soon after another process (another node)
    /// wrote notices into the outbox. A hint only: wake-ups may be lost or come in bursts, so the
    /// sender keeps polling ``nextNoticeDue()`` as before. The default never yields (one node:
    /// the sender writing the rows knows). The stream ends when the iterating task is cancelled.
    func outboxWakeups() -> AsyncStream<Void>

    /// Runs `body` only if no other node runs the job named `job` (a purge, the verdict expiry,
    /// the digests): returns nil without running it when another node holds the job's lock.
    /// The default runs `body` (one node).
    func withClusterLock<T: Sendable>(_ job: String, _ body: @Sendable () async throws -> T) async throws -> T?
}

/// The limits of the store's claims.
public enum QuarantineDefaults {
    /// How long a release claim lasts before another process may take it again (the release of
    /// one message takes seconds; its upstream's timeouts at most a few minutes).
    public static let releaseLease: TimeInterval = 15 * 60
}

extension QuarantineStore {
    /// ``claimRelease(of:positions:reason:lease:now:)`` with the default lease, from now.
    public func claimRelease(of id: String, positions: [Int]?, reason: String) async throws -> [ClaimedRecipient] {
        try await claimRelease(of: id, positions: positions, reason: reason, lease: QuarantineDefaults.releaseLease, now: Date())
    }

    public func outboxWakeups() -> AsyncStream<Void> {
        AsyncStream { _ in }
    }

    public func withClusterLock<T: Sendable>(_ job: String, _ body: @Sendable () async throws -> T) async throws -> T? {
        try await body()
    }
}

/// The owner a claim records: this host, this process and the store instance, `gw1:4242:k3v9`
/// (two stores of one process are two owners: two reviewers).
public enum ClaimOwner {
    public static func current(node: String) -> String {
        "\(node):\(ProcessInfo.processInfo.processIdentifier):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    /// This host's name (`gethostname`, no DNS lookup), as the gateway's node id defaults to.
    public static var hostName: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(cString: name)
    }
}

/// A recipient a release or delete took, by its position in the envelope.
public struct ClaimedRecipient: Sendable, Equatable {
    public var position: Int
    public var address: String
    public init(position: Int, address: String) {
        self.position = position
        self.address = address
    }
}

/// What became of one claimed recipient at the upstream.
public struct ReleaseOutcome: Sendable, Equatable {
    public var position: Int
    /// `released`, `failed` or `held` (a temporary failure: it may be released again).
    public var state: RecipientState
    /// The upstream's reply, as one line.
    public var reply: String
    public init(position: Int, state: RecipientState, reply: String) {
        self.position = position
        self.state = state
        self.reply = reply
    }
}

/// The original bytes of a message to hold, read in chunks of at most `maxLength` bytes, in
/// order, from memory or a spool file, so a large message is never in memory whole.
public protocol HeldContent: Sendable {
    var size: Int { get }
    func forEachChunk(maxLength: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// Bytes in memory as ``HeldContent`` (tests, imports).
public struct HeldBytes: HeldContent {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var size: Int { bytes.count }
    public func forEachChunk(maxLength: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + maxLength)
            try bytes[offset..<end].withUnsafeBytes { try body($0) }
            offset = end
        }
    }
}

/// Why a store call failed, as the command line tells it (one line, a distinct exit code).
public struct QuarantineError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No message has this id or prefix.
        case notFound
        /// The prefix names more than one message.
        case ambiguous
        /// Another process holds the store locked past the timeout.
        case busy
        /// The store cannot be opened or read (missing, permissions, not a store).
        case unavailable
        /// A chunk or the message does not match its sha256.
        case corrupt
        /// A purge removed the message's original bytes (its rows and audit stay).
        case purged
        /// A second, different person must do this (approve a release the same person requested).
        case secondPersonRequired
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
