/// What the scanner finds in the Policy target's files: the types that conform to `Rule` and
/// the `static let declaration = RuleDeclaration(` each declares, with its `id:` and `order:`.
struct RuleScanner {
    /// A type that says it conforms to `Rule` (`struct X: Rule`, `extension X: Rule`).
    struct Conformance: Equatable {
        var type: String
        var file: String
        var line: Int
    }

    /// A type's `static let declaration = RuleDeclaration(id: …, order: …, …)`.
    struct Declaration: Equatable {
        /// The type, qualified by the types it is nested in: `Outer.InnerRule`.
        var type: String
        /// The `id:` argument as written, `.archiveLimit`.
        var id: String
        var order: Int
        var file: String
        var line: Int
    }

    /// Every type header with what it inherits (`Policy.` dropped), and whether it is a protocol.
    private var headers: [(conformance: Conformance, inherited: [String], isProtocol: Bool)] = []

    /// The types that conform to `Rule`, directly or through a protocol that refines it
    /// (`protocol RecipientRule: Rule`, wherever in the files it is declared). The protocols
    /// themselves are no rules.
    var conformances: [Conformance] {
        var ruleNames: Set<String> = ["Rule"]
        while true {
            let refined = headers.filter {
                $0.isProtocol && !ruleNames.contains($0.conformance.type) && $0.inherited.contains(where: ruleNames.contains)
            }
            guard !refined.isEmpty else { break }
            ruleNames.formUnion(refined.map(\.conformance.type))
        }
        return headers.filter { !$0.isProtocol && $0.inherited.contains(where: ruleNames.contains) }.map(\.conformance)
    }
    private(set) var declarations: [Declaration] = []
    /// `static let declaration` or `static var declaration` not written in the form the
    /// scanner reads, by type: the place to point at when the type's declaration is missing.
    private(set) var unreadableDeclarations: [String: Int] = [:]
    private(set) var errors: [SourceError] = []
    /// Types whose declaration has an error of its own (already in `errors`).
    private(set) var brokenDeclarations: Set<String> = []

    /// Reads one file.
    mutating func scan(_ source: String, file: String) {
        do {
            try scan(tokens: SwiftTokenizer.tokens(of: source, file: file), file: file)
        } catch {
            errors.append(error)
        }
    }

    private struct Scope {
        var type: String
        var isProtocol: Bool
        /// The brace depth inside the type's body.
        var depth: Int
    }

    private static let typeKeywords: Set<String> = ["struct", "class", "enum", "actor", "extension", "protocol"]
    /// Words after `class` that make it a modifier (`class func`), not a type.
    private static let notTypeNames: Set<String> = [
        "func", "var", "let", "subscript", "init", "deinit", "typealias", "override", "final", "required", "convenience",
        "public", "private", "internal", "fileprivate", "open", "package", "static", "nonisolated",
    ]

