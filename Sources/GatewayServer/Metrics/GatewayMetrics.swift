import CoreMetrics
import Metrics
public import Quarantine

/// Every metric ThuGate exports, in one place: its name, help text, kind and label names. Library
/// code records through swift-metrics only (the helpers below); the executable bootstraps
/// swift-prometheus with a factory that takes the help text from here, so one name never comes
/// with two help texts, kinds or label sets (the registry stops the process on a mismatch).
///
/// Names follow Prometheus practice and postfix_exporter: `thugate_` prefix, `_total` counters,
/// `_seconds` durations, base units. No label holds an address, a domain or any other value a
/// sender chooses: label values come from fixed sets (modes, outcomes, stages, reply classes) or
/// the rule catalog. Per-agency numbers belong to the reports.
/// - SeeAlso: https://prometheus.io/docs/practices/naming/, https://github.com/kumina/postfix_exporter
public enum GatewayMetrics {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public struct Descriptor: Sendable, Equatable {
        public var name: String
        public var help: String
        public var kind: Kind
        public var labels: [String]
    }

    /// Which front end finished a message.
    public enum Mode: String, Sendable, CaseIterable {
        case proxy, milter
    }

    /// The stages a transaction's duration is measured in.
    public enum Stage: String, Sendable, CaseIterable {
        /// Parse, content scan, rules and transforms.
        case inspect
        /// From the final dot sent upstream to its reply.
        case relay
        /// The quarantine store's commit of a held message.
        case hold
        /// From the end of the client's data to the disposition.
        case total
    }

    public static let connectionsActive = Descriptor(
        name: "thugate_smtp_connections_active",
        help: "SMTP client connections open now (the PROXY listener's included).",
        kind: .gauge,
        labels: []
    )
    public static let messages = Descriptor(
        name: "thugate_messages_total",
        help: "Messages finished, by front end and outcome (delivered, refused, tempfailed, held).",
        kind: .counter,
        labels: ["mode", "outcome"]
    )
    public static let ruleHits = Descriptor(
        name: "thugate_rule_hits_total",
        help: "Findings by rule id (a message with two findings of one rule counts once).",
        kind: .counter,
        labels: ["rule"]
    )
    public static let transactionDuration = Descriptor(
        name: "thugate_transaction_duration_seconds",
        help: "Time a message spent in each stage.",
        kind: .histogram,
        labels: ["stage"]
    )
    public static let upstreamReplies = Descriptor(
        name: "thugate_upstream_replies_total",
        help: "Replies from the upstream server, by class (2xx, 3xx, 4xx, 5xx).",
        kind: .counter,
        labels: ["class"]
    )
    public static let clamavDatabaseTimestamp = Descriptor(
        name: "thugate_clamav_db_timestamp_seconds",
        help: "When the newest file of the loaded signature directory was written (Unix time).",
        kind: .gauge,
        labels: []
    )
    public static let quarantineHeld = Descriptor(
        name: "thugate_quarantine_held",
        help: "Messages in the quarantine with a recipient still held, by category.",
        kind: .gauge,
        labels: ["category"]
    )
    public static let outboxPending = Descriptor(
        name: "thugate_outbox_pending",
        help: "Notices in the outbox waiting to be sent.",
        kind: .gauge,
        labels: []
    )
    public static let storeUp = Descriptor(
        name: "thugate_store_up",
        help: "1 when the quarantine store answered the last probe with a write, else 0.",
        kind: .gauge,
        labels: []
    )
    public static let verdictsDropped = Descriptor(
        name: "thugate_verdicts_dropped_total",
        help: "Messages not counted in the verdict log (the store was down past the memory cap).",
        kind: .counter,
        labels: []
    )
    public static let ready = Descriptor(
        name: "thugate_ready",
        help: "1 when /readyz answers 200 (every check passed and not draining), else 0.",
        kind: .gauge,
        labels: []
    )

    public static let all: [Descriptor] = [
        connectionsActive, messages, ruleHits, transactionDuration, upstreamReplies, clamavDatabaseTimestamp, quarantineHeld,
        outboxPending, storeUp, verdictsDropped, ready,
    ]

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func descriptor(named name: String) -> Descriptor? { byName[name] }

    /// Bucket bounds of ``transactionDuration``: from a small clean message to a large archive.
    public static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    // MARK: Recording (swift-metrics only)

    static func connectionOpened() { Meter(label: connectionsActive.name).increment() }
    static func connectionClosed() { Meter(label: connectionsActive.name).decrement() }

    /// One finished message: its outcome and the rules it hit.
    static func finished(mode: Mode, outcome: VerdictOutcome, rules: [String]) {
        Counter(label: messages.name, dimensions: [("mode", mode.rawValue), ("outcome", outcome.rawValue)]).increment()
        for rule in rules { Counter(label: ruleHits.name, dimensions: [("rule", rule)]).increment() }
    }

    static func stage(_ stage: Stage, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        self.stage(stage, nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    static func stage(_ stage: Stage, nanoseconds: Int64) {
        Timer(label: transactionDuration.name, dimensions: [("stage", stage.rawValue)]).recordNanoseconds(nanoseconds)
    }

    static func upstreamReplied(code: Int) {
        let replyClass: String
        switch code / 100 {
        case 2: replyClass = "2xx"
        case 3: replyClass = "3xx"
        case 4: replyClass = "4xx"
        default: replyClass = "5xx"
        }
        Counter(label: upstreamReplies.name, dimensions: [("class", replyClass)]).increment()
    }

    static func verdictsDropped(_ count: Int) { Counter(label: verdictsDropped.name).increment(by: count) }

    static func signatures(writtenAt seconds: Double) { Gauge(label: clamavDatabaseTimestamp.name).record(seconds) }

    static func store(up: Bool) { Gauge(label: storeUp.name).record(up ? 1 : 0) }

    static func ready(_ ready: Bool) { Gauge(label: self.ready.name).record(ready ? 1 : 0) }

    static func outbox(pending: Int) { Gauge(label: outboxPending.name).record(pending) }

    static func held(_ count: Int, category: String) {
        Gauge(label: quarantineHeld.name, dimensions: [("category", category)]).record(count)
    }
}
