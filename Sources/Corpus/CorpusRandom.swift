import FuzzSupport

/// The corpus's one source of chance: SplitMix64 from the seed, so a seed and a count give the
/// same bytes on every run and every machine (no clock, no system generator).
struct CorpusRandom {
    private var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(state: seed)
    }

    /// A generator of its own for one message: message `index` of seed `seed` is the same
    /// whatever the count, and messages can be built in any order.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(state: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        generator = SplitMix64(state: mixer.next())
    }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in `range` (the small modulo bias does not matter for a corpus).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func int(_ range: Range<Int>) -> Int { int(range.lowerBound...(range.upperBound - 1)) }

    mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    /// `count` distinct items of `items` in a random order (all of them when there are fewer).
    mutating func sample<T>(_ items: [T], _ count: Int) -> [T] {
        var pool = items
        shuffle(&pool)
        return Array(pool.prefix(count))
    }

    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(index, int(0...index))
        }
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            var word = next()
            for _ in 0..<8 {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        out.removeLast(out.count - count)
        return out
    }

    /// A token of lowercase letters and digits (message ids, boundaries).
    mutating func token(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet[int(0..<alphabet.count)] })
    }
}
