import Foundation
import Testing

@testable import RuleRegistry

@Suite struct RuleScannerTests {
    static let rulesFolder = "/p/Sources/Policy/Rules/"

    /// Scans `files` (name → source; names without a folder are rule files) as the build does.
    func register(_ files: [(String, String)]) -> Result<[RuleScanner.Declaration], RegistryErrors> {
        var scanner = RuleScanner()
        for (name, source) in files {
            scanner.scan(source, file: name.contains("/") ? name : Self.rulesFolder + name)
        }
        return RuleRegistry.registered(scanner, isRuleFile: { $0.hasPrefix(Self.rulesFolder) }, rulesFolder: Self.rulesFolder)
    }

    func errors(_ files: [(String, String)]) -> [String] {
        guard case .failure(let problems) = register(files) else { return [] }
        return problems.errors.map(\.description)
    }

    func rule(_ name: String, id: String, order: String, conformance: String = ": Rule") -> String {
        """
        import SMTPCore

        /// A rule.
        public struct \(name)\(conformance) {
            public static let declaration = RuleDeclaration(
                id: .\(id), order: \(order), configKey: "\(id)", defaultAction: .tag, needsContentScan: false,
                refusal: Refusal(554, EnhancedStatus(5, 7, 1), vi: "Sai", en: "Wrong \\(1 + (2))", article: "Đ1")
            ) { _ in \(name)() }

            public func evaluate(_ input: RuleInput) -> [Finding] { [] }
        }
        """
    }

    @Test func findsEveryDeclarationAndOrdersThem() throws {
        let result = try register([
            ("B.swift", rule("BRule", id: "b", order: "200")),
            ("A.swift", rule("ARule", id: "a", order: "1_000")),
            ("C.swift", rule("CRule", id: "c", order: "100")),
        ]).get()
        #expect(result.map { "\($0.type) \($0.id) \($0.order) \($0.line)" } == ["CRule .c 100 5", "BRule .b 200 5", "ARule .a 1000 5"])
        let source = RuleRegistry.source(result)
        #expect(source.contains("static let registered: [RuleDeclaration] = [\n        CRule.declaration,  // order 100, C.swift:5\n"))
    }

    /// Comments and strings that look like declarations or conformances are not code.
    @Test func commentsAndStringsAreIgnored() throws {
        let source = #"""
            // struct Ghost: Rule { static let declaration = RuleDeclaration(id: .ghost, order: 1) }
            /* struct Ghost2: Rule { /* nested */ static let declaration = RuleDeclaration(id: .g, order: 2) } */
            let text = "struct Ghost3: Rule { static let declaration = RuleDeclaration(id: .g, order: 3) }"
            let raw = #"struct Ghost4: Rule " { "#
            let multi = """
                struct Ghost5: Rule {
                \(text.map { "}" + "\(1)" })
                """
            """# + "\n" + rule("RealRule", id: "real", order: "300")
        let result = try register([("Real.swift", source)]).get()
        #expect(result.map(\.type) == ["RealRule"])
        #expect(result.first?.line == 13)
    }

    @Test func nestedTypesAreQualifiedAndClassFuncIsNoType() throws {
        let source = """
            public enum Outer {
                class func helper() {}
                \(rule("InnerRule", id: "inner", order: "100"))
            }
            """
        #expect(try register([("Inner.swift", source)]).get().map(\.type) == ["Outer.InnerRule"])
    }

    @Test func aRuleWithoutADeclarationFailsWithItsLine() {
        let computed = """
            import SMTPCore

