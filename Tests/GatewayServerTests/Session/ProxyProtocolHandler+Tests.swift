import Configuration
import NIOCore
import NIOEmbedded
import ProxyProtocol
import Testing

@testable import GatewayServer

/// The PROXY header handler on an `EmbeddedChannel`: what it lets through, what it closes, and
/// when (the clock is the embedded loop's).
@Suite struct ProxyProtocolHandlerTests {
    static let balancer = try! SocketAddress(ipAddress: "10.0.0.5", port: 40000)

    static func channel(peer: SocketAddress = balancer) throws -> (EmbeddedChannel, EventLoopFuture<ProxyHeader>) {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        // Added to a connected channel, as an accepted one is by the time its pipeline is set up.
        channel.remoteAddress = peer
        let promise = channel.eventLoop.makePromise(of: ProxyHeader.self)
        try channel.pipeline.syncOperations.addHandler(
            ProxyProtocolHandler(trusted: [IPNetwork("10.0.0.0/8")!], timeout: .seconds(5), header: promise)
        )
        return (channel, promise.futureResult)
    }

    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func theHeaderIsTakenAndTheRestPassedOnByteByByte() throws {
        let (channel, header) = try Self.channel()
        for byte in "PROXY TCP4 203.0.113.9 10.0.0.1 40123 25\r\nEHLO a".utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        let read = try header.wait()
        #expect(read.source == ProxyHeader.Endpoint(family: .inet4, address: "203.0.113.9", port: 40123))
        var passed = ""
        while let piece: ByteBuffer = try channel.readInbound() { passed += String(buffer: piece) }
        #expect(passed == "EHLO a")
        // Gone from the pipeline: later bytes pass untouched.
        try channel.writeInbound(Self.buffer("\r\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "\r\n")
        #expect(channel.isActive)
    }

    @Test func aPeerOutsideTheTrustedProxiesIsClosedAtOnce() throws {
        let (channel, header) = try Self.channel(peer: try SocketAddress(ipAddress: "192.0.2.1", port: 1))
        #expect(throws: (any Error).self) { try header.wait() }
        #expect(!channel.isActive)
    }

    @Test func noHeaderClosesWithoutPassingAByte() throws {
        let (channel, header) = try Self.channel()
        try channel.writeInbound(Self.buffer("EHLO client.example\r\n"))
        #expect(throws: (any Error).self) { try header.wait() }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(!channel.isActive)
    }

    @Test func aSilentBalancerIsClosedAfterTheTimeout() throws {
        let (channel, header) = try Self.channel()
        try channel.writeInbound(Self.buffer("PROXY TCP4 "))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(throws: (any Error).self) { try header.wait() }
        #expect(!channel.isActive)
    }
}
