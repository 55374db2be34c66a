public import Foundation

/// Held-message ids: time-ordered, so they sort as the messages were held, and unique without
/// coordination between nodes: 10 characters of milliseconds since 1970 then 8 random ones, in
/// Crockford's base 32, lower case (no i, l, o, u), 18 in all.
/// - SeeAlso: https://www.crockford.com/base32.html
public enum HeldID {
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    public static func make(at date: Date) -> String {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        return encode(milliseconds, digits: 10) + encode(UInt64.random(in: 0..<(1 << 40)), digits: 8)
    }

    /// Whether `text` could be (a prefix of) an id: safe to use in a LIKE pattern.
    public static func isPrefix(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 18 && text.utf8.allSatisfy { alphabet.contains($0) }
    }

    private static func encode(_ number: UInt64, digits: Int) -> String {
        var value = number
        var chars = [UInt8](repeating: 0, count: digits)
        for i in (0..<digits).reversed() {
            chars[i] = alphabet[Int(value & 31)]
            value >>= 5
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
