import CoreMetrics
import GatewayServer
import Metrics
import Prometheus

/// The process's one metrics backend: swift-prometheus's registry, fed through swift-metrics by
/// the libraries, with each metric's help text and histogram buckets from ``GatewayMetrics``
/// (the one file that defines them), so `# HELP` lines are written and one name never arrives
/// with two help texts (the registry would stop the process).
final class GatewayMetricsFactory: MetricsFactory {
    let registry = PrometheusCollectorRegistry()

    private func help(_ label: String) -> String { GatewayMetrics.descriptor(named: label)?.help ?? "" }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: help(label))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: help(label))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if aggregate {
            return registry.makeValueHistogram(
                name: label,
                labels: dimensions,
                buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
                help: help(label)
            )
        }
        return registry.makeGauge(name: label, labels: dimensions, help: help(label))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: help(label))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(name: label, labels: dimensions, buckets: GatewayMetrics.durationBuckets, help: help(label))
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }

    /// Bootstraps swift-metrics with this factory (once per process) and makes the families that
    /// have no labels, so a scrape shows them at 0 before anything happened.
    static func bootstrap() -> GatewayMetricsFactory {
        let factory = GatewayMetricsFactory()
        MetricsSystem.bootstrap(factory)
        for descriptor in GatewayMetrics.all where descriptor.labels.isEmpty {
            switch descriptor.kind {
            case .counter: _ = factory.makeCounter(label: descriptor.name, dimensions: [])
            case .gauge: _ = factory.makeMeter(label: descriptor.name, dimensions: [])
            case .histogram: _ = factory.makeTimer(label: descriptor.name, dimensions: [])
            }
        }
        return factory
    }

    func text() -> String { registry.emitToString() }
}
