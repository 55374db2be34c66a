public import Foundation
import Policy
import TOMLKit

/// What becomes of held mail, from `[quarantine]`: the category each rule's hold falls in, how
/// long each category's bodies are kept, which categories are under legal hold until an officer
/// lifts it, and which need an officer's `--force` or a second person to release.
public struct QuarantineLifecycle: Sendable, Equatable {
    /// Rule id → category. A rule not listed is its own category (a new rule is never lumped
    /// in with others unseen).
    public var categories: [String: String] = Self.defaultCategories
    /// How long a held body is kept, per category; `defaultRetention` for the others.
    public var defaultRetention: TimeInterval = 30 * 86400
    public var retention: [String: TimeInterval] = [:]
    /// Kept past their expiry until an officer lifts the hold (`thugate quarantine lift-hold`).
    public var legalHold: Set<String> = ["state-secret"]
    /// Released only with `--force`: an officer's decision.
    public var forceCategories: Set<String> = ["virus", "executable", "state-secret"]
    /// Released only when a second, different person approves (`release`, then `approve`).
    public var approvalCategories: Set<String> = ["state-secret"]
    /// Rule ids whose refused messages are also kept in the quarantine (committed before the
    /// client hears the 5xx): evidence for the security officer of what was refused.
    public var keepRefused: Set<String> = ["state-secret"]

    public static let defaultCategories: [String: String] = [
        "virus": "virus",
        "executable": "executable",
        "encrypted-archive": "archive",
        "archive-limit": "archive",
        "state-secret": "state-secret",
        "attachment-size": "size",
        "office-macro": "content",
        "encrypted-document": "content",
        "encrypted-message": "content",
        "malformed": "mime",
        "mime-irregular": "mime",
        "mime-ambiguous": "mime",
        "scan-crash": "unchecked",
        "secrecy-unchecked": "unchecked",
        "secrecy-unchecked-outbound": "unchecked",
    ]

    public init() {}

    /// The category of a finding of `rule` (a stored category maps to itself).
    public func category(ofRule rule: String) -> String { categories[rule] ?? rule }

    public func retention(of category: String) -> TimeInterval { retention[category] ?? defaultRetention }

    /// A held message's category (the deciding rule's), expiry and legal hold: kept as long as
    /// the longest retention among its findings' categories, under legal hold when any of them is.
    public func classify(
        decidingRule: String?,
        findingRules: [String],
        at now: Date
    ) -> (
        category: String, expiresAt: Date, legalHold: Bool
    ) {
        let rules = findingRules.isEmpty ? [decidingRule ?? ""] : findingRules
        let deciding = category(ofRule: decidingRule ?? rules[0])
        let all = Set(rules.map(category(ofRule:)) + [deciding])
        let keep = all.map(retention(of:)).max() ?? defaultRetention
        return (deciding, now.addingTimeInterval(keep), !all.isDisjoint(with: legalHold))
    }

    /// The categories of a stored message (its own and its findings').
    public func categories(category stored: String, findingRules: [String]) -> Set<String> {
        Set([category(ofRule: stored)] + findingRules.map(category(ofRule:)))
    }
}

extension ConfigReader {
    /// `[quarantine]`'s life-cycle keys: `legal_hold`, `force_categories`, `approval_categories`
    /// (lists of categories) and the `[quarantine.categories]` (rule id = category) and
    /// `[quarantine.retention]` (category = "30d"; `default`) tables.
    func quarantineLifecycle(_ s: Section, into lifecycle: inout QuarantineLifecycle) throws(ConfigError) {
        let ruleIDs = Set(RuleCatalog.all.map(\.id.rawValue))
        if let value = s.table["categories"] {
            guard let table = value.table else { throw s.error("categories", "expected a [quarantine.categories] table") }
            let sub = Section(reader: self, name: "quarantine.categories", table: table)
            for key in table.keys {
                if key.contains("_"), ruleIDs.contains(key.replacingOccurrences(of: "_", with: "-")) {
                    throw sub.error(key, "write the rule id \"\(key.replacingOccurrences(of: "_", with: "-"))\" (as `list` shows it)")
                }
                guard Self.isName(key) else { throw sub.error(key, "expected a rule id (a-z, 0-9, \"-\"), e.g. encrypted-archive") }
                guard let category = try sub.string(key), Self.isName(category) else {
                    throw sub.error(key, "expected a category name (a-z, 0-9, \"-\"), e.g. \"archive\"")
                }
                lifecycle.categories[key] = category
            }
        }
        let known = Set(lifecycle.categories.values).union(ruleIDs).union(lifecycle.categories.keys)
        if let value = s.table["retention"] {
            guard let table = value.table else { throw s.error("retention", "expected a [quarantine.retention] table") }
            let sub = Section(reader: self, name: "quarantine.retention", table: table)
            for key in table.keys {
                guard key == "default" || known.contains(key) else {
                    throw sub.error(key, "no such category (the categories are the values of [quarantine.categories], and \"default\")")
                }
                guard let text = try sub.string(key), let seconds = Self.parseRetention(text) else {
                    throw sub.error(key, "expected a retention such as \"30d\" or \"36h\" (at least 1h, at most 36500d)")
                }
                if key == "default" { lifecycle.defaultRetention = seconds } else { lifecycle.retention[key] = seconds }
            }
        }
        for key in ["legal_hold", "force_categories", "approval_categories"] {
            guard let list = try s.stringList(key) else { continue }
            for name in list where !known.contains(name) {
                throw s.error(key, "\"\(name)\" is no category (the categories are the values of [quarantine.categories])")
            }
            switch key {
            case "legal_hold": lifecycle.legalHold = Set(list)
            case "force_categories": lifecycle.forceCategories = Set(list)
            default: lifecycle.approvalCategories = Set(list)
            }
        }
    }

    /// `[quarantine] keep_refused`: rule ids, as `thugate quarantine list` shows them.
    func quarantineKeepRefused(_ s: Section, into lifecycle: inout QuarantineLifecycle) throws(ConfigError) {
        guard let list = try s.stringList("keep_refused") else { return }
        let ruleIDs = Set(RuleCatalog.all.map(\.id.rawValue))
        for id in list where !ruleIDs.contains(id) {
            throw s.error(
                "keep_refused",
                "\"\(id)\" is no rule id (write them as `thugate quarantine list` shows them, e.g. \"state-secret\")"
            )
        }
        lifecycle.keepRefused = Set(list)
    }

    static func isName(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// `"30d"`, `"36h"`: a held body's retention, 1 hour to 100 years.
    static func parseRetention(_ text: String) -> TimeInterval? {
        let digits = text.prefix(while: \.isNumber)
        guard let n = Int(digits), n < 1_000_000 else { return nil }
        let seconds: Int
        switch text.dropFirst(digits.count) {
        case "d": seconds = n * 86400
        case "h": seconds = n * 3600
        default: return nil
        }
        guard (3600...36500 * 86400).contains(seconds) else { return nil }
        return TimeInterval(seconds)
    }
}