    private mutating func scan(tokens: [Token], file: String) throws(SourceError) {
        var scopes: [Scope] = []
        var depth = 0
        var pending: (type: String, isProtocol: Bool)? = nil
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            if token.isPunctuation("{") {
                depth += 1
                if let type = pending {
                    scopes.append(Scope(type: type.type, isProtocol: type.isProtocol, depth: depth))
                    pending = nil
                }
                i += 1
            } else if token.isPunctuation("}") {
                if scopes.last?.depth == depth { scopes.removeLast() }
                depth -= 1
                guard depth >= 0 else { throw SourceError(file: file, line: token.line, message: "unbalanced }") }
                i += 1
            } else if token.kind == .word, Self.typeKeywords.contains(token.text),
                let header = typeHeader(tokens, at: i, enclosing: scopes.last?.type)
            {
                if !header.inherited.isEmpty {
                    headers.append(
                        (Conformance(type: header.type, file: file, line: token.line), header.inherited, token.text == "protocol")
                    )
                }
                // Only a header that reaches its body's `{` opens a scope.
                if header.end < tokens.count, tokens[header.end].isPunctuation("{") {
                    pending = (header.type, token.text == "protocol")
                }
                i = header.end
            } else if token.isWord("static"), let scope = scopes.last, scope.depth == depth, !scope.isProtocol,
                i + 2 < tokens.count, tokens[i + 1].isWord("let") || tokens[i + 1].isWord("var"),
                tokens[i + 2].isWord("declaration")
            {
                if let open = declarationCall(tokens, at: i) {
                    do {
                        let (declaration, end) = try arguments(tokens, open: open, type: scope.type, file: file, line: token.line)
                        declarations.append(declaration)
                        i = end
                    } catch {
                        // Reported once, as what is wrong with the declaration.
                        errors.append(error)
                        brokenDeclarations.insert(scope.type)
                        i = open + 1
                    }
                } else {
                    unreadableDeclarations[scope.type] = unreadableDeclarations[scope.type] ?? token.line
                    i += 3
                }
            } else {
                i += 1
            }
        }
        if depth != 0 || pending != nil {
            throw SourceError(file: file, line: tokens.last?.line ?? 1, message: "unbalanced braces at the end of the file")
        }
    }

    /// Reads `struct Name<…>: A, B where … {` from the keyword to the `{` (exclusive): the
    /// qualified name and the inherited types (`Policy.Rule` read as `Rule`). Nil when the keyword
    /// is no type declaration (`class func`).
    private func typeHeader(_ tokens: [Token], at start: Int, enclosing: String?) -> (type: String, inherited: [String], end: Int)? {
        var i = start + 1
        guard i < tokens.count, tokens[i].kind == .word, !Self.notTypeNames.contains(tokens[i].text) else { return nil }
        var name = tokens[i].text
        i += 1
        // `extension Outer.Inner`
        while i + 1 < tokens.count, tokens[i].isPunctuation("."), tokens[i + 1].kind == .word {
            name += "." + tokens[i + 1].text
            i += 2
        }
        var inherited: [String] = []
        var angles = 0
        var item: [String] = []
        var inInheritance = false
        func endItem() {
            // `Rule`, `Policy.Rule`, `@preconcurrency Rule`: attributes are not the type.
            var words = item.filter { $0 != "." }
            if words.count == 2, words[0] == "Policy" { words.removeFirst() }
            if words.count == 1 { inherited.append(words[0]) }
            item = []
        }
        while i < tokens.count, !tokens[i].isPunctuation("{") {
            let t = tokens[i]
            if t.isPunctuation("<") {
                angles += 1
            } else if t.isPunctuation(">") {
                angles -= 1
            } else if angles == 0, t.isPunctuation(":"), !inInheritance {
                inInheritance = true
            } else if angles == 0, t.isWord("where") || t.isPunctuation(";") || t.isPunctuation("}") {
                // A where clause, or a declaration with no body (`protocol P;` is not Swift, but
                // never read past the end of the header).
                if inInheritance { endItem() }
                inInheritance = false
                if !t.isWord("where") { break }
            } else if inInheritance, angles == 0, t.isPunctuation(",") {
                endItem()
            } else if inInheritance, t.isPunctuation("@"), i + 1 < tokens.count {
                i += 1  // the attribute's name
            } else if inInheritance, angles == 0 {
                item.append(t.text)
            }
            i += 1
        }
        if inInheritance { endItem() }
        let qualified = enclosing.map { "\($0).\(name)" } ?? name
        return (qualified, inherited, i)
    }

    /// The index of the `(` of `static let declaration = RuleDeclaration(` (a type annotation
    /// `: RuleDeclaration` and a module prefix `Policy.` allowed), or nil.
    private func declarationCall(_ tokens: [Token], at start: Int) -> Int? {
        guard tokens[start + 1].isWord("let") else { return nil }
        var i = start + 3
        func typeName() -> Bool {
            if i + 2 < tokens.count, tokens[i].isWord("Policy"), tokens[i + 1].isPunctuation(".") { i += 2 }
            guard i < tokens.count, tokens[i].isWord("RuleDeclaration") else { return false }
            i += 1
            return true
        }
        if i < tokens.count, tokens[i].isPunctuation(":") {
            i += 1
            guard typeName() else { return nil }
        }
        guard i < tokens.count, tokens[i].isPunctuation("=") else { return nil }
        i += 1
        guard typeName(), i < tokens.count, tokens[i].isPunctuation("(") else { return nil }
        return i
    }

    /// Reads the call's `id:` and `order:` arguments; returns the declaration and the index after
    /// the closing parenthesis.
    private func arguments(
        _ tokens: [Token],
        open: Int,
        type: String,
        file: String,
        line: Int
    ) throws(SourceError)
        -> (Declaration, Int)
    {
        var depth = 0
        var argument: [Token] = []
        var id: String? = nil
        var order: Int? = nil
        var i = open
        func take(_ argument: [Token]) throws(SourceError) {
            guard argument.count >= 3, argument[0].kind == .word, argument[1].isPunctuation(":") else { return }
            let value = argument[2...]
            switch argument[0].text {
            case "id":
                id = value.map(\.text).joined()
            case "order":
                guard value.count == 1, let only = value.first, only.kind == .number,
                    let n = Int(only.text.filter { $0 != "_" })
                else {
                    let written = value.map(\.text).joined(separator: " ")
                    throw SourceError(
                        file: file,
                        line: argument[0].line,
                        message: "\(type): `order:` must be an integer literal (100, 200, …), not `\(written)`"
                    )
                }
                order = n
            default:
                break
            }
        }
        while i < tokens.count {
            let t = tokens[i]
            if t.isPunctuation("(") || t.isPunctuation("[") || t.isPunctuation("{") {
                depth += 1
                if depth > 1 { argument.append(t) }
            } else if t.isPunctuation(")") || t.isPunctuation("]") || t.isPunctuation("}") {
                depth -= 1
                if depth == 0 {
                    try take(argument)
                    break
                }
                argument.append(t)
            } else if depth == 1, t.isPunctuation(",") {
                try take(argument)
                argument = []
            } else {
                argument.append(t)
            }
            i += 1
        }
        guard depth == 0, i < tokens.count else {
            throw SourceError(file: file, line: line, message: "\(type): unterminated RuleDeclaration(")
        }
        guard let id else { throw SourceError(file: file, line: line, message: "\(type): RuleDeclaration( has no `id:` argument") }
        guard let order else {
            throw SourceError(
                file: file,
                line: line,
                message: "\(type): RuleDeclaration( has no `order:` argument (its place in the evaluation order)"
            )
        }
        return (Declaration(type: type, id: id, order: order, file: file, line: line), i + 1)
    }
}

