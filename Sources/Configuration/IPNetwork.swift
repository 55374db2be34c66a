import CNIOLinux
public import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`; a bare address is
/// a network of one), as Postfix's `mynetworks` lists them.
///
/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4
/// client) matches the IPv4 networks.
/// - SeeAlso: RFC 4632 (CIDR), RFC 4291 2.5.5.2 (IPv4-mapped addresses)
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// Network address bytes: 4 for IPv4, 16 for IPv6, host bits cleared.
    public let address: [UInt8]
    public let prefixLength: Int

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; nil when either part is not valid.
    public init?(_ text: String) {
        let pieces = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.parseAddress(String(pieces[0])) else { return nil }
        let length: Int
        if pieces.count == 2 {
            guard !pieces[1].isEmpty, pieces[1].count <= 3, pieces[1].allSatisfy({ ("0"..."9").contains($0) }), let n = Int(pieces[1]),
                (0...bytes.count * 8).contains(n)
            else { return nil }
            length = n
        } else {
            length = bytes.count * 8
        }
        self.prefixLength = length
        self.address = Self.masked(bytes, length)
    }

    /// The loopback networks, trusted by default.
    public static let loopback: [IPNetwork] = [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!]

    public func contains(_ bytes: [UInt8]) -> Bool {
        var candidate = bytes
        if candidate.count == 16, address.count == 4, candidate.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) {
            candidate = Array(candidate.suffix(4))
        }
        guard candidate.count == address.count else { return false }
        return Self.masked(candidate, prefixLength) == address
    }

    /// Whether the peer address is inside this network (Unix sockets never are).
    public func contains(_ peer: SocketAddress) -> Bool {
        guard let bytes = Self.bytes(of: peer) else { return false }
        return contains(bytes)
    }

    public var description: String {
        var text = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = address.count == 4 ? AF_INET : AF_INET6
        let ok = address.withUnsafeBytes { source in
            text.withUnsafeMutableBufferPointer { inet_ntop(family, source.baseAddress, $0.baseAddress, socklen_t($0.count)) != nil }
        }
        let host = ok ? String(decoding: text.prefix(while: { $0 != 0 }), as: UTF8.self) : "?"
        return "\(host)/\(prefixLength)"
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func bytes(of peer: SocketAddress) -> [UInt8]? {
        switch peer {
        case .v4(let a):
            var raw = a.address.sin_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let a):
            var raw = a.address.sin6_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(length - index * 8, 0), 8)
            return bits == 8 ? byte : byte & ~(0xFF >> bits)
        }
    }
}

extension Array where Element == IPNetwork {
    /// Whether any network in the list holds `peer`.
    public func contains(_ peer: SocketAddress?) -> Bool {
        guard let peer else { return false }
        return contains { $0.contains(peer) }
    }
}
