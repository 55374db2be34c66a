import Atomics

/// Postfix-style queue IDs: 12 characters, unique enough to find one message in the logs:
/// 6 random per process start, then a counter (no system call per message).
enum QueueID {
    private static let alphabet = Array("0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjkmnpqrstvwxyz".utf8)
    private static let prefix = encode(UInt64.random(in: .min ... .max), digits: 6)
    private static let counter = ManagedAtomic<UInt64>(0)

    static func next() -> String {
        prefix + encode(counter.wrappingIncrementThenLoad(ordering: .relaxed), digits: 6)
    }

    private static func encode(_ number: UInt64, digits: Int) -> String {
        var value = number
        var chars = [UInt8](repeating: 0, count: digits)
        for i in (0..<digits).reversed() {
            chars[i] = alphabet[Int(value % UInt64(alphabet.count))]
            value /= UInt64(alphabet.count)
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
