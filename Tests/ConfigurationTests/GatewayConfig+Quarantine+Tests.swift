import Foundation
import Testing

@testable import Configuration

/// `[quarantine]`'s life cycle: categories, retention per category, legal hold and who decides.
@Suite struct QuarantineLifecycleConfigTests {
    @Test func theDefaultsMapRulesToAFewCategories() {
        let lifecycle = GatewayConfig().quarantine.lifecycle
        #expect(lifecycle.category(ofRule: "encrypted-archive") == "archive")
        #expect(lifecycle.category(ofRule: "archive-limit") == "archive")
        #expect(lifecycle.category(ofRule: "virus") == "virus")
        // A rule nobody mapped is its own category; a category maps to itself (stored rows).
        #expect(lifecycle.category(ofRule: "forwarding") == "forwarding")
        #expect(lifecycle.category(ofRule: "archive") == "archive")
        #expect(lifecycle.retention(of: "archive") == 30 * 86400)
        #expect(lifecycle.legalHold == ["state-secret"])
        #expect(lifecycle.forceCategories == ["virus", "executable", "state-secret"])
        #expect(lifecycle.approvalCategories == ["state-secret"])
    }

    @Test func categoriesRetentionAndLegalHoldAreReadFromTheFile() throws {
        let config = try GatewayConfig.parse(
            """
            [quarantine]
            legal_hold = ["archive"]
            approval_categories = ["archive", "state-secret"]
            force_categories = ["virus"]

            [quarantine.categories]
            office-macro = "macro"

            [quarantine.retention]
            default = "10d"
            virus = "90d"
            macro = "36h"
            """
        )
        let lifecycle = config.quarantine.lifecycle
        #expect(lifecycle.category(ofRule: "office-macro") == "macro")
        // Keys not in the file keep their defaults.
        #expect(lifecycle.category(ofRule: "encrypted-archive") == "archive")
        #expect(lifecycle.retention(of: "virus") == 90 * 86400)
        #expect(lifecycle.retention(of: "macro") == 36 * 3600)
        #expect(lifecycle.retention(of: "archive") == 10 * 86400)
        #expect(lifecycle.legalHold == ["archive"])
        #expect(lifecycle.forceCategories == ["virus"])

        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let one = lifecycle.classify(decidingRule: "encrypted-archive", findingRules: ["encrypted-archive"], at: now)
        #expect(one.category == "archive" && one.legalHold && one.expiresAt == now.addingTimeInterval(10 * 86400))
        // Several categories: the deciding rule's category, kept as long as the longest, held if any is.
        let two = lifecycle.classify(decidingRule: "office-macro", findingRules: ["office-macro", "virus"], at: now)
        #expect(two.category == "macro" && !two.legalHold && two.expiresAt == now.addingTimeInterval(90 * 86400))
        #expect(lifecycle.categories(category: "encrypted-archive", findingRules: ["virus"]) == ["archive", "virus"])
    }

    @Test(arguments: [
        (
            "[quarantine.categories]\nencrypted_archive = \"archive\"\n", 2, "quarantine.categories.encrypted_archive",
            "rule id \"encrypted-archive\""
        ),
        ("[quarantine.categories]\nvirus = \"Bad Name\"\n", 2, "quarantine.categories.virus", "expected a category name"),
        ("[quarantine.retention]\n\nvirsu = \"3d\"\n", 3, "quarantine.retention.virsu", "no such category"),
        ("[quarantine.retention]\nvirus = \"30m\"\n", 2, "quarantine.retention.virus", "expected a retention"),
        ("[quarantine.retention]\ndefault = 30\n", 2, "quarantine.retention.default", "expected a string"),
        ("[quarantine]\nlegal_hold = [\"secret\"]\n", 2, "quarantine.legal_hold", "\"secret\" is no category"),
        ("[quarantine]\nretention = \"30d\"\n", 2, "quarantine.retention", "expected a [quarantine.retention] table"),
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
}
