#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a PROXY protocol header says about the connection a load balancer (HAProxy) passes on:
/// the client's and the balancer's own addresses, or nothing (LOCAL: the balancer's own health
/// check; UNKNOWN / AF_UNSPEC: a connection it cannot describe), in which case the socket's
/// addresses stand.
///
/// - SeeAlso: HAProxy `doc/proxy-protocol.txt` (version 1: 2.1, version 2: 2.2).
public struct ProxyHeader: Sendable, Equatable {
    public enum Version: Int, Sendable {
        case v1 = 1
        case v2 = 2
    }

    /// An address and port as the header gives them (a Unix socket path has no port).
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public enum Family: Sendable, Equatable {
            case inet4, inet6, unix
        }

        public var family: Family
        /// The address as text (`192.0.2.7`, `2001:db8::7`), or a socket path.
        public var address: String
        public var port: UInt16

        public init(family: Family, address: String, port: UInt16) {
            self.family = family
            self.address = address
            self.port = port
        }

        public var description: String {
            switch family {
            case .inet4: "\(address):\(port)"
            case .inet6: "[\(address)]:\(port)"
            case .unix: address
            }
        }
    }

    public var version: Version
    /// The client, and the address it connected to; nil for LOCAL and UNKNOWN.
    public var source: Endpoint?
    public var destination: Endpoint?

    public init(version: Version, source: Endpoint?, destination: Endpoint?) {
        self.version = version
        self.source = source
        self.destination = destination
    }
}

/// Why a connection's first bytes are not a PROXY header it may be taken with. The spec forbids
/// guessing: the connection is closed, nothing of it reaches SMTP.
public enum ProxyHeaderError: Error, Sendable, Equatable {
    /// Neither `PROXY ` nor the version 2 signature.
    case notAProxyHeader
    /// A version 1 line longer than 107 bytes, or without CRLF.
    case lineTooLong
    /// A version 1 line that is not `PROXY TCP4|TCP6 SRC DST SPORT DPORT` or `PROXY UNKNOWN ...`.
    case malformedLine(String)
    /// A version 2 header with another version, command, family or a length too short for it.
    case malformedBinary(String)
}

