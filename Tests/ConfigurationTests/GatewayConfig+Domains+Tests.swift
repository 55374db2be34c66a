import Foundation
import Inspection
import Policy
import SMTPCore
import Testing

@testable import Configuration

@Suite struct GatewayConfigDomainsTests {
    @Test func theDefaultsAreGovVNAndNothingOwn() {
        let config = GatewayConfig()
        #expect(config.domains.own.isEmpty)
        #expect(config.domains.stateSuffixes == ["gov.vn"])
        #expect(config.domains == StateDomains())
        #expect(config.agencies.owner(of: MailAddress("an@dongnai.gov.vn")).stateIssued)
    }

    @Test func theSectionIsReadAndTheAgenciesUseIt() throws {
        // [domains] after the agencies, to show the order does not matter.
        let text = """
            [[agency]]
            id = "hoabinh"
            name = "UBND tỉnh Hòa Bình"
            domains = ["hoabinh.gov.vn", "*.hoabinh.gov.vn"]

            [domains]
            own = ["hoabinh.gov.vn", "hoabinh.vn"]
            state_suffixes = ["gov.vn", "dcs.vn"]
            """
        let config = try GatewayConfig.parse(text, file: "t.toml")
        #expect(config.domains.own == ["hoabinh.gov.vn", "hoabinh.vn"])
        #expect(config.domains.stateSuffixes == ["gov.vn", "dcs.vn"])
        #expect(config.agencies.agencies.map(\.id) == ["hoabinh"])
        #expect(config.domains.isOwn(domain: "sotttt.hoabinh.vn"))
        #expect(!config.domains.isOwn(domain: "dongnai.gov.vn"))
        // What the inspector and the session ask: parties from the configured directory.
        let parties = config.inspection.agencies.parties(
            sender: MailAddress("an@sotttt.hoabinh.gov.vn"),
            recipients: [MailAddress("b@tinhuy.dcs.vn"), MailAddress("c@hoabinh.vn"), MailAddress("d@gmail.com")]
        )
        #expect(parties.sender == AddressOwner(agency: "hoabinh", stateIssued: true))
        #expect(parties.recipients.map(\.stateIssued) == [true, true, false])
    }

    /// `[text] internal_domains` (whose DKIM-signed mail `normalize-internal` converts) defaults
    /// to the deployment's own domains; a list given is kept as written.
    @Test func internalDomainsDefaultToTheOwnDomains() throws {
        let config = try GatewayConfig.parse("[text]\ndkim_signed = \"normalize-internal\"\n[domains]\nown = [\"hoabinh.gov.vn\"]\n")
        #expect(config.text.internalDomains == ["hoabinh.gov.vn"])
        let given = try GatewayConfig.parse(
            "[domains]\nown = [\"hoabinh.gov.vn\"]\n[text]\ninternal_domains = [\"sotttt.hoabinh.gov.vn\"]\n"
        )
        #expect(given.text.internalDomains == ["sotttt.hoabinh.gov.vn"])
        #expect(try GatewayConfig.parse("").text.internalDomains.isEmpty)
    }

    @Test func aKeyLeftOutKeepsItsDefault() throws {
        let config = try GatewayConfig.parse("[domains]\nown = [\"hoabinh.gov.vn\"]\n")
        #expect(config.domains.stateSuffixes == ["gov.vn"])
        #expect(config.agencies.owner(of: MailAddress("an@dongnai.gov.vn")).stateIssued)
        // An empty list of suffixes: only the own domains and the agencies are state-issued.
        let none = try GatewayConfig.parse("[domains]\nown = [\"hoabinh.gov.vn\"]\nstate_suffixes = []\n")
        #expect(!none.agencies.owner(of: MailAddress("an@dongnai.gov.vn")).stateIssued)
        #expect(none.agencies.owner(of: MailAddress("an@hoabinh.gov.vn")).stateIssued)
        // Parsed over other defaults (as `reload` does), the section is kept from them.
        var defaults = GatewayConfig()
        defaults.domains = try #require(StateDomains(own: ["a.vn"]))
        let over = try GatewayConfig.parse("[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"b.vn\"]\n", defaults: defaults)
        #expect(over.domains.own == ["a.vn"])
    }

    @Test(arguments: [
        (
            "[domains]\nown = [\"HoaBinh.gov.vn\"]\n", 2, "domains.own",
            "\"HoaBinh.gov.vn\" is not a domain: write it in lowercase, \"hoabinh.gov.vn\""
        ),
        (
            "[domains]\nown = []\n\nstate_suffixes = [\"gov.vn\", \"*.dcs.vn\"]\n", 4, "domains.state_suffixes",
            "\"*.dcs.vn\" is not a domain: write \"dcs.vn\": a domain here covers its subdomains already"
        ),
        ("[domains]\nstate_suffixes = [\"gov.vn.\"]\n", 2, "domains.state_suffixes", "without the final dot, \"gov.vn\""),
        ("[domains]\nstate_suffixes = [\"vn\"]\n", 2, "domains.state_suffixes", "at least two labels"),
        ("[domains]\nown = [\"hòabình.vn\"]\n", 2, "domains.own", "xn--"),
        ("[domains]\nown = [\"a..vn\"]\n", 2, "domains.own", "\"a..vn\" is not a domain"),
        ("[domains]\nown = [\"\"]\n", 2, "domains.own", "non-empty strings"),
        ("[domains]\nown = \"hoabinh.gov.vn\"\n", 2, "domains.own", "expected a list of strings"),
        ("[log]\nlevel = \"info\"\n[domains]\nowned = [\"a.vn\"]\n", 4, "domains.owned", "unknown key"),
        ("domains = [\"a.vn\"]\n", 1, "domains", "expected a [domains] table"),
    ])
    func errorsNameKeyAndLine(text: String, line: Int, key: String, message: String) {
        do {
            _ = try GatewayConfig.parse(text, file: "t.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }
}
