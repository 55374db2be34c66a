import Foundation
import Inspection
import MIMECore
import NIOCore
import Policy
import SMTPCore
import Scanning
import Testing

@testable import Configuration

@Suite struct GatewayConfigTests {
    static let shippedConfig = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/thugate.toml")

    /// The shipped file's paths are relative to its own directory (Config/), the built-in ones
    /// to the installation (the checkout): both name the same files.
    @Test func shippedFileEqualsBuiltInDefaults() throws {
        let text = try String(contentsOf: Self.shippedConfig, encoding: .utf8)
        let configDirectory = Self.shippedConfig.deletingLastPathComponent()
        let installed = GatewayConfig.defaults(installation: configDirectory.deletingLastPathComponent().path)
        #expect(try GatewayConfig.parse(text, directory: configDirectory.path) == installed)
        #expect(installed.scan.clamav.databaseDirectory == configDirectory.path + "/signatures")
    }

    @Test(arguments: [
        ("signatures", "/etc/thugate", "/etc/thugate/signatures"),
        ("../var/spool", "/etc/thugate", "/etc/var/spool"),
        ("/var/lib/clamav", "/etc/thugate", "/var/lib/clamav"),
        ("./a/../b/", "/srv", "/srv/b"),
        ("../../..", "/a", "/"),
    ])
    func relativePathsResolveAgainstTheFilesDirectory(path: String, base: String, expected: String) {
        #expect(ConfigPaths.resolve(path, against: base) == expected)
    }

    @Test func pathsInAFileAreRelativeToItsDirectory() throws {
        let config = try GatewayConfig.parse(
            """
            [server]
            spool_directory = "spool"
            tls_certificate = "tls/cert.pem"
            tls_private_key = "/etc/ssl/key.pem"
            [upstream]
            url = "maildir:mail"
            [scan]
            signatures = "../clamav"
            """,
            directory: "/etc/thugate",
            defaults: .defaults(installation: "/opt/thugate")
        )
        #expect(config.server.spoolDirectory == "/etc/thugate/spool")
        #expect(config.server.tlsCertificate == "/etc/thugate/tls/cert.pem")
        #expect(config.server.tlsPrivateKey == "/etc/ssl/key.pem")
        #expect(config.upstream.url == .maildir("/etc/thugate/mail"))
        #expect(config.scan.clamav.databaseDirectory == "/etc/clamav")
        // Not in the file: the installation's default.
        #expect(config.quarantine.database == "/opt/thugate/var/quarantine/quarantine.sqlite")
        #expect(config.server.pidFile == "/opt/thugate/var/thugate.pid")
    }

