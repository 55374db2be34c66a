import Configuration
import Foundation
import Histogram
import NIOCore
import NIOPosix
import SMTPCore

/// The end-to-end bench: SMTP clients on `connections` connections, each sending up to
/// `perConnection` messages before QUIT and a new connection, the corpus round robin, until the
/// plan is used up. Every message's latency is MAIL sent to the reply that ended it (the reply
/// after the final dot, or the refusal of MAIL, of every RCPT or of DATA).
/// - SeeAlso: RFC 5321 §3.3 (a mail transaction), RFC 2920 (pipelining, used when advertised).
struct LoadBench: Sendable {
    /// How much load to send.
    enum Plan: Sendable, Equatable {
        /// This many messages in all, every one measured.
        case messages(Int)
        /// Send for `warmUp` (not measured), then for `measured`; messages in flight at the end finish.
        case duration(warmUp: Duration, measured: Duration)
    }

    /// One corpus message ready to send: its envelope and its dot-stuffed bytes with the final dot.
    struct Prepared: Sendable {
        var sender: String
        var recipients: [String]
        var data: ByteBuffer
        var bytes: Int
        var needsSMTPUTF8: Bool
        var eightBit: Bool
    }

    /// Used when the corpus has no manifest, or its entry names no envelope (as `thugate-load` did).
    static let defaultSender = "load@quangninh.gov.vn"
    static let defaultRecipient = "sink@quangninh.gov.vn"

    let prepared: [Prepared]
    let server: HostPort
    let connections: Int
    let perConnection: Int
    let plan: Plan
    let timeout: Duration
    /// `--hold`: how long every connection is held idle before the burst (nil: no hold).
    var hold: Duration? = nil

    /// Reads every corpus message into memory first, so that the client's disk reads and
    /// dot-stuffing are not in the measurement.
    init(corpus: BenchCorpus, server: HostPort, connections: Int, perConnection: Int, plan: Plan, timeout: Duration) throws {
        prepared = try corpus.messages.map { message in
            guard let bytes = FileManager.default.contents(atPath: message.path) else {
                throw FileError(message: "cannot read \(message.path)")
            }
            return Self.prepare([UInt8](bytes), entry: message.entry)
        }
        self.server = server
        self.connections = connections
        self.perConnection = perConnection
        self.plan = plan
        self.timeout = timeout
    }

    static func prepare(_ bytes: [UInt8], entry: ManifestEntry?) -> Prepared {
        let sender = entry?.mailFrom.map(ScanEnvelope.bare) ?? defaultSender
        let recipients = entry.map { $0.rcptTo.map(ScanEnvelope.bare).filter { !$0.isEmpty } } ?? []
        var data = ByteBuffer()
        var stuffer = DotStuffer()
        stuffer.encode(ByteBuffer(bytes: bytes), into: &data)
        stuffer.finish(into: &data)
        let all = recipients.isEmpty ? [defaultRecipient] : recipients
        return Prepared(
            sender: sender,
            recipients: all,
            data: data,
            bytes: bytes.count,
            needsSMTPUTF8: ([sender] + all).contains { $0.utf8.contains { $0 >= 0x80 } },
            eightBit: bytes.contains { $0 >= 0x80 }
        )
    }

    struct Result: Sendable {
        var tally: LoadTally
        var elapsed: Duration
        /// Messages started, the warm-up's included (what the gateway's CPU time was spent on).
        var started: Int
        /// The idle phase, with `--hold`.
        var hold: HoldFigures? = nil
    }

