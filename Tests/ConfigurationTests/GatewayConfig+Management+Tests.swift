import Configuration
import NIOCore
import Testing

@Suite struct GatewayConfigManagementTests {
    @Test func managementSectionIsRead() throws {
        let config = try GatewayConfig.parse(
            """
            [management]
            listen = "10.0.0.11:9100"
            drain_grace = "10s"
            max_signature_age = "48h"
            upstream_within = "2m"
            store_probe_interval = "5s"
            [upstream]
            xforward = false
            """
        )
        #expect(config.management.listen == HostPort(host: "10.0.0.11", port: 9100))
        #expect(config.management.drainGrace == .seconds(10))
        #expect(config.management.maxSignatureAge == .hours(48))
        #expect(config.management.upstreamWithin == .minutes(2))
        #expect(config.management.storeProbeInterval == .seconds(5))
        #expect(config.upstream.xforward == false && GatewayConfig().upstream.xforward)
        #expect(try GatewayConfig.parse("[management]\nlisten = \"\"\ndrain_grace = \"0s\"\n").management.listen == nil)
        #expect(GatewayConfig().management.listen == HostPort(host: "127.0.0.1", port: 9100))
        #expect(GatewayConfig().management.drainGrace == .zero)
    }

    @Test(arguments: [
        "listen = \"nowhere\"", "listen = 9100", "drain_grace = \"-1s\"", "max_signature_age = \"0s\"", "upstream_within = \"500ms\"",
        "store_probe_interval = \"0s\"", "other = 1",
    ])
    func badValuesAreRefused(line: String) {
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[management]\n\(line)\n") }
    }
}