    @Test func installationIsTheCheckoutHoldingConfigOrTheBinarysParent() {
        let checkout = Self.shippedConfig.deletingLastPathComponent().deletingLastPathComponent().path
        #expect(
            ConfigPaths.installationDirectory(environment: [:], executable: checkout + "/.build/x86_64-unknown-linux-gnu/release/thugate")
                == checkout
        )
        #expect(ConfigPaths.installationDirectory(environment: [:], executable: "/nonexistent/prefix/bin/thugate") == "/nonexistent/prefix")
        #expect(
            ConfigPaths.installationDirectory(environment: ["THUGATE_HOME": "/srv/thugate"], executable: "/usr/bin/thugate")
                == "/srv/thugate"
        )
    }

    @Test func trustedNetworks() throws {
        let config = try GatewayConfig.parse("[server]\ntrusted_networks = [\"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\"]\n")
        #expect(config.server.trustedNetworks.map(\.description) == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"])
        #expect(GatewayConfig().server.trustedNetworks == IPNetwork.loopback)
        #expect(try GatewayConfig.parse("[server]\ntrusted_networks = []\n").server.trustedNetworks.isEmpty)
    }

    @Test func officeMacroAndCrashJournal() throws {
        let config = try GatewayConfig.parse("[policy]\noffice_macro = \"reject\"\n[scan]\ncrash_journal = \"/var/lib/thugate/crashes\"\n")
        #expect(config.policy[.officeMacro] == .reject)
        #expect(config.scan.crashJournal == "/var/lib/thugate/crashes")
        #expect(GatewayConfig().policy[.officeMacro] == .tag)
        #expect(config.policy.ruleSet.rules.contains { $0.rule.id == .officeMacro && $0.action == .reject })
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[scan]\ncrash_journal = \"\"\n") }
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[policy]\noffice_macro = \"delete\"\n") }
    }

    @Test func valuesAndUnits() throws {
        let config = try GatewayConfig.parse(
            """
            [server]
            listen = "[::1]:25"
            max_message_size = "20MB"
            command_timeout = 30
            data_timeout = "2m"
            bare_line_endings = "normalize"
            [upstream]
            url = "mail.example.gov.vn"
            starttls = "encrypt"
            """
        )
        #expect(config.server.listen == HostPort(host: "::1", port: 25))
        #expect(config.server.maxMessageSize == 20_000_000)
        #expect(config.server.commandTimeout == .seconds(30))
        #expect(config.server.dataTimeout == .minutes(2))
        #expect(config.server.bareLineEndings == .normalize)
        #expect(config.upstream.url == .smtp(HostPort(host: "mail.example.gov.vn", port: 25)))
        #expect(config.upstream.startTLS == .encrypt)
    }

    @Test(arguments: [
        ("[server]\n\nmax_errors = \"x\"\n", 3, "server.max_errors", "expected an integer"),
        ("[server]\nlisten = \"nowhere\"\n", 2, "server.listen", "expected HOST:PORT"),
        ("[upstream]\nurl = \"smtp://\"\n", 2, "upstream.url", "expected"),
        ("[upstream]\nstarttls = \"always\"\n", 2, "upstream.starttls", "expected one of"),
        ("[server]\nmemory_threshold = \"1 parsec\"\n", 2, "server.memory_threshold", "expected a size"),
        ("[server]\ntls_certificate = \"/x.pem\"\n", 2, "server.tls_certificate", "set together"),
        ("[server]\n# comment\ntypo_key = 1\n", 3, "server.typo_key", "unknown key"),
        ("[serverr]\nlisten = \"a:1\"\n", 1, "serverr", "unknown"),
        ("[server]\ntrusted_networks = [\"10.0.0.0/33\"]\n", 2, "server.trusted_networks", "not an address or a CIDR network"),
        ("[server]\ntrusted_networks = \"10.0.0.0/8\"\n", 2, "server.trusted_networks", "expected a list"),
        ("[quarantine]\ndirectory = \"held\"\n", 2, "quarantine.directory", "held mail now goes to the quarantine store"),
        ("[quarantine]\ndatabase = \"\"\n", 2, "quarantine.database", "must not be empty"),
    ])
    func errorsNameKeyAndLine(text: String, line: Int, key: String, message: String) {
        do {
            _ = try GatewayConfig.parse(text, file: "t.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == line)
            #expect(error.key == key)
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func mimeKeysOfIssue9() throws {
        let config = try GatewayConfig.parse(
            """
            [server]
            max_data_line_length = "64KiB"
            [policy]
            mime_irregular = "quarantine"
            mime_ambiguous = "reject"
            encrypted_message = "off"
            [mime]
            max_field_size = "16KiB"
            """
        )
        #expect(config.server.maxDataLineLength == 65536)
        #expect(config.server.maxLineLength == 1000)
        #expect(config.policy[.mimeIrregular] == .quarantine)
        #expect(config.policy[.mimeAmbiguous] == .reject)
        #expect(config.policy[.encryptedMessage] == .off)
        #expect(config.mime.maxHeaderFieldBytes == 16384)
        let ids = config.policy.ruleSet.rules.map(\.rule.id.rawValue)
        #expect(ids.contains("mime-irregular") && ids.contains("mime-ambiguous") && !ids.contains("encrypted-message"))
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[server]\nmax_data_line_length = 999\n") }
    }

    /// Every rule's action is read from the key its declaration names; a bad value names the key
    /// and its line.
    @Test(arguments: RuleCatalog.all.map(\.id))
    func eachRulesKeyIsRead(rule: Finding.RuleID) throws {
        let declaration = try #require(RuleCatalog.declaration(of: rule))
        for action in PolicyAction.allCases {
            let config = try GatewayConfig.parse("[policy]\n\(declaration.configKey) = \"\(action.rawValue)\"\n")
            #expect(config.policy[rule] == action)
            #expect(config.policy.ruleSet.rules.contains { $0.rule.id == rule } == (action != .off))
        }
        #expect(GatewayConfig().policy[rule] == declaration.defaultAction)
        do {
            _ = try GatewayConfig.parse("[policy]\n\n\(declaration.configKey) = \"drop\"\n", file: "t.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3 && error.key == "policy.\(declaration.configKey)" && error.message.hasPrefix("expected one of"))
        }
    }

    @Test func contentScanningRunsWhileAContentRuleIsOn() throws {
        let contentRules = RuleCatalog.all.filter(\.needsContentScan).map(\.configKey)
        let allOff = contentRules.map { "\($0) = \"off\"" }.joined(separator: "\n")
        #expect(try !GatewayConfig.parse("[policy]\n\(allOff)\n").policy.needsContentScan)
        #expect(
            try GatewayConfig.parse("[policy]\n\(allOff)\nmalformed = \"reject\"\nattachment_size = \"tag\"\n").policy.needsContentScan
                == false
        )
        #expect(
            try GatewayConfig.parse("[policy]\n\(allOff.replacingOccurrences(of: "virus = \"off\"", with: "virus = \"tag\""))\n")
                .policy.needsContentScan
        )
        #expect(GatewayConfig().policy.needsContentScan)
    }

    @Test func profileAndRuleParameters() throws {
        #expect(GatewayConfig().policy.parameters.maxAttachmentsSize == 20_000_000)
        #expect(try GatewayConfig.parse("[policy]\nprofile = \"quan-4\"\n").policy.parameters.maxAttachmentsSize == 15_000_000)
        let config = try GatewayConfig.parse(
            """
            [policy]
            max_attachments_size = "25MB"
            profile = "quan-4"
            executable_types = ["application/x-custom"]
            executable_extensions = ["xyz"]
            """
        )
        // An explicit key overrides the profile wherever it is written.
        #expect(config.policy.parameters.maxAttachmentsSize == 25_000_000)
        #expect(config.policy.parameters.executableTypes == ["application/x-custom"])
        #expect(config.policy.parameters.executableExtensions == ["xyz"])
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[policy]\nmax_attachments_size = 10\n") }
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[policy]\nexecutable = \"reject\"\nunknown_rule = \"tag\"\n") }
    }

    /// Every parameter a rule declares is read from `[policy]` by its kind, with no code in the
    /// configuration reader naming it.
    @Test(arguments: RuleCatalog.all.flatMap(\.parameters).map(\.key))
    func eachRulesParameterIsRead(key: String) throws {
        let parameter = try #require(RuleCatalog.all.flatMap(\.parameters).first { $0.key == key })
        switch parameter.kind {
        case .size(let min):
            let config = try GatewayConfig.parse("[policy]\n\(key) = \"\(min + 1)\"\n")
            #expect(config.policy.parameters[key] == .size(min + 1))
            if min <= 5 << 20 {
                #expect(try GatewayConfig.parse("[policy]\n\(key) = \"5MiB\"\n").policy.parameters[key] == .size(5 << 20))
            }
            #expect(throws: ConfigError.self) { try GatewayConfig.parse("[policy]\n\(key) = \(min - 1)\n") }
        case .strings:
            #expect(try GatewayConfig.parse("[policy]\n\(key) = [\"a\", \"b\"]\n").policy.parameters[key] == .strings(["a", "b"]))
            #expect(throws: ConfigError.self) { try GatewayConfig.parse("[policy]\n\(key) = \"a\"\n") }
            #expect(throws: ConfigError.self) { try GatewayConfig.parse("[policy]\n\(key) = [\"\"]\n") }
        case .mailboxes:
            let read = try GatewayConfig.parse("[policy]\n\(key) = [\"Q4@TPHCM.gov.vn\", \"@motcua.dongnai.gov.vn\"]\n")
            #expect(read.policy.parameters[key] == .strings(["q4@tphcm.gov.vn", "@motcua.dongnai.gov.vn"]))
            for bad in ["q4", "q4@", "a@b@c.vn", "<q4@tphcm.gov.vn>", "q4@localhost", "q 4@tphcm.gov.vn"] {
                #expect(throws: ConfigError.self, "\(bad)") { try GatewayConfig.parse("[policy]\n\(key) = [\"\(bad)\"]\n") }
            }
        }
        #expect(GatewayConfig().policy.parameters[key] == parameter.defaultValue)
    }

    @Test func syntaxErrorsHaveALine() {
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[server]\nlisten = \n") }
        do { _ = try GatewayConfig.parse("[server]\nlisten = \n") } catch { #expect(error.line == 2) }
    }
}
