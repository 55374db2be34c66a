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
    /// character (C0, DEL, C1) removed together with the escape sequence it starts (ECMA-48:
    /// `ESC [` and C1 CSI with their parameters and final byte, `ESC ]` OSC, DCS, SOS, PM and APC
    /// strings up to BEL or ST, two- and three-byte `ESC` sequences), bidirectional overrides,
    /// isolates and marks removed, tabs and line breaks made spaces. With `keepingLineBreaks`
    /// (text shown as lines: a preview) CRLF, CR, LF and U+2028/U+2029 become one `\n` each.
    /// The one sanitizer of everything the command line prints of a message.
    /// - SeeAlso: ECMA-48 5.3 (control functions), 8.3.89 (ST); Unicode UAX #9 (bidi controls)
    public static func stripped(_ text: String) -> String { stripped(text, keepingLineBreaks: false) }

    /// ``stripped(_:)``, keeping line breaks when `keepingLineBreaks`.
    public static func stripped(_ text: String, keepingLineBreaks: Bool) -> String {
        // Most values (ids, addresses, hashes, times) are printable ASCII: nothing to do.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        enum Mode {
            case text
            /// After ESC: intermediates (0x20-0x2F) until a final byte (0x30-0x7E).
            case escape
            /// A control sequence: parameters and intermediates until a final byte (0x40-0x7E).
            case controlSequence
            /// A control string (OSC, DCS, SOS, PM, APC): everything until BEL or ST.
            case controlString
        }
        var out = String.UnicodeScalarView()
        var mode = Mode.text
        var lastWasCR = false
        func appendText(_ scalar: Unicode.Scalar) {
            let value = scalar.value
            defer { lastWasCR = value == 0x0D }
            switch value {
            case 0x0A where keepingLineBreaks && lastWasCR: return
            case 0x0A, 0x0D, 0x2028, 0x2029: out.append(keepingLineBreaks ? "\n" : " ")
            case 0x09: out.append(" ")
            case 0x1B: mode = .escape
            case 0x9B: mode = .controlSequence
            case 0x90, 0x98, 0x9D, 0x9E, 0x9F: mode = .controlString
            case 0x00..<0x20, 0x7F..<0xA0: return
            // Bidirectional overrides, embeddings, isolates and marks reorder what a terminal shows.
            case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return
            default: out.append(scalar)
            }
        }

        for scalar in text.unicodeScalars {
            let value = scalar.value
            // CAN and SUB cancel a sequence (ECMA-48 8.3.6, 8.3.148); they are removed too.
            if mode != .text && (value == 0x18 || value == 0x1A) {
                mode = .text
                continue
            }
            switch mode {
            case .escape:
                switch value {
                case 0x5B: mode = .controlSequence  // [
                case 0x5D, 0x50, 0x58, 0x5E, 0x5F: mode = .controlString  // ] P X ^ _
                case 0x1B, 0x20...0x2F: continue
                case 0x30...0x7E: mode = .text
                default:
                    // Not a sequence after all: the character is text again.
                    mode = .text
                    appendText(scalar)
                }
                continue
            case .controlSequence:
                switch value {
                case 0x20...0x3F: continue
                case 0x40...0x7E: mode = .text
                default:
                    mode = .text
                    appendText(scalar)
                }
                continue
            case .controlString:
                switch value {
                case 0x07, 0x9C: mode = .text
                case 0x1B: mode = .escape  // ESC \ (ST) ends it; another ESC starts a new sequence
                // A string left open would swallow the rest of the text: it ends at a line break.
                case 0x0A, 0x0D:
                    mode = .text
                    appendText(scalar)
                default: continue
                }
                continue
            case .text:
                appendText(scalar)
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

/// Which messages ``QuarantineStore/messages(_:)`` returns: those that match every filter set.
public struct MessageQuery: Sendable, Equatable {
    /// At most this many, the newest.
    public var limit: Int?
    /// Received at or after this.
    public var since: Date?
    /// Received before this.
    public var until: Date?
    /// With a finding of this rule.
    public var rule: String?
    /// Held for this category (the rule whose finding decided the hold).
    public var category: String?
    /// The envelope sender or the `From:` header contains this, ignoring case.
    public var from: String?
    /// A recipient contains this, ignoring case.
    public var to: String?
    /// The sender or a recipient is in this set (an agency's addresses).
    public var party: PartyFilter?
    /// A recipient is in this state.
    public var state: RecipientState?

    public init(
        limit: Int? = nil,
        since: Date? = nil,
        until: Date? = nil,
        rule: String? = nil,
        category: String? = nil,
        from: String? = nil,
        to: String? = nil,
        party: PartyFilter? = nil,
        state: RecipientState? = nil
    ) {
        self.limit = limit
        self.since = since
        self.until = until
        self.rule = rule
        self.category = category
        self.from = from
        self.to = to
        self.party = party
        self.state = state
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
    /// The user the session logged in as (the kernel's audit login uid, `/proc/self/loginuid`),
    /// when the system sets it: it survives `sudo -i`, `su` and a changed environment.
    public var loginUser: String?

    public init(user: String, sudoUser: String?, loginUser: String? = nil) {
        self.user = HoldRequest.stripped(user)
        self.sudoUser = sudoUser.map(HoldRequest.stripped)
        self.loginUser = loginUser.map(HoldRequest.stripped)
    }

    /// As the recipient rows and the release header name the actor: `alice (as root)` under sudo.
    public var name: String { sudoUser.map { "\($0) (as \(user))" } ?? user }

    /// The person acting, as a two-person rule compares them: the login user when the kernel
    /// records one (a root shell opened with `sudo -i` is still alice's, whatever `SUDO_USER`
    /// says), else the sudo user when run as root through sudo (root is a role several people
    /// share), else the OS user.
    public var person: String { loginUser ?? sudoUser ?? user }

    /// This process's effective user; only when that is root, its `SUDO_USER` (sudo sets it for
    /// root, while any other user may set it to any name in their own environment); and the
    /// login user, when the kernel has one.
    public static var current: Actor {
        let sudo = geteuid() == 0 ? ProcessInfo.processInfo.environment["SUDO_USER"].flatMap { $0.isEmpty ? nil : $0 } : nil
        return Actor(user: userName(geteuid()), sudoUser: sudo, loginUser: loginUID().map(userName))
    }

    private static func userName(_ uid: uid_t) -> String {
        if let entry = getpwuid(uid), let pwName = entry.pointee.pw_name { return String(cString: pwName) }
        return "uid \(uid)"
    }

    /// `/proc/self/loginuid`; nil where it is unset (4294967295: a daemon, a container, no PAM
    /// login) or not there.
    static func loginUID() -> uid_t? {
        guard let text = try? String(contentsOfFile: "/proc/self/loginuid", encoding: .utf8),
            let uid = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)), uid != UInt32.max
        else { return nil }
        return uid_t(uid)
    }
}
