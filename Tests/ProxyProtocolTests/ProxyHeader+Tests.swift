import ProxyProtocol
import Testing

/// The PROXY protocol header, from HAProxy's `doc/proxy-protocol.txt` examples and its rules:
/// each fixture fed whole and one byte at a time, with the SMTP bytes that follow kept.
@Suite struct ProxyHeaderDecoderTests {
    static let signature = ProxyHeaderDecoder.signature

    /// Feeds `bytes` in reads of `chunk`; the outcome once it is not `needMore`. The rest of a
    /// header is what came with it and every read after it, as the SMTP session gets them.
    static func decode(_ bytes: [UInt8], chunk: Int) -> ProxyHeaderDecoder.Outcome {
        var decoder = ProxyHeaderDecoder()
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            let outcome = decoder.decode(bytes[start..<end])
            if case .header(let header, let rest) = outcome { return .header(header, rest: rest + bytes[end...]) }
            if outcome != .needMore { return outcome }
            start = end
        }
        return .needMore
    }

    static func v2(command: UInt8 = 0x21, family: UInt8, block: [UInt8]) -> [UInt8] {
        signature + [command, family, UInt8(block.count >> 8), UInt8(block.count & 0xFF)] + block
    }

    static let smtp = Array("EHLO client.example\r\n".utf8)

    static let good: [(String, [UInt8], ProxyHeader)] = [
        (
            "v1 TCP4", Array("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n".utf8),
            ProxyHeader(
                version: .v1,
                source: .init(family: .inet4, address: "192.0.2.7", port: 56324),
                destination: .init(family: .inet4, address: "198.51.100.1", port: 25)
            )
        ),
        (
            "v1 TCP6, written long", Array("PROXY TCP6 2001:0db8:0000:0000:0000:0000:0000:0007 2001:db8::1 65535 0\r\n".utf8),
            ProxyHeader(
                version: .v1,
                source: .init(family: .inet6, address: "2001:db8::7", port: 65535),
                destination: .init(family: .inet6, address: "2001:db8::1", port: 0)
            )
        ),
        ("v1 UNKNOWN", Array("PROXY UNKNOWN\r\n".utf8), ProxyHeader(version: .v1, source: nil, destination: nil)),
        (
            "v1 UNKNOWN with addresses", Array("PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 65535 65535\r\n".utf8),
            ProxyHeader(version: .v1, source: nil, destination: nil)
        ),
        (
            "v2 PROXY TCP4", v2(family: 0x11, block: [192, 0, 2, 7, 198, 51, 100, 1, 0xDC, 0x04, 0, 25]),
            ProxyHeader(
                version: .v2,
                source: .init(family: .inet4, address: "192.0.2.7", port: 56324),
                destination: .init(family: .inet4, address: "198.51.100.1", port: 25)
            )
        ),
        (
            "v2 PROXY TCP6 with TLVs skipped",
            v2(
                family: 0x21,
                block: [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [7] + [0x20, 0x01, 0x0D, 0xB8]
                    + [UInt8](repeating: 0, count: 11) + [1] + [0x01, 0xBB, 0, 25]
                    // PP2_TYPE_ALPN "smtp", PP2_TYPE_UNIQUE_ID of 5 bytes
                    + [0x01, 0, 4] + Array("smtp".utf8) + [0x05, 0, 5, 1, 2, 3, 4, 5]
            ),
            ProxyHeader(
                version: .v2,
                source: .init(family: .inet6, address: "2001:db8::7", port: 443),
                destination: .init(family: .inet6, address: "2001:db8::1", port: 25)
            )
        ),
        ("v2 LOCAL (a health check)", v2(command: 0x20, family: 0x00, block: []), ProxyHeader(version: .v2, source: nil, destination: nil)),
        (
            "v2 LOCAL carrying addresses", v2(command: 0x20, family: 0x11, block: [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2]),
            ProxyHeader(version: .v2, source: nil, destination: nil)
        ),
        ("v2 PROXY AF_UNSPEC", v2(family: 0x00, block: []), ProxyHeader(version: .v2, source: nil, destination: nil)),
        (
            "v2 PROXY AF_UNIX",
            v2(
                family: 0x31,
                block: Array("/run/a.sock".utf8) + [UInt8](repeating: 0, count: 97) + Array("/run/b.sock".utf8)
                    + [UInt8](repeating: 0, count: 97)
            ),
            ProxyHeader(
                version: .v2,
                source: .init(family: .unix, address: "/run/a.sock", port: 0),
                destination: .init(family: .unix, address: "/run/b.sock", port: 0)
            )
        ),
    ]

    @Test(arguments: 0..<good.count, [1, 2, 7, 4096])
    func validHeadersAreReadAndTheRestKept(index: Int, chunk: Int) {
        let (name, bytes, header) = Self.good[index]
        #expect(Self.decode(bytes + Self.smtp, chunk: chunk) == .header(header, rest: Self.smtp), "\(name), chunk \(chunk)")
        // Nothing after the header: nothing is handed on.
        #expect(Self.decode(bytes, chunk: chunk) == .header(header, rest: []), "\(name), chunk \(chunk)")
    }

    static let bad: [(String, [UInt8], ProxyHeaderError)] = [
        ("SMTP itself", Array("EHLO client.example\r\n".utf8), .notAProxyHeader),
        ("lower case", Array("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8), .notAProxyHeader),
        ("v1 without CRLF, 107 bytes", Array(("PROXY TCP4 1.2.3.4 5.6.7.8 1 2" + String(repeating: " ", count: 77)).utf8), .lineTooLong),
        ("v1 LF alone", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n".utf8) + [UInt8](repeating: 0x20, count: 100), .lineTooLong),
        ("v1 CR without LF", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX".utf8), .malformedLine("CR without LF")),
        ("v1 TCP5", Array("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n".utf8), .malformedLine("protocol TCP5")),
        ("v1 two spaces", Array("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n".utf8), .malformedLine("expected 5 fields after PROXY, got 6")),
        ("v1 IPv6 as TCP4", Array("PROXY TCP4 ::1 ::1 1 2\r\n".utf8), .malformedLine("address not TCP4")),
        ("v1 octal-looking octet", Array("PROXY TCP4 010.0.0.1 5.6.7.8 1 2\r\n".utf8), .malformedLine("address not TCP4")),
        ("v1 octet past 255", Array("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n".utf8), .malformedLine("address not TCP4")),
        ("v1 port past 65535", Array("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n".utf8), .malformedLine("port")),
        ("v1 port with a sign", Array("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n".utf8), .malformedLine("port")),
        ("v1 port with a leading zero", Array("PROXY TCP4 1.2.3.4 5.6.7.8 025 2\r\n".utf8), .malformedLine("port")),
        ("v2 version 1", signature + [0x11, 0x11, 0, 0], .malformedBinary("version 1")),
        ("v2 command 2", signature + [0x22, 0x11, 0, 12] + [UInt8](repeating: 1, count: 12), .malformedBinary("command 2")),
        (
            "v2 IPv4 block too short", signature + [0x21, 0x11, 0, 8] + [UInt8](repeating: 1, count: 8),
            .malformedBinary("IPv4 block of 8 bytes")
        ),
        (
            "v2 IPv6 block too short", signature + [0x21, 0x21, 0, 12] + [UInt8](repeating: 1, count: 12),
            .malformedBinary("IPv6 block of 12 bytes")
        ),
        ("v2 family 4", signature + [0x21, 0x41, 0, 0], .malformedBinary("family 4")),
        ("v2 transport 3", signature + [0x21, 0x13, 0, 12] + [UInt8](repeating: 1, count: 12), .malformedBinary("transport 3")),
    ]

    @Test(arguments: 0..<bad.count, [1, 3, 4096])
    func invalidHeadersAreRefused(index: Int, chunk: Int) {
        let (name, bytes, error) = Self.bad[index]
        #expect(Self.decode(bytes, chunk: chunk) == .invalid(error), "\(name), chunk \(chunk)")
    }

    /// A header that never ends waits, bounded: a v1 line stops at 107 bytes, a v2 header at its
    /// declared length (at most 16 + 65,535).
    @Test func incompleteHeadersWait() {
        #expect(Self.decode(Array("PROXY TCP4 1.2.3.4".utf8), chunk: 1) == .needMore)
        #expect(Self.decode(Array(Self.signature.prefix(5)), chunk: 1) == .needMore)
        #expect(Self.decode(Self.signature + [0x21, 0x11, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 1000), chunk: 100) == .needMore)
        // The first byte that fits neither version ends it at once.
        #expect(Self.decode(Array(Self.signature.prefix(3)) + [0x41], chunk: 1) == .invalid(.notAProxyHeader))
        #expect(Self.decode(Array("PROX!".utf8), chunk: 1) == .invalid(.notAProxyHeader))
    }

    @Test func theDecoderTakesNothingAfterItsOutcome() {
        var decoder = ProxyHeaderDecoder()
        guard case .header = decoder.decode(Array("PROXY UNKNOWN\r\n".utf8)) else {
            Issue.record("no header")
            return
        }
        #expect(decoder.decode(Array("PROXY UNKNOWN\r\n".utf8)) == .invalid(.notAProxyHeader))
    }

    @Test func endpointsPrintAsLogsShowThem() {
        #expect(ProxyHeader.Endpoint(family: .inet4, address: "192.0.2.7", port: 25).description == "192.0.2.7:25")
        #expect(ProxyHeader.Endpoint(family: .inet6, address: "2001:db8::7", port: 25).description == "[2001:db8::7]:25")
    }
}
