import Glibc

/// Opt-in time per stage of content scanning (libmagic, libclamav, archive headers, document
/// text, the secrecy matcher), for `thugate bench`. Off unless the calling thread runs inside
/// ``measuring(_:)``: the proxy's scans read no clock for it, only a thread-specific pointer.
///
/// Each stage's time is exclusive: libclamav's is its scan minus what its layer callbacks do
/// (libmagic, archive headers and document text of the layers it hands over), and text
/// extraction's is without the matcher it calls.
public struct ContentStageTimes: Sendable, Equatable {
    public var libmagic: Duration = .zero
    public var libclamav: Duration = .zero
    public var archiveHeaders: Duration = .zero
    public var textExtraction: Duration = .zero
    public var secrecyMatcher: Duration = .zero

    public init() {}

    /// The stages, named as `thugate bench` prints them.
    public var named: [(name: String, duration: Duration)] {
        [
            ("libmagic", libmagic), ("libclamav", libclamav), ("archive_headers", archiveHeaders),
            ("text_extraction", textExtraction), ("secrecy_matcher", secrecyMatcher),
        ]
    }

    public static func += (left: inout ContentStageTimes, right: ContentStageTimes) {
        left.libmagic += right.libmagic
        left.libclamav += right.libclamav
        left.archiveHeaders += right.archiveHeaders
        left.textExtraction += right.textExtraction
        left.secrecyMatcher += right.secrecyMatcher
    }

    /// Runs `body` on this thread with the stage clock on, and returns what the content scans
    /// inside it spent per stage. Not reentrant: an inner call measures on its own.
    public static func measuring<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> (R, ContentStageTimes) {
        let accumulator = Accumulator()
        let outer = pthread_getspecific(stageKey)
        pthread_setspecific(stageKey, Unmanaged.passUnretained(accumulator).toOpaque())
        defer { pthread_setspecific(stageKey, outer) }
        let result = try withExtendedLifetime(accumulator) { () throws(E) -> R in try body() }
        return (result, accumulator.times)
    }

    /// Runs `body`, adding its time (less that of the stages timed inside it) to `stage` when
    /// this thread is measuring; nil `stage`: the time is nobody's (ThuGate's own code in
    /// libclamav's callbacks), only taken out of the enclosing stage.
    @inline(__always)
    static func time<R, E: Error>(_ stage: WritableKeyPath<ContentStageTimes, Duration>?, _ body: () throws(E) -> R) throws(E) -> R {
        guard let raw = pthread_getspecific(stageKey) else { return try body() }
        let accumulator = Unmanaged<Accumulator>.fromOpaque(raw).takeUnretainedValue()
        let clock = ContinuousClock()
        let enclosingInner = accumulator.inner
        accumulator.inner = .zero
        let started = clock.now
        defer {
            let elapsed = clock.now - started
            if let stage { accumulator.times[keyPath: stage] += elapsed - accumulator.inner }
            accumulator.inner = enclosingInner + elapsed
        }
        return try body()
    }

    /// One thread's sums while it measures; only that thread touches it.
    private final class Accumulator {
        var times = ContentStageTimes()
        /// Time of the stages timed inside the one running now.
        var inner: Duration = .zero
    }
}

/// The thread-specific slot ``ContentStageTimes/measuring(_:)`` sets; created once, never deleted.
private let stageKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
