import Foundation
import FoundationEssentials
import MIMECore
import Policy
import SMTPCore
import Testing

@testable import GatewayServer

/// Every header ThuGate adds, and the log line, made from one outcome: byte for byte.
@Suite struct AddedHeadersTests {
    static let date = "Tue, 1 Dec 2026 17:00:00 +0700"
    static let received = "Received: from mail.client ([192.0.2.1])\r\n\tby gw.test (ThuGate) with ESMTP id 0B1C2D3F4G5H\r\n"

    static func outcome(
        recipients: [String] = ["x@y.z"],
        verdict: Verdict = .pass,
        findings: [Finding] = [],
        tls: Bool = false,
        smtpUTF8: Bool = false
    ) -> MessageOutcome {
        var envelope = Envelope(
            heloName: "mail.client",
            esmtp: true,
            sender: MailAddress("a@b.c"),
            parameters: MailParameters(smtpUTF8: smtpUTF8)
        )
        envelope.recipients = recipients.map(MailAddress.init)
        return MessageOutcome(
            queueID: "0B1C2D3F4G5H",
            client: .init(heloName: "mail.client", address: "192.0.2.1", tls: tls),
            hostname: "gw.test",
            envelope: envelope,
            verdict: verdict,
            findings: findings
        )
    }

    @Test func receivedNamesTheOneRecipient() {
        #expect(AddedHeaders(Self.outcome(), date: Self.date).received == Self.received + "\tfor <x@y.z>; \(Self.date)\r\n")
    }

    @Test func receivedNamesNoRecipientOfSeveralAndSaysTLSAndUTF8() {
        let outcome = Self.outcome(recipients: ["x@y.z", "z@y.z"], tls: true, smtpUTF8: true)
        #expect(
            AddedHeaders(outcome, date: Self.date).received
                == "Received: from mail.client ([192.0.2.1])\r\n\tby gw.test (ThuGate) with UTF8SMTPS id 0B1C2D3F4G5H; \(Self.date)\r\n"
        )
    }

    @Test func aCleanMessageGetsOnlyTheTraceHeader() {
        let headers = AddedHeaders(Self.outcome(), date: Self.date)
        #expect(headers.relayed == headers.received)
    }

    @Test func aTaggedMessageCarriesItsFindings() {
        let findings = [Finding(.executable, detail: "a.zip/x.exe", part: "2"), Finding(.encryptedDocument, detail: "b.pdf", part: "3")]
        let headers = AddedHeaders(Self.outcome(verdict: .tag(findings[0]), findings: findings), date: Self.date)
        #expect(headers.relayed == headers.received + "X-ThuGate-Findings: executable(2): a.zip/x.exe; encrypted-document(3): b.pdf\r\n")
    }

    @Test func findingsFromTheSendersNamesCannotBreakTheHeader() {
        let finding = Finding(.executable, detail: "x\r\nBcc: victim@example.com", part: "2")
        let headers = AddedHeaders(Self.outcome(verdict: .tag(finding), findings: [finding]), date: Self.date)
        #expect(headers.relayed.hasSuffix("X-ThuGate-Findings: executable(2): x  Bcc: victim@example.com\r\n"))
    }

    @Test func aNonASCIIFindingIsEncodedWords() {
        let finding = Finding(.executable, detail: "tệp.exe", part: "2")
        let line = AddedHeaders(Self.outcome(verdict: .tag(finding), findings: [finding]), date: Self.date).relayed
            .components(separatedBy: "X-ThuGate-Findings: ")[1]
        #expect(line.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(
            EncodedWords.decode(line.replacingOccurrences(of: "\r\n ", with: " ").trimmingCharacters(in: .newlines))
                == "executable(2): tệp.exe"
        )
    }

    @Test func aHeldMessageHasNoFindingsHeader() {
        let finding = Finding(.encryptedArchive, detail: "a.zip", part: "2")
        let headers = AddedHeaders(Self.outcome(verdict: .quarantine(finding), findings: [finding]), date: Self.date)
        #expect(headers.relayed == headers.received)
    }
}

