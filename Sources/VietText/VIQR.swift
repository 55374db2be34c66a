/// VIQR (RFC 1456): ASCII letters followed by modifier marks `^ ( +` and tone marks
/// `' \` ? ~ .`, `dd` (or `d-`) for đ, `\` before a mark that is punctuation.
///
/// Marks are read word by word and kept only when the word they make is one well-formed
/// Vietnamese syllable, so "Hello.", "don't" and "example.com" stay as written.
///
/// - SeeAlso: RFC 1456 section 3 (VIQR).
enum VIQR {
    static let modifierChars: [UInt8: VietLetters.Modifier] = [0x5E: .circumflex, 0x28: .breve, 0x2B: .horn]
    static let toneChars: [UInt8: UInt8] = [0x27: 1, 0x60: 2, 0x3F: 3, 0x7E: 4, 0x2E: 5]

    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func isMark(_ b: UInt8) -> Bool {
        modifierChars[b] != nil || toneChars[b] != nil || b == 0x2D || b == 0x5C
    }

    /// What one word became.
    struct Word {
        var scalars: [UInt32] = []
        /// Marks were applied and the word is one valid syllable.
        var converted = false
        /// A mark other than a word-final ' . ? was applied (strong evidence of VIQR).
        var strong = false
        /// The word is one well-formed syllable.
        var valid = false
    }

