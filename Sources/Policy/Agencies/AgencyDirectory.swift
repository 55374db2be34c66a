public import SMTPCore

/// One state agency whose mail passes through the gateway (`[[agency]]` in the configuration).
///
/// It claims the addresses at its ``domains``; with ``localPartSuffixes`` only those whose
/// local part ends with one of them (Quận 4: `.q4` at `tphcm.gov.vn` claims `<name>.q4@tphcm.gov.vn`;
/// Hạ Long: `.hl` at `quangninh.gov.vn`), and the mailboxes in ``addresses`` (Quận 4's office is
/// `q4@tphcm.gov.vn`, which no suffix covers).
/// - SeeAlso: QĐ 03/2013/QĐ-UBND (Quận 4) Đ4 k1: addresses `<name>.q4@tphcm.gov.vn`; Đ6: `q4@tphcm.gov.vn`.
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ4: `<unit>.<locality>@quangninh.gov.vn`, e.g. `.hl`.
public struct Agency: Sendable, Hashable {
    /// Short stable name (`quangninh`, `quan4`): what reports, filters and stores keep.
    public var id: String
    /// The agency's name as people read it (`UBND tỉnh Quảng Ninh`).
    public var name: String
    public var domains: [DomainPattern]
    /// Lowercased; empty: the whole of each domain.
    public var localPartSuffixes: [String]
    /// Single mailboxes the agency has besides its domains (lowercased), e.g. `q4@tphcm.gov.vn`.
    public var addresses: [String]
    /// The security officer's addresses, told of findings the regulations ask to report.
    public var officer: [String]
    /// Where the agency's other notices go (held mail of its own people, reports).
    public var notify: [String]

    public init(
        id: String,
        name: String,
        domains: [DomainPattern],
        localPartSuffixes: [String] = [],
        addresses: [String] = [],
        officer: [String] = [],
        notify: [String] = []
    ) {
        self.id = id
        self.name = name
        self.domains = domains
        self.localPartSuffixes = localPartSuffixes.map { $0.lowercased() }
        self.addresses = addresses.map { $0.lowercased() }
        self.officer = officer
        self.notify = notify
    }

    /// What the agency claims, one text each: `quangninh.gov.vn`, `*.quangninh.gov.vn`, `.q4@tphcm.gov.vn`,
    /// `q4@tphcm.gov.vn`.
    public var claims: [String] {
        let domainClaims =
            localPartSuffixes.isEmpty
            ? domains.map(\.description)
            : domains.flatMap { domain in localPartSuffixes.map { "\($0)@\(domain)" } }
        return domainClaims + addresses
    }

    /// Whether `text` is a usable agency id: 1-64 of `a-z 0-9 - _`, starting with a letter or digit.
    public static func isValidID(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 64, isLowerAlphanumeric(first) else { return false }
        return text.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// Whether `text` can end a local part: ASCII atext and dots, not only dots, no `@`.
    public static func isValidSuffix(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 64, text.contains(where: { $0 != "." }) else { return false }
        let specials = Set("!#$%&'*+-/=?^_`{|}~.".utf8)
        return text.utf8.allSatisfy { isLowerAlphanumeric($0) || (0x41...0x5A).contains($0) || specials.contains($0) }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
    }
}

/// A domain an agency claims: `quangninh.gov.vn` is that domain only; `*.quangninh.gov.vn` is
/// every domain below it (not the domain itself: list both to claim both), as Postfix's
/// `.example.com` in a lookup table.
///
/// ASCII only: internationalized domain names are out of scope (write an IDN as its A-label,
/// `xn--…`; a UTF-8 domain in an address is compared as written and matches no A-label).
/// - SeeAlso: RFC 1035 2.3.1 (labels), RFC 5321 4.1.2 (`Domain`).
public struct DomainPattern: Sendable, Hashable, CustomStringConvertible {
    /// Lowercased, without `*.`.
    public let domain: String
    /// Written `*.domain`: the subdomains of `domain`.
    public let subdomains: Bool

    /// Nil unless `text` is a host name of at least two labels (letters, digits, inner hyphens,
    /// 1-63 octets each, 253 in all), optionally after `*.`. Case is ignored.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        let subdomains = lowered.hasPrefix("*.")
        let domain = subdomains ? String(lowered.dropFirst(2)) : lowered
        guard domain.utf8.count <= 253 else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for label in labels {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return nil }
            guard bytes.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }) else {
                return nil
            }
        }
        self.domain = domain
        self.subdomains = subdomains
    }

    public var description: String { subdomains ? "*.\(domain)" : domain }
}

/// Who an address belongs to.
public struct AddressOwner: Sendable, Hashable {
    /// The id of the configured agency that claims the address.
    public var agency: String?
    /// Issued by a state agency: a configured agency's, or any address at a domain of
    /// ``StateDomains`` (`[domains]`: the own domains and the state suffixes, `gov.vn` by default),
    /// configured or not. The forwarding rule (QĐ 40/2022 Đ14 k8) and the reports tell these apart.
    public var stateIssued: Bool

