import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SMTPCore
import Testing

@testable import Configuration
@testable import GatewayServer

/// The pool used as a plain SMTP client, with no client session around it (how released
/// quarantine and notifications will send), against a scripted server on a real socket.
@Suite struct UpstreamPoolTests {
    @Test func sendsAWholeMessageAndReusesTheConnection() async throws {
        let server = try await ScriptedSMTPServer.start()
        var config = GatewayConfig.Upstream()
        config.startTLS = .none
        let pool = try UpstreamPool(target: HostPort(host: "127.0.0.1", port: server.port), config: config, heloName: "thugate.test")
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let logger = Logger(label: "test")
        var envelope = Envelope(
            heloName: "thugate.test",
            esmtp: true,
            sender: MailAddress("postmaster@thugate.test"),
            parameters: MailParameters(size: 40)
        )
        envelope.recipients = [MailAddress("b@quangninh.gov.vn"), MailAddress("unknown@quangninh.gov.vn")]
        let message = MessageBuffer(threshold: 1 << 20, spoolDirectory: "/tmp")
        try Array("Subject: notice\r\n\r\n.dot line\r\nlast".utf8).withUnsafeBytes { try message.append($0) }

        let first = await pool.send(envelope, header: "X-Test: 1\r\n", message: message, queueID: "Q1", eventLoop: loop, logger: logger)
        #expect(first.mail.code == 250)
        #expect(first.recipients.map(\.code) == [250, 550])
        #expect(first.message == Reply.parsing(code: 250, lines: ["2.0.0 queued"]))
        #expect(first.delivered)

        var refused = envelope
        refused.recipients = [MailAddress("unknown@quangninh.gov.vn")]
        let second = await pool.send(refused, message: message, queueID: "Q2", eventLoop: loop, logger: logger)
        #expect(second.recipients.map(\.code) == [550])
        #expect(second.message == nil)
        #expect(!second.delivered)

        await pool.shutdown()
        #expect(server.connections == 1)
        #expect(server.messages == ["X-Test: 1\r\nSubject: notice\r\n\r\n..dot line\r\nlast\r\n"])
        #expect(
            server.commands == [
                "EHLO thugate.test",
                "MAIL FROM:<postmaster@thugate.test> SIZE=1064", "RCPT TO:<b@quangninh.gov.vn>", "RCPT TO:<unknown@quangninh.gov.vn>",
                "DATA",
                "RSET", "MAIL FROM:<postmaster@thugate.test> SIZE=1064", "RCPT TO:<unknown@quangninh.gov.vn>", "DATA",
                "RSET", "QUIT",
            ]
        )
        try await server.stop()
    }

    @Test func transactionLostBeforeDataIsReplayedOnANewConnection() async throws {
        let server = try await ScriptedSMTPServer.start(dropAfterFirstRecipient: true)
        var config = GatewayConfig.Upstream()
        config.startTLS = .none
        let pool = try UpstreamPool(target: HostPort(host: "127.0.0.1", port: server.port), config: config, heloName: "thugate.test")
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let transaction = pool.beginTransaction(eventLoop: loop, logger: Logger(label: "test"))
        var envelope = Envelope(heloName: "c", esmtp: true, sender: MailAddress("a@quangninh.gov.vn"), parameters: MailParameters())
        let b = MailAddress("b@quangninh.gov.vn")
        #expect(await transaction.mail(envelope, then: [.recipient(b)]).map(\.code) == [250, 250])
        // The upstream hung up while the client was still talking: the message goes on a new
        // connection, MAIL and RCPT again first.
        envelope.recipients = [b]
        let message = MessageBuffer(threshold: 1 << 20, spoolDirectory: "/tmp")
        try Array("Subject: x\r\n\r\nbody\r\n".utf8).withUnsafeBytes { try message.append($0) }
        let reply = await transaction.data(envelope: envelope, header: "", message: message, queueID: "Q3")
        #expect(reply.code == 250)
        #expect(server.connections == 2)
        #expect(server.messages == ["Subject: x\r\n\r\nbody\r\n"])
        #expect(
            server.commands == [
                "EHLO thugate.test", "MAIL FROM:<a@quangninh.gov.vn>", "RCPT TO:<b@quangninh.gov.vn>",
                "EHLO thugate.test", "MAIL FROM:<a@quangninh.gov.vn>", "RCPT TO:<b@quangninh.gov.vn>", "DATA",
            ]
        )
        await pool.shutdown()
        try await server.stop()
    }
}