    static func decode(_ input: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        scan(input) { word, raw in
            if word.converted {
                for c in word.scalars { VietConverter.appendUTF8(c, to: &out) }
            } else {
                out.append(contentsOf: unescaped(raw))
            }
        } other: {
            out.append($0)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits `input` into words (letters and marks) and the bytes between them.
    static func scan(_ input: [UInt8], word: (Word, ArraySlice<UInt8>) -> Void, other: (UInt8) -> Void) {
        var i = 0
        let n = input.count
        while i < n {
            let b = input[i]
            guard isLetter(b) || (isMark(b) && i + 1 < n && isLetter(input[i + 1]) && b != 0x2E && b != 0x2D) else {
                other(b)
                i += 1
                continue
            }
            let start = i
            while i < n, isLetter(input[i]) || isMark(input[i]) {
                // '-' belongs to the word only as "d-" at a syllable start; else it joins words.
                if input[i] == 0x2D,
                    !(i > start && (input[i - 1] | 0x20) == 0x64
                        && (i - 1 == start || !isLetter(input[i - 2])))
                {
                    break
                }
                i += 1
            }
            let raw = input[start..<i]
            word(parse(raw), raw)
        }
    }

    static func unescaped(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var i = raw.startIndex
        while i < raw.endIndex {
            if raw[i] == 0x5C, i + 1 < raw.endIndex, isMark(raw[i + 1]) { i += 1 }
            out.append(raw[i])
            i += 1
        }
        return out
    }

    /// Reads one word; `converted` only when marks made a valid syllable.
    static func parse(_ raw: ArraySlice<UInt8>) -> Word {
        var w = Word()
        var s: [UInt32] = []
        var toned = false
        var applied = false
        var lastIsVowel = false
        var letters = 0
        var firstLetter = -1
        var lastLetter = -1
        var interiorLiteral = false
        var i = raw.startIndex
        let end = raw.endIndex
        func literal(_ b: UInt8) {
            if letters > 0 { interiorLiteral = true }
            s.append(UInt32(b))
            lastIsVowel = false
        }
        while i < end {
            let b = raw[i]
            if isLetter(b) {
                if interiorLiteral { return w }  // "don't", "e.g": not one syllable
                // dd at the start of the syllable, DD anywhere in a capital word ("QDD"): đ, Đ.
                if (b | 0x20) == 0x64, let last = s.last, last | 0x20 == 0x64, letters == 1 || (b == 0x44 && last == 0x44) {
                    s[s.count - 1] = last == 0x44 ? VietLetters.dStrokeUpper : VietLetters.dStroke
                    applied = true
                    w.strong = true
                    i += 1
                    lastIsVowel = false
                    continue
                }
                if firstLetter < 0 { firstLetter = s.count }
                lastLetter = s.count
                s.append(UInt32(b))
                letters += 1
                lastIsVowel = VietLetters.info[UInt32(b)] != nil
                i += 1
                continue
            }
            if b == 0x5C, i + 1 < end, isMark(raw[i + 1]) {
                literal(raw[i + 1])
                i += 2
                continue
            }
            if b == 0x2D, letters == 1, let last = s.last, last | 0x20 == 0x64 {
                s[s.count - 1] = last == 0x44 ? VietLetters.dStrokeUpper : VietLetters.dStroke
                applied = true
                w.strong = true
                i += 1
                continue
            }
            if lastIsVowel, let modifier = modifierChars[b], let info = VietLetters.info[s[s.count - 1]],
                info.modifier == .none,
                let base = VietLetters.base(ascii: info.ascii, modifier: modifier),
                let c = VietLetters.composed(base, tone: info.tone)
            {
                s[s.count - 1] = c
                applied = true
                w.strong = true
                i += 1
                continue
            }
            if lastIsVowel, !toned, let tone = toneChars[b], let info = VietLetters.info[s[s.count - 1]], info.tone == 0 {
                let next = i + 1 < end ? raw[i + 1] : 0
                // "a.m." and "I'm" are English, not marks.
                let abbreviation = b == 0x2E && letters == 1 && !applied && isLetter(next) && i + 2 < end && raw[i + 2] == 0x2E
                let english = b == 0x27 && letters == 1 && (s[s.count - 1] | 0x20) == 0x69 && (next | 0x20) == 0x6D
                if !abbreviation && !english, let c = VietLetters.composed(info.base, tone: tone) {
                    s[s.count - 1] = c
                    toned = true
                    applied = true
                    if isLetter(next) || (tone != 1 && tone != 3 && tone != 5) { w.strong = true }
                    i += 1
                    continue
                }
            }
            literal(b)
            i += 1
        }
        guard applied, firstLetter >= 0 else { return w }
        let body = s[firstLetter...lastLetter].map { VietLetters.lower($0) }
        w.valid = Syllable.isValid(body[...])
        // Not a syllable, but plainly VIQR: a lone letter with a modifier ("a(", "dd") or a
        // capital abbreviation with DD ("QDD").
        let capitals = s[firstLetter...lastLetter].allSatisfy { VietLetters.isUpper($0) }
        guard w.valid || (w.strong && (body.count == 1 || capitals)) else { return w }
        w.scalars = s
        w.converted = true
        return w
    }

    static func encode(_ scalars: [UInt32]) -> [UInt8]? {
        var out: [UInt8] = []
        let modifierByte: [VietLetters.Modifier: UInt8] = [.circumflex: 0x5E, .breve: 0x28, .horn: 0x2B]
        let toneByte: [UInt8] = [0, 0x27, 0x60, 0x3F, 0x7E, 0x2E]
        var afterVowel = false
        for c in scalars {
            if c == VietLetters.dStroke {
                out += [0x64, 0x64]
                afterVowel = false
                continue
            }
            if c == VietLetters.dStrokeUpper {
                out += [0x44, 0x44]
                afterVowel = false
                continue
            }
            if let info = VietLetters.info[c] {
                out.append(info.ascii)
                if let m = modifierByte[info.modifier] { out.append(m) }
                if info.tone != 0 { out.append(toneByte[Int(info.tone)]) }
                afterVowel = true
                continue
            }
            guard c < 0x80 else { return nil }
            let b = UInt8(c)
            // A mark character right after a vowel is punctuation: escape it (RFC 1456).
            if afterVowel && (modifierChars[b] != nil || toneChars[b] != nil) { out.append(0x5C) }
            out.append(b)
            afterVowel = false
        }
        return out
    }
}
