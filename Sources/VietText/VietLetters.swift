import Foundation

/// The Vietnamese alphabet as (base, modifier, tone): the model every converter and the
/// syllable checker share.
///
/// Counting: 12 vowels (a ă â e ê i o ô ơ u ư y) × 6 tones × 2 cases = 144 vowel forms. Of
/// these, the 10 toneless a e i o u y / A E I O U Y are plain ASCII, leaving 134 precomposed
/// letters (ă â ê ô ơ ư toneless and all 60 × 2 toned forms); with đ/Đ that is 136 non-ASCII
/// letters, the set every converter must carry exactly.
enum VietLetters {
    /// Tone numbers: 0 ngang (none), 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng.
    static let toneMarks: [Unicode.Scalar] = ["\u{301}", "\u{300}", "\u{309}", "\u{303}", "\u{323}"]
    /// The 12 vowel bases, lowercase.
    static let vowels: [Unicode.Scalar] = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]

    enum Modifier: UInt8 { case none, circumflex, breve, horn }

    struct Info {
        /// The toneless letter (keeps its modifier and case).
        var base: UInt32
        var tone: UInt8
        /// The ASCII letter under all marks (case kept), and the modifier.
        var ascii: UInt8
        var modifier: Modifier
        var isUpper: Bool
    }

    /// Every Vietnamese letter (ASCII vowels too, đ/Đ) → its parts.
    static let info: [UInt32: Info] = {
        var out: [UInt32: Info] = [:]
        let mods: [Unicode.Scalar: (Character, Modifier)] = [
            "a": ("a", .none), "ă": ("a", .breve), "â": ("a", .circumflex), "e": ("e", .none),
            "ê": ("e", .circumflex), "i": ("i", .none), "o": ("o", .none), "ô": ("o", .circumflex),
            "ơ": ("o", .horn), "u": ("u", .none), "ư": ("u", .horn), "y": ("y", .none),
        ]
        for vowel in vowels {
            let (ascii, modifier) = mods[vowel]!
            for upper in [false, true] {
                let base = upper ? String(vowel).uppercased().unicodeScalars.first! : vowel
                let asciiByte = upper ? UInt8(ascii.uppercased().utf8.first!) : UInt8(ascii.utf8.first!)
                out[base.value] = Info(base: base.value, tone: 0, ascii: asciiByte, modifier: modifier, isUpper: upper)
                for (index, mark) in toneMarks.enumerated() {
                    let composed = (String(base) + String(mark)).precomposedStringWithCanonicalMapping.unicodeScalars
                    precondition(composed.count == 1, "no precomposed form for \(base)+\(mark)")
                    out[composed.first!.value] = Info(
                        base: base.value,
                        tone: UInt8(index + 1),
                        ascii: asciiByte,
                        modifier: modifier,
                        isUpper: upper
                    )
                }
            }
        }
        return out
    }()

    /// (toneless base, tone) → precomposed letter.
    static let compose: [UInt64: UInt32] = {
        var out: [UInt64: UInt32] = [:]
        for (scalar, i) in info { out[key(i.base, i.tone)] = scalar }
        return out
    }()

    /// (ASCII vowel, modifier) → toneless base letter.
    static let modified: [UInt32: UInt32] = {
        var out: [UInt32: UInt32] = [:]
        for (scalar, i) in info where i.tone == 0 { out[UInt32(i.ascii) << 8 | UInt32(i.modifier.rawValue)] = scalar }
        return out
    }()

    @inline(__always) static func key(_ base: UInt32, _ tone: UInt8) -> UInt64 { UInt64(base) << 8 | UInt64(tone) }

    static func composed(_ base: UInt32, tone: UInt8) -> UInt32? { compose[key(base, tone)] }

    static func base(ascii: UInt8, modifier: Modifier) -> UInt32? {
        modified[UInt32(ascii) << 8 | UInt32(modifier.rawValue)]
    }

    /// The 134 letters: 132 precomposed vowels plus đ and Đ, in a fixed order.
    static let precomposed: [Unicode.Scalar] = {
        var out: [Unicode.Scalar] = []
        for vowel in vowels {
            for upper in [false, true] {
                let base = upper ? String(vowel).uppercased().unicodeScalars.first! : vowel
                if base.value >= 0x80 { out.append(base) }
                for mark in toneMarks {
                    out.append((String(base) + String(mark)).precomposedStringWithCanonicalMapping.unicodeScalars.first!)
                }
            }
        }
        return out + ["đ", "Đ"]
    }()

    static let dStroke: UInt32 = 0x111
    static let dStrokeUpper: UInt32 = 0x110

    /// Below this every scalar has flat tables (the Vietnamese letters end at U+1EF9).
    static let tableLimit: UInt32 = 0x1F00
    static let isLowerFlag: UInt8 = 1, isUpperFlag: UInt8 = 2

    /// Case flags and case partners of every scalar below `tableLimit`.
    static let flags: [UInt8] = {
        var out = [UInt8](repeating: 0, count: Int(tableLimit))
        for c in 0x41...0x5A {
            out[c] = isUpperFlag
            out[c + 0x20] = isLowerFlag
        }
        for (u, l) in lowerMap {
            out[Int(u)] = isUpperFlag
            out[Int(l)] = isLowerFlag
        }
        return out
    }()
    static let partner: [UInt32] = {
        var out = (0..<tableLimit).map { $0 }
        for c in UInt32(0x41)...0x5A {
            out[Int(c)] = c + 0x20
            out[Int(c + 0x20)] = c
        }
        for (u, l) in lowerMap {
            out[Int(u)] = l
            out[Int(l)] = u
        }
        return out
    }()

    /// Lowercase of a Vietnamese or ASCII letter; other scalars unchanged.
    @inline(__always) static func lower(_ c: UInt32) -> UInt32 {
        c < tableLimit && flags[Int(c)] == isUpperFlag ? partner[Int(c)] : c
    }

    @inline(__always) static func upper(_ c: UInt32) -> UInt32 {
        c < tableLimit && flags[Int(c)] == isLowerFlag ? partner[Int(c)] : c
    }

    static let lowerMap: [UInt32: UInt32] = {
        var out: [UInt32: UInt32] = [dStrokeUpper: dStroke]
        for (scalar, i) in info where i.isUpper {
            let lowerBase = i.ascii + 0x20
            let b = base(ascii: lowerBase, modifier: i.modifier)!
            out[scalar] = composed(b, tone: i.tone)!
        }
        return out
    }()

    static let upperMap: [UInt32: UInt32] = {
        var out: [UInt32: UInt32] = [:]
        for (u, l) in lowerMap { out[l] = u }
        return out
    }()

    /// A lowercase Vietnamese letter (ASCII a–z included).
    @inline(__always) static func isLower(_ c: UInt32) -> Bool { c < tableLimit && flags[Int(c)] == isLowerFlag }

    @inline(__always) static func isUpper(_ c: UInt32) -> Bool { c < tableLimit && flags[Int(c)] == isUpperFlag }

    /// Is this scalar a letter Vietnamese writes (ASCII letters, the 134)?
    @inline(__always) static func isLetter(_ c: UInt32) -> Bool { c < tableLimit && flags[Int(c)] != 0 }
}
