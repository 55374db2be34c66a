import NIOCore
import Testing

@testable import Configuration

@Suite struct IPNetworkTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("192.0.2.7", "192.0.2.7", true),
        ("192.0.2.7", "192.0.2.8", false),
        ("192.0.2.128/25", "192.0.2.200", true),
        ("192.0.2.128/25", "192.0.2.127", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("127.0.0.0/8", "::ffff:127.0.0.1", true),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("::1/128", "::1", true),
        ("::1/128", "127.0.0.1", false),
        ("127.0.0.0/8", "::1", false),
    ])
    func membership(network: String, address: String, expected: Bool) throws {
        let net = try #require(IPNetwork(network))
        let bytes = try #require(IPNetwork.parseAddress(address))
        #expect(net.contains(bytes) == expected)
    }

    @Test(arguments: ["", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0/8", "host.example", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/+8"])
    func invalid(text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test func hostBitsAreCleared() throws {
        #expect(try #require(IPNetwork("10.1.2.3/8")).description == "10.0.0.0/8")
        #expect(try #require(IPNetwork("2001:db8::1/32")).description == "2001:db8::/32")
    }

    @Test func socketAddresses() throws {
        let loopback = IPNetwork.loopback
        #expect(loopback.contains(try SocketAddress(ipAddress: "127.0.0.1", port: 25)))
        #expect(loopback.contains(try SocketAddress(ipAddress: "::1", port: 25)))
        #expect(!loopback.contains(try SocketAddress(ipAddress: "192.0.2.1", port: 25)))
        #expect(!loopback.contains(nil as SocketAddress?))
    }
}
