import NIOCore
import Testing

@testable import Configuration

/// `[notify]` and its `[notify.RULE]` tables, as a postmaster writes them.
@Suite struct NotifyConfigTests {
    @Test func ruleTablesSetWhoIsToldAndHow() throws {
        let config = try GatewayConfig.parse(
            """
            [notify]
            from = "thugate@quangninh.gov.vn"
            digest_time = "17:30"
            retry = ["30s", "10m"]
            give_up_after = "24h"
            [notify.virus]
            to = ["officer", "antoan2@quangninh.gov.vn", "officer"]
            mode = "digest"
            [notify.office_macro]
            to = ["recipient_agency"]
            [notify.state_secret]
            to = ["officer"]
            [notify.encrypted_archive]
            to = []
            """,
            directory: "/etc/thugate"
        )
        let notify = config.notify
        #expect(notify.from == "thugate@quangninh.gov.vn" && notify.digestTime == .init(hour: 17, minute: 30))
        #expect(notify.retry == [.seconds(30), .minutes(10)] && notify.giveUpAfter == .hours(24))
        #expect(notify.rules["virus"] == .init(to: [.officer, .address("antoan2@quangninh.gov.vn")], mode: .digest))
        #expect(notify.rules["office-macro"] == .init(to: [.recipientAgency], mode: .immediate))
        #expect(notify.rules["state-secret"] == .init(to: [.officer], mode: .immediate, includeSubject: false))
        #expect(notify.rules["encrypted-archive"]?.to == [])
        // Untouched: the default.
        #expect(notify.rules["scan-crash"] == NotifySettings().rules["scan-crash"])
        #expect(notify.keyFile == "Config/notice.key")
        #expect(
            try GatewayConfig.parse("[notify]\nkey_file = \"notice.key\"\n", directory: "/etc/thugate").notify.keyFile
                == "/etc/thugate/notice.key"
        )
    }

    @Test(arguments: [
        ("[notify]\nsecret = \"x\"\n", 2, "notify.secret", "unknown key"),
        ("[notify]\nfrom = \"<>\"\n", 2, "notify.from", "not a mail address"),
        ("[notify]\ndigest_time = \"8:00\"\n", 2, "notify.digest_time", "expected HH:MM"),
        ("[notify]\nretry = [\"5x\"]\n", 2, "notify.retry", "not a duration"),
        ("[notify]\nretry = []\n", 2, "notify.retry", "at least one"),
        ("[notify.viruses]\nto = [\"officer\"]\n", 1, "notify.viruses", "no rule has this [policy] key"),
        ("[notify.virus]\nto = [\"everyone\"]\n", 2, "notify.virus.to", "neither \"officer\""),
        ("[notify.virus]\nmode = \"weekly\"\n", 2, "notify.virus.mode", "expected one of"),
        ("[notify.virus]\nsubject = true\n", 2, "notify.virus.subject", "unknown key"),
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
