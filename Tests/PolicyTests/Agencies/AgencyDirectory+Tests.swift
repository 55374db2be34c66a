import Policy
import SMTPCore
import Testing

@Suite struct AgencyDirectoryTests {
    static let quangNinh = Agency(
        id: "quangninh",
        name: "UBND tỉnh Quảng Ninh",
        domains: [DomainPattern("quangninh.gov.vn")!, DomainPattern("*.quangninh.gov.vn")!],
        officer: ["antoan@quangninh.gov.vn"]
    )
    static let quan4 = Agency(id: "quan4", name: "UBND Quận 4", domains: [DomainPattern("tphcm.gov.vn")!], localPartSuffixes: [".Q4"])
    static let hcm = Agency(id: "tphcm", name: "UBND TP.HCM", domains: [DomainPattern("tphcm.gov.vn")!])
    static let allGov = Agency(id: "govvn", name: "every state domain", domains: [DomainPattern("*.gov.vn")!])

    static func directory(_ agencies: [Agency] = [quangNinh, quan4, hcm]) -> AgencyDirectory {
        do { return try AgencyDirectory(agencies) } catch {
            Issue.record("\(error)")
            return AgencyDirectory()
        }
    }

    @Test(
        arguments: [
            ("an@quangninh.gov.vn", "quangninh"),
            ("An@QuangNinh.GOV.VN", "quangninh"),
            ("an@quangninh.gov.vn.", "quangninh"),
            ("an@sotttt.quangninh.gov.vn", "quangninh"),
            ("an@a.b.quangninh.gov.vn", "quangninh"),
            ("an@xquangninh.gov.vn", nil),
            ("an@quangninh.gov.vn.evil.com", nil),
            // A suffix agency beats the plain domain, at the same domain only.
            ("an.q4@tphcm.gov.vn", "quan4"),
            ("AN.Q4@TPHCM.gov.vn", "quan4"),
            ("an.q5@tphcm.gov.vn", "tphcm"),
            ("an@tphcm.gov.vn", "tphcm"),
            (".q4@tphcm.gov.vn", "tphcm"),
            ("an.q4@sub.tphcm.gov.vn", nil),
            // Quoted local parts are compared by their content.
            ("\"an.q4\"@tphcm.gov.vn", "quan4"),
            ("\"an\\.q4\"@tphcm.gov.vn", "quan4"),
            ("\"a@b.q4\"@tphcm.gov.vn", "quan4"),
            ("\"a@quangninh.gov.vn\"@gmail.com", nil),
            ("", nil),
            ("postmaster", nil),
            ("an@[192.0.2.1]", nil),
            ("an@bộ.gov.vn", nil),
        ] as [(String, String?)]
    )
    func agencyOfAnAddress(address: String, agency: String?) {
        #expect(Self.directory().agency(for: MailAddress(address))?.id == agency)
    }

    @Test func theMostSpecificDomainWins() {
        let directory = Self.directory([Self.allGov, Self.quangNinh, Self.quan4])
        #expect(directory.agency(for: MailAddress("an@sotttt.quangninh.gov.vn"))?.id == "quangninh")
        #expect(directory.agency(for: MailAddress("an@dongnai.gov.vn"))?.id == "govvn")
        // The suffix agency claims only its suffix; the rest of tphcm.gov.vn falls to *.gov.vn.
        #expect(directory.agency(for: MailAddress("an.q4@tphcm.gov.vn"))?.id == "quan4")
        #expect(directory.agency(for: MailAddress("an@tphcm.gov.vn"))?.id == "govvn")
        #expect(directory.agency(for: MailAddress("an@gov.vn")) == nil)
        #expect(directory.agency(for: MailAddress("an@bộ.gov.vn"))?.id == "govvn")
    }

    /// A domain alone (an SRS forwarder's) is state-issued when `[domains]` says so or an agency
    /// claims every mailbox of it; a claim of some mailboxes only (a local-part suffix) is not enough.
    @Test func aDomainAloneIsStateIssuedByTheDomainsOrAWholeDomainClaim() throws {
        let congan = Agency(id: "congan", name: "Công an tỉnh", domains: [DomainPattern("*.congan-hb.vn")!])
        let partial = Agency(id: "p", name: "P", domains: [DomainPattern("example.vn")!], localPartSuffixes: [".q4"])
        let directory = try AgencyDirectory([congan, partial])
        #expect(directory.isStateIssued(domain: "hoabinh.gov.vn"))
        #expect(directory.isStateIssued(domain: "mail.congan-hb.vn."))
        #expect(!directory.isStateIssued(domain: "example.vn"))
        #expect(!directory.isStateIssued(domain: "gmail.com"))
    }

