import Foundation
import MIMECore
import SMTPCore
import Testing

@testable import Policy

@Suite struct RuleCatalogTests {
    /// The `[policy]` keys, defaults, content needs and order of the rules as they were before
    /// the rules declared them: the shipped configuration and the replies depend on every one,
    /// and the order is the order of `X-ThuGate-Findings`. Rules added later come on top.
    @Test func declarationsAreTheShippedOnes() {
        let shipped = [
            "malformed 100 malformed reject false",
            "mime-irregular 200 mime_irregular tag false",
            "mime-ambiguous 300 mime_ambiguous tag false",
            "encrypted-message 400 encrypted_message tag true",
            "virus 500 virus reject true",
            "executable 600 executable reject true",
            "encrypted-archive 700 encrypted_archive quarantine true",
            "encrypted-document 800 encrypted_document tag true",
            "archive-limit 900 archive_limit quarantine true",
            "attachment-size 1000 attachment_size reject false",
            "office-macro 1100 office_macro tag true",
        ]
        let ids = Set(shipped.map { String($0.prefix { $0 != " " }) })
        let declared = RuleCatalog.all.filter { ids.contains($0.id.rawValue) }
        #expect(declared.map { "\($0.id) \($0.order) \($0.configKey) \($0.defaultAction) \($0.needsContentScan)" } == shipped)
    }

    /// The catalog is the rules in ascending order, each order once (the build checks it too).
    @Test func theCatalogRunsTheRulesByTheirOrder() {
        let orders = RuleCatalog.all.map(\.order)
        #expect(Set(orders).count == orders.count)
        #expect(orders == orders.sorted())
        #expect(RuleCatalog.all.map(\.id) == RuleCatalog.registered.sorted { $0.order < $1.order }.map(\.id))
    }

    /// Nothing lists the rules by hand, so nothing but the generator puts a rule in the catalog:
    /// every file in `Sources/Policy/Rules/` is one rule, named for its file, and in the catalog.
    @Test func everyRuleFileIsInTheCatalog() throws {
        let rules = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Policy/Rules").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(atPath: rules.path).filter { $0.hasSuffix(".swift") }
        let types = RuleCatalog.all.map { String(describing: type(of: $0.make(RuleParameters()))) + ".swift" }
        #expect(types.sorted() == files.sorted())
    }