            public struct LazyRule: Sendable, Rule {
                public static var declaration: RuleDeclaration { fatalError() }
                public func evaluate(_ input: RuleInput) -> [Finding] { [] }
            }
            """
        let errors = errors([("Lazy.swift", computed), ("X.swift", "extension Outer.Thing: Policy.Rule {}\n")])
        #expect(errors.count == 2)
        #expect(
            errors.first?.hasPrefix(
                "\(Self.rulesFolder)Lazy.swift:3: error: LazyRule conforms to Rule but has no "
                    + "`static let declaration = RuleDeclaration(...)` (the one on line 4 is not in that form"
            ) == true
        )
        #expect(errors.last?.hasPrefix("\(Self.rulesFolder)X.swift:1: error: Outer.Thing conforms to Rule") == true)
    }

    /// A protocol that refines `Rule` is no rule, and a type conforming to it is one, wherever the
    /// protocol is declared (the files come in any order).
    @Test func aProtocolRefiningRuleIsNoRuleButItsConformersAre() throws {
        let refining = "public protocol RecipientRule: Rule {\n    func judge() -> Int\n}\n"
        let twice = "protocol Deeper: Policy.RecipientRule {}\n"
        let result = try register([
            ("B.swift", rule("BRule", id: "b", order: "200", conformance: ": Deeper")),
            ("/p/Sources/Policy/Deeper.swift", twice),
            ("A.swift", rule("ARule", id: "a", order: "100", conformance: ": Sendable, RecipientRule")),
            ("/p/Sources/Policy/RecipientRule.swift", refining),
        ]).get()
        #expect(result.map(\.type) == ["ARule", "BRule"])
        let missing = errors([("/p/Sources/Policy/RecipientRule.swift", refining), ("C.swift", "struct CRule: RecipientRule {}\n")])
        #expect(missing.count == 1 && missing.first?.contains("CRule conforms to Rule but has no") == true, "\(missing)")
    }

    @Test func twoRulesWithOneOrderOrOneIDFail() {
        let errors = errors([
            ("A.swift", rule("ARule", id: "a", order: "100")),
            ("B.swift", rule("BRule", id: "a", order: "200")),
            ("C.swift", rule("CRule", id: "c", order: "100")),
        ])
        #expect(
            errors == [
                "\(Self.rulesFolder)B.swift:5: error: BRule has the id .a of ARule (\(Self.rulesFolder)A.swift:5); ids are unique",
                "\(Self.rulesFolder)C.swift:5: error: CRule has the order 100 of ARule (\(Self.rulesFolder)A.swift:5); "
                    + "each rule has its own place in the evaluation order",
            ]
        )
    }

    @Test func theOrderIsALiteralAndRequired() {
        #expect(
            errors([("A.swift", rule("ARule", id: "a", order: "base + 1"))])
                == ["\(Self.rulesFolder)A.swift:6: error: ARule: `order:` must be an integer literal (100, 200, …), not `base + 1`"]
        )
        let noOrder = rule("ARule", id: "a", order: "1").replacingOccurrences(of: "order: 1, ", with: "")
        #expect(
            errors([("A.swift", noOrder)])
                == [
                    "\(Self.rulesFolder)A.swift:5: error: ARule: RuleDeclaration( has no `order:` argument "
                        + "(its place in the evaluation order)"
                ]
        )
    }

    @Test func rulesLiveOneToAFileInTheRulesFolder() {
        #expect(
            errors([("/p/Sources/Policy/Stray.swift", rule("StrayRule", id: "s", order: "100"))])
                == [
                    "/p/Sources/Policy/Stray.swift:5: error: StrayRule declares a rule outside \(Self.rulesFolder): "
                        + "each rule has its own file there"
                ]
        )
        let two = rule("ARule", id: "a", order: "100") + "\n" + rule("BRule", id: "b", order: "200")
        #expect(
            errors([("Two.swift", two)])
                == ["\(Self.rulesFolder)Two.swift:15: error: one rule per file: ARule, BRule are in one file"]
        )
    }

    @Test func brokenSourceIsReportedNotGuessed() {
        #expect(
            errors([("A.swift", "let s = \"never closed\nstruct X {}\n")])
                == ["\(Self.rulesFolder)A.swift:1: error: unterminated string literal"]
        )
        #expect(errors([("A.swift", "/* open\n")]) == ["\(Self.rulesFolder)A.swift:1: error: unterminated /* comment"])
    }
}
