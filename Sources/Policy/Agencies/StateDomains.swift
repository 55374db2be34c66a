/// The deployment's own domains and the domain suffixes state bodies use (`[domains]` in the
/// configuration): the one answer to "is this mailbox state-issued?" for every rule and report.
///
/// A domain covers itself and every domain under it: `gov.vn` covers `hoabinh.gov.vn` and
/// `sotttt.hoabinh.gov.vn`, never `xgov.vn` or `gov.vn.example.com`. Compared without case and
/// without a final dot. ASCII only, as ``DomainPattern``: an IDN is written as its `xn--` form.
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ14 k8: no automatic forwarding between the
///   official mailbox and mailboxes not issued by a state agency, either way.
/// - SeeAlso: QĐ 70/2009/QĐ-UBND (Đồng Nai) Đ11 k2; QĐ 03/2013/QĐ-UBND (Quận 4) Đ6 k2: mailboxes
///   outside the government system (Yahoo, Hotmail, Gmail) are not used for official work.
public struct StateDomains: Sendable, Hashable {
    /// `gov.vn`: the domain of the state's own mail system, under which every province and
    /// ministry has its domain.
    public static let defaultStateSuffixes = ["gov.vn"]

    /// The deployment's own domains (`hoabinh.gov.vn`), lowercased, without a final dot.
    public let own: [String]
    /// Domains under which every mailbox is a state body's (`gov.vn`), lowercased.
    public let stateSuffixes: [String]

    /// Nothing of the deployment's own, `gov.vn` state-issued.
    public init() {
        own = []
        stateSuffixes = Self.defaultStateSuffixes
    }

    /// Nil when an entry is not a domain ``isValidEntry(_:)`` accepts; the configuration reader
    /// tells which.
    public init?(own: [String], stateSuffixes: [String] = Self.defaultStateSuffixes) {
        guard own.allSatisfy(Self.isValidEntry), stateSuffixes.allSatisfy(Self.isValidEntry) else { return nil }
        self.own = own
        self.stateSuffixes = stateSuffixes
    }

    /// Whether `domain` is one of the deployment's own domains or under one.
    public func isOwn(domain: String) -> Bool {
        Self.normalized(domain).map { Self.covers(own, $0) } ?? false
    }

    /// Whether a mailbox at `domain` is state-issued: the domain is one of the own domains or the
    /// state suffixes, or under one of them. (A configured agency's mailbox is state-issued too,
    /// whatever its domain: ``AgencyDirectory/owner(of:)`` answers for a whole address.)
    public func isStateIssued(domain: String) -> Bool {
        guard let domain = Self.normalized(domain) else { return false }
        return Self.covers(stateSuffixes, domain) || Self.covers(own, domain)
    }

    /// Whether `text` can be an entry: a lowercase host name of at least two labels (letters,
    /// digits, inner hyphens, 1-63 octets each, 253 in all), without `*.` (an entry covers its
    /// subdomains already) and without a final dot. A single label (`vn`) is refused: a top-level
    /// domain is everyone's, not the state's.
    /// - SeeAlso: RFC 1035 2.3.1 (labels).
    public static func isValidEntry(_ text: String) -> Bool {
        guard let pattern = DomainPattern(text), !pattern.subdomains else { return false }
        return pattern.domain == text
    }

    /// Lowercased, the final dot removed; nil for an empty domain.
    private static func normalized(_ domain: String) -> String? {
        var d = domain.lowercased()
        if d.hasSuffix(".") { d.removeLast() }
        return d.isEmpty ? nil : d
    }

    /// Whether `domain` is one of `entries` or ends with `.` and one of them.
    private static func covers(_ entries: [String], _ domain: String) -> Bool {
        entries.contains { entry in
            domain == entry || (domain.utf8.count > entry.utf8.count && domain.hasSuffix("." + entry))
        }
    }
}
