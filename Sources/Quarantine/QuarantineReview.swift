public import Foundation

/// Messages whose envelope sender or a recipient belongs to one set of addresses (an agency, in
/// the command line's `--agency`), for ``MessageQuery/party``.
///
/// The store first narrows by ``domainEndings`` (a cheap match an index-free scan can do in
/// SQL), then asks ``contains`` for the exact answer, so the rules of who owns an address (the
/// most specific domain and local-part suffix win) are kept in one place, the agency directory.
public struct PartyFilter: Sendable, Equatable, CustomStringConvertible {
    /// What the filter is named by (the agency id).
    public var name: String
    /// Lowercased domain endings, `@quangninh.gov.vn` or `.quangninh.gov.vn` (subdomains): every
    /// address in the set ends with one of them. Empty: no address is in the set.
    public var domainEndings: [String]
    /// Whether an envelope address (`<a@b.vn>`, as stored) is in the set.
    public var contains: @Sendable (String) -> Bool

    public init(name: String, domainEndings: [String], contains: @escaping @Sendable (String) -> Bool) {
        self.name = name
        self.domainEndings = domainEndings.map { $0.lowercased() }
        self.contains = contains
    }

    public var description: String { name }

    public static func == (a: PartyFilter, b: PartyFilter) -> Bool { a.name == b.name && a.domainEndings == b.domainEndings }
}

/// What ``QuarantineStore/verifyAudit()`` found walking the audit chain.
public struct AuditVerification: Sendable, Equatable {
    /// Rows read.
    public var rows: Int
    /// The first break in the chain, nil when it is whole.
    public var problem: AuditProblem?

    public init(rows: Int, problem: AuditProblem?) {
        self.rows = rows
        self.problem = problem
    }
}

/// The first place the audit chain does not hold.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// A row's fields do not give its hash (a field was edited, or a row was put in with a
        /// hash that does not fit it).
        case changed
        /// Sequence numbers are missing (rows deleted), or a message's hold row is gone.
        case removed
        /// A row does not point at the hash of the row before it (a row replaced whole or
        /// inserted, with a hash of its own).
        case relinked
    }

    public var kind: Kind
    /// The sequence number where it shows.
    public var sequence: Int64
    public var message: String

    public init(kind: Kind, sequence: Int64, message: String) {
        self.kind = kind
        self.sequence = sequence
        self.message = message
    }

    public var description: String { message }
}

/// What ``QuarantineStore/check(progress:)`` found.
public struct StoreCheckReport: Sendable, Equatable {
    /// The database's own integrity check, line by line; empty when it said `ok`.
    public var integrity: [String]
    /// Messages whose stored bytes were checked.
    public var messages: Int
    /// Bytes checked.
    public var bytes: Int
    /// Each message whose bytes do not match its row, with why.
    public var bad: [BadMessage]

    public init(integrity: [String], messages: Int, bytes: Int, bad: [BadMessage]) {
        self.integrity = integrity
        self.messages = messages
        self.bytes = bytes
        self.bad = bad
    }

    public var isClean: Bool { integrity.isEmpty && bad.isEmpty }
}

/// A held message whose stored bytes are not what its row says.
public struct BadMessage: Sendable, Equatable {
    public var id: String
    /// Every problem found, e.g. `chunk 3 does not match its sha256`.
    public var problems: [String]

    public init(id: String, problems: [String]) {
        self.id = id
        self.problems = problems
    }
}
