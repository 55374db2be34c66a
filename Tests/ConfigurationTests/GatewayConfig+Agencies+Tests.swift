import Foundation
import Policy
import SMTPCore
import Testing

@testable import Configuration

@Suite struct GatewayConfigAgencyTests {
    static let twoAgencies = """
        [server]
        hostname = "gw.example"

        [[agency]]
        id = "quangninh"
        name = "UBND tỉnh Quảng Ninh"
        domains = ["QuangNinh.gov.vn", "*.quangninh.gov.vn"]
        officer = ["antoan@quangninh.gov.vn"]
        notify = ["vanthu@quangninh.gov.vn", "\\"van thu\\"@quangninh.gov.vn"]

        [[agency]]
        id = "quan4"
        name = "UBND Quận 4"
        domains = ["tphcm.gov.vn"]
        local_part_suffixes = [".q4"]
        addresses = ["Q4@tphcm.gov.vn"]

        [log]
        level = "debug"
        """

    @Test func twoAgenciesAreRead() throws {
        let config = try GatewayConfig.parse(Self.twoAgencies, file: "t.toml")
        let agencies = config.agencies.agencies
        #expect(agencies.map(\.id) == ["quangninh", "quan4"])
        #expect(agencies[0].name == "UBND tỉnh Quảng Ninh")
        #expect(agencies[0].claims == ["quangninh.gov.vn", "*.quangninh.gov.vn"])
        #expect(agencies[0].officer == ["antoan@quangninh.gov.vn"])
        #expect(agencies[0].notify.count == 2)
        #expect(agencies[1].claims == [".q4@tphcm.gov.vn", "q4@tphcm.gov.vn"])
        #expect(config.agencies.agency(for: MailAddress("q4@tphcm.gov.vn"))?.id == "quan4")
        #expect(config.agencies["quan4"]?.name == "UBND Quận 4")
        #expect(config.agencies.agency(for: MailAddress("an.q4@tphcm.gov.vn"))?.id == "quan4")
        #expect(config.agencies.agency(for: MailAddress("an@tphcm.gov.vn")) == nil)
        // The sections after the agencies are still read.
        #expect(config.logLevel == "debug")
        #expect(GatewayConfig().agencies.agencies.isEmpty)
    }

    /// The shipped file's commented-out agencies (`#key = value` lines, prose is `# `) parse as
    /// they are described.
    @Test func theShippedExamplesAreValid() throws {
        let text = try String(contentsOf: GatewayConfigTests.shippedConfig, encoding: .utf8)
        let examples = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.hasPrefix("#") && !$0.hasPrefix("# ") && $0 != "#" }
            .map { $0.dropFirst() }
            .joined(separator: "\n")
        let config = try GatewayConfig.parse(examples, file: "examples")
        #expect(config.agencies.agencies.map(\.id) == ["quangninh", "quan4"])
        #expect(config.agencies.agency(for: MailAddress("an@sotttt.quangninh.gov.vn"))?.id == "quangninh")
        #expect(config.agencies.agency(for: MailAddress("an.q4@tphcm.gov.vn"))?.id == "quan4")
    }

    /// The inline form of an array of tables is the same array; its errors point at `agency =`.
    @Test func inlineTablesAreReadToo() throws {
        let config = try GatewayConfig.parse("agency = [{ id = \"a\", name = \"A\", domains = [\"a.gov.vn\"] }]\n")
        #expect(config.agencies.agency(for: MailAddress("x@A.gov.vn"))?.id == "a")
        do {
            _ = try GatewayConfig.parse("\nagency = [{ id = \"a\", name = \"A\", domains = [\"a\"] }]\n", file: "t.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2 && error.key == "agency[0].domains", "\(error)")
        }
    }

    @Test(arguments: [
        ("[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a..vn\"]\n", 4, "agency[0].domains", "\"a..vn\" is not a domain"),
        ("[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"bộ.gov.vn\"]\n", 4, "agency[0].domains", "xn--"),
        ("[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = []\n", 4, "agency[0].domains", "missing"),
        ("[[agency]]\nid = \"a\"\nname = \"A\"\n", 1, "agency[0].domains", "missing"),
        ("[[agency]]\nname = \"A\"\ndomains = [\"a.vn\"]\n", 1, "agency[0].id", "missing"),
        ("[[agency]]\nid = \"Quận 4\"\nname = \"A\"\ndomains = [\"a.vn\"]\n", 2, "agency[0].id", "expected 1-64"),
        ("[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\ntypo = 1\n", 5, "agency[0].typo", "unknown key"),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\n\n[[agency]]\nid = \"a\"\nname = \"B\"\ndomains = [\"b.vn\"]\n", 7,
            "agency[1].id", "\"a\" is also the id of agency \"A\""
        ),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\n\n"
                + "[[agency]]\nid = \"b\"\nname = \"B\"\ndomains = [\"x.vn\", \"A.vn\"]\n",
            9,
            "agency[1].domains", "a.vn is claimed by both agency \"a\" and agency \"b\""
        ),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"t.vn\"]\nlocal_part_suffixes = [\".q4\"]\n"
                + "[[agency]]\nid = \"b\"\nname = \"B\"\ndomains = [\"t.vn\"]\nlocal_part_suffixes = [\".Q4\"]\n", 10,
            "agency[1].local_part_suffixes", ".q4@t.vn is claimed by both agency \"a\" and agency \"b\""
        ),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\nlocal_part_suffixes = [\"q@4\"]\n", 5,
            "agency[0].local_part_suffixes", "cannot end"
        ),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\nofficer = [\"nobody\"]\n", 5, "agency[0].officer",
            "not a mail address"
        ),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\nnotify = [\"a@b@c.vn\"]\n", 5, "agency[0].notify",
            "not a mail address"
        ),
        ("[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\nnotify = \"a@a.vn\"\n", 5, "agency[0].notify", "expected a list"),
        ("[agency]\nid = \"a\"\n", 1, "agency", "expected [[agency]] tables"),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\naddresses = [\"a.vn\"]\n", 5, "agency[0].addresses",
            "not a mail address"
        ),
        (
            "[[agency]]\nid = \"a\"\nname = \"A\"\ndomains = [\"a.vn\"]\naddresses = [\"x@b.vn\"]\n"
                + "[[agency]]\nid = \"b\"\nname = \"B\"\ndomains = [\"b.vn\"]\naddresses = [\"X@B.vn\"]\n", 10,
            "agency[1].addresses", "x@b.vn is claimed by both agency \"a\" and agency \"b\""
        ),
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