/// A small SMTP server: PIPELINING, SIZE; refuses recipients named `unknown`; records commands
/// and messages as they came on the wire (dot-stuffed).
final class ScriptedSMTPServer: Sendable {
    private let channel: any Channel
    private let state = NIOLockedValueBox<(commands: [String], messages: [String], connections: Int)>(([], [], 0))
    /// The first connection is closed right after the first RCPT's reply.
    private let dropAfterFirstRecipient: NIOLockedValueBox<Bool>
    var port: Int { channel.localAddress?.port ?? 0 }
    var commands: [String] { state.withLockedValue { $0.commands } }
    var messages: [String] { state.withLockedValue { $0.messages } }
    var connections: Int { state.withLockedValue { $0.connections } }

    private init(channel: any Channel, dropAfterFirstRecipient: Bool) {
        self.channel = channel
        self.dropAfterFirstRecipient = NIOLockedValueBox(dropAfterFirstRecipient)
    }

    static func start(dropAfterFirstRecipient: Bool = false) async throws -> ScriptedSMTPServer {
        let box = NIOLockedValueBox<ScriptedSMTPServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler(server: box.withLockedValue { $0! }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = ScriptedSMTPServer(channel: channel, dropAfterFirstRecipient: dropAfterFirstRecipient)
        box.withLockedValue { $0 = server }
        return server
    }

    func stop() async throws { try await channel.close() }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let server: ScriptedSMTPServer
        private var input = ""
        private var message: String?
        private var accepted = 0

        init(server: ScriptedSMTPServer) { self.server = server }

        func channelActive(context: ChannelHandlerContext) {
            server.state.withLockedValue { $0.connections += 1 }
            say("220 scripted.test ESMTP", context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            input += String(buffer: unwrapInboundIn(data))
            while let end = input.range(of: "\r\n") {
                let line = String(input[..<end.lowerBound])
                input.removeSubrange(..<end.upperBound)
                handle(line, context)
            }
        }

        private func handle(_ line: String, _ context: ChannelHandlerContext) {
            if var text = message {
                if line == "." {
                    server.state.withLockedValue { $0.messages.append(text) }
                    message = nil
                    say("250 2.0.0 queued", context)
                } else {
                    text += line + "\r\n"
                    message = text
                }
                return
            }
            server.state.withLockedValue { $0.commands.append(line) }
            switch line.prefix(4) {
            case "EHLO": say("250-scripted.test\r\n250-PIPELINING\r\n250 SIZE 1000000", context)
            case "MAIL":
                accepted = 0
                say("250 2.1.0 ok", context)
            case "RCPT":
                if line.contains("unknown") {
                    say("550 5.1.1 no such user", context)
                } else {
                    accepted += 1
                    say("250 2.1.5 ok", context)
                    if server.dropAfterFirstRecipient.withLockedValue({ drop in
                        defer { drop = false }
                        return drop
                    }) {
                        context.close(promise: nil)
                    }
                }
            case "DATA":
                if accepted > 0 {
                    message = ""
                    say("354 go ahead", context)
                } else {
                    say("554 5.5.1 no valid recipients", context)
                }
            case "RSET": say("250 2.0.0 reset", context)
            case "QUIT":
                say("221 2.0.0 bye", context)
                context.close(promise: nil)
            default: say("500 5.5.1 what", context)
            }
        }

        private func say(_ text: String, _ context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
        }
    }
}
