import Configuration
import Logging
import NIOCore
import SMTPCore

/// One transaction through an ``UpstreamPool``: takes a connection, hands each step to its
/// machine, and carries a ``UpstreamMachine/Replay`` to a new connection when the machine asks.
/// What may be replayed, and when a connection goes back to the pool, the machine decides.
final class UpstreamPoolTransaction: UpstreamTransaction {
    let pool: UpstreamPool
    let eventLoop: any EventLoop
    let logger: Logger
    /// The connection holding the transaction. Kept after it closed: its machine still knows
    /// whether the transaction may be replayed.
    private var connection: UpstreamConnection?

    init(pool: UpstreamPool, eventLoop: any EventLoop, logger: Logger) {
        self.pool = pool
        self.eventLoop = eventLoop
        self.logger = logger
    }

    deinit {
        // A transaction dropped mid-way (client vanished): its connection is not reusable as is.
        connection?.close()
    }

    func mail(_ envelope: Envelope, then pipelined: [PipelinedCommand]) async -> [Reply] {
        let commands = pipelined.map { command -> SMTPCommand in
            switch command {
            case .recipient(let address): return .rcpt(address)
            case .data: return .data
            }
        }
        let expected = 1 + pipelined.count
        // Made only when needed: the answer of every failure below, never of a success.
        var unavailable: [Reply] { Array(repeating: Reply.upstreamUnavailable, count: expected) }
        var request = UpstreamClientHandler.Request.mail(envelope, pipelined: commands)
        while true {
            guard let connection = await acquire(at: "MAIL") else { return unavailable }
            switch await run(request, on: connection) {
            case .replies(let replies) where replies.count == expected:
                return replies
            case .replay(let replay):
                // A pooled connection the upstream closed while idle: once more on another.
                request = .replay(replay)
            case .failed(let error):
                logger.warning("upstream unavailable at MAIL", metadata: ["error": "\(error)"])
                return unavailable
            case let outcome:
                logger.warning("upstream unavailable at MAIL", metadata: ["outcome": "\(outcome)"])
                return unavailable
            }
        }
    }

    func recipient(_ address: MailAddress) async -> Reply {
        guard let connection else { return .upstreamUnavailable }
        switch await run(.recipient(address), on: connection) {
        case .replies(let replies) where replies.count == 1:
            return replies[0]
        case let outcome:
            logger.warning("upstream failed at RCPT", metadata: ["outcome": "\(outcome)"])
            return .upstreamUnavailable
        }
    }

    func data(envelope: Envelope, header: String, message: MessageBuffer, queueID: String) async -> Reply {
        guard var connection else { return .upstreamUnavailable }
        var outcome = await sendMessage(header: header, message: message, on: connection, queueID: queueID)
        while true {
            switch outcome {
            case .replies(let replies) where replies.count == 1:
                // The final reply, or the refusal of DATA.
                return replies[0]
            case .replay(let replay):
                // The first connection may be gone (the upstream's idle timeout ran out while
                // the client was still sending): as long as no final dot went out, the machine
                // replays on a new connection.
                logger.notice(
                    "upstream connection lost before the final dot, replaying the transaction",
                    metadata: ["queue_id": "\(queueID)"]
                )
                guard let next = await acquire(at: "DATA") else { return .upstreamUnavailable }
                connection = next
                outcome = await run(.replay(replay), on: next)
            case .goAhead:
                outcome = await sendMessage(header: header, message: message, on: connection, queueID: queueID)
            case .failed(let error) where error.kind == .replayRefused:
                logger.warning("replay refused by upstream", metadata: ["replies": "\(error.detail)", "queue_id": "\(queueID)"])
                return .upstreamUnavailable
            case let outcome:
                // After the final dot the upstream may have the message: the client retries and
                // at worst a duplicate arrives; it is never lost.
                logger.warning("upstream failed during DATA", metadata: ["outcome": "\(outcome)", "queue_id": "\(queueID)"])
                return .upstreamUnavailable
            }
        }
    }

    /// DATA (unless it went pipelined) and the trace header and message, dot-stuffed, in
    /// chunks; answered by the final reply (or DATA's refusal, a replay, a failure). A message
    /// of one chunk, most mail, is one request.
    private func sendMessage(
        header: String,
        message: MessageBuffer,
        on connection: UpstreamConnection,
        queueID: String
    ) async -> UpstreamMachine.Outcome {
        struct Stopped: Error { var outcome: UpstreamMachine.Outcome }
        var stuffer = DotStuffer()
        let allocator = connection.channel.allocator
        let chunk = 64 * 1024
        var out = allocator.buffer(capacity: min(message.size + header.utf8.count + 64, chunk + 1024))
        var started = false
        stuffer.encode(allocator.buffer(string: header), into: &out)
        do {
            try await message.forEachChunk(chunkSize: chunk, allocator: allocator) { bytes in
                stuffer.encode(bytes, into: &out)
                if out.readableBytes >= chunk {
                    let outcome = await run(started ? .messageData(out) : .message(out, isComplete: false), on: connection)
                    guard outcome == .written else { throw Stopped(outcome: outcome) }
                    started = true
                    out = allocator.buffer(capacity: chunk + 1024)
                }
            }
        } catch let stopped as Stopped {
            return stopped.outcome
        } catch {
            // The spooled message cannot be read back: nothing more can go.
            logger.error("cannot read the message to relay", metadata: ["error": "\(error)", "queue_id": "\(queueID)"])
            _ = await run(.abort, on: connection)
            return .failed(UpstreamError(kind: .closed, detail: "message unreadable"))
        }
        stuffer.finish(into: &out)
        return await run(started ? .messageEnd(out) : .message(out, isComplete: true), on: connection)
    }

    func abort() async {
        guard let connection else { return }
        _ = await run(.abort, on: connection)
        self.connection = nil
    }

    /// A connection from the pool, or nil (logged) when none can be had.
    private func acquire(at step: String) async -> UpstreamConnection? {
        do {
            let connection = try await pool.acquire(on: eventLoop, logger: logger)
            self.connection = connection
            return connection
        } catch {
            logger.warning("upstream unavailable at \(step)", metadata: ["error": "\(error)"])
            connection = nil
            return nil
        }
    }

    /// One request, and what its answer says to do with the connection.
    private func run(_ request: UpstreamClientHandler.Request, on connection: UpstreamConnection) async -> UpstreamMachine.Outcome {
        let (outcome, disposition) = await connection.request(request)
        switch disposition {
        case .keep:
            break
        case .release:
            pool.release(connection)
            if self.connection === connection { self.connection = nil }
        case .close:
            // The handler closed it; the machine in it remembers what may be replayed.
            break
        }
        return outcome
    }
}
