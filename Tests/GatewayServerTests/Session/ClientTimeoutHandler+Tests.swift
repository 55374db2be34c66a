import NIOCore
import NIOEmbedded
import SMTPCore
import Testing

@testable import GatewayServer

/// The client side's one timer, on the embedded loop's clock: a client silent past the
/// deadline its session set is cut off with 421 4.4.2; while ThuGate is busy nobody is.
@Suite struct ClientTimeoutHandlerTests {
    private func connected() throws -> (EmbeddedChannel, ClientDeadline) {
        let deadline = ClientDeadline()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ClientTimeoutHandler(deadline: deadline))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        return (channel, deadline)
    }

    private func written(_ channel: EmbeddedChannel) throws -> String? {
        try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }
    }

    @Test func aClientSilentPastItsDeadlineIsCutOff() throws {
        let (channel, deadline) = try connected()
        let loop = channel.embeddedEventLoop
        deadline.wait(ClientWait(deadline: loop.now + .seconds(300), betweenTransactions: true))
        loop.advanceTime(by: .seconds(299))
        #expect(try written(channel) == nil)
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(try written(channel) == Reply.commandTimeout.wireText)
        #expect(!channel.isActive)
    }

    @Test func nobodyIsCutOffWhileThuGateIsBusy() throws {
        let (channel, deadline) = try connected()
        let loop = channel.embeddedEventLoop
        deadline.wait(ClientWait(deadline: loop.now + .seconds(5), betweenTransactions: false))
        deadline.busy()
        loop.advanceTime(by: .hours(1))
        #expect(try written(channel) == nil)
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func aDeadlineMovedLaterIsTheOneThatCounts() throws {
        let (channel, deadline) = try connected()
        let loop = channel.embeddedEventLoop
        deadline.wait(ClientWait(deadline: loop.now + .seconds(10), betweenTransactions: false))
        loop.advanceTime(by: .seconds(5))
        // The client spoke; the session waits again from now.
        deadline.wait(ClientWait(deadline: loop.now + .seconds(10), betweenTransactions: false))
        loop.advanceTime(by: .seconds(6))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(4))
        #expect(try written(channel) == Reply.commandTimeout.wireText)
        #expect(!channel.isActive)
    }

    @Test func aDeadlineSetWhileBusyIsSeenWithinASecond() throws {
        let (channel, deadline) = try connected()
        let loop = channel.embeddedEventLoop
        loop.advanceTime(by: .milliseconds(1500))
        // Already past when it is set: the next look cuts the client off.
        deadline.wait(ClientWait(deadline: loop.now, betweenTransactions: false))
        loop.advanceTime(by: ClientTimeoutHandler.busyRecheck)
        #expect(!channel.isActive)
    }

    @Test func onlyASessionWaitingBetweenTransactionsIsIdleForShutdown() {
        let deadline = ClientDeadline()
        #expect(!deadline.isIdleBetweenTransactions)
        deadline.wait(ClientWait(deadline: .uptimeNanoseconds(1), betweenTransactions: true))
        #expect(deadline.isIdleBetweenTransactions)
        #expect(deadline.current == .uptimeNanoseconds(1))
        deadline.busy()
        #expect(!deadline.isIdleBetweenTransactions)
        #expect(deadline.current == nil)
        deadline.wait(ClientWait(deadline: .uptimeNanoseconds(1), betweenTransactions: false))
        #expect(!deadline.isIdleBetweenTransactions)
    }
}

/// STARTTLS: the 220 goes out in plaintext, the new handler goes first, and a marker tells the
/// session where the plaintext sent too early ends.
@Suite struct StartTLSGateTests {
    /// Records what reaches the session, the marker included.
    final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var reads: [String] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            reads.append(String(buffer: unwrapInboundIn(data)))
        }
    }

    /// Stands in for the TLS handler: passes bytes on unchanged, tagged so they can be told apart.
    final class Tagger: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let text = buffer.readString(length: buffer.readableBytes) ?? ""
            context.fireChannelRead(wrapInboundOut(ByteBuffer(string: "tls:" + text)))
        }
    }

    @Test func emptyReadsNeverReachTheSessionOutsideTheSwitch() throws {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([StartTLSGate(), recorder])
        try channel.writeInbound(ByteBuffer(string: "EHLO c\r\n"))
        try channel.writeInbound(ByteBuffer())
        #expect(recorder.reads == ["EHLO c\r\n"])
    }

    @Test func theReplyIsWrittenBeforeTheSwitchAndTheMarkerFollowsWhatCameBefore() throws {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([StartTLSGate(), recorder])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        // Plaintext the client sent right behind STARTTLS, before the switch.
        try channel.writeInbound(ByteBuffer(string: "MAIL FROM:<evil@x>\r\n"))
        let switched = StartTLSGate.start(on: channel, reply: ByteBuffer(string: Reply.readyToStartTLS.wireText)) { Tagger() }
        channel.embeddedEventLoop.run()
        try switched.wait()
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == Reply.readyToStartTLS.wireText)
        try channel.writeInbound(ByteBuffer(string: "EHLO c\r\n"))
        // The session drops everything up to the marker ("") and reads on through TLS.
        #expect(recorder.reads == ["MAIL FROM:<evil@x>\r\n", "", "tls:EHLO c\r\n"])
        _ = try channel.finish()
    }
}
