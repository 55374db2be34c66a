import Logging
import MIMECore
import NIOCore
import Policy
import Quarantine
import SMTPCore

/// A received message between its final dot and its disposition. It is relayed, held, refused
/// or deferred exactly once: each of those consumes it and gives back the finished
/// ``MessageOutcome``.
struct InFlightMessage: ~Copyable {
    private var buffer: MessageBuffer
    private var outcome: MessageOutcome
    /// For ``MessageOutcome/milliseconds`` (log only).
    private let started: NIODeadline

    init(_ buffer: MessageBuffer, outcome: MessageOutcome) {
        self.buffer = buffer
        self.outcome = outcome
        self.started = NIODeadline.now()
    }

    var queueID: String { outcome.queueID }
    /// Nil until inspected.
    var verdict: Verdict? { outcome.verdict }
    var findings: [Finding] { outcome.findings }
    var isSpooled: Bool { buffer.isSpooled }
    func bytes() throws -> MessageBytes { try buffer.messageBytes() }

    /// What inspection found; the transforms' rewrite replaces the message received.
    mutating func inspected(verdict: Verdict, findings: [Finding], rewritten: MessageBuffer?, transforms: [String]) {
        outcome.verdict = verdict
        outcome.findings = findings
        if let rewritten {
            buffer = rewritten
            outcome.transforms = transforms
        }
    }

    /// Reads From and Subject into the outcome, for the notice about a refusal.
    mutating func readHeaders() {
        guard let header = try? buffer.prefix(maxLength: StoreQuarantine.headerBytes) else { return }
        let (from, subject, _) = StoreQuarantine.headerFields(header)
        outcome.headerFrom = from.map(HoldRequest.stripped)
        outcome.subject = subject.map(HoldRequest.stripped)
    }

    /// The message is one of ThuGate's own notices (``NoticeSignature``).
    mutating func markOwnNotice() {
        outcome.isOwnNotice = true
    }

    /// Sends the message upstream with the headers of ``AddedHeaders/relayed``.
    consuming func relay(via transaction: any UpstreamTransaction) async -> MessageOutcome {
        let header = AddedHeaders(outcome, date: rfc5322Date()).relayed
        let started = ContinuousClock.now
        let reply = await transaction.data(envelope: outcome.envelope, header: header, message: buffer, queueID: outcome.queueID)
        GatewayMetrics.stage(.relay, since: started)
        return finish(.relayed(reply))
    }

    /// Writes the message to the quarantine; when it cannot be (none configured, a write
    /// error), the message is deferred with the finding's tempfail reply.
    consuming func hold(in quarantine: (any QuarantineSink)?, logger: Logger) async -> MessageOutcome {
        let otherwise = outcome.verdict?.finding.map(PolicyReplies.tempfail) ?? .localError
        guard let quarantine else { return finish(.deferred(otherwise)) }
        do {
            // The quarantine sees everything known but where the message went: that is its answer.
            let started = ContinuousClock.now
            let id = try await quarantine.hold(buffer, outcome: finished(nil))
            GatewayMetrics.stage(.hold, since: started)
            return finish(.held(id: id, PolicyReplies.quarantined(id)))
        } catch {
            logger.error("\(outcome.queueID): cannot write to quarantine: \(error)")
            return finish(.deferred(otherwise))
        }
    }

    /// Given back to the MTA that called ThuGate as a milter, which delivers it (or, `inMTAHold`,
    /// keeps it in its hold queue): the reply is what ThuGate told the MTA.
    consuming func handedBack(_ reply: Reply, inMTAHold: Bool = false) -> MessageOutcome {
        finish(inMTAHold ? .held(id: "mta-hold:\(outcome.queueID)", reply) : .relayed(reply))
    }

    /// A rule refused the message.
    consuming func refuse(_ reply: Reply) -> MessageOutcome {
        finish(.refused(reply))
    }

    /// A rule refused the message and a copy of it is kept (`[quarantine] keep_refused`): the copy
    /// is committed before the client hears the refusal. When it cannot be written the message is
    /// deferred with the finding's tempfail reply: a refusal nobody can review later is not given.
    consuming func refuse(_ reply: Reply, keepingCopyIn quarantine: any QuarantineSink, logger: Logger) async -> MessageOutcome {
        let otherwise = outcome.verdict?.finding.map(PolicyReplies.tempfail) ?? .localError
        do {
            let id = try await quarantine.hold(buffer, outcome: finished(nil))
            var refused = finished(.refused(reply))
            refused.keptCopy = id
            return refused
        } catch {
            logger.error("\(outcome.queueID): cannot keep the refused message's copy in the quarantine: \(error)")
            return finish(.deferred(otherwise))
        }
    }

    /// The client is to send the message again later.
    consuming func `defer`(_ reply: Reply) -> MessageOutcome {
        finish(.deferred(reply))
    }

    private func finished(_ disposition: MessageOutcome.Disposition?) -> MessageOutcome {
        var outcome = outcome
        outcome.disposition = disposition
        outcome.size = buffer.size
        outcome.milliseconds = (NIODeadline.now() - started).nanoseconds / 1_000_000
        return outcome
    }

    private consuming func finish(_ disposition: MessageOutcome.Disposition) -> MessageOutcome {
        finished(disposition)
    }
}