    /// Quận 4's office is `q4@tphcm.gov.vn` (QĐ 03/2013 Đ6), which the `.q4` suffix does not cover.
    @Test func aListedMailboxComesFirst() throws {
        let quan4 = Agency(
            id: "quan4",
            name: "UBND Quận 4",
            domains: [DomainPattern("tphcm.gov.vn")!],
            localPartSuffixes: [".q4"],
            addresses: ["Q4@tphcm.gov.vn"]
        )
        let directory = try AgencyDirectory([Self.hcm, quan4])
        #expect(directory.agency(for: MailAddress("q4@TPHCM.gov.vn"))?.id == "quan4")
        #expect(directory.agency(for: MailAddress("\"q4\"@tphcm.gov.vn"))?.id == "quan4")
        #expect(directory.agency(for: MailAddress("xq4@tphcm.gov.vn"))?.id == "tphcm")
        #expect(quan4.claims == [".q4@tphcm.gov.vn", "q4@tphcm.gov.vn"])
        var other = Self.hcm
        other.addresses = ["q4@tphcm.gov.vn"]
        #expect(throws: AgencyDirectory.Conflict(claim: "q4@tphcm.gov.vn", kind: .address, first: "quan4", second: "tphcm", index: 1)) {
            try AgencyDirectory([quan4, other])
        }
    }

    @Test func theLongestSuffixWins() throws {
        let short = Agency(id: "short", name: "s", domains: [DomainPattern("tphcm.gov.vn")!], localPartSuffixes: [".q4"])
        let long = Agency(id: "long", name: "l", domains: [DomainPattern("tphcm.gov.vn")!], localPartSuffixes: ["-ubnd.q4"])
        let directory = try AgencyDirectory([short, long])
        #expect(directory.agency(for: MailAddress("an-ubnd.q4@tphcm.gov.vn"))?.id == "long")
        #expect(directory.agency(for: MailAddress("an.q4@tphcm.gov.vn"))?.id == "short")
    }

    @Test(arguments: [
        ("gov.vn", true), ("quangninh.gov.vn", true), ("A.B.GOV.VN", true), ("x.gov.vn.", true),
        ("gmail.com", false), ("govvn.vn", false), ("xgov.vn", false), ("gov.vn.evil.com", false), ("", false),
    ])
    func stateDomains(domain: String, state: Bool) {
        #expect(StateDomains().isStateIssued(domain: domain) == state)
        #expect(AgencyDirectory().domains.isStateIssued(domain: domain) == state)
        #expect(!StateDomains().isOwn(domain: domain))
    }

    static let hoaBinh = StateDomains(own: ["hoabinh.gov.vn", "hoabinh.vn"], stateSuffixes: ["gov.vn", "dcs.vn"])!

    @Test(arguments: [
        // Own domains: the domain itself and every domain under it.
        ("hoabinh.gov.vn", true, true), ("sotttt.hoabinh.gov.vn", true, true), ("HoaBinh.VN.", true, true),
        ("a.b.hoabinh.vn", true, true), ("xhoabinh.vn", false, false), ("hoabinh.vn.evil.com", false, false),
        // Under a state suffix but not the deployment's own.
        ("dongnai.gov.vn", false, true), ("gov.vn", false, true),
        // An added suffix.
        ("dcs.vn", false, true), ("tinhuy.dcs.vn", false, true), ("xdcs.vn", false, false),
        ("gmail.com", false, false), ("vn", false, false), ("", false, false),
    ])
    func ownDomainsAndAddedSuffixes(domain: String, own: Bool, state: Bool) {
        #expect(Self.hoaBinh.isOwn(domain: domain) == own)
        #expect(Self.hoaBinh.isStateIssued(domain: domain) == state)
    }

    @Test func anOwnDomainOutsideTheSuffixesIsStateIssued() throws {
        let domains = try #require(StateDomains(own: ["ubnd-hoabinh.vn"], stateSuffixes: []))
        #expect(domains.isStateIssued(domain: "mail.ubnd-hoabinh.vn"))
        #expect(!domains.isStateIssued(domain: "hoabinh.gov.vn"))
        let directory = try AgencyDirectory([Self.quangNinh], domains: domains)
        // A configured agency's address is state-issued whatever the suffixes say.
        #expect(directory.owner(of: MailAddress("an@quangninh.gov.vn")) == AddressOwner(agency: "quangninh", stateIssued: true))
        #expect(directory.owner(of: MailAddress("an@ubnd-hoabinh.vn")) == AddressOwner(agency: nil, stateIssued: true))
        #expect(directory.owner(of: MailAddress("an@dongnai.gov.vn")) == .outside)
    }

    @Test func theDirectoryJudgesPartiesByItsDomains() throws {
        let directory = try AgencyDirectory([Self.quangNinh], domains: Self.hoaBinh)
        let parties = directory.parties(
            sender: MailAddress("a@quangninh.gov.vn"),
            recipients: [MailAddress("b@tinhuy.dcs.vn"), MailAddress("c@gmail.com"), MailAddress("d@hoabinh.vn")]
        )
        #expect(parties.recipients.map(\.stateIssued) == [true, false, true])
        #expect(parties.recipientAgencies == [nil, nil, nil])
        #expect(Self.directory().parties(sender: MailAddress("a@tinhuy.dcs.vn"), recipients: []).sender == .outside)
        // Equal directories have equal domains.
        #expect(try AgencyDirectory([Self.quangNinh], domains: Self.hoaBinh) == directory)
        #expect(try AgencyDirectory([Self.quangNinh]) != directory)
    }

    @Test(arguments: [
        ("hoabinh.gov.vn", true), ("xn--bcher-kva.vn", true), ("a-b.vn", true),
        ("HoaBinh.gov.vn", false), ("*.gov.vn", false), ("gov.vn.", false), ("vn", false), ("", false),
        ("hoa binh.vn", false), ("-a.vn", false), ("a..vn", false), ("[1.2.3.4]", false), ("hòabình.vn", false),
    ])
    func entriesAreLowercaseHostNames(text: String, valid: Bool) {
        #expect(StateDomains.isValidEntry(text) == valid)
        #expect((StateDomains(own: [text]) != nil) == valid)
        #expect((StateDomains(own: [], stateSuffixes: [text]) != nil) == valid)
    }

    @Test func ownersAreStateIssuedForEveryGovVNAddress() {
        let directory = Self.directory()
        #expect(directory.owner(of: MailAddress("an@quangninh.gov.vn")) == AddressOwner(agency: "quangninh", stateIssued: true))
        #expect(directory.owner(of: MailAddress("an@dongnai.gov.vn")) == AddressOwner(agency: nil, stateIssued: true))
        #expect(directory.owner(of: MailAddress("an@gmail.com")) == .outside)
        #expect(directory.owner(of: MailAddress("")) == .outside)
        #expect(directory.owner(of: MailAddress("postmaster")) == .outside)
        // No agency configured: state domains are still known.
        #expect(AgencyDirectory().owner(of: MailAddress("an@hoabinh.gov.vn")) == AddressOwner(agency: nil, stateIssued: true))
        // A configured agency outside gov.vn is a state agency's too.
        let other = Agency(id: "x", name: "x", domains: [DomainPattern("example.vn")!])
        #expect(Self.directory([other]).owner(of: MailAddress("a@example.vn")).stateIssued)
    }

    @Test(arguments: [
        ("a@gmail.com", ["b@quangninh.gov.vn"], MessageDirection.inbound),
        ("", ["b@quangninh.gov.vn"], .inbound),
        ("a@dongnai.gov.vn", ["b.q4@tphcm.gov.vn"], .inbound),
        ("a@quangninh.gov.vn", ["b@gmail.com"], .outbound),
        ("a@quangninh.gov.vn", ["b.q4@tphcm.gov.vn", "c@gmail.com"], .outbound),
        ("a@quangninh.gov.vn", ["b.q4@tphcm.gov.vn", "c@tphcm.gov.vn"], .internal),
        ("a.q4@tphcm.gov.vn", ["b.q4@tphcm.gov.vn"], .internal),
        ("a@gmail.com", ["b@yahoo.com", "c@dongnai.gov.vn"], .transit),
        ("", ["b@yahoo.com"], .transit),
    ])
    func directionOfAMessage(sender: String, recipients: [String], direction: MessageDirection) {
        let parties = Self.directory().parties(sender: MailAddress(sender), recipients: recipients.map(MailAddress.init))
        #expect(parties.direction == direction)
        #expect(parties.recipients.count == recipients.count)
    }

    @Test func partiesNameEachAgency() {
        let parties = Self.directory().parties(
            sender: MailAddress("a@quangninh.gov.vn"),
            recipients: [MailAddress("b.q4@tphcm.gov.vn"), MailAddress("c@gmail.com"), MailAddress("d@dongnai.gov.vn")]
        )
        #expect(parties.senderAgency == "quangninh")
        #expect(parties.recipientAgencies == ["quan4", nil, nil])
        #expect(parties.recipients.map(\.stateIssued) == [true, false, true])
        #expect(MessageDirection(from: parties.sender, to: parties.recipients[0]) == .internal)
        #expect(MessageDirection(from: parties.sender, to: parties.recipients[1]) == .outbound)
        #expect(MessageDirection.allCases.map(\.rawValue) == ["in", "out", "internal", "transit"])
    }

    @Test func twoAgenciesClaimingOneAddressIsAConflictNamingBoth() {
        let again = Agency(id: "qn2", name: "again", domains: [DomainPattern("QuangNinh.gov.vn")!])
        #expect(throws: AgencyDirectory.Conflict(claim: "quangninh.gov.vn", kind: .domain, first: "quangninh", second: "qn2", index: 1)) {
            try AgencyDirectory([Self.quangNinh, again])
        }
        let q4 = Agency(id: "q4b", name: "again", domains: [DomainPattern("tphcm.gov.vn")!], localPartSuffixes: [".q4"])
        do {
            _ = try AgencyDirectory([Self.quan4, Self.hcm, q4])
            Issue.record("expected a conflict")
        } catch {
            #expect(error.description == ".q4@tphcm.gov.vn is claimed by both agency \"quan4\" and agency \"q4b\"")
            #expect(error.index == 2)
            #expect(error.kind == .localPartSuffix)
        }
        let twice = Agency(id: "t", name: "t", domains: [DomainPattern("a.vn")!, DomainPattern("A.vn")!])
        #expect(throws: AgencyDirectory.Conflict.self) { try AgencyDirectory([twice]) }
        // The plain domain and a suffix on it, or a domain and its subdomains, are different claims.
        #expect(throws: Never.self) { try AgencyDirectory([Self.quan4, Self.hcm, Self.allGov]) }
    }

    @Test(arguments: [
        ("quangninh.gov.vn", "quangninh.gov.vn"), ("*.QuangNinh.gov.vn", "*.quangninh.gov.vn"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.vn", "a-b.vn"),
    ])
    func validDomains(text: String, description: String) {
        #expect(DomainPattern(text)?.description == description)
    }

    @Test(arguments: [
        "", "vn", "*.vn", "quangninh.gov.vn.", ".gov.vn", "a..vn", "-a.vn", "a-.vn", "a b.vn", "bộ.gov.vn", "a_b.vn", "*", "a.*.vn",
        "[192.0.2.1]", String(repeating: "a", count: 64) + ".vn",
    ])
    func invalidDomains(text: String) {
        #expect(DomainPattern(text) == nil)
    }

    @Test func idsAndSuffixes() {
        #expect(Agency.isValidID("quangninh") && Agency.isValidID("quan-4_ubnd") && Agency.isValidID("4"))
        #expect(!Agency.isValidID("") && !Agency.isValidID("Quan4") && !Agency.isValidID("-x") && !Agency.isValidID("quận4"))
        #expect(!Agency.isValidID(String(repeating: "a", count: 65)))
        #expect(Agency.isValidSuffix(".q4") && Agency.isValidSuffix("-ubnd.q4") && Agency.isValidSuffix(".Q4"))
        #expect(!Agency.isValidSuffix("") && !Agency.isValidSuffix(".") && !Agency.isValidSuffix("a@b") && !Agency.isValidSuffix(". q4"))
        #expect(Self.quan4.claims == [".q4@tphcm.gov.vn"])
        #expect(Self.quangNinh.claims == ["quangninh.gov.vn", "*.quangninh.gov.vn"])
    }
}
