import Configuration
import Inspection
import Logging
import MIMECore
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Policy
import SMTPCore
import Testing

@testable import GatewayServer

/// The session driver on a testing channel with a recording upstream and no rules: the replies
/// as the client reads them (order, what is written together), what reaches the upstream.
@Suite struct SMTPSessionTests {
    /// Records what the session asked of the upstream, in order.
    final class RecordingUpstream: Upstream {
        let log = NIOLockedValueBox<[String]>([])
        let mailReply: Reply

        init(mailReply: Reply = .senderOK) { self.mailReply = mailReply }

        func beginTransaction(eventLoop: any EventLoop, logger: Logger) -> any UpstreamTransaction {
            Transaction(upstream: self)
        }
        func shutdown() async {}
        var lastReached: NIODeadline? { nil }
        func probe(logger: Logger) async throws {}

        final class Transaction: UpstreamTransaction {
            let upstream: RecordingUpstream
            init(upstream: RecordingUpstream) { self.upstream = upstream }
            private func record(_ line: String) { upstream.log.withLockedValue { $0.append(line) } }

            func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply] {
                let early = pipelined.map { command -> String in
                    if case .recipient(let address) = command { return "RCPT \(address)" }
                    return "DATA"
                }
                record((["MAIL \(envelope.sender)"] + early).joined(separator: " + "))
                return [upstream.mailReply] + pipelined.map { $0 == .data ? .startData : .recipientOK }
            }
            func recipient(_ address: MailAddress) async -> Reply {
                record("RCPT \(address)")
                return .recipientOK
            }
            func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply {
                let body =
                    (try? message.messageBytes()).map { bytes in bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } } ?? ""
                record(
                    "MESSAGE to \(envelope.recipients.map(\.description).joined(separator: ",")) "
                        + "\(header.hasPrefix("Received: from c ([unknown])") ? "traced" : "untraced"): \(body)"
                )
                return .custom(250, EnhancedStatus(2, 0, 0), "queued")
            }
            func abort() async { record("ABORT") }
        }
    }

    /// A client on a testing channel and the session serving it.
    struct Harness {
        let channel: NIOAsyncTestingChannel
        let upstream: RecordingUpstream
        let shuttingDown: NIOLockedValueBox<Bool>
        let done: Task<Void, any Error>

        /// `actions`: rules that are not off (config key → action); `extra`: more configuration text.
        init(
            upstream: RecordingUpstream = RecordingUpstream(),
            maxRecipients: Int = 100,
            actions: [String: String] = [:],
            extra: String = "",
            quarantine: (any QuarantineSink)? = nil
        ) async throws {
            let rulesOff = RuleCatalog.all.map { "\($0.configKey) = \"\(actions[$0.configKey] ?? "off")\"" }.joined(separator: "\n")
            var config = try GatewayConfig.parse("[policy]\n\(rulesOff)\n[text]\nnormalize = false\n\(extra)")
            config.server.hostname = "gw.test"
            config.server.maxRecipients = maxRecipients
            let server = config.server
            let context = GatewayContext(
                config: config,
                sessionConfiguration: SessionConfiguration(
                    hostname: server.hostname,
                    maxMessageSize: server.maxMessageSize,
                    maxRecipients: server.maxRecipients
                ),
                upstream: upstream,
                inspector: try MessageInspector(settings: config.inspection),
                quarantine: quarantine,
                verdicts: nil,
                tlsContext: nil,
                logger: Logger(label: "test")
            )
            let channel = NIOAsyncTestingChannel()
            let asyncChannel = try await channel.testingEventLoop.executeInContext {
                try channel.pipeline.syncOperations.addHandler(StartTLSGate())
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
            let shuttingDown = NIOLockedValueBox(false)
            self.channel = channel
            self.upstream = upstream
            self.shuttingDown = shuttingDown
            self.done = Task {
                try await asyncChannel.executeThenClose { inbound, _ in
                    let session = SMTPSession(
                        channel: asyncChannel,
                        clientAddress: asyncChannel.channel.remoteAddress?.ipAddress ?? "unknown",
                        inbound: inbound,
                        deadline: ClientDeadline(),
                        context: context,
                        isShuttingDown: { shuttingDown.withLockedValue { $0 } }
                    )
                    await session.run()
                }
            }
        }

        /// The next write the client receives.
        func read() async throws -> String {
            String(buffer: try await channel.waitForOutboundWrite(as: ByteBuffer.self))
        }

        /// Sends bytes and returns the next write the client receives.
        func send(_ text: String) async throws -> String {
            try await channel.writeInbound(ByteBuffer(string: text))
            return try await read()
        }

        var upstreamLog: [String] { upstream.log.withLockedValue { $0 } }
    }

    private static let ehlo = Reply(
        code: 250,
        status: nil,
        lines: [
            "gw.test Xin chào / Hello", "SIZE 36700160", "PIPELINING",
            "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "HELP",
        ]
    ).wireText

    @Test func aPipelinedBurstIsAnsweredInOneWriteAndGoesUpstreamInOne() async throws {
        let client = try await Harness()
        #expect(try await client.read() == "220 gw.test ESMTP ThuGate\r\n")
        let replies = try await client.send("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<y@y.z>\r\nDATA\r\n")
        #expect(
            replies == Self.ehlo + Reply.senderOK.wireText + Reply.recipientOK.wireText + Reply.recipientOK.wireText
                + Reply.startData.wireText
        )
        #expect(try await client.send("Subject: t\r\n\r\nbody\r\n.\r\n") == "250 2.0.0 queued\r\n")
        #expect(try await client.send("QUIT\r\n") == Reply.closing.wireText)
        try await client.done.value
        #expect(
            client.upstreamLog == [
                "MAIL <a@b.c> + RCPT <x@y.z> + RCPT <y@y.z> + DATA",
                "MESSAGE to <x@y.z>,<y@y.z> traced: Subject: t\r\n\r\nbody\r\n",
            ]
        )
    }

    @Test func aRecipientTheSessionRefusesNeverReachesTheUpstream() async throws {
        let client = try await Harness(maxRecipients: 1)
        _ = try await client.read()
        let replies = try await client.send("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<thư@bộ.vn>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<y@y.z>\r\n")
        #expect(
            replies == Self.ehlo + Reply.senderOK.wireText + Reply.smtpUTF8Required.wireText + Reply.recipientOK.wireText
                + Reply.tooManyRecipients.wireText
        )
        #expect(try await client.send("RSET\r\n") == Reply.resetOK.wireText)
        #expect(client.upstreamLog == ["MAIL <a@b.c>", "RCPT <x@y.z>", "ABORT"])
    }

    @Test func mailRefusedUpstreamIsAbortedAndItsRecipientsNeedMail() async throws {
        let refused = Reply.custom(550, EnhancedStatus(5, 7, 1), "sender refused")
        let client = try await Harness(upstream: RecordingUpstream(mailReply: refused))
        _ = try await client.read()
        let replies = try await client.send("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n")
        #expect(replies == Self.ehlo + refused.wireText + Reply.needMail.wireText + Reply.needMail.wireText)
        #expect(client.upstreamLog == ["MAIL <a@b.c> + RCPT <x@y.z> + DATA", "ABORT"])
    }

    @Test func aShutdownClosesASessionBetweenTransactionsAfterItsReply() async throws {
        let client = try await Harness()
        _ = try await client.read()
        #expect(try await client.send("EHLO c\r\n") == Self.ehlo)
        client.shuttingDown.withLockedValue { $0 = true }
        #expect(try await client.send("NOOP\r\n") == Reply.ok.wireText + Reply.shuttingDown.wireText)
        try await client.done.value
    }

    @Test func aShutdownLetsTheMessageInFlightFinish() async throws {
        let client = try await Harness()
        _ = try await client.read()
        _ = try await client.send("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\n")
        client.shuttingDown.withLockedValue { $0 = true }
        #expect(try await client.send("DATA\r\n") == Reply.startData.wireText)
        #expect(try await client.send("Subject: t\r\n\r\n.\r\n") == "250 2.0.0 queued\r\n" + Reply.shuttingDown.wireText)
        try await client.done.value
        #expect(client.upstreamLog == ["MAIL <a@b.c> + RCPT <x@y.z>", "MESSAGE to <x@y.z> traced: Subject: t\r\n\r\n"])
    }

    /// Keeps the outcomes it is handed instead of the messages.
    final class RecordingQuarantine: QuarantineSink {
        let outcomes = NIOLockedValueBox<[MessageOutcome]>([])
        func hold(_ message: MessageBuffer, outcome: MessageOutcome) async throws -> String {
            outcomes.withLockedValue { $0.append(outcome) }
            return outcome.queueID
        }
    }

    @Test func theOutcomeNamesTheAgenciesOfSenderAndRecipients() async throws {
        let quarantine = RecordingQuarantine()
        let agencies = """
            [[agency]]
            id = "quangninh"
            name = "UBND tỉnh Quảng Ninh"
            domains = ["quangninh.gov.vn"]
            [[agency]]
            id = "quan4"
            name = "UBND Quận 4"
            domains = ["tphcm.gov.vn"]
            local_part_suffixes = [".q4"]
            """
        let client = try await Harness(actions: ["malformed": "quarantine"], extra: agencies, quarantine: quarantine)
        _ = try await client.read()
        _ = try await client.send("EHLO c\r\nMAIL FROM:<An@QuangNinh.gov.vn>\r\nRCPT TO:<b.q4@tphcm.gov.vn>\r\nRCPT TO:<c@gmail.com>\r\n")
        #expect(try await client.send("DATA\r\n") == Reply.startData.wireText)
        // A message/partial fragment is malformed, which this configuration holds.
        let reply = try await client.send("Subject: t\r\nContent-Type: message/partial; id=\"x\"; number=1; total=2\r\n\r\nhalf\r\n.\r\n")
        #expect(reply.hasPrefix("250 "), "\(reply)")
        let outcomes = quarantine.outcomes.withLockedValue { $0 }
        #expect(outcomes.count == 1)
        let parties = try #require(outcomes.first).parties
        #expect(parties.senderAgency == "quangninh")
        #expect(parties.recipientAgencies == ["quan4", nil])
        #expect(parties.direction == .outbound)
        #expect(parties.recipients.map(\.stateIssued) == [true, false])
    }
}