    public init(agency: String?, stateIssued: Bool) {
        self.agency = agency
        self.stateIssued = stateIssued
    }

    /// The null sender `<>`, an address without a domain, or one outside the state system.
    public static let outside = AddressOwner(agency: nil, stateIssued: false)
}

/// Which way a message goes, as the agencies see it.
public enum MessageDirection: String, Sendable, CaseIterable {
    /// From outside the agencies to an agency.
    case inbound = "in"
    /// From an agency to outside (when any recipient is outside: a copy leaves the agencies).
    case outbound = "out"
    /// From an agency to agencies only.
    case `internal`
    /// Neither the sender nor any recipient is an agency's (no agency configured for them).
    case transit

    /// The direction of one copy, from `sender` to `recipient`.
    public init(from sender: AddressOwner, to recipient: AddressOwner) {
        switch (sender.agency != nil, recipient.agency != nil) {
        case (true, true): self = .internal
        case (true, false): self = .outbound
        case (false, true): self = .inbound
        case (false, false): self = .transit
        }
    }
}

/// The owners of a message's envelope addresses and the way it goes.
public struct MessageParties: Sendable, Equatable {
    public var sender: AddressOwner
    /// One per envelope recipient, in the envelope's order.
    public var recipients: [AddressOwner]

    public init(sender: AddressOwner, recipients: [AddressOwner]) {
        self.sender = sender
        self.recipients = recipients
    }

    /// The sender's agency id, if it is an agency's.
    public var senderAgency: String? { sender.agency }
    /// Each recipient's agency id (nil: outside), in the envelope's order.
    public var recipientAgencies: [String?] { recipients.map(\.agency) }

    /// `out` when an agency sends and any recipient is outside, `internal` when all are agencies';
    /// `in` when someone outside writes to any agency, else `transit`.
    public var direction: MessageDirection {
        if sender.agency != nil {
            return recipients.contains { $0.agency == nil } ? .outbound : .internal
        }
        return recipients.contains { $0.agency != nil } ? .inbound : .transit
    }
}

/// The configured agencies and the lookup from an address to its agency. Pure: no I/O.
///
/// Matching: a mailbox an agency lists in ``Agency/addresses`` first; then the domain, compared
/// without case (and without a final dot). The most specific domain wins (the domain itself, then
/// `*.` patterns from the longest parent down), and at that domain the longest matching local-part
/// suffix, a plain domain claim last: `.q4@tphcm.gov.vn` beats `tphcm.gov.vn`, which beats
/// `*.gov.vn`. Local parts are compared without case, a quoted one (`"an.q4"@tphcm.gov.vn`,
/// RFC 5321 4.1.2) by its content. `<>`, an address without a domain (`<postmaster>`) and one with
/// an address literal belong to no agency.
///
/// It carries ``domains`` (`[domains]`), so every owner it answers says whether the address is
/// state-issued as the configuration has it.
/// - SeeAlso: RFC 5321 4.1.2 (`Mailbox`, `Quoted-string`), 4.5.5 (the null reverse path).
public struct AgencyDirectory: Sendable, Equatable {
    /// Two agencies claim the same addresses.
    public struct Conflict: Error, Sendable, Equatable, CustomStringConvertible {
        /// Which list of the agency the claim is in.
        public enum Kind: Sendable, Equatable {
            case domain
            case localPartSuffix
            case address
        }

        /// The claim both make, e.g. `quangninh.gov.vn`, `.q4@tphcm.gov.vn` or `q4@tphcm.gov.vn`.
        public var claim: String
        public var kind: Kind
        public var first: String
        public var second: String
        /// Index of the second agency in the list.
        public var index: Int

        public init(claim: String, kind: Kind, first: String, second: String, index: Int) {
            self.claim = claim
            self.kind = kind
            self.first = first
            self.second = second
            self.index = index
        }

        public var description: String {
            first == second
                ? "agency \"\(first)\" claims \(claim) twice"
                : "\(claim) is claimed by both agency \"\(first)\" and agency \"\(second)\""
        }
    }

    public let agencies: [Agency]
    /// The own domains and the state suffixes (`[domains]`): which addresses outside the agencies
    /// are state-issued.
    public var domains: StateDomains
    /// Pattern → (suffix, or "" for the whole domain) → index in `agencies`.
    private let claims: [DomainPattern: [String: Int]]
    /// `local@domain`, lowercased, local part unquoted → index in `agencies`.
    private let mailboxes: [String: Int]

    public init(domains: StateDomains = StateDomains()) {
        agencies = []
        self.domains = domains
        claims = [:]
        mailboxes = [:]
    }

