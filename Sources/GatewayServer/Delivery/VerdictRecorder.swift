public import Foundation
public import Logging
import NIOConcurrencyHelpers
import Policy
public import Quarantine
import SMTPCore

/// The proxy's side of the verdict log: every finished message becomes a ``VerdictEntry``,
/// kept in memory and written in one transaction per batch, off the reply path. A crash loses at
/// most the last interval's counts (held mail is safe in the quarantine's own transaction).
///
/// Memory is bounded: when the log cannot be written for long, entries past
/// ``maxPending`` are dropped and the drop is logged, rather than the gateway growing.
public final class VerdictRecorder: Sendable {
    public let log: any VerdictLog
    private let pending = NIOLockedValueBox(Pending())
    private let logger: Logger
    /// How long entries wait before they are written.
    public let interval: Duration
    public let maxPending: Int
    public let retention: Retention
    /// Decides the notices about refused messages, written with their entries (nil: none).
    let planner: NoticePlanner?
    /// Called once entries with notices are written (wakes the notice service).
    let wake: (@Sendable () -> Void)?

    /// How long the verdict log keeps what (`[reports]`).
    public struct Retention: Sendable {
        public var verdictDays: Int
        public var rollupYears: Int
        public init(verdictDays: Int, rollupYears: Int) {
            self.verdictDays = verdictDays
            self.rollupYears = rollupYears
        }
    }

    private struct Pending {
        var entries: [VerdictEntry] = []
        var dropped = 0
    }

    public init(
        log: any VerdictLog,
        logger: Logger,
        retention: Retention = Retention(verdictDays: 35, rollupYears: 10),
        interval: Duration = .seconds(1),
        maxPending: Int = 100_000,
        planner: NoticePlanner? = nil,
        wake: (@Sendable () -> Void)? = nil
    ) {
        self.log = log
        self.logger = logger
        self.retention = retention
        self.interval = interval
        self.maxPending = maxPending
        self.planner = planner
        self.wake = wake
    }

    /// Notes a finished message; returns at once.
    public func record(_ outcome: MessageOutcome, at date: Date = Date()) {
        guard let entry = VerdictEntry(outcome, at: date) else { return }
        record(entry, outcome: outcome, at: date)
    }

    /// Notes the entry of a finished message (made from `outcome`); returns at once.
    func record(_ entry: VerdictEntry, outcome: MessageOutcome, at date: Date) {
        var entry = entry
        // A refusal's notices go with its entry (a hold's went with the hold, in its transaction).
        // A refusal whose copy was kept told of it with the copy.
        if let planner, case .refused? = outcome.disposition, outcome.keptCopy == nil {
            entry.notices = planner.notices(for: outcome, .refused, headerFrom: outcome.headerFrom, subject: outcome.subject, now: date)
        }
        pending.withLockedValue { pending in
            if pending.entries.count < maxPending {
                pending.entries.append(entry)
            } else {
                pending.dropped += 1
            }
        }
    }

    /// Writes what is pending. On an error the entries stay for the next try (within the bound).
    public func flush() async {
        let (entries, dropped) = pending.withLockedValue { pending in
            defer { pending = Pending() }
            return (pending.entries, pending.dropped)
        }
        if dropped > 0 {
            GatewayMetrics.verdictsDropped(dropped)
            logger.error("verdict log: \(dropped) message(s) not counted (the log could not be written in time)")
        }
        guard !entries.isEmpty else { return }
        do {
            try await log.record(entries)
            if entries.contains(where: { !$0.notices.isEmpty }) { wake?() }
        } catch {
            logger.warning("verdict log: cannot record \(entries.count) message(s), will retry: \(error)")
            pending.withLockedValue { pending in
                let room = max(0, maxPending - pending.entries.count)
                pending.dropped += max(0, entries.count - room)
                pending.entries.insert(contentsOf: entries.prefix(room), at: 0)
            }
        }
    }

    /// Writes every ``interval`` until cancelled, then once more; expires old rows at start and
    /// every six hours.
    public func run() async {
        var expired = ContinuousClock.now
        await expire()
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flush()
            if ContinuousClock.now - expired > .seconds(6 * 3600) {
                expired = ContinuousClock.now
                await expire()
            }
        }
        // The last write must not see the cancellation that ended the loop (GRDB gives up on a
        // cancelled task): an unstructured task is not cancelled with its creator.
        await Task { await self.flush() }.value
    }

    /// Deletes the per-message rows and roll-ups past their retention.
    public func expire(now: Date = Date()) async {
        let rows = now.addingTimeInterval(-Double(retention.verdictDays) * 86400)
        let rollups = now.addingTimeInterval(-Double(retention.rollupYears) * 365.25 * 86400)
        do {
            let log = log
            let expire: @Sendable () async throws -> Int = { try await log.expireVerdicts(before: rows, rollupsBefore: rollups) }
            // A cluster-wide job: on a shared store one node at a time does it (the others skip).
            let removed: Int?
            if let store = log as? any QuarantineStore {
                removed = try await store.withClusterLock("verdict-expiry", expire)
            } else {
                removed = try await expire()
            }
            if let removed, removed > 0 { logger.info("verdict log: \(removed) expired row(s) deleted") }
        } catch {
            logger.warning("verdict log: cannot expire old rows: \(error)")
        }
    }
}

extension VerdictEntry {
    /// The entry for a finished message; nil while it has no disposition.
    init?(_ outcome: MessageOutcome, at date: Date) {
        guard let disposition = outcome.disposition else { return nil }
        let result: VerdictOutcome
        var heldID: String?
        switch disposition {
        case .held(let id, _):
            result = .held
            heldID = id
        case .deferred:
            result = .tempfailed
        case .relayed(let reply), .refused(let reply):
            result = reply.isPositive ? .delivered : reply.isTransientFailure ? .tempfailed : .refused
        }
        var rules = outcome.findings.map(\.rule.rawValue)
        if outcome.transforms.contains("tcvn-6909") { rules.append(Self.conversionRule) }
        let parties = outcome.parties
        self.init(
            at: date,
            queueID: outcome.queueID,
            node: outcome.hostname,
            clientAddress: outcome.client.address,
            sender: outcome.envelope.sender.address,
            recipients: outcome.envelope.recipients.count,
            size: outcome.size,
            direction: parties.direction.rawValue,
            agencies: (CollectionOfOne(parties.senderAgency) + parties.recipientAgencies).compactMap { $0 },
            outcome: result,
            rules: rules,
            heldID: heldID
        )
    }
}
