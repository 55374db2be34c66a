import Dispatch
import Foundation
import PostgresNIO
import Quarantine

/// Reads a ``HeldContent`` (whose reader is synchronous) on a thread of its own and hands its
/// chunks to an async consumer one at a time, so a message goes into the database chunk by chunk
/// and is never in memory whole: the reader waits until the consumer took the chunk before it.
final class ChunkPump: @unchecked Sendable {
    // Unchecked: `stopped` is only touched while `lock` is held; the semaphore and the
    // continuation are thread-safe.
    private let lock = NSLock()
    private var stopped = false
    private let taken = DispatchSemaphore(value: 0)

    private struct Stopped: Error {}

    /// Calls `body` with each chunk of `content` (at most `maxLength` bytes), in order; returns
    /// the bytes read. What `body` or the reader throws ends it.
    static func forEachChunk(
        of content: any HeldContent,
        maxLength: Int,
        _ body: (ByteBuffer) async throws -> Void
    ) async throws -> Int {
        let pump = ChunkPump()
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        DispatchQueue.global().async {
            do {
                try content.forEachChunk(maxLength: maxLength) { chunk in
                    guard !chunk.isEmpty else { return }
                    continuation.yield(ByteBuffer(bytes: chunk))
                    pump.taken.wait()
                    if pump.isStopped { throw Stopped() }
                }
                continuation.finish()
            } catch is Stopped {
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        var total = 0
        do {
            for try await chunk in stream {
                total += chunk.readableBytes
                try await body(chunk)
                pump.taken.signal()
            }
        } catch {
            pump.stop()
            throw error
        }
        return total
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        taken.signal()
    }
}
