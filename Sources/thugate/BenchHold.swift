import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `thugate bench --hold S`: every connection is opened, greeted and answered to EHLO first, and
/// held idle; once all are (or the connect timeout has passed) they stay idle `S` seconds, the
/// gateway's RSS is read, and then every one sends its message at once: the idle-then-active
/// burst a gateway sees when thousands of clients that connected and waited all send.
final class HoldGate: @unchecked Sendable {
    // @unchecked: every field is touched under `lock` only.
    private let lock = NSLock()
    private let expected: Int
    private var arrivedCount = 0
    private var heldCount = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var opened: ContinuousClock.Instant?

    init(connections: Int) { expected = connections }

    /// A connection that reached the idle point: waits until the gate opens.
    func arriveAndWait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resume = lock.withLock { () -> Bool in
                arrivedCount += 1
                heldCount += 1
                if opened != nil { return true }
                waiting.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    /// A connection that will not reach the idle point (refused, reset): counted, never waits.
    func arriveWithoutWaiting() { lock.withLock { arrivedCount += 1 } }

    /// Connections at the idle point (or given up) so far.
    var arrived: Int { lock.withLock { arrivedCount } }

    /// Connections that reached the idle point (greeted, EHLO answered) so far.
    var held: Int { lock.withLock { heldCount } }

    /// Waits until every connection arrived or `deadline` passed; the count held idle.
    func waitForAll(until deadline: ContinuousClock.Instant) async -> Int {
        while arrived < expected && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return held
    }

    /// Lets every waiting connection (and any that arrives later) send.
    func open() {
        let resumed = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            opened = ContinuousClock.now
            defer { waiting.removeAll() }
            return waiting
        }
        for continuation in resumed { continuation.resume() }
    }

    var openedAt: ContinuousClock.Instant? { lock.withLock { opened } }

    /// Returns once the gate is open.
    func waitUntilOpen() async {
        while openedAt == nil { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

/// What the bench reports about the idle phase of `--hold`.
struct HoldFigures: Sendable, Encodable {
    /// Connections open, greeted and answered to EHLO when the hold began.
    var idleConnections: Int
    /// Seconds from the first connect until they were.
    var establishSeconds: Double
    /// Seconds held idle.
    var holdSeconds: Double
    /// The local gateway's RSS (VmRSS) at the end of the hold, in MiB.
    var idleRSSMB: Double?

    enum CodingKeys: String, CodingKey {
        case idleConnections = "idle_connections"
        case establishSeconds = "establish_seconds"
        case holdSeconds = "hold_seconds"
        case idleRSSMB = "idle_rss_mb"
    }
}

enum OpenFiles {
    /// Raises this process's open-file limit to at least `needed` (soft up to hard; a process with
    /// CAP_SYS_RESOURCE may raise the hard limit too). Children (the local gateway) inherit it.
    /// The limit in force afterwards.
    @discardableResult
    static func raise(to needed: Int) -> Int {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur < rlim_t(needed) else { return Int(limit.rlim_cur) }
        var wanted = rlimit(rlim_cur: max(limit.rlim_max, rlim_t(needed)), rlim_max: max(limit.rlim_max, rlim_t(needed)))
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &wanted) != 0 {
            wanted = rlimit(rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max)
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &wanted)
        }
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }
}
