import Configuration
import Inspection
import Logging
import MIMECore
import MilterCore
import NIOCore
import Policy
import SMTPCore

/// Runs one milter connection from the MTA: a read loop that feeds ``MilterSessionMachine`` and
/// one ``run(_:)`` that carries out its actions: it keeps the rebuilt message in the proxy's
/// spooled buffer, inspects it at end of message through the proxy's own path
/// (``GatewayContext/judge(_:envelope:rewrite:logger:)``), and answers with the machine's
/// packets. Every bit of protocol state is in the machine.
final class MilterSession {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let deadline: ClientDeadline
    private let context: GatewayContext
    private let settings: GatewayConfig.Milter
    private var logger: Logger
    private var machine: MilterSessionMachine
    private var decoder = MilterFrameDecoder()
    /// The message being rebuilt, and the first error spooling it.
    private var buffer: MessageBuffer?
    private var spoolFailure: (any Error)?

    init(
        channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        deadline: ClientDeadline,
        context: GatewayContext,
        settings: GatewayConfig.Milter
    ) {
        self.channel = channel
        self.deadline = deadline
        self.context = context
        self.settings = settings
        // The hold queue is asked for only when it is where held mail goes.
        var actions = MilterNegotiation.wantedActions
        if settings.quarantine == .store { actions.remove(.quarantine) }
        machine = MilterSessionMachine(
            configuration: MilterConfiguration(
                actions: actions,
                maxMessageSize: context.config.server.maxMessageSize,
                asciiReplies: settings.asciiReplies,
                recipientPolicy: context.sessionConfiguration.recipientPolicy,
                bodyChunkSize: settings.bodyChunkSize,
                maxRecipients: max(context.config.server.maxRecipients, 1000)
            )
        )
        var logger = context.logger
        logger[metadataKey: "milter"] = "\(channel.channel.remoteAddress?.description ?? "unix")"
        self.logger = logger
    }