    /// Throws on two agencies (or one, twice) claiming the same addresses. Duplicate ids are the
    /// caller's to report: they cannot be told apart here.
    public init(_ agencies: [Agency], domains: StateDomains = StateDomains()) throws(Conflict) {
        var claims: [DomainPattern: [String: Int]] = [:]
        var mailboxes: [String: Int] = [:]
        for (index, agency) in agencies.enumerated() {
            for address in agency.addresses {
                let key = Self.split(MailAddress(address)).map { "\($0.local)@\($0.domain)" } ?? address
                if let other = mailboxes[key] {
                    throw Conflict(claim: address, kind: .address, first: agencies[other].id, second: agency.id, index: index)
                }
                mailboxes[key] = index
            }
            let suffixes = agency.localPartSuffixes.isEmpty ? [""] : agency.localPartSuffixes.map { $0.lowercased() }
            for domain in agency.domains {
                for suffix in suffixes {
                    if let other = claims[domain]?[suffix] {
                        throw Conflict(
                            claim: suffix.isEmpty ? domain.description : "\(suffix)@\(domain)",
                            kind: suffix.isEmpty ? .domain : .localPartSuffix,
                            first: agencies[other].id,
                            second: agency.id,
                            index: index
                        )
                    }
                    claims[domain, default: [:]][suffix] = index
                }
            }
        }
        self.agencies = agencies
        self.domains = domains
        self.claims = claims
        self.mailboxes = mailboxes
    }

    public static func == (a: AgencyDirectory, b: AgencyDirectory) -> Bool { a.agencies == b.agencies && a.domains == b.domains }

    public subscript(id: String) -> Agency? { agencies.first { $0.id == id } }

    /// The agency that claims `address`, if any.
    public func agency(for address: MailAddress) -> Agency? {
        guard !agencies.isEmpty, let (local, domain) = Self.split(address) else { return nil }
        if let index = mailboxes["\(local)@\(domain)"] { return agencies[index] }
        for pattern in Self.patterns(covering: domain) {
            guard let bySuffix = claims[pattern] else { continue }
            var best: (length: Int, index: Int)?
            for (suffix, index) in bySuffix where suffix.isEmpty || (local.count > suffix.count && local.hasSuffix(suffix)) {
                if best.map({ suffix.count > $0.length }) ?? true { best = (suffix.count, index) }
            }
            if let best { return agencies[best.index] }
        }
        return nil
    }

    /// The patterns that can claim `domain`: the domain itself, then each parent for `*.`
    /// patterns, most specific first.
    static func patterns(covering domain: String) -> [DomainPattern] {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        var candidates: [DomainPattern] = []
        if let exact = DomainPattern(domain) { candidates.append(exact) }
        for drop in 1..<max(labels.count - 1, 1) {
            if let parent = DomainPattern("*." + labels.dropFirst(drop).joined(separator: ".")) { candidates.append(parent) }
        }
        return candidates
    }

    /// Whether mailboxes at `domain` are state-issued: `[domains]` makes it so, or an agency claims
    /// every mailbox of the domain (a claim without a local-part suffix). For a forwarder known by
    /// its domain only (SRS).
    public func isStateIssued(domain: String) -> Bool {
        var domain = domain.lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        if domains.isStateIssued(domain: domain) { return true }
        return Self.patterns(covering: domain).contains { claims[$0]?.keys.contains("") == true }
    }

    /// The agency of `address` and whether it is state-issued.
    public func owner(of address: MailAddress) -> AddressOwner {
        if let agency = agency(for: address) { return AddressOwner(agency: agency.id, stateIssued: true) }
        guard let (_, domain) = Self.split(address) else { return .outside }
        return AddressOwner(agency: nil, stateIssued: domains.isStateIssued(domain: domain))
    }

    public func parties(sender: MailAddress, recipients: [MailAddress]) -> MessageParties {
        MessageParties(sender: owner(of: sender), recipients: recipients.map(owner(of:)))
    }

    /// The local part (unquoted, lowercased) and the domain (lowercased, without a final dot), or
    /// nil for `<>`, a bare local part (`<postmaster>`) or an address literal.
    static func split(_ address: MailAddress) -> (local: String, domain: String)? {
        let text = address.address
        guard let at = text.lastIndex(of: "@") else { return nil }
        var domain = text[text.index(after: at)...].lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        guard !domain.isEmpty, !domain.hasPrefix("[") else { return nil }
        var local = Substring(text[..<at])
        if local.count >= 2, local.hasPrefix("\""), local.hasSuffix("\"") {
            // A quoted string is its content with the quoted pairs undone (RFC 5321 4.1.2).
            var content = ""
            var escaped = false
            for character in local.dropFirst().dropLast() {
                if !escaped && character == "\\" {
                    escaped = true
                } else {
                    content.append(character)
                    escaped = false
                }
            }
            local = Substring(content)
        }
        return (local.lowercased(), domain)
    }
}