    /// The shipped configuration writes every rule's key with its default action, under a
    /// comment saying what the rule does: the file is where an administrator learns the rules.
    @Test func theShippedConfigurationWritesEveryRule() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Config/thugate.toml").standardizedFileURL
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "[policy]"))
        let section = lines[(start + 1)...].prefix { !$0.hasPrefix("[") || $0.hasPrefix("[\"") }
        for rule in RuleCatalog.all {
            let line = section.firstIndex(of: "\(rule.configKey) = \"\(rule.defaultAction.rawValue)\"")
            #expect(line.map { lines[$0 - 1].hasPrefix("#") } == true, "Config/thugate.toml [policy] \(rule.configKey)")
        }
    }

    @Test func idsAndKeysAreUniqueAndKeysNameTheirRule() {
        #expect(Set(RuleCatalog.all.map(\.id)).count == RuleCatalog.all.count)
        #expect(Set(RuleCatalog.all.map(\.configKey)).count == RuleCatalog.all.count)
        for rule in RuleCatalog.all {
            #expect(rule.configKey == rule.id.rawValue.replacingOccurrences(of: "-", with: "_"))
            #expect(RuleCatalog.declaration(of: rule.id)?.configKey == rule.configKey)
        }
        #expect(RuleCatalog.declaration(of: Finding.RuleID(rawValue: "scan-crash")) == nil)
    }

    @Test func eachDeclarationBuildsItsRule() {
        for rule in RuleCatalog.all {
            #expect(rule.make(RuleParameters()).id == rule.id)
        }
    }

    @Test func theRuleSetRunsTheParametersAndSkipsRulesThatAreOff() {
        var parameters = RuleParameters()
        parameters.executableExtensions = ["xyz"]
        var actions = RuleCatalog.defaultActions
        actions[.virus] = .off
        let ruleSet = RuleCatalog.ruleSet(actions: actions, parameters: parameters)
        // Every rule whose action is not off, in catalog order (a rule added later may default to off).
        #expect(ruleSet.rules.map(\.rule.id) == RuleCatalog.all.map(\.id).filter { actions[$0] != .off })
        #expect(!ruleSet.rules.contains { $0.rule.id == .virus })
        var content = ContentReport()
        content.objects = [.init(part: "2", name: "a.xyz", size: 1), .init(part: "3", name: "b.exe", size: 1)]
        content.viruses = [.init(part: "3", signature: "Eicar-Signature")]
        let result = ruleSet.evaluate(RuleFixture.input(content: content))
        #expect(result.findings == [Finding(.executable, detail: "a.xyz is *.xyz", part: "2")])
        #expect(result.verdict == .reject(Finding(.executable, detail: "a.xyz is *.xyz", part: "2")))
    }

    /// Among rules with findings the strongest action decides; among equal ones the first in
    /// the catalog names the finding; every finding is kept, in catalog order.
    @Test func theStrongestActionDecidesAndTheFirstRuleNamesIt() {
        var content = ContentReport()
        content.encryptedDocuments = [.init(part: "2", detail: "a.pdf: encrypted PDF")]
        content.limitsExceeded = [.init(part: "3", detail: "b.zip: too deep")]
        content.encryptedArchives = [
            .init(
                part: "4",
                name: "c.zip",
                format: "zip",
                headersEncrypted: false,
                encryptedMembers: ["x.doc"],
                method: "AES-256"
            )
        ]
        let result = RuleCatalog.ruleSet(actions: RuleCatalog.defaultActions, parameters: RuleParameters())
            .evaluate(RuleFixture.input(content: content))
        #expect(result.findings.map(\.rule) == [.encryptedArchive, .encryptedDocument, .archiveLimit])
        #expect(result.verdict == .quarantine(result.findings[0]))
    }

    /// Every parameter is declared once, under a key no action and not `profile` uses, and starts
    /// at its default; the shipped parameters keep their keys and defaults.
    @Test func parametersAreDeclaredOnceWithTheirDefaults() {
        let parameters = RuleCatalog.all.flatMap(\.parameters)
        let keys = parameters.map(\.key)
        #expect(Set(keys).count == keys.count)
        #expect(Set(keys).isDisjoint(with: RuleCatalog.all.map(\.configKey) + ["profile"]))
        let defaults = RuleParameters()
        for parameter in parameters {
            #expect(defaults[parameter.key] == parameter.defaultValue, "\(parameter.key)")
        }
        #expect(keys.filter { ["max_attachments_size", "executable_types", "executable_extensions"].contains($0) }.count == 3)
        #expect(defaults.maxAttachmentsSize == 20_000_000)
        #expect(defaults.executableTypes == ExecutableRule.defaultTypes)
        #expect(defaults.executableExtensions == ExecutableRule.defaultExtensions)
    }

    @Test func aProfileSetsTheParametersThatNameIt() {
        var parameters = RuleParameters()
        parameters.executableExtensions = ["xyz"]
        parameters.apply(.quan4)
        #expect(parameters.maxAttachmentsSize == 15_000_000)
        #expect(parameters.executableExtensions == ["xyz"])
        parameters.apply(.quangNinh)
        #expect(parameters.maxAttachmentsSize == 20_000_000)
        // A rule built from the parameters reads them through its own accessor.
        parameters.maxAttachmentsSize = 1234
        #expect((AttachmentSizeRule.declaration.make(parameters) as? AttachmentSizeRule)?.limit == 1234)
    }

    @Test func refusalTextCitesTheArticleAndThePart() {
        let cited = Refusal(554, .init(5, 7, 0), vi: "Thư chứa virus, mã độc", en: "Virus found", article: "Quy chế Đ15 k5")
        #expect(
            cited.text(for: Finding(.virus, detail: "Eicar", part: "1.2"))
                == "Thư chứa virus, mã độc (Quy chế Đ15 k5) / Virus found: Eicar (part 1.2)"
        )
        #expect(
            cited.text(for: Finding(.virus, detail: "Eicar", part: "")) == "Thư chứa virus, mã độc (Quy chế Đ15 k5) / Virus found: Eicar"
        )
        let plain = Refusal(552, .init(5, 3, 4), vi: "Quá lớn", en: "Too large", namesPart: false)
        #expect(plain.text(for: Finding(.attachmentSize, detail: "D", part: "2")) == "Quá lớn / Too large: D")
    }
}
