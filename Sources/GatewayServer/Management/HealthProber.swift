public import Logging
import NIOConcurrencyHelpers
public import NIOCore
public import Quarantine
public import ServiceLifecycle

/// Probes what `/readyz` cannot ask on the request path: the store (a write, rolled back, and
/// the counts the metrics show) and the upstream (when no mail reached it recently), every
/// `interval`, and keeps the answers in ``Readiness``.
public final class HealthProber: Service {
    let readiness: Readiness
    let upstream: any Upstream
    let upstreamWithin: TimeAmount
    let interval: TimeAmount
    let store: any StoreHealth
    let logger: Logger

    public init(
        readiness: Readiness,
        upstream: any Upstream,
        upstreamWithin: TimeAmount,
        interval: TimeAmount,
        store: any StoreHealth,
        logger: Logger
    ) {
        self.readiness = readiness
        self.upstream = upstream
        self.upstreamWithin = upstreamWithin
        self.interval = interval
        self.store = store
        self.logger = logger
    }

    /// A store probe that has not answered in this long counts as failed (a lock held elsewhere,
    /// a hung disk or server), while it goes on waiting.
    static let storeTimeout = Duration.seconds(5)

    public func run() async throws {
        var categories = Set<String>()
        var running: Task<Result<StoreCounts, any Error>, Never>?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // One probe at a time: a hung one is waited for again, not joined by more.
            let task =
                running
                ?? Task { [store] () -> Result<StoreCounts, any Error> in
                    do { return .success(try await store.probe()) } catch { return .failure(error) }
                }
            if let result = await Self.value(of: task, within: Self.storeTimeout) {
                running = nil
                record(result, &categories)
            } else {
                running = task
                readiness.storeProbed(.init(ok: false, detail: "no answer to a write within \(Self.storeTimeout) (locked or hung)"))
            }
            await probeUpstream()
            // The signature gauge and the ready gauge, without waiting for a request to /readyz.
            GatewayMetrics.ready(readiness.checks().allSatisfy(\.ok))
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .nanoseconds(self.interval.nanoseconds)) }
        }
    }

    func record(_ result: Result<StoreCounts, any Error>, _ categories: inout Set<String>) {
        do {
            let sample = try result.get()
            readiness.storeProbed(.init(ok: true, detail: "writable"))
            GatewayMetrics.outbox(pending: sample.outboxPending)
            // A category that had messages and has none now shows 0, not its last count.
            categories.formUnion(sample.heldByCategory.keys)
            for category in categories { GatewayMetrics.held(sample.heldByCategory[category] ?? 0, category: category) }
        } catch {
            let wasUp = readiness.checks().first { $0.name == "store" }?.ok ?? false
            if wasUp { logger.error("store probe failed: \(error)") }
            readiness.storeProbed(.init(ok: false, detail: "\(error)"))
        }
    }

    /// What `task` returns, or nil when it has not returned within `limit` (it runs on).
    static func value<T: Sendable>(of task: Task<T, Never>, within limit: Duration) async -> T? {
        let waiting = NIOLockedValueBox<CheckedContinuation<T?, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            waiting.withLockedValue { $0 = continuation }
            Task {
                let value = await task.value
                waiting.withLockedValue {
                    $0?.resume(returning: value)
                    $0 = nil
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                waiting.withLockedValue {
                    $0?.resume(returning: nil)
                    $0 = nil
                }
            }
        }
    }

    func probeUpstream() async {
        let now = NIODeadline.now()
        if let reached = upstream.lastReached, now - reached < upstreamWithin {
            readiness.upstreamProbed(.init(ok: true, detail: "reached \((now - reached).nanoseconds / 1_000_000_000) s ago"))
            return
        }
        do {
            try await upstream.probe(logger: logger)
            readiness.upstreamProbed(.init(ok: true, detail: "reached by a probe"))
        } catch {
            readiness.upstreamProbed(.init(ok: false, detail: "unreachable: \(error)"))
        }
    }
}
