import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import GatewayServer
@testable import SMTPCore

/// The upstream client's channel handler on an `EmbeddedChannel`: bytes in, commands out,
/// time moved by hand with `EmbeddedEventLoop.advanceTime(by:)`.
@Suite struct UpstreamClientHandlerTests {
    typealias Completion = UpstreamClientHandler.Completion

    static let configuration = UpstreamMachine.Configuration(
        heloName: "thugate.test",
        startTLS: .none,
        pipelining: true,
        timeouts: UpstreamMachine.Timeouts(command: .seconds(30), data: .seconds(60))
    )
    static let envelope = Envelope(
        heloName: "client.test",
        esmtp: true,
        sender: MailAddress("a@quangninh.gov.vn"),
        parameters: MailParameters(size: 100, body: .eightBitMIME)
    )
    static let plain = Envelope(heloName: "c", esmtp: true, sender: MailAddress("a@quangninh.gov.vn"), parameters: MailParameters())
    static let b = MailAddress("b@quangninh.gov.vn")

    /// One client connection over an embedded channel, its handler, and what it was asked to do.
    final class Harness {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel
        let handler: UpstreamClientHandler
        let ready: EventLoopFuture<Completion>

        init(
            configuration: UpstreamMachine.Configuration = UpstreamClientHandlerTests.configuration,
            tls: (context: NIOSSLContext, serverName: String?)? = nil
        ) throws {
            channel = EmbeddedChannel(loop: loop)
            let promise = loop.makePromise(of: Completion.self)
            handler = UpstreamClientHandler(configuration: configuration, tls: tls, ready: promise)
            ready = promise.futureResult
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        }

        /// A connection past greeting and EHLO.
        static func connected(ehlo: String = "250-upstream.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n") throws -> Harness {
            let harness = try Harness()
            try harness.receive("220 upstream.test ESMTP\r\n")
            _ = try harness.writes()
            try harness.receive(ehlo)
            return harness
        }

        func receive(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
        }

        /// Every write since the last call, one string each.
        func writes() throws -> [String] {
            var out: [String] = []
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(String(buffer: buffer)) }
            return out
        }

