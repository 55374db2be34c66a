public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the gateway knows about a message it holds, before it is stored.
public struct HoldRequest: Sendable, Equatable {
    /// The gateway's queue ID (its log lines name it).
    public var queueID: String
    /// The node that held it (the gateway's host name).
    public var node: String
    public var receivedAt: Date
    public var clientAddress: String
    /// The client's name, when known (reverse DNS); nil otherwise.
    public var clientName: String?
    /// What the client said in HELO/EHLO.
    public var helo: String
    /// The envelope sender, as `<a@b>` (`<>` for the null sender).
    public var sender: String
    /// The envelope recipients, as `<a@b>`, in the order given.
    public var recipients: [String]
    /// The `From:` header, unfolded, control characters stripped.
    public var headerFrom: String?
    /// The `Subject:` header, RFC 2047 decoded, control characters stripped.
    public var subject: String?
    public var messageID: String?
    public var findings: [HeldFinding]
    /// The rule whose finding decided the hold (e.g. `encrypted-archive`, `virus`).
    public var category: String
    /// What the policy decided (`quarantine`).
    public var action: String
    /// When the held body may be purged (unless under legal hold).
    public var expiresAt: Date
    /// Kept past its expiry until an officer clears it (state-secret findings).
    public var legalHold: Bool
    /// The notices about it, written into the outbox in the hold's transaction.
    public var notices: [NoticeRequest]

    public init(
        queueID: String,
        node: String,
        receivedAt: Date,
        clientAddress: String,
        clientName: String? = nil,
        helo: String,
        sender: String,
        recipients: [String],
        headerFrom: String? = nil,
        subject: String? = nil,
        messageID: String? = nil,
        findings: [HeldFinding],
        category: String,
        action: String = "quarantine",
        expiresAt: Date,
        legalHold: Bool = false,
        notices: [NoticeRequest] = []
    ) {
        self.queueID = queueID
        self.node = node
        self.receivedAt = receivedAt
        self.clientAddress = clientAddress
        self.clientName = clientName
        self.helo = helo
        self.sender = sender
        self.recipients = recipients
        self.headerFrom = headerFrom.map(Self.stripped)
        self.subject = subject.map(Self.stripped)
        self.messageID = messageID.map(Self.stripped)
        self.findings = findings
        self.category = category
        self.action = action
        self.expiresAt = expiresAt
        self.legalHold = legalHold
        self.notices = notices
    }

    /// Text chosen by the sender, made safe to store and to print on a terminal: every control
    /// character (C0, DEL, C1, so ESC and CSI sequences too) removed, tabs and line breaks
    /// made spaces.
    public static func stripped(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D: out.append(" ")
            case 0x00..<0x20, 0x7F..<0xA0: continue
            // Bidirectional overrides and isolates reorder what a terminal shows.
            case 0x202A...0x202E, 0x2066...0x2069: continue
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}

/// One finding of a rule, as stored.
public struct HeldFinding: Sendable, Equatable, Codable {
    public var rule: String
    public var detail: String
    /// The MIME part path (`1.2`; empty for the whole message), when about one part.
    public var part: String?

    public init(rule: String, detail: String, part: String?) {
        self.rule = rule
        self.detail = detail
        self.part = part
    }
}

/// A recipient's state: `held → releasing → released | failed`, or `deleted`.
public enum RecipientState: String, Sendable, Equatable, Codable, CaseIterable {
    case held
    /// Claimed by a release in progress (compare-and-set from `held`).
    case releasing
    case released
    /// The upstream refused it on release.
    case failed
    case deleted
}

/// One recipient of a held message.
public struct HeldRecipient: Sendable, Equatable {
    public var address: String
    public var state: RecipientState
    /// Who last changed the state, and when (nil while held since the hold).
    public var changedBy: String?
    public var changedAt: Date?
    /// The upstream's last reply on release.
    public var lastReply: String?