    /// `gatewayRSS`: the local gateway's RSS in MiB now (read at the end of a hold).
    func run(gatewayRSS: @escaping @Sendable () -> Double? = { nil }) async -> Result {
        let state = PlanState(plan: plan, count: prepared.count)
        let gate = hold.map { _ in HoldGate(connections: connections) }
        let progress = BenchProgress(
            label: "thugate bench",
            total: { if case .messages(let count) = plan { return count } else { return nil } }(),
            done: { state.taken }
        )
        let began = ContinuousClock.now
        let (tally, figures) = await withTaskGroup(of: (LoadTally?, HoldFigures?).self) { group in
            for _ in 0..<connections {
                group.addTask { (await self.client(state, gate: gate), nil) }
            }
            if let gate, let hold {
                group.addTask {
                    let idle = await gate.waitForAll(until: began + self.timeout)
                    let established = ContinuousClock.now - began
                    try? await Task.sleep(for: hold)
                    let rss = gatewayRSS()
                    gate.open()
                    return (
                        nil,
                        HoldFigures(
                            idleConnections: idle,
                            establishSeconds: OfflineReport.seconds(established),
                            holdSeconds: OfflineReport.seconds(hold),
                            idleRSSMB: rss
                        )
                    )
                }
            }
            var all = LoadTally()
            var figures: HoldFigures?
            for await (tally, hold) in group {
                if let tally { all.merge(tally) }
                if let hold { figures = hold }
            }
            return (all, figures)
        }
        progress.stop()
        // After a hold, the burst is timed from the gate's opening.
        let from = gate?.openedAt ?? state.measuredFrom
        return Result(tally: tally, elapsed: ContinuousClock.now - from, started: state.taken, hold: figures)
    }

    /// One client: a connection after another until the plan is used up. With a hold gate, the
    /// first connection waits at it after EHLO.
    private func client(_ state: PlanState, gate: HoldGate?) async -> LoadTally {
        var tally = LoadTally()
        var gate = gate
        while let first = state.next() {
            defer { gate = nil }
            if await !connection(first: first, state, gate: gate, into: &tally) {
                // Connection refused or reset: do not spin on a server that is not there.
                try? await Task.sleep(for: .milliseconds(20))
            }
            // A first connection that never reached the gate: the next one waits for the burst too.
            if let gate { await gate.waitUntilOpen() }
        }
        return tally
    }