        func request(_ request: UpstreamClientHandler.Request) -> EventLoopFuture<Completion> {
            let promise = loop.makePromise(of: Completion.self)
            handler.perform(request, promise: promise)
            return promise.futureResult
        }
    }

    /// The answer, if it came.
    static func answer(_ future: EventLoopFuture<Completion>) -> Completion? {
        let box = NIOLockedValueBox<Completion?>(nil)
        future.whenSuccess { value in box.withLockedValue { $0 = value } }
        return box.withLockedValue { $0 }
    }

    static func outcome(_ future: EventLoopFuture<Completion>) -> UpstreamMachine.Outcome? { answer(future)?.0 }
    static func disposition(_ future: EventLoopFuture<Completion>) -> UpstreamMachine.Disposition? { answer(future)?.1 }
    static func reply(_ code: Int, _ lines: String...) -> Reply { Reply.parsing(code: code, lines: lines) }

    @Test func greetingEHLOThenOnePipelinedWrite() throws {
        let harness = try Harness()
        #expect(try harness.writes() == [])
        try harness.receive("220 upstream.test ESMTP\r\n")
        #expect(try harness.writes() == ["EHLO thugate.test\r\n"])
        // A reply split across reads is one reply.
        try harness.receive("250-upstream.test\r\n250-PIPE")
        #expect(Self.answer(harness.ready) == nil)
        try harness.receive("LINING\r\n250 8BITMIME\r\n")
        #expect(Self.outcome(harness.ready) == .ready(UpstreamMachine.Extensions(["PIPELINING", "8BITMIME"])))

        let mail = harness.request(.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data]))
        #expect(try harness.writes() == ["MAIL FROM:<a@quangninh.gov.vn> BODY=8BITMIME\r\nRCPT TO:<b@quangninh.gov.vn>\r\nDATA\r\n"])
        try harness.receive("250 2.1.0 ok\r\n250 2.1.5 ok\r\n")
        #expect(Self.answer(mail) == nil)
        try harness.receive("354 go ahead\r\n")
        #expect(Self.outcome(mail) == .replies([Self.reply(250, "2.1.0 ok"), Self.reply(250, "2.1.5 ok"), Self.reply(354, "go ahead")]))

        // DATA was answered already: the first chunk goes at once.
        let chunk = harness.request(.message(ByteBuffer(string: "Subject: x\r\n\r\n"), isComplete: false))
        #expect(Self.outcome(chunk) == .written)
        let end = harness.request(.messageEnd(ByteBuffer(string: "..dot\r\n.\r\n")))
        #expect(try harness.writes() == ["Subject: x\r\n\r\n", "..dot\r\n.\r\n"])
        try harness.receive("250 2.0.0 queued as 1\r\n")
        #expect(Self.outcome(end) == .replies([Self.reply(250, "2.0.0 queued as 1")]))
        #expect(Self.disposition(end) == .release)
        #expect(harness.channel.isActive)
    }

    @Test func dataAfterMAILThenTheMessageOn354() throws {
        let harness = try Harness.connected(ehlo: "250 upstream.test\r\n")
        let mail = harness.request(.mail(Self.plain, pipelined: []))
        try harness.receive("250 ok\r\n")
        #expect(Self.disposition(mail) == .keep)
        _ = try harness.writes()
        let end = harness.request(.message(ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n.\r\n"), isComplete: true))
        #expect(try harness.writes() == ["DATA\r\n"])
        try harness.receive("354 go\r\n")
        #expect(try harness.writes() == ["Subject: x\r\n\r\nbody\r\n.\r\n"])
        try harness.receive("452 4.3.1 full\r\n")
        #expect(Self.outcome(end) == .replies([Self.reply(452, "4.3.1 full")]))
        #expect(Self.disposition(end) == .release)
    }

    @Test func startTLSThenEHLOGoesEncrypted() throws {
        var configuration = Self.configuration
        configuration.startTLS = .encrypt
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let harness = try Harness(configuration: configuration, tls: (try NIOSSLContext(configuration: tls), "upstream.test"))
        try harness.receive("220 upstream.test ESMTP\r\n")
        try harness.receive("250-upstream.test\r\n250 STARTTLS\r\n")
        #expect(try harness.writes() == ["EHLO thugate.test\r\n", "STARTTLS\r\n"])
        try harness.receive("220 2.0.0 ready\r\n")
        // What follows is a TLS handshake record (content type 22), never EHLO in the clear.
        var out = ByteBuffer()
        while var buffer = try harness.channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&buffer) }
        #expect(out.getInteger(at: out.readerIndex, as: UInt8.self) == 22)
        #expect(String(buffer: out).contains("EHLO") == false)
        #expect(Self.answer(harness.ready) == nil)
    }

    @Test func startTLSWithoutATLSContextFails() throws {
        var configuration = Self.configuration
        configuration.startTLS = .may
        let harness = try Harness(configuration: configuration)
        try harness.receive("220 upstream.test ESMTP\r\n250-upstream.test\r\n250 STARTTLS\r\n220 ready\r\n")
        #expect(Self.outcome(harness.ready) == .failed(UpstreamError(kind: .tls, detail: "no TLS configuration")))
        #expect(!harness.channel.isActive)
    }

    @Test func reusedConnectionSendsRSETFirst() throws {
        let harness = try Harness.connected()
        let refused = harness.request(.mail(Self.envelope, pipelined: []))
        try harness.receive("550 5.7.1 not you\r\n")
        #expect(Self.disposition(refused) == .release)
        _ = try harness.writes()
        _ = harness.request(.mail(Self.envelope, pipelined: [.rcpt(Self.b)]))
        #expect(
            try harness.writes() == ["RSET\r\nMAIL FROM:<a@quangninh.gov.vn> SIZE=1124 BODY=8BITMIME\r\nRCPT TO:<b@quangninh.gov.vn>\r\n"]
        )
    }

    @Test func withoutPipeliningOneCommandPerWrite() throws {
        let harness = try Harness.connected(ehlo: "250 upstream.test\r\n")
        let mail = harness.request(.mail(Self.plain, pipelined: [.rcpt(Self.b), .data]))
        #expect(try harness.writes() == ["MAIL FROM:<a@quangninh.gov.vn>\r\n"])
        try harness.receive("250 ok\r\n")
        #expect(try harness.writes() == ["RCPT TO:<b@quangninh.gov.vn>\r\n"])
        try harness.receive("250 ok\r\n")
        #expect(try harness.writes() == ["DATA\r\n"])
        try harness.receive("354 go\r\n")
        #expect(Self.outcome(mail) == .replies([Self.reply(250, "ok"), Self.reply(250, "ok"), Self.reply(354, "go")]))
    }

    @Test func silentGreetingTimesOut() throws {
        let harness = try Harness()
        harness.loop.advanceTime(by: .seconds(29))
        #expect(Self.answer(harness.ready) == nil)
        #expect(harness.channel.isActive)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(Self.outcome(harness.ready) == .failed(UpstreamError(kind: .timeout, detail: "no reply in time")))
        #expect(!harness.channel.isActive)
    }

    @Test func finalReplyWaitsForTheDataTimeout() throws {
        let harness = try Harness.connected()
        _ = harness.request(.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data]))
        try harness.receive("250 ok\r\n250 ok\r\n354 go\r\n")
        let end = harness.request(.message(ByteBuffer(string: "x\r\n.\r\n"), isComplete: true))
        harness.loop.advanceTime(by: .seconds(59))
        #expect(Self.answer(end) == nil)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(Self.outcome(end) == .failed(UpstreamError(kind: .timeout, detail: "no reply to the final dot in time")))
        #expect(!harness.channel.isActive)
    }

    @Test func timerFollowsTheDeadlineAcrossExchanges() throws {
        let harness = try Harness.connected(ehlo: "250 upstream.test\r\n")
        _ = try harness.writes()
        let mail = harness.request(.mail(Self.plain, pipelined: [.rcpt(Self.b)]))
        harness.loop.advanceTime(by: .seconds(20))
        try harness.receive("250 ok\r\n")
        // RCPT went at 20 s: its reply may take until 50 s.
        harness.loop.advanceTime(by: .seconds(20))
        #expect(harness.channel.isActive)
        harness.loop.advanceTime(by: .seconds(10))
        #expect(Self.outcome(mail) == .failed(UpstreamError(kind: .timeout, detail: "no reply in time")))
    }

    @Test func connectionLostWhileTheClientTalksIsReplayedAtData() throws {
        let harness = try Harness.connected()
        let mail = harness.request(.mail(Self.envelope, pipelined: [.rcpt(Self.b)]))
        try harness.receive("250 ok\r\n250 ok\r\n")
        #expect(Self.disposition(mail) == .keep)
        try harness.channel.close().wait()
        var expected = Self.envelope
        expected.recipients = [Self.b]
        #expect(
            Self.outcome(harness.request(.message(ByteBuffer(string: "x\r\n.\r\n"), isComplete: true)))
                == .replay(UpstreamMachine.Replay(envelope: expected, step: .data, mailRetried: false, dataReplayed: true))
        )
    }

    @Test func connectionLostAfterTheFinalDotFails() throws {
        let harness = try Harness.connected()
        _ = harness.request(.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data]))
        try harness.receive("250 ok\r\n250 ok\r\n354 go\r\n")
        let end = harness.request(.message(ByteBuffer(string: "x\r\n.\r\n"), isComplete: true))
        try harness.channel.close().wait()
        #expect(Self.outcome(end) == .failed(UpstreamError(kind: .closed, detail: "connection closed")))
    }

    @Test func unexpectedReplyClosesTheConnection() throws {
        let harness = try Harness.connected()
        try harness.receive("421 4.4.2 idle too long\r\n")
        #expect(!harness.channel.isActive)
    }

    @Test func malformedReplyFailsTheRequest() throws {
        let harness = try Harness.connected()
        let mail = harness.request(.mail(Self.envelope, pipelined: []))
        try? harness.receive("hello\r\n")
        guard case .failed(let error) = Self.outcome(mail) else {
            Issue.record("not failed")
            return
        }
        #expect(error.kind == .protocolViolation)
        #expect(!harness.channel.isActive)
    }

    @Test func oneRequestAtATime() throws {
        let harness = try Harness.connected()
        _ = harness.request(.mail(Self.envelope, pipelined: []))
        guard case .failed(let error) = Self.outcome(harness.request(.quit)) else {
            Issue.record("not failed")
            return
        }
        #expect(error.detail == "request while another is outstanding")
    }

    @Test func quitThenClose() throws {
        let harness = try Harness.connected()
        _ = try harness.writes()
        let quit = harness.request(.quit)
        #expect(try harness.writes() == ["QUIT\r\n"])
        harness.loop.advanceTime(by: .seconds(5))
        #expect(Self.disposition(quit) == .close)
        #expect(!harness.channel.isActive)
    }
}
