public import Foundation

/// A release that needs two people (state-secret mail): recorded by one, approved by another.
public struct ReleaseRequest: Sendable, Equatable {
    public var messageID: String
    /// The recipients to release, by position; nil: every one still held.
    public var positions: [Int]?
    /// The person who asked (``Actor/person``) and how the audit names them (``Actor/name``).
    public var requestedBy: String
    public var requestedByName: String
    public var requestedAt: Date
    public var reason: String
    /// The person who approved it, once approved.
    public var approvedBy: String?
    public var approvedAt: Date?

    public init(
        messageID: String,
        positions: [Int]?,
        requestedBy: String,
        requestedByName: String,
        requestedAt: Date,
        reason: String,
        approvedBy: String? = nil,
        approvedAt: Date? = nil
    ) {
        self.messageID = messageID
        self.positions = positions
        self.requestedBy = requestedBy
        self.requestedByName = requestedByName
        self.requestedAt = requestedAt
        self.reason = reason
        self.approvedBy = approvedBy
        self.approvedAt = approvedAt
    }
}

/// A message whose original bytes a purge may remove, and why.
public struct PurgeCandidate: Sendable, Equatable {
    public enum Reason: String, Sendable, Equatable {
        /// Every recipient released or deleted, and older than the purge's age.
        case decided
        /// Still held (or failed) past its expiry, not under legal hold.
        case expired
    }

    public var id: String
    public var receivedAt: Date
    public var expiresAt: Date
    public var category: String
    public var size: Int
    public var reason: Reason

    public init(id: String, receivedAt: Date, expiresAt: Date, category: String, size: Int, reason: Reason) {
        self.id = id
        self.receivedAt = receivedAt
        self.expiresAt = expiresAt
        self.category = category
        self.size = size
        self.reason = reason
    }
}
