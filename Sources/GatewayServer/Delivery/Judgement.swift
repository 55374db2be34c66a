import Configuration
import Foundation
import Inspection
import Logging
import Policy
import Quarantine
import SMTPCore
import Scanning
import SecrecyMarks

/// What inspecting a message decided. A message to deliver or hold comes back with the result
/// (its transforms' edits, for a milter); a refused or deferred one was disposed of and logged.
enum Judgement: ~Copyable {
    case relay(InFlightMessage, InspectionResult)
    case hold(InFlightMessage)
    case done(MessageDecision)
}

extension GatewayContext {
    /// Inspects a received message the same way for every front end (the SMTP proxy, the milter):
    /// ThuGate's own notices recognised, declassified stamps logged, the transforms' rewrite kept
    /// (unless `rewrite` is false: the findings stay, the message is not changed), a refusal
    /// kept in the quarantine when `[quarantine] keep_refused` names its rule.
    func judge(_ message: consuming InFlightMessage, envelope: Envelope, rewrite: Bool = true, logger: Logger) async -> Judgement {
        let queueID = message.queueID
        var inspection: InspectionResult
        do {
            let bytes = try message.bytes()
            let ownNotice =
                notices.map {
                    NoticeSignature.isOwnNotice(bytes, key: $0.key, envelope: envelope, logger: logger, queueID: queueID)
                } ?? false
            let started = ContinuousClock.now
            var result = try await inspector.inspect(bytes, envelope: envelope, large: message.isSpooled)
            GatewayMetrics.stage(.inspect, since: started)
            // A stamp a GIẢI MẬT stamp withdrew is no finding, but the officer can find it in the log.
            for document in result.content?.secrecy ?? [] where document.report.isDowngraded {
                let levels = Set(document.report.downgraded.map(\.level.vietnamese)).sorted().joined(separator: ", ")
                logger.notice("\(queueID): \(document.name): \(levels) stamp declassified by a GIẢI MẬT stamp: not a state-secret finding")
            }
            if ownNotice {
                message.markOwnNotice()
                result.verdict = NoticeSignature.verdictForOwnNotice(result.verdict, findings: result.findings)
            }
            if !rewrite {
                result.rewritten = nil
                result.transforms = []
            }
            var rewritten: MessageBuffer?
            if let normalized = result.rewritten {
                // The rewritten message replaces the received one (memory or spool, as any other).
                let buffer = MessageBuffer(threshold: config.server.memoryThreshold, spoolDirectory: config.server.spoolDirectory)
                try normalized.withUnsafeBytes { try buffer.append($0) }
                rewritten = buffer
            }
            message.inspected(
                verdict: result.verdict,
                findings: result.findings,
                rewritten: rewritten,
                transforms: result.transforms.map(\.name)
            )
            inspection = result
        } catch let error as ScanError {
            // Fail closed: what could not be scanned is deferred, never accepted.
            logger.error("\(queueID): content scan failed: \(error)")
            record(message.defer(PolicyReplies.scanFailed), logger: logger)
            return .done(.defer(PolicyReplies.scanFailed))
        } catch {
            // Never accept what could not be checked.
            logger.error("\(queueID): cannot inspect message: \(error)")
            record(message.defer(.localError), logger: logger)
            return .done(.defer(.localError))
        }
        switch message.verdict {
        case .pass?, .tag?, nil:
            return .relay(message, inspection)
        case .quarantine?:
            return .hold(message)
        case .reject(let finding)?:
            let reply = PolicyReplies.reject(finding)
            if notices != nil { message.readHeaders() }
            let keep = config.quarantine.lifecycle.keepRefused
            if let quarantine, message.findings.contains(where: { keep.contains($0.rule.rawValue) }) {
                let outcome = await message.refuse(reply, keepingCopyIn: quarantine, logger: logger)
                record(outcome, logger: logger)
                guard case .refused = outcome.disposition else { return .done(.defer(outcome.disposition?.reply ?? .localError)) }
                return .done(.refuse(reply))
            }
            record(message.refuse(reply), logger: logger)
            return .done(.refuse(reply))
        case .tempfail(let finding)?:
            let reply = PolicyReplies.tempfail(finding)
            record(message.defer(reply), logger: logger)
            return .done(.defer(reply))
        }
    }

    /// The message's log line, its entry in the verdict log, and its metrics.
    func record(_ outcome: MessageOutcome, logger: Logger) {
        // The line as it is: an interpolation would copy it into a new string.
        logger.info(Logger.Message(stringLiteral: outcome.logLine))
        let now = Date()
        guard let entry = VerdictEntry(outcome, at: now) else { return }
        GatewayMetrics.finished(mode: mode, outcome: entry.outcome, rules: entry.rules)
        GatewayMetrics.stage(.total, nanoseconds: outcome.milliseconds * 1_000_000)
        verdicts?.record(entry, outcome: outcome, at: now)
    }
}
