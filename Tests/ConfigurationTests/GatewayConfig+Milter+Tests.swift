import Configuration
import NIOCore
import Testing

@Suite struct GatewayConfigMilterTests {
    @Test func milterSectionIsRead() throws {
        let config = try GatewayConfig.parse(
            """
            [milter]
            listen = ["unix:run/thugate.sock", "inet:127.0.0.1:8891", "inet:[::1]:8892"]
            socket_group = "postfix"
            socket_mode = "0660"
            quarantine = "mta-hold"
            reply_text = "ascii"
            progress_interval = "2s"
            [quarantine]
            release_to = "smtp://127.0.0.1:10025"
            """,
            directory: "/etc/thugate"
        )
        #expect(
            config.milter.listen == [
                .unix("/etc/thugate/run/thugate.sock"), .inet(HostPort(host: "127.0.0.1", port: 8891)),
                .inet(HostPort(host: "::1", port: 8892)),
            ]
        )
        #expect(config.milter.socketGroup == "postfix" && config.milter.socketMode == 0o660)
        #expect(config.milter.quarantine == .mtaHold && config.milter.asciiReplies == true)
        #expect(config.milter.progressInterval == .seconds(2))
        #expect(config.quarantine.releaseTo == .smtp(HostPort(host: "127.0.0.1", port: 10025)))
        #expect(GatewayConfig().milter.asciiReplies == nil && GatewayConfig().quarantine.releaseTo == nil)
    }

    /// The milter protocol has no authentication: a listener on anything but loopback is refused,
    /// as is a socket others may open.
    @Test(arguments: [
        "listen = [\"inet:0.0.0.0:8899\"]", "listen = [\"inet:192.0.2.1:8899\"]", "listen = [\"tcp:127.0.0.1:1\"]", "listen = []",
        "listen = [\"unix:\"]", "socket_mode = \"0666\"", "socket_mode = \"rw\"", "quarantine = \"hold\"", "progress_interval = \"0s\"",
    ])
    func unsafeOrBadValuesAreRefused(line: String) {
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[milter]\n\(line)\n") }
    }

    @Test func releaseToMustBeSMTP() throws {
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("[quarantine]\nrelease_to = \"maildir:x\"\n") }
        #expect(try GatewayConfig.parse("[quarantine]\nrelease_to = \"\"\n").quarantine.releaseTo == nil)
    }

    @Test func listenAddressesParse() {
        #expect(MilterListenAddress(parsing: "local:/var/run/x.sock") == .unix("/var/run/x.sock"))
        #expect(MilterListenAddress(parsing: "inet:localhost:1") == .inet(HostPort(host: "localhost", port: 1)))
        #expect(MilterListenAddress(parsing: "inet:127.0.0.2:0") == .inet(HostPort(host: "127.0.0.2", port: 0)))
        #expect(MilterListenAddress(parsing: "inet:[2001:db8::1]:1") == nil)
        #expect(MilterListenAddress(parsing: "127.0.0.1:1") == nil)
    }
}
