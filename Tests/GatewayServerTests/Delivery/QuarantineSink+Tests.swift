import Configuration
import Foundation
import Logging
import Policy
import Quarantine
import SMTPCore
import Testing

@testable import GatewayServer

/// The proxy's hold path on the real SQLite store: the message is held once the store committed,
/// and a store that fails before its commit defers the message (451) and keeps nothing.
@Suite struct StoreQuarantineTests {
    static func withStore<T>(
        beforeCommit: (@Sendable () throws -> Void)? = nil,
        _ body: (SQLiteQuarantineStore) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(try SQLiteQuarantineStore(path: directory + "/q.sqlite", beforeCommit: beforeCommit))
    }

    static let text =
        "From: =?utf-8?b?VsSDbiB0aMaw?= <vanthu@example.vn>\r\nSubject: =?utf-8?q?B=C3=A1o_c=C3=A1o?=\r\n\t\u{1B}[2J quý\r\n"
        + "Message-ID: <1@example.vn>\r\n\r\nhello\r\n"

    /// A message past the memory threshold, so it is read from its spool file.
    static func heldMessage(_ threshold: Int = 16) throws -> InFlightMessage {
        let buffer = MessageBuffer(threshold: threshold, spoolDirectory: FileManager.default.temporaryDirectory.path)
        try Array(text.utf8).withUnsafeBytes { try buffer.append($0) }
        var message = InFlightMessage(buffer, outcome: AddedHeadersTests.outcome(recipients: ["x@y.z", "w@y.z"]))
        let finding = Finding(.encryptedArchive, detail: "a.zip", part: "2")
        message.inspected(verdict: .quarantine(finding), findings: [finding], rewritten: nil, transforms: [])
        return message
    }

    @Test(arguments: [16, 1 << 20]) func aHeldMessageIsInTheStoreWithItsHeadersAndEnvelope(threshold: Int) async throws {
        try await Self.withStore { store in
            let outcome = try await Self.heldMessage(threshold).hold(in: StoreQuarantine(store: store), logger: Logger(label: "test"))
            let all = try await store.messages(MessageQuery())
            #expect(all.count == 1)
            let held = try #require(all.first)
            #expect(outcome.disposition == .held(id: held.id, PolicyReplies.quarantined(held.id)))
            #expect(held.request.queueID == "0B1C2D3F4G5H")
            #expect(held.request.sender == "<a@b.c>" && held.request.recipients == ["<x@y.z>", "<w@y.z>"])
            #expect(held.request.clientAddress == "192.0.2.1" && held.request.helo == "mail.client" && held.request.node == "gw.test")
            #expect(held.request.headerFrom == "Văn thư <vanthu@example.vn>")
            #expect(held.request.subject == "Báo cáo  quý")
            #expect(held.request.messageID == "<1@example.vn>")
            // The rule's category from [quarantine.categories]; 30 days by default, no legal hold.
            #expect(held.request.category == "archive")
            #expect(held.request.expiresAt.timeIntervalSince(held.request.receivedAt) == 30 * 86400)
            #expect(held.request.legalHold == false)
            #expect(held.request.findings == [HeldFinding(rule: "encrypted-archive", detail: "a.zip", part: "2")])
            let collected = Bytes()
            try await store.readContent(of: held.id) { collected.append($0) }
            #expect(collected.bytes == Array(Self.text.utf8))
        }
    }

    @Test func aStoreThatFailsBeforeItsCommitDefersAndKeepsNothing() async throws {
        struct Injected: Error {}
        let failing: @Sendable () throws -> Void = { throw Injected() }
        try await Self.withStore(beforeCommit: failing) { store in
            let outcome = try await Self.heldMessage().hold(in: StoreQuarantine(store: store), logger: Logger(label: "test"))
            let finding = Finding(.encryptedArchive, detail: "a.zip", part: "2")
            #expect(outcome.disposition == .deferred(PolicyReplies.tempfail(finding)))
            #expect(outcome.disposition?.reply.code == 451)
            #expect(try await store.messages(MessageQuery()).isEmpty)
            #expect(try await store.audit(messageID: nil).isEmpty)
        }
    }

    @Test func categoryExpiryAndLegalHoldComeFromTheLifecycle() async throws {
        // The state-secret rule comes later: a configuration maps another rule to its category.
        var lifecycle = QuarantineLifecycle()
        lifecycle.categories["encrypted-archive"] = "state-secret"
        lifecycle.retention["state-secret"] = 5 * 86400
        try await Self.withStore { store in
            _ = try await Self.heldMessage().hold(in: StoreQuarantine(store: store, lifecycle: lifecycle), logger: Logger(label: "test"))
            let held = try #require(try await store.messages(MessageQuery()).first)
            #expect(held.request.category == "state-secret" && held.request.legalHold)
            #expect(held.request.expiresAt.timeIntervalSince(held.request.receivedAt) == 5 * 86400)
        }
    }
}

final class Bytes: @unchecked Sendable {
    // Only the store's read closure appends, and the test reads after it returned.
    var bytes: [UInt8] = []
    func append(_ chunk: UnsafeRawBufferPointer) { bytes.append(contentsOf: chunk) }
}
