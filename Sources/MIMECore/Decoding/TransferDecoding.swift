#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Content-Transfer-Encoding decoders (RFC 2045 6).
public enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Whether ``decodeTolerant(_:)`` would decode `input` without repairs, how many bytes it
    /// would produce, found without producing them (a 1 GB part costs no memory to check), and
    /// the offset of the first character that is neither alphabet, padding nor whitespace.
    public static func check(_ input: UnsafeRawBufferPointer) -> (clean: Bool, decodedSize: Int, firstInvalid: Int?) {
        table.withUnsafeBufferPointer { table in
            var count = 0
            var ended = false
            var clean = true
            var firstInvalid: Int? = nil
            var i = 0
            let n = input.count
            while i < n {
                // Fast path: eight alphabet characters in a row.
                if !ended && i + 8 <= n {
                    var or: UInt8 = 0
                    for k in 0..<8 { or |= table[Int(input[i + k])] }
                    if or & 0xC0 == 0 {
                        i += 8
                        count += 8
                        continue
                    }
                }
                let byte = input[i]
                i += 1
                if table[Int(byte)] == 0xFF {
                    if byte == UInt8(ascii: "=") {
                        ended = true
                    } else if byte != 13 && byte != 10 && byte != 0x20 && byte != 0x09 {
                        clean = false
                        if firstInvalid == nil { firstInvalid = i - 1 }
                    }
                    continue
                }
                if ended {
                    clean = false
                    ended = false
                }
                count += 1
            }
            if count % 4 == 1 { clean = false }
            return (clean, count / 4 * 3 + [0, 0, 1, 2][count % 4], firstInvalid)
        }
    }

    /// Whether `input` has a line of base64 data (four or more alphabet characters and nothing
    /// else but padding and trailing whitespace) after its first line.
    public static func hasDataLine(_ input: UnsafeRawBufferPointer) -> Bool {
        table.withUnsafeBufferPointer { table in
            var i = MIMEBytes.lineEnd(input, from: 0, to: input.count)
            while i < input.count {
                let lineEnd = MIMEBytes.lineEnd(input, from: i, to: input.count)
                var end = MIMEBytes.contentEnd(input, lineStart: i, lineEnd: lineEnd)
                while end > i && (input[end - 1] == 0x20 || input[end - 1] == 0x09) { end -= 1 }
                var letters = 0
                var other = false
                for k in i..<end {
                    if table[Int(input[k])] != 0xFF {
                        letters += 1
                    } else if input[k] != UInt8(ascii: "=") {
                        other = true
                        break
                    }
                }
                if !other && letters >= 4 { return true }
                i = lineEnd
            }
            return false
        }
    }

    public static func isClean(_ input: UnsafeRawBufferPointer) -> Bool { check(input).clean }

    /// Decodes body base64 tolerantly: line breaks and other characters outside the alphabet
    /// are skipped (RFC 2045 6.8 says to ignore them), data after the padding ends the part.
    /// - Returns: the bytes, and whether anything had to be skipped or repaired.
    public static func decodeTolerant(_ input: UnsafeRawBufferPointer) -> (bytes: [UInt8], clean: Bool) {
        var clean = true
        let bytes = [UInt8](unsafeUninitializedCapacity: input.count / 4 * 3 + 3) { out, written in
            table.withUnsafeBufferPointer { table in
                var o = 0
                var quad: UInt32 = 0
                var count = 0
                var ended = false
                var i = 0
                let n = input.count
                while i < n {
                    // Fast path: alphabet characters in blocks (the bulk of every line).
                    while count == 0 && !ended && i + 8 <= n {
                        let a = table[Int(input[i])]
                        let b = table[Int(input[i + 1])]
                        let c = table[Int(input[i + 2])]
                        let d = table[Int(input[i + 3])]
                        let e = table[Int(input[i + 4])]
                        let f = table[Int(input[i + 5])]
                        let g = table[Int(input[i + 6])]
                        let h = table[Int(input[i + 7])]
                        guard (a | b | c | d | e | f | g | h) & 0xC0 == 0 else { break }
                        let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                        let w = UInt32(e) << 18 | UInt32(f) << 12 | UInt32(g) << 6 | UInt32(h)
                        out[o] = UInt8(truncatingIfNeeded: v >> 16)
                        out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                        out[o + 2] = UInt8(truncatingIfNeeded: v)
                        out[o + 3] = UInt8(truncatingIfNeeded: w >> 16)
                        out[o + 4] = UInt8(truncatingIfNeeded: w >> 8)
                        out[o + 5] = UInt8(truncatingIfNeeded: w)
                        o += 6
                        i += 8
                    }
                    if count == 0 && !ended && i + 4 <= n {
                        let a = table[Int(input[i])]
                        let b = table[Int(input[i + 1])]
                        let c = table[Int(input[i + 2])]
                        let d = table[Int(input[i + 3])]
                        if (a | b | c | d) & 0xC0 == 0 {
                            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                            out[o] = UInt8(truncatingIfNeeded: v >> 16)
                            out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                            out[o + 2] = UInt8(truncatingIfNeeded: v)
                            o += 3
                            i += 4
                            continue
                        }
                    }
                    // The block loop may have consumed the input to its end (found by the fuzzer).
                    guard i < n else { break }
                    let byte = input[i]
                    i += 1
                    let v = table[Int(byte)]
                    if v == 0xFF {
                        if byte == UInt8(ascii: "=") {
                            ended = true
                        } else if byte != 13 && byte != 10 && byte != 0x20 && byte != 0x09 {
                            clean = false
                        }
                        continue
                    }
                    if ended {
                        // Data after padding: keep decoding (some mailers concatenate) but flag it.
                        clean = false
                        ended = false
                    }
                    quad = quad << 6 | UInt32(v)
                    count += 1
                    if count == 4 {
                        out[o] = UInt8(truncatingIfNeeded: quad >> 16)
                        out[o + 1] = UInt8(truncatingIfNeeded: quad >> 8)
                        out[o + 2] = UInt8(truncatingIfNeeded: quad)
                        o += 3
                        quad = 0
                        count = 0
                    }
                }
                switch count {
                case 2:
                    out[o] = UInt8(truncatingIfNeeded: quad >> 4)
                    o += 1
                case 3:
                    out[o] = UInt8(truncatingIfNeeded: quad >> 10)
                    out[o + 1] = UInt8(truncatingIfNeeded: quad >> 2)
                    o += 2
                case 1: clean = false  // six bits cannot make a byte
                default: break
                }
                written = o
            }
        }
        return (bytes, clean)
    }

    /// Strict decoding for RFC 2047 words: only the alphabet and final padding.
    public static func decodeStrict(_ input: [UInt8]) -> [UInt8]? {
        var trimmed = input[...]
        while trimmed.last == UInt8(ascii: "=") { trimmed = trimmed.dropLast() }
        guard input.count - trimmed.count <= 2, trimmed.allSatisfy({ table[Int($0)] != 0xFF }) else { return nil }
        return trimmed.withContiguousStorageIfAvailable { decodeTolerant(UnsafeRawBufferPointer($0)).bytes }
            ?? Array(trimmed).withUnsafeBytes { decodeTolerant($0).bytes }
    }
}

