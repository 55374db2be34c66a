public import NIOCore

extension GatewayConfig {
    /// `[management]`: the HTTP listener a monitoring system and a load balancer talk to
    /// (`/metrics`, `/livez`, `/readyz`), and how a node leaves a load balancer's rotation.
    public struct Management: Sendable, Equatable {
        /// nil: no management listener.
        public var listen: HostPort? = HostPort(host: "127.0.0.1", port: 9100)
        /// After SIGTERM, how long `/readyz` answers 503 while the listener still accepts, so the
        /// load balancer's health check (HAProxy `inter`, 2 s by default, times `fall`, 3) takes
        /// the node out before it stops accepting. 0: stop accepting at once (a single node).
        public var drainGrace = TimeAmount.seconds(0)
        /// `/readyz` fails when the newest signature file is older than this (freshclam stopped).
        public var maxSignatureAge = TimeAmount.hours(7 * 24)
        /// `/readyz` fails when the upstream could not be reached in this long (a probe
        /// connection is made when no message went through in that time).
        public var upstreamWithin = TimeAmount.seconds(60)
        /// How often the store is probed with a write (and its counts read for the metrics).
        public var storeProbeInterval = TimeAmount.seconds(10)

        public init() {}
    }
}

extension ConfigReader {
    static let managementKeys: Set<String> = ["listen", "drain_grace", "max_signature_age", "upstream_within", "store_probe_interval"]

    func management(_ s: Section, into management: inout GatewayConfig.Management) throws(ConfigError) {
        if let v = try s.string("listen") {
            if v.isEmpty {
                management.listen = nil
            } else {
                guard let hostPort = HostPort(parsing: v) else {
                    throw s.error("listen", "expected \"HOST:PORT\" (\"127.0.0.1:9100\"), or \"\" for none")
                }
                management.listen = hostPort
            }
        }
        if let v = try s.duration("drain_grace", allowZero: true) { management.drainGrace = v }
        if let v = try s.duration("max_signature_age") {
            guard v > .zero else { throw s.error("max_signature_age", "must be more than 0s") }
            management.maxSignatureAge = v
        }
        if let v = try s.duration("upstream_within") {
            guard v >= .seconds(1) else { throw s.error("upstream_within", "must be at least 1s") }
            management.upstreamWithin = v
        }
        if let v = try s.duration("store_probe_interval") {
            guard v >= .seconds(1) else { throw s.error("store_probe_interval", "must be at least 1s") }
            management.storeProbeInterval = v
        }
    }
}
