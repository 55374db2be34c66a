public import Configuration
public import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import Quarantine
import SMTPCore
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends the outbox's notices through the upstream, off every client's path: the proxy only
/// writes rows (in the hold's transaction) and wakes this service.
///
/// Each notice is claimed first (a compare-and-set update to `sending` with this process as owner
/// and a lease), so two gateways on one store never both send it; it is marked `sent` only after
/// the upstream's 250. A temporary failure makes it due again after the next wait of
/// `[notify] retry`; a permanent refusal, or `give_up_after` without success, makes it `dead`
/// (`thugate notify list --dead`, `thugate notify retry ID`). A claim left by a process of this
/// node that is gone (killed between its claim and its result) is put back at start; one of
/// another node's after its lease. The only window for a second copy is a process killed
/// between the upstream's 250 and the commit of `sent`; the copy then has the same Message-ID.
public final class NoticeService: Service, Sendable {
    let store: any QuarantineStore
    let upstream: any Upstream
    let composer: NoticeComposer
    let settings: NotifySettings
    let node: String
    /// `node pid token`: what the claims of this process say.
    public let owner: String
    let spoolDirectory: String
    let logger: Logger
    let now: @Sendable () -> Date
    let pollInterval: TimeInterval
    /// How long a claim holds: longer than one whole SMTP transaction can take.
    let lease: TimeInterval
    private let wakeup = NoticeWakeup()

    public init(
        store: any QuarantineStore,
        upstream: any Upstream,
        composer: NoticeComposer,
        settings: NotifySettings,
        upstreamSettings: GatewayConfig.Upstream,
        node: String,
        spoolDirectory: String,
        logger: Logger,
        pollInterval: TimeInterval = 5,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.upstream = upstream
        self.composer = composer
        self.settings = settings
        self.node = node.replacingOccurrences(of: " ", with: "_")
        self.owner = "\(self.node) \(getpid()) \(UInt64.random(in: 1...UInt64.max))"
        self.spoolDirectory = spoolDirectory
        self.logger = logger
        self.pollInterval = pollInterval
        let seconds = { (amount: TimeAmount) in Double(amount.nanoseconds) / 1e9 }
        // Long enough for every message of one claim to take its longest (they go one after
        // another), so no other process takes a claim that is still being sent.
        let perMessage =
            seconds(upstreamSettings.connectTimeout) + 3 * seconds(upstreamSettings.commandTimeout) + seconds(upstreamSettings.dataTimeout)
        self.lease = Double(Self.claimBatch + 1) * perMessage + 60
        self.now = now
    }

    /// Notices claimed at once (a digest's are claimed together, as one message): few, so that
    /// the lease that covers sending them all stays short.
    static let claimBatch = 4

    /// Makes the service look at the outbox now (a hold wrote notices).
    public func wake() { wakeup.signal() }

