import Crypto

/// SHA-256, incremental, so a message is hashed chunk by chunk as it is stored: swift-crypto's,
/// under the small interface the store and the sink use.
/// - SeeAlso: FIPS 180-4
public struct SHA256 {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// The 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }

    /// Lower-case hex of all of `bytes` at once.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize().hex
    }

}

extension [UInt8] {
    /// Lower-case hex, as `sha256sum` prints it.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
