import Testing

@testable import GatewayServer

/// The one table of metrics: names after Prometheus practice, each defined once.
@Suite struct GatewayMetricsTests {
    @Test func namesAreUniqueAndFollowPrometheusPractice() {
        let names = GatewayMetrics.all.map(\.name)
        #expect(Set(names).count == names.count)
        for descriptor in GatewayMetrics.all {
            #expect(descriptor.name.wholeMatch(of: /thugate_[a-z0-9_]+/) != nil, "\(descriptor.name)")
            #expect(!descriptor.help.isEmpty)
            #expect(descriptor.kind == .counter ? descriptor.name.hasSuffix("_total") : !descriptor.name.hasSuffix("_total"))
            if descriptor.kind == .histogram { #expect(descriptor.name.hasSuffix("_seconds")) }
            for label in descriptor.labels {
                #expect(label.wholeMatch(of: /[a-z][a-z0-9_]*/) != nil && label != "le")
            }
            #expect(GatewayMetrics.descriptor(named: descriptor.name) == descriptor)
        }
        #expect(GatewayMetrics.descriptor(named: "thugate_nothing") == nil)
    }

    @Test func theIssuesNamesAreThere() {
        let names = Set(GatewayMetrics.all.map(\.name))
        for name in [
            "thugate_smtp_connections_active", "thugate_messages_total", "thugate_rule_hits_total",
            "thugate_transaction_duration_seconds", "thugate_upstream_replies_total", "thugate_clamav_db_timestamp_seconds",
            "thugate_quarantine_held", "thugate_outbox_pending", "thugate_store_up",
        ] {
            #expect(names.contains(name), "\(name)")
        }
    }

    @Test func durationBucketsGrow() {
        #expect(zip(GatewayMetrics.durationBuckets, GatewayMetrics.durationBuckets.dropFirst()).allSatisfy { $0 < $1 })
    }
}
