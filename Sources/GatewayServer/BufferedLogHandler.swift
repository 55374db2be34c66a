import Dispatch
import Foundation
public import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Log lines to standard error, written by a background thread in batches.
///
/// One line per message at thousands of messages a second made a `write(2)` per line and the
/// formatting of swift-log's stream handler about 15 % of ThuGate's CPU (Benchmarks/RESULTS.md).
/// Lines are queued and the writer thread sends whatever has accumulated in one write, at
/// most every 10 ms. Logging never blocks a caller; past 8 MiB queued (standard error blocked)
/// lines are dropped and the number dropped is logged once the queue drains. ``flush()`` (at
/// exit) waits until everything queued is out.
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let writer: LogWriter

    public init(label: String, writer: LogWriter = .standardError) {
        self.label = label
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = writer.timestamp()
        line += " \(label)[\(writer.pid)]: \(event.level): "
        line += event.message.description
        let all = event.metadata.map { metadata.merging($0, uniquingKeysWith: { $1 }) } ?? metadata
        for key in all.keys.sorted() {
            line += " \(key)=\(all[key]!)"
        }
        line += "\n"
        writer.enqueue(line)
    }
}

/// The queue and thread behind ``BufferedLogHandler``.
public final class LogWriter: Sendable {
    public static let standardError = LogWriter(fd: 2)

    let pid = getpid()
    private let fd: CInt
    private let state = NIOLockedValueBox(State())
    /// Signalled when the queue goes from empty to not empty.
    private let wakeUp = DispatchSemaphore(value: 0)

    private struct State {
        var pending: [UInt8] = []
        var enqueued: UInt64 = 0
        var dropped = 0
        var written: UInt64 = 0
        var started = false
        var second: time_t = 0
        var stamp = ""
    }

    init(fd: CInt) {
        self.fd = fd
    }

    /// `2026-11-23T21:47:25+0700`, formatted once a second.
    func timestamp() -> String {
        let now = time(nil)
        if let cached = state.withLockedValue({ $0.second == now ? $0.stamp : nil }) { return cached }
        var seconds = now
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        let stamp = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        state.withLockedValue {
            $0.second = now
            $0.stamp = stamp
        }
        return stamp
    }

    static let maxQueuedBytes = 8 * 1024 * 1024

    func enqueue(_ line: String) {
        let (start, signal) = state.withLockedValue { state -> (Bool, Bool) in
            let wasEmpty = state.pending.isEmpty
            if state.pending.count + line.utf8.count > Self.maxQueuedBytes {
                state.dropped += 1
                return (false, false)
            }
            if state.dropped > 0 && wasEmpty {
                state.pending.append(contentsOf: "thugate: \(state.dropped) log lines dropped (standard error blocked)\n".utf8)
                state.dropped = 0
            }
            state.pending.append(contentsOf: line.utf8)
            state.enqueued += 1
            defer { state.started = true }
            return (!state.started, wasEmpty)
        }
        if start {
            let thread = Thread { [self] in run() }
            thread.name = "thugate-log"
            thread.start()
        }
        if signal { wakeUp.signal() }
    }

    /// Returns once every line logged so far is written.
    public func flush() {
        let ticket = state.withLockedValue { $0.enqueued }
        waitFor(ticket)
    }

    private func waitFor(_ ticket: UInt64) {
        for _ in 0..<500 {
            if state.withLockedValue({ $0.written >= ticket || !$0.started }) { return }
            usleep(1000)
        }
    }

    private func run() {
        while true {
            wakeUp.wait()
            // Let lines gather: one write and one wake-up per 10 ms at most, not per line.
            usleep(10_000)
            let (bytes, count) = state.withLockedValue { state -> ([UInt8], UInt64) in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, state.enqueued)
            }
            bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    done += n
                }
            }
            state.withLockedValue { $0.written = count }
        }
    }
}
