import Configuration
import Foundation
import Logging
import MIMECore
import NIOConcurrencyHelpers
import NIOCore
import Policy
import Quarantine
import SMTPCore
import Testing

@testable import GatewayServer

/// The notice service on the real store with a recording upstream and an injected clock: a
/// digest goes out once per address and day at its time, a refusal's notices go in with its
/// verdict entry, and what the upstream refuses for good is dead.
@Suite struct NoticeServiceTests {
    /// An upstream that records each message and answers the final dot with `reply`.
    final class Recording: Upstream, @unchecked Sendable {
        // Unchecked: `state` is locked.
        let state = NIOLockedValueBox<(messages: [(to: [String], bytes: [UInt8])], reply: Reply)>(
            ([], .custom(250, EnhancedStatus(2, 0, 0), "ok"))
        )
        var messages: [(to: [String], bytes: [UInt8])] { state.withLockedValue { $0.messages } }

        func beginTransaction(eventLoop: any EventLoop, logger: Logger) -> any UpstreamTransaction { Transaction(upstream: self) }
        func shutdown() async {}
        var lastReached: NIODeadline? { nil }
        func probe(logger: Logger) async throws {}

        final class Transaction: UpstreamTransaction {
            let upstream: Recording
            init(upstream: Recording) { self.upstream = upstream }
            func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply] {
                [.senderOK] + pipelined.map { $0 == .data ? .startData : .recipientOK }
            }
            func recipient(_ address: MailAddress) async -> Reply { .recipientOK }
            func abort() async {}
            func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply {
                let bytes = (try? message.messageBytes().asArray) ?? []
                return upstream.state.withLockedValue { state in
                    if state.reply.code == 250 { state.messages.append((envelope.recipients.map(\.address), Array(header.utf8) + bytes)) }
                    return state.reply
                }
            }
        }
    }

    final class Clock: @unchecked Sendable {
        // Unchecked: `now` is locked.
        let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_796_086_799))  // 07:59:59 +07:00
        func advance(_ seconds: TimeInterval) { now.withLockedValue { $0 += seconds } }
    }

    static func withService(
        mode: NotifySettings.Mode,
        _ body: (NoticeService, SQLiteQuarantineStore, Recording, Clock, NoticePlanner) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteQuarantineStore(path: directory + "/q.sqlite")
        var settings = NotifySettings()
        settings.rules = ["encrypted-archive": .init(to: [.officer], mode: mode), "virus": .init(to: [.officer], mode: mode)]
        let planner = NoticePlanner(settings: settings, agencies: NoticePlannerTests.agencies)
        let upstream = Recording()
        let clock = Clock()
        let service = NoticeService(
            store: store,
            upstream: upstream,
            composer: try NoticeComposerTests.composer(),
            settings: settings,
            upstreamSettings: GatewayConfig().upstream,
            node: "test",
            spoolDirectory: directory,
            logger: Logger(label: "test"),
            now: { clock.now.withLockedValue { $0 } }
        )
        try await body(service, store, upstream, clock, planner)
    }

    static func hold(_ store: SQLiteQuarantineStore, _ planner: NoticePlanner, at now: Date, subject: String) async throws {
        let outcome = NoticePlannerTests.outcome(sender: "a@example.com", recipients: ["lanhdao@quangninh.gov.vn"])
        var request = QuarantineStoreTestsRequest.make(at: now)
        request.notices = planner.notices(for: outcome, .held, headerFrom: nil, subject: subject, now: now)
        _ = try await store.hold(request, content: HeldBytes(Array("Subject: x\r\n\r\nsecret body\r\n".utf8)))
    }

    @Test func aDaysNoticesGoOutAsOneDigestAtItsTime() async throws {
        try await Self.withService(mode: .digest) { service, store, upstream, clock, planner in
            let now = clock.now.withLockedValue { $0 }
            try await Self.hold(store, planner, at: now.addingTimeInterval(-3600), subject: "Một")
            try await Self.hold(store, planner, at: now.addingTimeInterval(-60), subject: "Hai")
            #expect(await service.runOnce() == 0)  // 07:59:59: not yet
            clock.advance(1)  // 08:00:00
            try await Self.hold(store, planner, at: clock.now.withLockedValue { $0 }, subject: "Ba")  // tomorrow's
            #expect(await service.runOnce() == 2)
            #expect(await service.runOnce() == 0)
            #expect(upstream.messages.count == 1 && upstream.messages[0].to == ["antoan@quangninh.gov.vn"])
            let body = NoticeComposerTests.body(upstream.messages[0].bytes)
            #expect(body.contains("Một") && body.contains("Hai") && !body.contains("Ba") && !body.contains("secret body"))
            #expect(try await store.notices(NoticeQuery(states: [.sent])).count == 2)
            clock.advance(86400)
            #expect(await service.runOnce() == 1)
            #expect(upstream.messages.count == 2 && NoticeComposerTests.body(upstream.messages[1].bytes).contains("Ba"))
        }
    }

    @Test func aRefusalsNoticesAreWrittenWithItsVerdictEntry() async throws {
        try await Self.withService(mode: .immediate) { service, store, upstream, clock, planner in
            let recorder = VerdictRecorder(log: store, logger: Logger(label: "test"), planner: planner, wake: { service.wake() })
            var outcome = NoticePlannerTests.outcome(sender: "a@example.com", recipients: ["lanhdao@quangninh.gov.vn"], rule: .virus)
            outcome.disposition = .refused(.custom(554, EnhancedStatus(5, 7, 0), "virus"))
            outcome.subject = "Bảng lương"
            recorder.record(outcome, at: clock.now.withLockedValue { $0 })
            #expect(try await store.notices(NoticeQuery()).isEmpty)  // not yet flushed
            await recorder.flush()
            let written = try await store.notices(NoticeQuery())
            #expect(written.count == 1 && written[0].messageID == nil && written[0].request.event.outcome == "refused")
            #expect(await service.runOnce() == 1)
            let body = NoticeComposerTests.body(try #require(upstream.messages.first).bytes)
            #expect(body.contains("Bảng lương") && !body.contains("thugate quarantine show"))
        }
    }

    @Test func aPermanentRefusalIsDeadAndATemporaryOneComesBackAfterItsWait() async throws {
        try await Self.withService(mode: .immediate) { service, store, upstream, clock, planner in
            upstream.state.withLockedValue { $0.reply = .custom(451, EnhancedStatus(4, 3, 0), "later") }
            try await Self.hold(store, planner, at: clock.now.withLockedValue { $0 }, subject: "x")
            #expect(await service.runOnce() == 1)
            #expect(try await store.notices(NoticeQuery(states: [.pending])).first?.lastReply?.hasPrefix("451") == true)
            clock.advance(59)
            #expect(await service.runOnce() == 0)  // the first wait is a minute
            clock.advance(1)
            upstream.state.withLockedValue { $0.reply = .custom(550, EnhancedStatus(5, 1, 1), "no such user") }
            #expect(await service.runOnce() == 1)
            let dead = try await store.notices(NoticeQuery(states: [.dead]))
            #expect(dead.count == 1 && dead[0].attempts == 2 && upstream.messages.isEmpty)
        }
    }
}

/// A hold request for the service tests (the QuarantineTests target's helper is not visible here).
enum QuarantineStoreTestsRequest {
    static func make(at date: Date) -> HoldRequest {
        HoldRequest(
            queueID: "0B1C2D3F4G5H",
            node: "gw.test",
            receivedAt: date,
            clientAddress: "192.0.2.1",
            helo: "mail.client",
            sender: "<a@example.com>",
            recipients: ["<lanhdao@quangninh.gov.vn>"],
            findings: [HeldFinding(rule: "encrypted-archive", detail: "a.zip", part: "2")],
            category: "encrypted-archive",
            expiresAt: date.addingTimeInterval(86400)
        )
    }
}