    /// Sends `first` and up to `perConnection - 1` more on one connection; false when it could not connect.
    private func connection(first: Int, _ state: PlanState, gate: HoldGate?, into tally: inout LoadTally) async -> Bool {
        let clock = ContinuousClock()
        var pending: (index: Int, started: ContinuousClock.Instant)? = (first, clock.now)
        var connected = false
        var atGate = false
        defer { if let gate, !atGate { gate.arriveWithoutWaiting() } }
        do {
            let timeout = TimeAmount.nanoseconds(
                Int64(self.timeout.components.seconds) * 1_000_000_000 + self.timeout.components.attoseconds / 1_000_000_000
            )
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: server.host, port: server.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: timeout), ReplyTimeoutHandler(), ByteToMessageHandler(SMTPReplyDecoder()),
                        ])
                        return try NIOAsyncChannel<Reply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            connected = true
            try await channel.executeThenClose { inbound, outbound in
                var replies = inbound.makeAsyncIterator()
                func next() async throws -> Reply {
                    guard let reply = try await replies.next() else { throw LoadError.closed }
                    return reply
                }
                let greeting = try await next()
                guard greeting.code == 220 else {
                    // Refused at connect (too many connections, say): the message ends with that reply.
                    if let (_, started) = pending, state.measures(started) {
                        tally.record(reply: greeting.code, bytes: prepared[first].bytes, latencyMicros: Self.micros(clock.now - started))
                    }
                    pending = nil
                    return
                }
                try await outbound.write(ByteBuffer(string: "EHLO bench.thugate.test\r\n"))
                var ehlo = try await next()
                if ehlo.code != 250 {
                    try await outbound.write(ByteBuffer(string: "HELO bench.thugate.test\r\n"))
                    ehlo = try await next()
                }
                let features = Set(ehlo.lines.dropFirst().compactMap { $0.split(separator: " ").first.map { $0.uppercased() } })
                if let gate {
                    atGate = true
                    await gate.arriveAndWait()
                }
                var sent = 0
                while let (index, _) = pending {
                    let started = clock.now
                    pending = (index, started)
                    let code = try await transaction(prepared[index], features: features, outbound: outbound, next: next)
                    pending = nil
                    if state.measures(started) {
                        tally.record(reply: code, bytes: prepared[index].bytes, latencyMicros: Self.micros(clock.now - started))
                    }
                    sent += 1
                    // 421: the server is closing the connection (RFC 5321 §3.8); the next message goes on a new one.
                    guard code != 421, sent < perConnection, let following = state.next() else { break }
                    pending = (following, clock.now)
                }
                try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
                _ = try? await next()
            }
        } catch {
            if let (_, started) = pending, state.measures(started) { tally.record(error: Self.reason(error, connected: connected)) }
        }
        return connected
    }

    /// One mail transaction; the reply code that ended it.
    private func transaction(
        _ message: Prepared,
        features: Set<String>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        next: () async throws -> Reply
    ) async throws -> Int {
        var mail = "MAIL FROM:<\(message.sender)>"
        if message.eightBit && features.contains("8BITMIME") { mail += " BODY=8BITMIME" }
        if message.needsSMTPUTF8 && features.contains("SMTPUTF8") { mail += " SMTPUTF8" }
        mail += "\r\n"
        let rcpts = message.recipients.map { "RCPT TO:<\($0)>\r\n" }
        var mailCode = 0
        var rcptCodes: [Int] = []
        var dataCode = 0
        if features.contains("PIPELINING") {
            try await outbound.write(ByteBuffer(string: mail + rcpts.joined() + "DATA\r\n"))
            mailCode = try await next().code
            for _ in rcpts { rcptCodes.append(try await next().code) }
            dataCode = try await next().code
        } else {
            try await outbound.write(ByteBuffer(string: mail))
            mailCode = try await next().code
            if mailCode / 100 == 2 {
                for rcpt in rcpts {
                    try await outbound.write(ByteBuffer(string: rcpt))
                    rcptCodes.append(try await next().code)
                }
                if rcptCodes.contains(where: { $0 / 100 == 2 }) {
                    try await outbound.write(ByteBuffer(string: "DATA\r\n"))
                    dataCode = try await next().code
                }
            }
        }
        let deliverable = mailCode / 100 == 2 && rcptCodes.contains { $0 / 100 == 2 }
        if dataCode == 354 {
            // RFC 2920 §3.1: after 354 the client must send data; with nobody to deliver to, only the dot.
            try await outbound.write(deliverable ? message.data : ByteBuffer(string: ".\r\n"))
            let final = try await next().code
            if deliverable { return final }
        }
        try await outbound.write(ByteBuffer(string: "RSET\r\n"))
        _ = try await next()
        if mailCode / 100 != 2 { return mailCode }
        if !deliverable { return rcptCodes.first { $0 / 100 != 2 } ?? dataCode }
        return dataCode
    }

    static func micros(_ duration: Duration) -> UInt64 {
        UInt64(max(0, duration.components.seconds)) * 1_000_000 + UInt64(max(0, duration.components.attoseconds) / 1_000_000_000_000)
    }

    /// A short, stable reason for the error counts (no addresses or message text).
    static func reason(_ error: any Error, connected: Bool) -> String {
        switch error {
        case LoadError.closed: return "connection closed"
        case LoadError.timedOut: return "reply timeout"
        case is NIOConnectionError, ChannelError.connectTimeout: return "connect failed"
        case let error as IOError: return connected ? "I/O error: \(String(cString: strerror(error.errnoCode)))" : "connect failed"
        default: return connected ? "connection error" : "connect failed"
        }
    }

    enum LoadError: Error {
        case closed
        case timedOut
    }
}

/// Closes a client connection whose server sent nothing for the read timeout: the message in
/// flight counts as an error and the client goes on.
final class ReplyTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event {
            context.fireErrorCaught(LoadBench.LoadError.timedOut)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Who may send the next message: the message budget or the deadline, shared by the clients.
final class PlanState: @unchecked Sendable {
    // @unchecked: `takenCount` is only touched under `lock`; the rest is set once in init.
    private let lock = NSLock()
    private var takenCount = 0
    private let limit: Int?
    private let deadline: ContinuousClock.Instant?
    private let count: Int
    /// Messages started before this are warm-up, not measured.
    let measuredFrom: ContinuousClock.Instant

    init(plan: LoadBench.Plan, count: Int) {
        let now = ContinuousClock.now
        self.count = count
        switch plan {
        case .messages(let limit):
            self.limit = limit
            deadline = nil
            measuredFrom = now
        case .duration(let warmUp, let measured):
            limit = nil
            measuredFrom = now + warmUp
            deadline = now + warmUp + measured
        }
    }

    /// The corpus index of the next message to send, round robin; nil when the plan is used up.
    func next() -> Int? {
        lock.withLock {
            if let limit, takenCount >= limit { return nil }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            takenCount += 1
            return (takenCount - 1) % count
        }
    }

    var taken: Int { lock.withLock { takenCount } }

    func measures(_ started: ContinuousClock.Instant) -> Bool { started >= measuredFrom }
}
