import Logging
import MIMECore
import NIOCore
import Policy
import SMTPCore
import Testing

@testable import GatewayServer

/// A message is relayed, held, refused or deferred once, with the headers the outcome makes.
@Suite struct InFlightMessageTests {
    /// An upstream that records what it was given.
    final class RecordingTransaction: UpstreamTransaction {
        var headers: [String] = []
        var bodies: [String] = []
        let reply: Reply
        init(reply: Reply) { self.reply = reply }
        func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply] { [.senderOK] }
        func recipient(_ address: MailAddress) async -> Reply { .recipientOK }
        func abort() async {}
        func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply {
            headers.append(header)
            bodies.append(String(decoding: (try? message.messageBytes())?.withUnsafeBytes { Array($0) } ?? [], as: UTF8.self))
            return reply
        }
    }

    /// A quarantine that holds in memory, or fails.
    final class MemoryQuarantine: QuarantineSink, @unchecked Sendable {
        var held: [MessageOutcome] = []
        let fails: Bool
        init(fails: Bool = false) { self.fails = fails }
        func hold(_ message: MessageBuffer, outcome: MessageOutcome) async throws -> String {
            if fails { throw SpoolError(operation: "write", errno: 28) }
            held.append(outcome)
            return "H-\(outcome.queueID)"
        }
    }

    private func message(_ text: String = "Subject: hi\r\n\r\nhello\r\n") throws -> InFlightMessage {
        let buffer = MessageBuffer(threshold: 1 << 20, spoolDirectory: "/tmp")
        try Array(text.utf8).withUnsafeBytes { try buffer.append($0) }
        return InFlightMessage(buffer, outcome: AddedHeadersTests.outcome())
    }

    @Test func aRelayedMessageGoesUpstreamWithTheTraceHeaderAndFindings() async throws {
        var message = try message()
        let finding = Finding(.executable, detail: "a.exe", part: "2")
        message.inspected(verdict: .tag(finding), findings: [finding], rewritten: nil, transforms: ["tcvn-6909"])
        let upstream = RecordingTransaction(reply: .ok)
        let outcome = await message.relay(via: upstream)
        #expect(outcome.disposition == .relayed(.ok))
        #expect(outcome.size == 22)
        #expect(outcome.transforms == [])
        #expect(upstream.headers.count == 1)
        #expect(upstream.headers[0].hasPrefix("Received: from mail.client ([192.0.2.1])\r\n"))
        #expect(upstream.headers[0].hasSuffix("X-ThuGate-Findings: executable(2): a.exe\r\n"))
        #expect(upstream.bodies == ["Subject: hi\r\n\r\nhello\r\n"])
    }

    @Test func aRewrittenMessageReplacesTheOneReceived() async throws {
        var message = try message()
        let rewritten = MessageBuffer(threshold: 1 << 20, spoolDirectory: "/tmp")
        try Array("Subject: new\r\n\r\n".utf8).withUnsafeBytes { try rewritten.append($0) }
        message.inspected(verdict: .pass, findings: [], rewritten: rewritten, transforms: ["tcvn-6909"])
        let upstream = RecordingTransaction(reply: .ok)
        let outcome = await message.relay(via: upstream)
        #expect(upstream.bodies == ["Subject: new\r\n\r\n"])
        #expect(outcome.size == 16 && outcome.transforms == ["tcvn-6909"])
    }

    @Test func aHeldMessageIsAnsweredWithItsQuarantineID() async throws {
        var message = try message()
        let finding = Finding(.encryptedArchive, detail: "a.zip", part: "2")
        message.inspected(verdict: .quarantine(finding), findings: [finding], rewritten: nil, transforms: [])
        let quarantine = MemoryQuarantine()
        let outcome = await message.hold(in: quarantine, logger: Logger(label: "test"))
        #expect(outcome.disposition == .held(id: "H-0B1C2D3F4G5H", PolicyReplies.quarantined("H-0B1C2D3F4G5H")))
        #expect(quarantine.held.map(\.findings) == [[finding]])
    }

    @Test func aQuarantineThatFailsDefersWithTheRulesTempfail() async throws {
        var message = try message()
        let finding = Finding(.encryptedArchive, detail: "a.zip", part: "2")
        message.inspected(verdict: .quarantine(finding), findings: [finding], rewritten: nil, transforms: [])
        let outcome = await message.hold(in: MemoryQuarantine(fails: true), logger: Logger(label: "test"))
        #expect(outcome.disposition == .deferred(PolicyReplies.tempfail(finding)))
    }

    @Test func noQuarantineDefersToo() async throws {
        var message = try message()
        let finding = Finding(.encryptedArchive, detail: "a.zip", part: "2")
        message.inspected(verdict: .quarantine(finding), findings: [finding], rewritten: nil, transforms: [])
        #expect(await message.hold(in: nil, logger: Logger(label: "test")).disposition == .deferred(PolicyReplies.tempfail(finding)))
    }

    @Test func refusedAndDeferredMessagesGoNowhere() throws {
        let refusal = Reply.custom(554, EnhancedStatus(5, 7, 1), "no")
        #expect(try message().refuse(refusal).disposition == .refused(refusal))
        #expect(try message().defer(.localError).disposition == .deferred(.localError))
    }
}
