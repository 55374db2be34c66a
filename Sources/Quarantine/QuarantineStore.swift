import Foundation

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
    func claimRelease(of id: String, positions: [Int]?, reason: String) async throws -> [ClaimedRecipient]

    /// Records what the upstream said for each claimed recipient: `released` after its 250,
    /// `failed` with a permanent refusal, back to `held` after a temporary one; with its audit row
    /// in the same transaction. Only recipients still `releasing` change.
    func finishRelease(of id: String, _ outcomes: [ReleaseOutcome], reason: String) async throws

    /// Marks the recipients (nil: all) that are still held, or failed, as `deleted`, with its audit
    /// row in the same transaction; returns those marked. The bytes stay until a purge.
    func delete(_ id: String, positions: [Int]?, reason: String) async throws -> [ClaimedRecipient]

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
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
