/// Time spent in each stage of the inspection path (``MessageInspector``), summed over the
/// messages it was handed: what `thugate bench` reports per stage. Filled only when a caller asks
/// (``MessageInspector/inspectBlocking(_:envelope:times:)`` with a non-nil value); the proxy
/// never reads a clock for it.
public struct StageTimes: Sendable, Equatable {
    /// MIME parsing of the received bytes (structure, headers, transfer decoding).
    public var parse: Duration = .zero
    /// Content scanning: libclamav, libmagic, archive headers, document text and the secrecy matcher.
    public var contentScan: Duration = .zero
    /// The rules' verdict on the parsed message and the content report.
    public var rules: Duration = .zero
    /// The transforms on a delivered message (TCVN 6909 normalization), parsing between them included.
    public var transforms: Duration = .zero

    public init() {}

    /// The stages in the order they run, named as `thugate bench` prints them.
    public var named: [(name: String, duration: Duration)] {
        [("parse", parse), ("content_scan", contentScan), ("rules", rules), ("transforms", transforms)]
    }

    public static func + (left: StageTimes, right: StageTimes) -> StageTimes {
        var sum = left
        sum += right
        return sum
    }

    public static func += (left: inout StageTimes, right: StageTimes) {
        left.parse += right.parse
        left.contentScan += right.contentScan
        left.rules += right.rules
        left.transforms += right.transforms
    }

    /// Runs `body`, adding its duration to `stage` of `times` when `times` is not nil (also when
    /// it throws); with nil, only `body` runs.
    @inline(__always)
    static func measure<R, E: Error>(
        _ stage: WritableKeyPath<StageTimes, Duration>,
        _ times: inout StageTimes?,
        _ body: () throws(E) -> R
    ) throws(E) -> R {
        guard times != nil else { return try body() }
        let clock = ContinuousClock()
        let started = clock.now
        defer { times?[keyPath: stage] += clock.now - started }
        return try body()
    }
}
