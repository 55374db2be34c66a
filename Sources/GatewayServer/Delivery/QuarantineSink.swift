public import Configuration
public import Foundation
import MIMECore
import NIOCore
import Policy
public import Quarantine
import SMTPCore

/// Where held messages go, out of the mail flow until someone reviews them. A message counts
/// as held only once ``hold(_:outcome:)`` returned: only then does the client get 250.
public protocol QuarantineSink: Sendable {
    /// Stores the message durably with what is known about it (its outcome, the disposition
    /// not yet set); returns the id it is held under. Throws when it could not be stored: the
    /// message is then deferred.
    func hold(_ message: MessageBuffer, outcome: MessageOutcome) async throws -> String
}

/// The quarantine store (`[quarantine] database`) as the proxy's sink: the message's original
/// bytes, as the client sent them, with its envelope, headers and findings in rows; held under
/// the store's id once the store's transaction committed.
public struct StoreQuarantine: QuarantineSink {
    public let store: any QuarantineStore
    /// The category of each rule's hold, each category's retention and legal hold (`[quarantine]`).
    public var lifecycle: QuarantineLifecycle

    /// Decides the notices written with each hold (nil: none).
    public var planner: NoticePlanner?
    /// Called once a hold with notices committed (wakes the notice service).
    public var wake: (@Sendable () -> Void)?

    public init(
        store: any QuarantineStore,
        lifecycle: QuarantineLifecycle = QuarantineLifecycle(),
        planner: NoticePlanner? = nil,
        wake: (@Sendable () -> Void)? = nil
    ) {
        self.store = store
        self.lifecycle = lifecycle
        self.planner = planner
        self.wake = wake
    }

    public func hold(_ message: MessageBuffer, outcome: MessageOutcome) async throws -> String {
        var request = try Self.request(outcome, header: message.prefix(maxLength: Self.headerBytes), now: Date(), lifecycle: lifecycle)
        // The notices go into the outbox in the hold's own transaction: nothing else on the reply path.
        if let planner {
            // A refused message's copy (`keep_refused`) is told of as refused, with its id.
            let result: NoticePlanner.Result = if case .reject? = outcome.verdict { .refusedKept } else { .held }
            request.notices = planner.notices(
                for: outcome,
                result,
                headerFrom: request.headerFrom,
                subject: request.subject,
                now: request.receivedAt
            )
        }
        // The session owns `message` and waits here: no other thread touches it meanwhile.
        let id = try await store.hold(request, content: BufferContent(buffer: message)).id
        if !request.notices.isEmpty { wake?() }
        return id
    }

    /// At most this much of the message is parsed for From, Subject and Message-ID.
    static let headerBytes = 256 * 1024

    /// The store's row for the message: its envelope and findings from `outcome`, From,
    /// Subject (RFC 2047 decoded) and Message-ID from the header section in `header`; its
    /// category (the deciding finding's rule's), expiry and legal hold from `lifecycle`.
    static func request(_ outcome: MessageOutcome, header: [UInt8], now: Date, lifecycle: QuarantineLifecycle) -> HoldRequest {
        let fields = headerFields(header)
        let finding = outcome.verdict?.finding
        let rules = outcome.findings.map(\.rule.rawValue)
        let decided = lifecycle.classify(decidingRule: finding?.rule.rawValue ?? rules.first, findingRules: rules, at: now)
        return HoldRequest(
            queueID: outcome.queueID,
            node: outcome.hostname,
            receivedAt: now,
            clientAddress: outcome.client.address,
            helo: outcome.client.heloName,
            sender: outcome.envelope.sender.description,
            recipients: outcome.envelope.recipients.map(\.description),
            headerFrom: fields.from,
            subject: fields.subject,
            messageID: fields.messageID,
            findings: outcome.findings.map { HeldFinding(rule: $0.rule.rawValue, detail: $0.detail, part: $0.part) },
            category: decided.category,
            expiresAt: decided.expiresAt,
            legalHold: decided.legalHold
        )
    }

    /// `From` and `Subject` (RFC 2047 decoded) and `Message-ID` of the header section at the
    /// start of `header` (a message's first bytes).
    public static func headerFields(_ header: [UInt8]) -> (from: String?, subject: String?, messageID: String?) {
        var from: String?
        var subject: String?
        var messageID: String?
        header.withUnsafeBytes { bytes in
            var defects: [MIMEDefect] = []
            let section = HeaderSection.parse(bytes, from: 0, to: bytes.count, limits: MIMELimits(), defects: &defects)
            func value(_ name: String) -> String? {
                section.fields(named: name).first.map { String(decoding: $0.unfoldedValue(in: bytes), as: UTF8.self) }
            }
            from = value("From").map(EncodedWords.decode)
            subject = value("Subject").map(EncodedWords.decode)
            messageID = value("Message-ID")
        }
        return (from, subject, messageID)
    }
}

/// A ``MessageBuffer`` read by the store, chunk by chunk, from memory or its spool file.
private struct BufferContent: HeldContent, @unchecked Sendable {
    // Unchecked: the session that owns the buffer awaits the store's hold, so only the store's
    // writer reads it meanwhile, and nothing writes it.
    let buffer: MessageBuffer

    var size: Int { buffer.size }

    func forEachChunk(maxLength: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try buffer.forEachChunkBlocking(chunkSize: maxLength, allocator: ByteBufferAllocator()) { chunk in
            try chunk.withUnsafeReadableBytes { try body($0) }
        }
    }
}
