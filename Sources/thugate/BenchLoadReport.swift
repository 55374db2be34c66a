import Configuration
import Foundation
import Histogram

/// The end-to-end bench's result, as text or one JSON object.
struct LoadReport: Encodable {
    struct Latency: Encodable {
        var p50: Double
        var p90: Double
        var p99: Double
        var max: Double
    }

    var mode = "smtp"
    var server: String
    var connections: Int
    var perConnection: Int
    var messages: Int
    var accepted: Int
    var failures: Int
    var seconds: Double
    var messagesPerSecond: Double
    var mbPerSecond: Double
    /// Mean size of the measured messages, in bytes.
    var messageBytes: Int
    var latencyMs: Latency
    var replies: [String: Int]
    var errors: [String: Int]
    var gateway: LocalGateway.Figures?
    /// Messages started, the warm-up's included.
    var started: Int
    /// The idle phase of `--hold`.
    var hold: HoldFigures?

    /// The latencies (µs) summarized with HdrHistogram at 3 significant digits; a latency past an
    /// hour is counted as an hour.
    init(_ result: LoadBench.Result, bench: LoadBench, gateway: LocalGateway.Figures?) {
        let tally = result.tally
        let highest: UInt64 = 3_600_000_000
        var histogram = Histogram<UInt64>(highestTrackableValue: highest, numberOfSignificantValueDigits: .three)
        for latency in tally.latenciesMicros { _ = histogram.record(min(latency, highest)) }
        let seconds = max(OfflineReport.seconds(result.elapsed), 1e-9)
        func ms(_ micros: UInt64) -> Double { tally.latenciesMicros.isEmpty ? 0 : Double(micros) / 1000 }
        server = "\(bench.server.host):\(bench.server.port)"
        connections = bench.connections
        perConnection = bench.perConnection
        messages = tally.messages
        accepted = tally.accepted
        failures = tally.failures
        self.seconds = seconds
        messagesPerSecond = Double(tally.messages) / seconds
        mbPerSecond = Double(tally.bytes) / 1e6 / seconds
        let sized = tally.replies.values.reduce(0, +)
        messageBytes = sized > 0 ? tally.bytes / sized : 0
        latencyMs = Latency(
            p50: ms(histogram.valueAtPercentile(50)),
            p90: ms(histogram.valueAtPercentile(90)),
            p99: ms(histogram.valueAtPercentile(99)),
            max: ms(histogram.max)
        )
        replies = Dictionary(uniqueKeysWithValues: tally.replies.map { (String($0.key), $0.value) })
        errors = tally.errors
        self.gateway = gateway
        started = result.started
        hold = result.hold
        // The gateway's CPU time covers the warm-up too: per message of all it was sent.
        if let cpu = gateway?.cpuSeconds, result.started > 0 { self.gateway?.cpuMsPerMessage = cpu * 1000 / Double(result.started) }
    }

    enum CodingKeys: String, CodingKey {
        case mode, server, connections, messages, accepted, failures, seconds, replies, errors, gateway, started, hold
        case perConnection = "per_connection"
        case messagesPerSecond = "messages_per_second"
        case mbPerSecond = "mb_per_second"
        case messageBytes = "message_bytes"
        case latencyMs = "latency_ms"
        case p50 = "p50_ms"
        case p90 = "p90_ms"
        case p99 = "p99_ms"
        case max = "max_ms"
    }

    func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(mode, forKey: .mode)
        try values.encode(server, forKey: .server)
        try values.encode(connections, forKey: .connections)
        try values.encode(perConnection, forKey: .perConnection)
        try values.encode(messages, forKey: .messages)
        try values.encode(started, forKey: .started)
        try values.encode(accepted, forKey: .accepted)
        try values.encode(failures, forKey: .failures)
        try values.encode(seconds, forKey: .seconds)
        try values.encode(messagesPerSecond, forKey: .messagesPerSecond)
        try values.encode(mbPerSecond, forKey: .mbPerSecond)
        try values.encode(messageBytes, forKey: .messageBytes)
        try values.encode(latencyMs, forKey: .latencyMs)
        // Flat copies, as `thugate-load` printed them (Benchmarks/*.py read these).
        try values.encode(latencyMs.p50, forKey: .p50)
        try values.encode(latencyMs.p90, forKey: .p90)
        try values.encode(latencyMs.p99, forKey: .p99)
        try values.encode(latencyMs.max, forKey: .max)
        try values.encode(replies, forKey: .replies)
        try values.encode(errors, forKey: .errors)
        try values.encodeIfPresent(gateway, forKey: .gateway)
        try values.encodeIfPresent(hold, forKey: .hold)
    }

    var json: String {
        BenchJSON.line(self)
    }

    var text: String {
        var lines: [String] = []
        if let hold {
            var line = String(
                format: "held %d connections idle (open, greeted, EHLO answered; the wait for them %.2f s) for %.1f s",
                hold.idleConnections,
                hold.establishSeconds,
                hold.holdSeconds
            )
            if let rss = hold.idleRSSMB { line += String(format: ", gateway RSS %.1f MiB while idle", rss) }
            lines.append(line + "; then all sent at once:")
        }
        lines += [
            "\(server): \(messages) messages on \(connections) connections (\(perConnection) per connection), "
                + String(format: "%.2f s", seconds),
            String(format: "%.1f messages/s, %.2f MB/s, %d bytes per message", messagesPerSecond, mbPerSecond, messageBytes),
            String(
                format: "latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f",
                latencyMs.p50,
                latencyMs.p90,
                latencyMs.p99,
                latencyMs.max
            ),
            "replies: " + replies.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
        ]
        if !errors.isEmpty {
            lines.append("errors: " + errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let gateway {
            var line = "gateway (pid \(gateway.pid)):"
            if let rss = gateway.peakRSSMB { line += String(format: " peak RSS %.1f MiB,", rss) }
            if let cpu = gateway.cpuSeconds, let perMessage = gateway.cpuMsPerMessage {
                line += String(format: " CPU %.2f s (%.2f ms per message of the %d sent),", cpu, perMessage, started)
            }
            line += " sink received \(gateway.sinkMessages)"
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension LoadBench {
    static func printReport(_ result: Result, bench: LoadBench, gateway: LocalGateway.Figures?, json: Bool) {
        let report = LoadReport(result, bench: bench, gateway: gateway)
        print(json ? report.json : report.text)
    }
}