    public init(address: String, state: RecipientState, changedBy: String? = nil, changedAt: Date? = nil, lastReply: String? = nil) {
        self.address = address
        self.state = state
        self.changedBy = changedBy
        self.changedAt = changedAt
        self.lastReply = lastReply
    }
}

/// A held message as stored.
public struct HeldMessage: Sendable, Equatable {
    /// Time-ordered (``HeldID``).
    public var id: String
    public var request: HoldRequest
    public var recipients: [HeldRecipient]
    public var size: Int
    /// Lower-case hex SHA-256 of the original bytes.
    public var sha256: String
    /// When a purge removed the original bytes (the rows and the audit stay); nil while they are kept.
    public var purgedAt: Date?

    public init(id: String, request: HoldRequest, recipients: [HeldRecipient], size: Int, sha256: String, purgedAt: Date? = nil) {
        self.id = id
        self.request = request
        self.recipients = recipients
        self.size = size
        self.sha256 = sha256
        self.purgedAt = purgedAt
    }
}

/// Which messages ``QuarantineStore/messages(_:)`` returns.
public struct MessageQuery: Sendable, Equatable {
    /// At most this many, the newest.
    public var limit: Int?

    public init(limit: Int? = nil) {
        self.limit = limit
    }
}

/// One row of the audit log. Each row's `hash` is the SHA-256 of the previous row's hash and
/// this row's fields, so a changed or removed row breaks the chain.
public struct AuditEntry: Sendable, Equatable {
    public var sequence: Int64
    public var at: Date
    /// The OS user that acted.
    public var actor: String
    /// `SUDO_USER`, when the actor ran under sudo.
    public var sudoUser: String?
    /// `hold`, `view`, `export`, `release`, `delete`, `purge`.
    public var action: String
    public var messageID: String?
    public var detail: String
    public var previousHash: String
    public var hash: String

    public init(
        sequence: Int64,
        at: Date,
        actor: String,
        sudoUser: String?,
        action: String,
        messageID: String?,
        detail: String,
        previousHash: String,
        hash: String
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.sudoUser = sudoUser
        self.action = action
        self.messageID = messageID
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The chain's start: the `previousHash` of the first row.
    public static let genesis = String(repeating: "0", count: 64)

    /// The hash of a row with these fields after `previousHash`: fields separated by a byte that
    /// no field contains (control characters are stripped from them).
    public static func chainHash(
        previousHash: String,
        sequence: Int64,
        atMilliseconds: Int64,
        actor: String,
        sudoUser: String?,
        action: String,
        messageID: String?,
        detail: String
    ) -> String {
        let fields = [previousHash, String(sequence), String(atMilliseconds), actor, sudoUser ?? "", action, messageID ?? "", detail]
        var hasher = SHA256()
        hasher.update(Array(fields.joined(separator: "\u{1F}").utf8))
        return hasher.finalize().hex
    }
}

/// Who is acting: the OS user, and `SUDO_USER` when run under sudo.
public struct Actor: Sendable, Equatable {
    public var user: String
    public var sudoUser: String?

    public init(user: String, sudoUser: String?) {
        self.user = HoldRequest.stripped(user)
        self.sudoUser = sudoUser.map(HoldRequest.stripped)
    }

    /// As the recipient rows and the release header name the actor: `alice (as root)` under sudo.
    public var name: String { sudoUser.map { "\($0) (as \(user))" } ?? user }

    /// The person acting, as a two-person rule compares them: the sudo user when run as root
    /// through sudo (root is a role several people share), else the OS user.
    public var person: String { sudoUser ?? user }

    /// This process's effective user and, only when that is root, its `SUDO_USER`: sudo sets
    /// it for root, while any other user may set it to any name in their own environment.
    public static var current: Actor {
        var name = "uid \(geteuid())"
        if let entry = getpwuid(geteuid()), let pwName = entry.pointee.pw_name { name = String(cString: pwName) }
        let sudo = geteuid() == 0 ? ProcessInfo.processInfo.environment["SUDO_USER"].flatMap { $0.isEmpty ? nil : $0 } : nil
        return Actor(user: name, sudoUser: sudo)
    }
}
