import Foundation
import NIOCore
import MIMECore
import Policy
import Testing
@testable import GatewayServer

@Suite struct GatewayConfigTests {
    static let shippedConfig = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/thugate.toml")

    @Test func shippedFileEqualsBuiltInDefaults() throws {
        let text = try String(contentsOf: Self.shippedConfig, encoding: .utf8)
        #expect(try GatewayConfig.parse(text) == GatewayConfig())
    }

    @Test func officeMacroAndCrashJournal() throws {
        let config = try GatewayConfig.parse("[policy]\noffice_macro = \"reject\"\n[scan]\ncrash_journal = \"/var/lib/thugate/crashes\"\n")
        #expect(config.policy.officeMacro == .reject)
        #expect(config.scan.crashJournal == "/var/lib/thugate/crashes")
        #expect(GatewayConfig().policy.officeMacro == .tag)
        #expect(config.makePipeline().rules.contains { $0.rule.id == .officeMacro && $0.action == .reject })
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[scan]\ncrash_journal = \"\"\n") }
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[policy]\noffice_macro = \"delete\"\n") }
    }

    @Test func valuesAndUnits() throws {
        let config = try GatewayConfig.parse("""
            [server]
            listen = "[::1]:25"
            max_message_size = "20MB"
            command_timeout = 30
            data_timeout = "2m"
            bare_line_endings = "normalize"
            [upstream]
            url = "mail.example.gov.vn"
            starttls = "encrypt"
            """)
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

    @Test func syntaxErrorsHaveALine() {
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[server]\nlisten = \n") }
        do { _ = try GatewayConfig.parse("[server]\nlisten = \n") } catch { #expect(error.line == 2) }
    }
}

@Suite struct PolicyHeaderTests {
    @Test func findingsHeaderHasNoControlCharactersAndStaysShort() {
        let text = SMTPSession.headerText("executable(2): a.zip/x\u{0}y\r\n\tz.exe is *.exe")
        #expect(text == "executable(2): a.zip/x y   z.exe is *.exe")
        let long = SMTPSession.headerText(String(repeating: "tệp ", count: 400))
        let lines = long.components(separatedBy: "\r\n ")
        #expect(lines.allSatisfy { $0.utf8.count < 78 && $0.allSatisfy(\.isASCII) })
        let decoded = EncodedWords.decode(lines.joined(separator: " "))
        #expect(decoded.utf8.count <= 900 && decoded.hasSuffix(" …") && !decoded.contains("\u{FFFD}"))
    }
}