    public func run() async throws {
        do {
            let released = try await store.releaseNoticeClaims(now: now()) { [node, owner] in Self.isStale($0, node: node, owner: owner) }
            if released > 0 { logger.notice("outbox: \(released) notice(s) claimed by a process that is gone are due again") }
        } catch {
            logger.error("outbox: \(error)")
        }
        // Another node's notices (PostgreSQL's NOTIFY): a hint that wakes the wait early; the
        // polling below stays, since a notification is lost while nobody listens.
        let wakeups = Task { [store, wakeup] in
            for await _ in store.outboxWakeups() { wakeup.signal() }
        }
        defer { wakeups.cancel() }
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                if await runOnce() > 0 { continue }
                var wait = pollInterval
                if let next = try? await store.nextNoticeDue() { wait = min(wait, max(0.05, next.timeIntervalSince(now()))) }
                await wakeup.wait(seconds: wait)
            }
        } onGracefulShutdown: {
            self.wakeup.signal()
        }
    }

    /// Claims what is due and sends it; returns how many messages it tried.
    @discardableResult
    public func runOnce() async -> Int {
        let claimed: [Notice]
        do {
            claimed = try await store.claimDueNotices(now: now(), owner: owner, lease: lease, limit: Self.claimBatch)
        } catch {
            logger.error("outbox: cannot claim notices: \(error)")
            return 0
        }
        guard !claimed.isEmpty else { return 0 }
        for group in Self.messages(claimed) {
            let results = await send(group)
            do {
                try await store.finishNotices(results, owner: owner, now: now())
            } catch {
                // Left claimed: due again after the lease (or at the next start).
                logger.error("outbox: cannot record what became of notice(s) \(group.map(\.id).joined(separator: ", ")): \(error)")
            }
        }
        return claimed.count
    }

    /// The claimed notices as messages: each immediate one alone, a digest's together.
    static func messages(_ notices: [Notice]) -> [[Notice]] {
        var groups: [[Notice]] = []
        var digests: [String: Int] = [:]
        for notice in notices {
            guard notice.request.mode == .digest, let day = notice.digestAt else {
                groups.append([notice])
                continue
            }
            let key = "\(notice.request.recipient.lowercased()) \(day.timeIntervalSince1970)"
            if let index = digests[key] {
                groups[index].append(notice)
            } else {
                digests[key] = groups.count
                groups.append([notice])
            }
        }
        return groups
    }

    private func send(_ group: [Notice]) async -> [NoticeResult] {
        guard let composed = composer.compose(group) else { return [] }
        let recipient = MailAddress(composed.recipient)
        // The null reverse path: nothing answers a notice, not even a bounce (RFC 3834 3.3).
        var envelope = Envelope(
            heloName: composer.hostname,
            esmtp: true,
            sender: MailAddress(""),
            parameters: MailParameters(smtpUTF8: !recipient.isASCII)
        )
        envelope.recipients = [recipient]
        let reply: Reply
        do {
            let buffer = MessageBuffer(threshold: 1 << 20, spoolDirectory: spoolDirectory)
            try composed.bytes.withUnsafeBytes { try buffer.append($0) }
            reply = await deliver(envelope, buffer, queueID: "notice-\(group[0].id)")
        } catch {
            reply = .localError
        }
        let at = now()
        return group.map { notice in
            let outcome = Self.outcome(reply, notice: notice, now: at, settings: settings, mailID: composed.mailID)
            switch outcome {
            case .sent: logger.info("outbox: notice \(notice.id) to <\(notice.request.recipient)> sent as \(composed.mailID): \(reply)")
            case .retry(let next):
                logger.warning(
                    "outbox: notice \(notice.id) to <\(notice.request.recipient)> not sent (\(reply)); again at \(NoticeClock.text(next))"
                )
            case .dead: logger.error("outbox: notice \(notice.id) to <\(notice.request.recipient)> dead: \(reply)")
            }
            return NoticeResult(id: notice.id, outcome: outcome, reply: reply.description)
        }
    }

    /// One SMTP transaction with one recipient; the reply that decides: the final dot's, or the
    /// refusal of MAIL or RCPT.
    private func deliver(_ envelope: Envelope, _ buffer: MessageBuffer, queueID: String) async -> Reply {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        if let pool = upstream as? UpstreamPool {
            let result = await pool.send(envelope, message: buffer, queueID: queueID, eventLoop: eventLoop, logger: logger)
            return result.message ?? result.recipients.first ?? result.mail
        }
        let transaction = upstream.beginTransaction(eventLoop: eventLoop, logger: logger)
        var opening = envelope
        opening.recipients = []
        let replies = await transaction.mail(opening, then: envelope.recipients.map { .recipient($0) } + [.data])
        guard replies.count == 3, replies[0].isPositive, replies[1].code == 250 || replies[1].code == 251 else {
            await transaction.abort()
            return replies.count > 1 && replies[0].isPositive ? replies[1] : replies[0]
        }
        return await transaction.data(envelope: envelope, header: "", message: buffer, queueID: queueID)
    }

    /// Sent after a 250; dead after a 5xx, or once `give_up_after` has passed since the notice
    /// was written; else due again after the wait for this attempt.
    static func outcome(_ reply: Reply, notice: Notice, now: Date, settings: NotifySettings, mailID: String) -> NoticeResult.Outcome {
        if reply.code == 250 { return .sent(mailID: mailID) }
        if reply.code >= 500 { return .dead }
        let waits = settings.retry.map { Double($0.nanoseconds) / 1e9 }
        let wait = waits.isEmpty ? 60 : waits[min(max(notice.attempts - 1, 0), waits.count - 1)]
        let next = now.addingTimeInterval(wait)
        let giveUp = notice.createdAt.addingTimeInterval(Double(settings.giveUpAfter.nanoseconds) / 1e9)
        return next > giveUp ? .dead : .retry(at: next)
    }

    /// Whether a claim's owner is a process of this node other than this one that is no longer
    /// running (or this process's own pid under an earlier token: a container restarted).
    static func isStale(_ claimant: String, node: String, owner: String) -> Bool {
        let parts = claimant.split(separator: " ")
        guard parts.count == 3, parts[0] == node, claimant != owner, let pid = pid_t(parts[1]) else { return false }
        if pid == getpid() { return true }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}

/// A wake-up call with a timeout, for one waiting task: ``signal()`` ends the current (or next) wait.
final class NoticeWakeup: Sendable {
    private let state = NIOLockedValueBox<(signalled: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            if state.waiter == nil { state.signalled = true }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait(seconds: TimeInterval) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.state.withLockedValue { state -> Bool in
                        if state.signalled {
                            state.signalled = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
                self.signal()
            }
            await group.next()
            group.cancelAll()
            // The sleeper signals when cancelled: that wake-up is this wait's, not the next one's.
            await group.next()
            self.state.withLockedValue { $0.signalled = false }
        }
    }
}
