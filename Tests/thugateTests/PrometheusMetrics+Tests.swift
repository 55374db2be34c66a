import GatewayServer
import Metrics
import Testing

@testable import thugate

/// The executable's metrics backend writes each family with the help text of the one table.
@Suite struct PrometheusMetricsTests {
    @Test func familiesCarryTheirHelpAndBuckets() {
        let factory = GatewayMetricsFactory()
        Counter(label: GatewayMetrics.messages.name, dimensions: [("mode", "proxy"), ("outcome", "held")], factory: factory).increment()
        Counter(label: GatewayMetrics.messages.name, dimensions: [("mode", "milter"), ("outcome", "held")], factory: factory).increment()
        Meter(label: GatewayMetrics.connectionsActive.name, factory: factory).increment()
        Timer(label: GatewayMetrics.transactionDuration.name, dimensions: [("stage", "total")], factory: factory)
            .recordNanoseconds(30_000_000)
        let text = factory.text()
        #expect(text.contains("# HELP thugate_messages_total \(GatewayMetrics.messages.help)\n# TYPE thugate_messages_total counter\n"))
        #expect(text.contains(#"thugate_messages_total{mode="proxy",outcome="held"} 1"#))
        #expect(text.contains(#"thugate_messages_total{mode="milter",outcome="held"} 1"#))
        #expect(text.contains("# TYPE thugate_smtp_connections_active gauge\nthugate_smtp_connections_active 1"))
        #expect(text.contains(#"thugate_transaction_duration_seconds_bucket{stage="total",le="0.05"} 1"#))
        #expect(text.contains(#"thugate_transaction_duration_seconds_bucket{stage="total",le="0.025"} 0"#))
    }
}