/// Reads the PROXY header at the start of a connection, bytes as they come (one at a time too),
/// and gives back the bytes after it, which belong to the protocol behind (SMTP). Bounded: a
/// version 1 line is at most 107 bytes, a version 2 header at most 16 + 65,535. No I/O.
public struct ProxyHeaderDecoder: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// More bytes are needed.
        case needMore
        /// The header, and what came after it.
        case header(ProxyHeader, rest: [UInt8])
        case invalid(ProxyHeaderError)
    }

    /// The version 2 signature: `\r\n\r\n\0\r\nQUIT\n`.
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1Prefix = Array("PROXY ".utf8)
    /// Version 1 lines are at most 107 bytes, CRLF included (2.1).
    static let maxLineLength = 107

    private var buffer: [UInt8] = []
    private var done = false

    public init() {}

    /// Adds bytes read; says whether a header is complete. After a header or an error, the
    /// decoder takes nothing more.
    public mutating func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Outcome {
        guard !done else { return .invalid(.notAProxyHeader) }
        buffer.append(contentsOf: bytes)
        let outcome = examine()
        if case .needMore = outcome { return outcome }
        done = true
        buffer = []
        return outcome
    }

    private func examine() -> Outcome {
        // Which version: decided as soon as the first bytes cannot be the other one's.
        let v2 = buffer.starts(with: Self.signature.prefix(buffer.count))
        let v1 = buffer.starts(with: Self.v1Prefix.prefix(buffer.count))
        if v2 && buffer.count >= Self.signature.count { return binary() }
        if v1 && buffer.count >= Self.v1Prefix.count { return line() }
        return v1 || v2 ? .needMore : .invalid(.notAProxyHeader)
    }

    // MARK: Version 1

    private func line() -> Outcome {
        // The CR of the CRLF ends the line at byte 106 at the latest (107 with the LF).
        let limit = min(buffer.count, Self.maxLineLength - 1)
        guard let cr = buffer[..<limit].firstIndex(of: 0x0D) else {
            return buffer.count >= Self.maxLineLength - 1 ? .invalid(.lineTooLong) : .needMore
        }
        guard cr + 1 < buffer.count else { return .needMore }
        guard buffer[cr + 1] == 0x0A else { return .invalid(.malformedLine("CR without LF")) }
        let rest = Array(buffer[(cr + 2)...])
        let fields = buffer[Self.v1Prefix.count..<cr].split(separator: 0x20, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        // UNKNOWN: the rest of the line is to be ignored (2.1), the socket's addresses stand.
        if fields.first == "UNKNOWN" { return .header(ProxyHeader(version: .v1, source: nil, destination: nil), rest: rest) }
        guard fields.count == 5 else { return .invalid(.malformedLine("expected 5 fields after PROXY, got \(fields.count)")) }
        let family: ProxyHeader.Endpoint.Family
        switch fields[0] {
        case "TCP4": family = .inet4
        case "TCP6": family = .inet6
        default: return .invalid(.malformedLine("protocol \(fields[0].prefix(8))"))
        }
        guard let source = Self.address(fields[1], family), let destination = Self.address(fields[2], family) else {
            return .invalid(.malformedLine("address not \(fields[0])"))
        }
        guard let sourcePort = Self.port(fields[3]), let destinationPort = Self.port(fields[4]) else {
            return .invalid(.malformedLine("port"))
        }
        return .header(
            ProxyHeader(
                version: .v1,
                source: ProxyHeader.Endpoint(family: family, address: source, port: sourcePort),
                destination: ProxyHeader.Endpoint(family: family, address: destination, port: destinationPort)
            ),
            rest: rest
        )
    }

    /// An address in its canonical text form; nil when it is not one of `family`.
    static func address(_ text: String, _ family: ProxyHeader.Endpoint.Family) -> String? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        switch family {
        case .inet4:
            // Four decimal octets, no leading zero (inet_pton's rule too: no octal, no shorthand).
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit), part == "0" || part.first != "0",
                    let value = Int(part), value <= 255
                else { return nil }
            }
            return text
        case .inet6:
            var raw = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            return text6(raw)
        case .unix:
            return nil
        }
    }

    /// A decimal port, 0–65535, without a sign or leading zero.
    static func port(_ text: String) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCIIDigit), text == "0" || text.first != "0" else { return nil }
        return UInt16(text)
    }

    // MARK: Version 2

    private func binary() -> Outcome {
        guard buffer.count >= 16 else { return .needMore }
        let versionCommand = buffer[12]
        guard versionCommand >> 4 == 2 else { return .invalid(.malformedBinary("version \(versionCommand >> 4)")) }
        let command = versionCommand & 0x0F
        guard command <= 1 else { return .invalid(.malformedBinary("command \(command)")) }
        let familyProtocol = buffer[13]
        let length = Int(buffer[14]) << 8 | Int(buffer[15])
        guard buffer.count >= 16 + length else { return .needMore }
        let block = Array(buffer[16..<(16 + length)])
        let rest = Array(buffer[(16 + length)...])
        // LOCAL: the balancer speaking for itself (a health check); whatever it carries is ignored.
        if command == 0 { return .header(ProxyHeader(version: .v2, source: nil, destination: nil), rest: rest) }
        let transport = familyProtocol & 0x0F
        guard transport <= 2 else { return .invalid(.malformedBinary("transport \(transport)")) }
        switch familyProtocol >> 4 {
        case 0:
            // AF_UNSPEC: unknown, the socket's addresses stand (2.2).
            return .header(ProxyHeader(version: .v2, source: nil, destination: nil), rest: rest)
        case 1:
            guard block.count >= 12 else { return .invalid(.malformedBinary("IPv4 block of \(block.count) bytes")) }
            let source = block[0..<4].map(String.init).joined(separator: ".")
            let destination = block[4..<8].map(String.init).joined(separator: ".")
            return .header(
                ProxyHeader(
                    version: .v2,
                    source: .init(family: .inet4, address: source, port: Self.word(block, 8)),
                    destination: .init(family: .inet4, address: destination, port: Self.word(block, 10))
                ),
                rest: rest
            )
        case 2:
            guard block.count >= 36 else { return .invalid(.malformedBinary("IPv6 block of \(block.count) bytes")) }
            return .header(
                ProxyHeader(
                    version: .v2,
                    source: .init(family: .inet6, address: Self.text6(Array(block[0..<16])), port: Self.word(block, 32)),
                    destination: .init(family: .inet6, address: Self.text6(Array(block[16..<32])), port: Self.word(block, 34))
                ),
                rest: rest
            )
        case 3:
            guard block.count >= 216 else { return .invalid(.malformedBinary("Unix block of \(block.count) bytes")) }
            func path(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
            return .header(
                ProxyHeader(
                    version: .v2,
                    source: .init(family: .unix, address: path(block[0..<108]), port: 0),
                    destination: .init(family: .unix, address: path(block[108..<216]), port: 0)
                ),
                rest: rest
            )
        default:
            return .invalid(.malformedBinary("family \(familyProtocol >> 4)"))
        }
    }

    static func word(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    /// RFC 5952 text of 16 address bytes (inet_ntop).
    static func text6(_ raw: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = raw.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