public enum QuotedPrintable {
    /// Whether every `=` in `input` starts a valid escape or a soft line break.
    public static func isClean(_ input: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = input.count
        while let base = input.baseAddress, i < n, let eq = memchr(base + i, Int32(UInt8(ascii: "=")), n - i) {
            let at = UnsafeRawPointer(eq) - base
            var j = at + 1
            while j < n && (input[j] == 0x20 || input[j] == 0x09) { j += 1 }
            let softBreak = j == n || input[j] == 10 || (input[j] == 13 && j + 1 < n && input[j + 1] == 10)
            if !softBreak {
                guard at + 2 < n, hexValue(input[at + 1]) != nil, hexValue(input[at + 2]) != nil else { return false }
            }
            i = at + 1
        }
        return true
    }

    /// Decodes quoted-printable (RFC 2045 6.7): `=XX` bytes, soft line breaks (`=` at line end),
    /// trailing whitespace on a line removed. A malformed `=` is kept as written and flagged.
    public static func decode(_ input: UnsafeRawBufferPointer) -> (bytes: [UInt8], clean: Bool) {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        let clean = decode(input) { out.append($0) }
        return (out, clean)
    }

    /// How many bytes ``decode(_:)`` would produce, without producing them.
    public static func decodedSize(_ input: UnsafeRawBufferPointer) -> Int {
        var count = 0
        _ = decode(input) { _ in count += 1 }
        return count
    }

    private static func decode(_ input: UnsafeRawBufferPointer, into sink: (UInt8) -> Void) -> Bool {
        var clean = true
        var i = 0
        let n = input.count
        while i < n {
            let b = input[i]
            if b == UInt8(ascii: "=") {
                // Soft line break: `=` then optional whitespace then CRLF or LF.
                var j = i + 1
                while j < n && (input[j] == 0x20 || input[j] == 0x09) { j += 1 }
                if j < n && input[j] == 13 && j + 1 < n && input[j + 1] == 10 {
                    i = j + 2
                    continue
                }
                if j < n && input[j] == 10 {
                    i = j + 1
                    continue
                }
                if j == n {
                    i = n
                    continue
                }
                if i + 2 < n, let hi = hexValue(input[i + 1]), let lo = hexValue(input[i + 2]) {
                    sink(hi << 4 | lo)
                    i += 3
                    continue
                }
                clean = false
                sink(b)
                i += 1
            } else if b == 0x20 || b == 0x09 {
                // Whitespace at the end of a line was added in transport: drop it.
                var j = i
                while j < n && (input[j] == 0x20 || input[j] == 0x09) { j += 1 }
                if j == n || input[j] == 13 || input[j] == 10 {
                    i = j
                } else {
                    for k in i..<j { sink(input[k]) }
                    i = j
                }
            } else {
                sink(b)
                i += 1
            }
        }
        return clean
    }
}