/// The log line as it has always been written: operators grep for it.
@Suite struct MessageOutcomeLogLineTests {
    @Test func aRelayedMessage() {
        var outcome = AddedHeadersTests.outcome(recipients: ["x@y.z", "z@y.z"])
        outcome.size = 1234
        outcome.milliseconds = 17
        outcome.disposition = .relayed(.custom(250, EnhancedStatus(2, 0, 0), "Ok: queued as 4F2"))
        #expect(
            outcome.logLine == "0B1C2D3F4G5H: client=mail.client[192.0.2.1], from=<a@b.c>, to=<x@y.z>,<z@y.z>, size=1234, "
                + "result=sent, reply=\"250 2.0.0 Ok: queued as 4F2\", ms=17"
        )
    }

    @Test func aTaggedMessageListsItsFindings() {
        let findings = [Finding(.executable, detail: "a.exe", part: "2"), Finding(.virus, detail: "Eicar", part: "3")]
        var outcome = AddedHeadersTests.outcome(verdict: .tag(findings[0]), findings: findings)
        outcome.size = 10
        outcome.disposition = .relayed(.ok)
        #expect(
            outcome.logLine == "0B1C2D3F4G5H: client=mail.client[192.0.2.1], from=<a@b.c>, to=<x@y.z>, size=10, result=sent, "
                + "findings=\"executable(2): a.exe; virus(3): Eicar\", reply=\"250 2.0.0 Đồng ý / OK\", ms=0"
        )
    }

    @Test func aHeldMessageIsSentForItsClient() {
        let finding = Finding(Finding.RuleID(rawValue: "scan-crash"), detail: "crashed")
        var outcome = AddedHeadersTests.outcome(verdict: .quarantine(finding), findings: [finding])
        outcome.disposition = .held(id: "0B1C2D3F4G5H", PolicyReplies.quarantined("0B1C2D3F4G5H"))
        #expect(outcome.logLine.contains(", result=sent, findings=\"scan-crash: crashed\", reply=\"250 2.0.0 Thư được giữ lại"))
    }

    @Test func refusedAndDeferred() {
        var outcome = AddedHeadersTests.outcome()
        outcome.disposition = .refused(.custom(554, EnhancedStatus(5, 7, 1), "no"))
        #expect(outcome.logLine.hasSuffix("size=0, result=rejected, reply=\"554 5.7.1 no\", ms=0"))
        outcome.disposition = .deferred(.custom(451, EnhancedStatus(4, 7, 0), "later"))
        #expect(outcome.logLine.hasSuffix("size=0, result=deferred, reply=\"451 4.7.0 later\", ms=0"))
        // An upstream that refuses the relayed message: the client was refused.
        outcome.disposition = .relayed(.custom(550, EnhancedStatus(5, 1, 1), "no such user"))
        #expect(outcome.logLine.hasSuffix("result=rejected, reply=\"550 5.1.1 no such user\", ms=0"))
    }
}

@Suite struct ReleasedHeaderTests {
    @Test func anASCIIUserIsWrittenAsIs() {
        #expect(
            ReleasedHeader.field(id: "01m8rst0138jmc", by: "postmaster", date: "Tue, 01 Dec 2026 19:40:00 +0700")
                == "X-ThuGate-Released: 01m8rst0138jmc by postmaster Tue, 01 Dec 2026 19:40:00 +0700\r\n"
        )
    }

    @Test func aHostileUserNameStaysOneFieldAndNonASCIIIsEncoded() throws {
        // SUDO_USER is whatever the caller set: a line break would start a header of its own.
        let field = ReleasedHeader.field(id: "01m8", by: "Nguyễn\r\nBcc: x@evil.vn\u{1B}[2J", date: "Tue, 01 Dec 2026 19:40:00 +0700")
        #expect(field.hasPrefix("X-ThuGate-Released: ") && field.hasSuffix("\r\n"))
        let lines = Array(field.components(separatedBy: "\r\n").dropLast())
        // Every line after the first is a folded continuation, none starts a field.
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(lines.allSatisfy { $0.utf8.count < 998 && $0.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } })
        #expect(field.contains("=?UTF-8?B?"))
        let unfolded = lines.joined(separator: "").dropFirst("X-ThuGate-Released: ".count)
        let decoded = EncodedWords.decode(String(unfolded))
        #expect(decoded == "01m8 by Nguyễn  Bcc: x@evil.vn [2J Tue, 01 Dec 2026 19:40:00 +0700")
    }
}