/// The rule catalog from the scanned files: every declaration, checked, in evaluation order.
enum RuleRegistry {
    /// The declarations in `ruleFiles` in order, or every problem found: a rule type with no
    /// declaration the scanner can read, a rule outside the rules folder, two rules in one file,
    /// two rules with one order or one id.
    static func registered(
        _ scanner: RuleScanner,
        isRuleFile: (String) -> Bool,
        rulesFolder: String
    )
        -> Result<[RuleScanner.Declaration], RegistryErrors>
    {
        var errors = scanner.errors
        let declared = Dictionary(scanner.declarations.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        var rulesByFile: [String: [RuleScanner.Conformance]] = [:]
        for conformance in scanner.conformances {
            if declared[conformance.type] == nil, !scanner.brokenDeclarations.contains(conformance.type) {
                let written =
                    scanner.unreadableDeclarations[conformance.type].map {
                        " (the one on line \($0) is not in that form: it must be a `static let` initialised by a `RuleDeclaration(...)` call)"
                    } ?? ""
                errors.append(
                    SourceError(
                        file: conformance.file,
                        line: conformance.line,
                        message:
                            "\(conformance.type) conforms to Rule but has no `static let declaration = RuleDeclaration(...)`\(written); "
                            + "the rule catalog is generated from that declaration"
                    )
                )
            }
            rulesByFile[conformance.file, default: []].append(conformance)
        }
        for declaration in scanner.declarations where !isRuleFile(declaration.file) {
            errors.append(
                SourceError(
                    file: declaration.file,
                    line: declaration.line,
                    message:
                        "\(declaration.type) declares a rule outside \(rulesFolder): each rule has its own file there"
                )
            )
        }
        for (file, rules) in rulesByFile where isRuleFile(file) && Set(rules.map(\.type)).count > 1 {
            let names = rules.map(\.type).joined(separator: ", ")
            errors.append(SourceError(file: file, line: rules[1].line, message: "one rule per file: \(names) are in one file"))
        }
        var seenIDs: [String: RuleScanner.Declaration] = [:]
        var seenOrders: [Int: RuleScanner.Declaration] = [:]
        var seenTypes: [String: RuleScanner.Declaration] = [:]
        for declaration in scanner.declarations {
            if let first = seenTypes[declaration.type] {
                errors.append(
                    SourceError(
                        file: declaration.file,
                        line: declaration.line,
                        message:
                            "\(declaration.type) has a second declaration (the first is at \(first.file):\(first.line))"
                    )
                )
                continue
            }
            seenTypes[declaration.type] = declaration
            if let first = seenIDs[declaration.id] {
                errors.append(
                    SourceError(
                        file: declaration.file,
                        line: declaration.line,
                        message:
                            "\(declaration.type) has the id \(declaration.id) of \(first.type) (\(first.file):\(first.line)); ids are unique"
                    )
                )
            } else {
                seenIDs[declaration.id] = declaration
            }
            if let first = seenOrders[declaration.order] {
                errors.append(
                    SourceError(
                        file: declaration.file,
                        line: declaration.line,
                        message:
                            "\(declaration.type) has the order \(declaration.order) of \(first.type) (\(first.file):\(first.line)); "
                            + "each rule has its own place in the evaluation order"
                    )
                )
            } else {
                seenOrders[declaration.order] = declaration
            }
        }
        guard errors.isEmpty else { return .failure(RegistryErrors(errors: errors)) }
        return .success(scanner.declarations.sorted { $0.order < $1.order })
    }

    /// The generated Swift file: `RuleCatalog.registered`.
    static func source(_ declarations: [RuleScanner.Declaration]) -> String {
        var text = """
            // Generated by the RuleRegistry build tool (Sources/RuleRegistry) from the rule files in
            // Sources/Policy/Rules/ when Policy is built. Do not edit: add or change a rule's file.

            extension RuleCatalog {
                /// Every rule declared in `Sources/Policy/Rules/`, by ascending `order`.
                static let registered: [RuleDeclaration] = [

            """
        for declaration in declarations {
            let file = declaration.file.split(separator: "/").last.map(String.init) ?? declaration.file
            text += "        \(declaration.type).declaration,  // order \(declaration.order), \(file):\(declaration.line)\n"
        }
        text += "    ]\n}\n"
        return text
    }
}

struct RegistryErrors: Error, Equatable {
    var errors: [SourceError]
}