    func run(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
        do {
            var iterator = inbound.makeAsyncIterator()
            while true {
                deadline.wait(ClientWait(deadline: .now() + settings.timeout, betweenTransactions: machine.state == .ready))
                guard let bytes = try await iterator.next() else { break }
                deadline.busy()
                decoder.append(bytes.readableBytesView)
                while let packet = try decoder.next() {
                    let negotiated = machine.negotiation != nil
                    let action = machine.received(packet)
                    if !negotiated, let negotiation = machine.negotiation { logger.debug("milter negotiated: \(negotiation.description)") }
                    guard try await run(action, outbound: outbound) else { return }
                }
            }
        } catch let error as MilterFrameError {
            logger.warning("milter connection closed: bad frame: \(error)")
        } catch {
            logger.debug("milter connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Carries out one action; false when the connection is to be closed.
    private func run(_ action: MilterSessionMachine.Action, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Bool {
        switch action {
        case .send(let packets):
            try await write(packets, to: outbound)
        case .beginMessage(let packets):
            buffer = MessageBuffer(
                threshold: context.config.server.memoryThreshold,
                spoolDirectory: context.config.server.spoolDirectory,
                allocator: channel.channel.allocator
            )
            spoolFailure = nil
            try await write(packets, to: outbound)
        case .append(let bytes, let packets):
            keep(bytes)
            try await write(packets, to: outbound)
        case .refusedRecipient(let recipient, let sender, let reason, let packets):
            // Postfix's shape for a refusal before any queue file: NOQUEUE.
            logger.info("NOQUEUE: reject: RCPT to=<\(recipient.address)> from=<\(sender.address)>: \(reason)")
            try await write(packets, to: outbound)
        case .inspect(let message, let last):
            keep(last)
            let decision = await endOfMessage(message, outbound: outbound)
            let end = machine.inspected(decision)
            for edit in end.skipped { logger.warning("\(message.queueID ?? "-"): the MTA did not offer it: \(edit)") }
            do {
                try await write(end.packets, to: outbound)
            } catch {
                // Held or logged already, but the MTA never heard: it applies its default action
                // (tempfail), and the client may send the message again.
                logger.warning(
                    "\(message.queueID ?? "-"): the MTA went away before its answer (\(decision.summary)); it may send the message again"
                )
                throw error
            }
        case .abortMessage:
            buffer = nil
        case .close:
            return false
        case .fail(let reason):
            logger.warning("milter connection closed: \(reason)")
            return false
        }
        return true
    }

    private func keep(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, let buffer, spoolFailure == nil else { return }
        do {
            try bytes.withUnsafeBytes { try buffer.append($0) }
        } catch {
            spoolFailure = error
        }
    }

    /// One write per packet, as libmilter writes them: an MTA side that reads a packet with a
    /// single read() (OpenDKIM's miltertest) then finds it whole.
    private func write(_ packets: [MilterPacket], to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        for packet in packets {
            var bytes = channel.channel.allocator.buffer(capacity: 5 + packet.payload.count)
            bytes.writeBytes(packet.encoded)
            try await outbound.write(bytes)
        }
    }

    // MARK: End of message

    /// Inspects the rebuilt message as the proxy inspects one after its final dot, sending
    /// `SMFIR_PROGRESS` meanwhile, and says what the MTA is to do with it.
    private func endOfMessage(_ milter: MilterMessage, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async -> MilterDecision {
        guard let buffer = self.buffer.take() else { return .reply(.localError) }
        if let spoolFailure {
            logger.error("cannot spool message", metadata: ["error": "\(spoolFailure)"])
            return .reply(.localError)
        }
        let queueID = milter.queueID.map { $0.isEmpty ? QueueID.next() : $0 } ?? QueueID.next()
        let client = MessageOutcome.Client(
            heloName: milter.envelope.heloName,
            address: milter.client?.address ?? milter.macros["client_addr"] ?? "unknown",
            tls: milter.tls
        )
        let message = InFlightMessage(
            buffer,
            outcome: MessageOutcome(
                queueID: queueID,
                client: client,
                hostname: context.config.server.hostname,
                envelope: milter.envelope,
                parties: context.config.agencies.parties(sender: milter.envelope.sender, recipients: milter.envelope.recipients)
            )
        )
        // Without byte-exact headers a rewrite could break a DKIM signature ThuGate cannot see whole.
        let rewrite = milter.exactHeaders || !Self.hasDKIMSignature(buffer)
        let progress = progressTicker(outbound: outbound)
        let judgement = await context.judge(message, envelope: milter.envelope, rewrite: rewrite, logger: logger)
        progress.cancel()
        await progress.value
        switch consume judgement {
        case .relay(let message, let result):
            let edits = Self.edits(result, findingsHeader: message.findings.isEmpty ? nil : AddedHeaders.findings(message.findings))
            context.record(message.handedBack(.milterAccepted), logger: logger)
            return .accept(edits)
        case .hold(let message):
            if settings.quarantine == .mtaHold, machine.negotiation?.actions.contains(.quarantine) ?? false {
                let reason = "ThuGate: " + message.findings.map(\.rule.rawValue).joined(separator: ", ")
                let header = AddedHeaders.findings(message.findings)
                context.record(message.handedBack(.milterHeldInMTA, inMTAHold: true), logger: logger)
                return .hold(reason: reason, MilterEdits(headers: [.insert(index: 0, name: "X-ThuGate-Findings", value: header)]))
            }
            let outcome = await message.hold(in: context.quarantine, logger: logger)
            context.record(outcome, logger: logger)
            // Discarded by the MTA only once the store committed it.
            guard case .held = outcome.disposition else { return .reply(outcome.disposition?.reply ?? .localError) }
            return .discard
        case .done(let decision):
            switch decision {
            case .refuse(let reply), .defer(let reply): return .reply(reply)
            case .relay, .hold: return .reply(.localError)
            }
        }
    }

    /// Sends `SMFIR_PROGRESS` every `progress_interval` until cancelled.
    private func progressTicker(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) -> Task<Void, Never> {
        guard let packet = machine.progress else { return Task {} }
        let interval = settings.progressInterval
        var bytes = channel.channel.allocator.buffer(capacity: 5)
        bytes.writeBytes(packet.encoded)
        return Task { [bytes] in
            while !Task.isCancelled {
                do {
                    try await Task.sleep(nanoseconds: UInt64(interval.nanoseconds))
                    try await outbound.write(bytes)
                } catch {
                    return
                }
            }
        }
    }

    /// The MTA's edits: the transforms' own header edits on the message header, in order; the
    /// rewritten body when a transform changed anything below the header; then the findings
    /// header at the top, as the proxy puts it above the message.
    static func edits(_ result: InspectionResult, findingsHeader: String?) -> MilterEdits {
        var edits = MilterEdits()
        var bodyChanged = false
        // Fields a transform inserts at the top keep the order it made them in (0, 1, ...).
        var inserted: UInt32 = 0
        for applied in result.transforms {
            for edit in applied.edits.edits {
                guard edit.part.isEmpty, edit.kind != .replaceBody else {
                    bodyChanged = true
                    continue
                }
                let (name, value) = field(edit.bytes)
                switch edit.kind {
                case .insertHeader:
                    edits.headers.append(.insert(index: inserted, name: name, value: value))
                    inserted += 1
                case .addHeader: edits.headers.append(.add(name: name, value: value))
                case .changeHeader(_, let index, _): edits.headers.append(.change(index: UInt32(clamping: index), name: name, value: value))
                case .replaceBody: break
                }
            }
        }
        if bodyChanged, let rewritten = result.rewritten {
            // Only where the header section ends is needed: no MIME parse of the whole message.
            let start = rewritten.withUnsafeBytes { bytes in
                var defects: [MIMEDefect] = []
                return HeaderSection.parse(bytes, from: 0, to: bytes.count, limits: MIMELimits(), defects: &defects).bodyStart
            }
            edits.body = Array(rewritten[start...])
        }
        if let findingsHeader { edits.headers.append(.insert(index: 0, name: "X-ThuGate-Findings", value: findingsHeader)) }
        return edits
    }

    /// `Name: value\r\n` as name and value (the value with its leading space, its final CRLF off).
    static func field(_ bytes: [UInt8]) -> (String, String) {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return (String(decoding: bytes, as: UTF8.self), "") }
        var end = bytes.count
        while end > colon + 1, bytes[end - 1] == 10 || bytes[end - 1] == 13 { end -= 1 }
        return (String(decoding: bytes[..<colon], as: UTF8.self), String(decoding: bytes[(colon + 1)..<end], as: UTF8.self))
    }

    /// The message's header section has a `DKIM-Signature` field.
    static func hasDKIMSignature(_ buffer: MessageBuffer) -> Bool {
        guard let header = try? buffer.prefix(maxLength: StoreQuarantine.headerBytes) else { return true }
        return header.withUnsafeBytes { bytes in
            var defects: [MIMEDefect] = []
            let section = HeaderSection.parse(bytes, from: 0, to: bytes.count, limits: MIMELimits(), defects: &defects)
            return !section.fields(named: "DKIM-Signature").isEmpty
        }
    }
}

extension Reply {
    /// What the log says a message handed back to the MTA was answered (the MTA's own reply to its
    /// client follows).
    static let milterAccepted = Reply(250, EnhancedStatus(2, 0, 0), vi: "Đã kiểm tra, trả lại MTA", en: "Checked, handed back to the MTA")
    static let milterHeldInMTA = Reply(
        250,
        EnhancedStatus(2, 0, 0),
        vi: "Giữ lại trong hàng đợi của MTA",
        en: "Held in the MTA's hold queue"
    )
}

extension MilterDecision {
    /// For the log: what the MTA was to be told.
    var summary: String {
        switch self {
        case .accept: "accept"
        case .reply(let reply): "reply \(reply.code)"
        case .discard: "discard, held by ThuGate"
        case .hold: "MTA hold queue"
        }
    }
}
