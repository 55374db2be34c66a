/// VNI-Windows: ASCII base letter followed by a mark byte (lowercase marks after lowercase
/// letters, uppercase marks after capitals), plus single-byte ơ ư đ and the toned i and ỵ.
///
/// - SeeAlso: VNI Software's VNI-Windows chart; cross-checked with Unikey's vnconv VNI-WIN
///   table and xvnkb's `vni.h`.
enum VNI {
    /// Mark byte (lowercase form) → (modifier, tone).
    static let marks: [UInt8: (VietLetters.Modifier, UInt8)] = [
        0xF9: (.none, 1), 0xF8: (.none, 2), 0xFB: (.none, 3), 0xF5: (.none, 4), 0xEF: (.none, 5),
        0xE2: (.circumflex, 0), 0xE1: (.circumflex, 1), 0xE0: (.circumflex, 2), 0xE5: (.circumflex, 3),
        0xE3: (.circumflex, 4), 0xE4: (.circumflex, 5),
        0xEA: (.breve, 0), 0xE9: (.breve, 1), 0xE8: (.breve, 2), 0xFA: (.breve, 3), 0xFC: (.breve, 4),
        0xEB: (.breve, 5),
    ]
    /// Single-byte letters (lowercase form) → lowercase scalar.
    static let letters: [UInt8: UInt32] = [
        0xF4: 0x1A1, 0xF6: 0x1B0, 0xF1: 0x111,  // ơ ư đ
        0xED: 0xED, 0xEC: 0xEC, 0xE6: 0x1EC9, 0xF3: 0x129, 0xF2: 0x1ECB,  // í ì ỉ ĩ ị
        0xEE: 0x1EF5,  // ỵ
    ]

    /// byte → mark (lowercase or uppercase byte), packed modifier << 4 | tone, 0xFF if none.
    static let markTable: [UInt8] = (0..<256).map { b in
        let byte = UInt8(b)
        let lower = byte >= 0xC0 && byte < 0xE0 ? byte + 0x20 : byte
        guard byte >= 0xC0, let (m, t) = marks[lower] else { return 0xFF }
        return m.rawValue << 4 | t
    }
    /// byte → scalar of a single-byte letter (0 if none).
    static let letterTable: [UInt32] = (0..<256).map { b in
        let byte = UInt8(b)
        if let c = letters[byte] { return c }
        if byte >= 0xC0 && byte < 0xE0, let c = letters[byte + 0x20] { return VietLetters.upper(c) }
        return 0
    }

    static func decode(_ input: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 2)
        input.withUnsafeBufferPointer { p in
            decode(p) { VietConverter.appendUTF8($0, to: &out) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// ASCII vowels (a e i o u y, either case).
    static let asciiVowel: [Bool] = (0..<256).map { "aeiouyAEIOUY".utf8.contains(UInt8($0)) }

    static func decode(_ input: UnsafeBufferPointer<UInt8>, emit: (UInt32) -> Void) {
        let base = ByteTable.cp1252.scalars
        var i = 0
        let n = input.count
        while i < n {
            let b = input[i]
            var letter: UInt32
            if b < 0x80 {
                guard asciiVowel[Int(b)] else {
                    emit(UInt32(b))
                    i += 1
                    continue
                }
                letter = UInt32(b)
            } else {
                letter = letterTable[Int(b)]
                if letter == 0 {
                    emit(base[Int(b)])
                    i += 1
                    continue
                }
            }
            i += 1
            guard i < n, markTable[Int(input[i])] != 0xFF, var info = VietLetters.info[letter], info.tone == 0 else {
                emit(letter)
                continue
            }
            // The vowel's mark bytes: a modifier and/or one tone.
            var applied = false
            while i < n, markTable[Int(input[i])] != 0xFF {
                let m = markTable[Int(input[i])]
                let modifier = VietLetters.Modifier(rawValue: m >> 4)!
                let tone = m & 0x0F
                if modifier != .none {
                    guard info.modifier == .none, !applied,
                        let b = VietLetters.base(ascii: info.ascii, modifier: modifier)
                    else { break }
                    info.base = b
                    info.modifier = modifier
                }
                if tone != 0 {
                    guard info.tone == 0 else { break }
                    info.tone = tone
                }
                applied = true
                i += 1
                if tone != 0 { break }
            }
            emit(applied ? VietLetters.composed(info.base, tone: info.tone) ?? letter : letter)
        }
    }

    static func encode(_ scalars: [UInt32]) -> [UInt8]? {
        var out: [UInt8] = []
        let base = ByteTable.cp1252
        for c in scalars {
            if c < 0x80 {
                out.append(UInt8(c))
                continue
            }
            let lowerC = VietLetters.lower(c)
            let upper = lowerC != c
            let caseShift: UInt8 = upper ? 0x20 : 0
            if let byte = letters.first(where: { $0.value == lowerC })?.key {
                out.append(byte - caseShift)
                continue
            }
            if let info = VietLetters.info[c] {
                // ơ ư first, then the base with one mark byte.
                if info.modifier == .horn {
                    out.append((info.ascii | 0x20 == 0x6F ? 0xF4 : 0xF6) - caseShift)
                    if info.tone != 0 { out.append(toneByte(.none, info.tone)! - caseShift) }
                    continue
                }
                out.append(info.ascii)
                if info.modifier != .none || info.tone != 0 {
                    guard let mark = toneByte(info.modifier, info.tone) else { return nil }
                    out.append(mark - caseShift)
                }
                continue
            }
            // Other characters: the Windows-1252 byte, unless that byte is a VNI mark or letter.
            guard let b = base.reverse[c], markTable[Int(b)] == 0xFF, letterTable[Int(b)] == 0 else { return nil }
            out.append(b)
        }
        return out
    }

    static func toneByte(_ modifier: VietLetters.Modifier, _ tone: UInt8) -> UInt8? {
        marks.first { $0.value.0 == modifier && $0.value.1 == tone }?.key
    }
}
