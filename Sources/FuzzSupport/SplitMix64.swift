/// A deterministic generator (Steele, Lea and Flood's SplitMix64), so a fuzz input or a
/// fuzz-style test reproduces byte for byte from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Chunk sizes for drip-feeding a decoder: a maximum picked by `seed` (1 byte at a time up to
/// 4 KiB), each chunk a random size up to it.
public struct Chunker: Sendable {
    public var random: SplitMix64
    public let maxChunk: Int

    public init(seed: UInt8) {
        random = SplitMix64(state: UInt64(seed) &* 0x0100_0000_01B3)
        maxChunk = [1, 2, 3, 7, 16, 64, 512, 4096][Int(seed & 7)]
    }

    /// `bytes` cut into consecutive chunks that together are exactly `bytes`.
    public mutating func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let size = 1 + Int(random.next() % UInt64(maxChunk))
            let end = min(bytes.endIndex, start + size)
            chunks.append(bytes[start..<end])
            start = end
        }
        return chunks
    }
}
