import Foundation

/// Exact conversion between the legacy Vietnamese encodings and Unicode (TCVN 6909:2001, NFC).
/// No I/O.
///
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ12 k1: Vietnamese text uses TCVN 6909:2001.
public enum VietConverter {
    /// Bytes in `encoding` → Unicode NFC. Exact for every Vietnamese letter; bytes that are not
    /// letters map as the encoding's base (ASCII / Windows-1252-like) table does.
    public static func toUnicode(_ bytes: some Collection<UInt8>, from encoding: VietEncoding) -> String {
        let input = Array(bytes)
        switch encoding {
        case .unicode, .nfd:
            return nfc(String(decoding: input, as: UTF8.self))
        case .tcvn3:
            return TCVN3Case.decode(input)
        case .tcvn3Upper:
            return ByteTable.tcvn3Upper.decode(input)
        case .vn1:
            return ByteTable.vn1.decode(input)
        case .viscii:
            return ByteTable.viscii.decode(input)
        case .vps:
            return ByteTable.vps.decode(input)
        case .cp1258:
            return ByteTable.cp1258.decode(input)
        case .vni:
            return VNI.decode(input)
        case .viqr:
            return VIQR.decode(input)
        }
    }

    /// Unicode → legacy bytes (for round-trip tests and the benchmark); nil where a character
    /// has no code. `.unicode` gives NFC UTF-8, `.nfd` decomposed UTF-8.
    public static func fromUnicode(_ text: String, to encoding: VietEncoding) -> [UInt8]? {
        let scalars = nfc(text).unicodeScalars.map(\.value)
        switch encoding {
        case .unicode:
            return Array(nfc(text).utf8)
        case .nfd:
            return Array(nfc(text).decomposedStringWithCanonicalMapping.utf8)
        case .tcvn3:
            return ByteTable.tcvn3.encode(scalars)
        case .tcvn3Upper:
            return TCVN3Case.encodeUpperFont(scalars)
        case .vn1:
            return ByteTable.vn1.encode(scalars)
        case .viscii:
            return ByteTable.viscii.encode(scalars)
        case .vps:
            return ByteTable.vps.encode(scalars)
        case .cp1258:
            return ByteTable.encodeCP1258(scalars)
        case .vni:
            return VNI.encode(scalars)
        case .viqr:
            return VIQR.encode(scalars)
        }
    }

    /// NFC of a Unicode string. Text whose scalars are all below U+0300 or in the Latin
    /// Extended Additional block (every precomposed Vietnamese letter) is already NFC and is
    /// returned as is.
    public static func nfc(_ text: String) -> String {
        if isQuickNFC(text) { return text }
        // Decomposed Vietnamese (marks U+0300–U+036F on Vietnamese vowels) is composed here;
        // anything else goes to Foundation.
        if isQuickNFC(text, allowingMarks: true), let composed = VietNFC.compose(text.unicodeScalars.lazy.map(\.value)) {
            return string(composed)
        }
        return text.precomposedStringWithCanonicalMapping
    }

    /// Already NFC by a quick scan: scalars below U+0300, Latin Extended Additional, general
    /// punctuation and currency signs (with `allowingMarks`, combining marks U+0300–U+036F too).
    static func isQuickNFC(_ text: String, allowingMarks: Bool = false) -> Bool {
        var utf8 = text.utf8.makeIterator()
        // Leads 0x00–0xCB are scalars below U+0300; 0xE1 0xB8–0xBB is U+1E00–U+1EFF;
        // 0xE2 0x80 0x90–0xBF and 0xE2 0x82 are general punctuation and currency signs.
        while let b = utf8.next() {
            if b < 0xCC { continue }
            if b >= 0x80 && b < 0xC0 { continue }
            if allowingMarks && (b == 0xCC || b == 0xCD) {
                guard let b1 = utf8.next(), b == 0xCC || b1 < 0xB0 else { return false }
                continue
            }
            if b == 0xE1 {
                guard let b1 = utf8.next(), b1 >= 0xB8 && b1 <= 0xBB else { return false }
                continue
            }
            if b == 0xE2 {
                guard let b1 = utf8.next() else { return false }
                if b1 == 0x82 { continue }
                guard b1 == 0x80, let b2 = utf8.next(), b2 >= 0x90 else { return false }
                continue
            }
            return false
        }
        return true
    }

    @inline(__always) static func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
        if c < 0x80 {
            out.append(UInt8(c))
        } else if c < 0x800 {
            out.append(UInt8(0xC0 | (c >> 6)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        } else if c < 0x10000 {
            out.append(UInt8(0xE0 | (c >> 12)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (c >> 18)))
            out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        }
    }

    static func string(_ scalars: [UInt32]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(scalars.count * 2)
        for c in scalars { appendUTF8(c, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A single-byte code page: 256 scalars, their UTF-8, and the reverse map.
struct ByteTable: Sendable {
    let scalars: [UInt32]
    /// UTF-8 of each byte's scalar, packed little-endian, with its length in `lengths`.
    let packed: [UInt32]
    let lengths: [UInt8]
    let reverse: [UInt32: UInt8]
    /// Some byte decodes to a combining mark: the output needs NFC.
    let hasCombining: Bool

    /// `encodable`: which (byte, scalar) pairs the encoder may use (the first such byte wins).
    init(_ scalars: [UInt32], encodable: (UInt8, UInt32) -> Bool = { _, _ in true }) {
        precondition(scalars.count == 256)
        self.scalars = scalars
        var packed: [UInt32] = []
        var lengths: [UInt8] = []
        for c in scalars {
            var bytes: [UInt8] = []
            VietConverter.appendUTF8(c, to: &bytes)
            var word: UInt32 = 0
            for (i, b) in bytes.enumerated() { word |= UInt32(b) << (8 * UInt32(i)) }
            packed.append(word)
            lengths.append(UInt8(bytes.count))
        }
        self.packed = packed
        self.lengths = lengths
        var reverse: [UInt32: UInt8] = [:]
        for (byte, c) in scalars.enumerated() where reverse[c] == nil && encodable(UInt8(byte), c) {
            reverse[c] = UInt8(byte)
        }
        self.reverse = reverse
        hasCombining = scalars.contains { $0 >= 0x300 && $0 < 0x370 }
    }

    func decodeBytes(_ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: input.count * 3)
        var n = 0
        packed.withUnsafeBufferPointer { packed in
            lengths.withUnsafeBufferPointer { lengths in
                out.withUnsafeMutableBufferPointer { out in
                    for b in input {
                        let word = packed[Int(b)]
                        let len = Int(lengths[Int(b)])
                        out[n] = UInt8(truncatingIfNeeded: word)
                        if len > 1 {
                            out[n + 1] = UInt8(truncatingIfNeeded: word >> 8)
                            if len > 2 { out[n + 2] = UInt8(truncatingIfNeeded: word >> 16) }
                        }
                        n += len
                    }
                }
            }
        }
        out.removeSubrange(n...)
        return out
    }

    func decode(_ input: [UInt8]) -> String {
        guard hasCombining else { return String(decoding: decodeBytes(input), as: UTF8.self) }
        if let composed = VietNFC.compose(input.lazy.map { self.scalars[Int($0)] }) { return VietConverter.string(composed) }
        return VietConverter.nfc(String(decoding: decodeBytes(input), as: UTF8.self))
    }

    func encode(_ scalars: [UInt32]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(scalars.count)
        for c in scalars {
            guard let b = reverse[c] else { return nil }
            out.append(b)
        }
        return out
    }

    /// The Windows-1252 fallback positions of TCVN3 never encode a Vietnamese letter: VN3 has
    /// no toned capitals, and À at 0xC0 would be a code the .Vn fonts do not show.
    static let tcvn3 = ByteTable(CodePages.full(high: CodePages.tcvn3High)) { byte, c in
        byte < 0x80 || !CodePages.tcvn3Fallback.contains(byte)
            || !VietLetters.isLetter(c)
                && !(c >= 0xC0 && c <= 0xFF)
    }
    static let viscii = ByteTable(CodePages.visciiAll)
    /// VN1's combining marks are never written for a letter the table has precomposed.
    static let vn1 = ByteTable(CodePages.vn1All) { _, c in !(c >= 0x300 && c < 0x370) }
    static let vps = ByteTable(CodePages.vpsAll)
    static let cp1258 = ByteTable(CodePages.full(high: CodePages.cp1258High))
    static let cp1252 = ByteTable(CodePages.full(high: CodePages.cp1252High))
    /// The uppercase ".VnTimeH" fonts: every letter position shows its capital.
    static let tcvn3Upper = ByteTable(
        CodePages.full(high: CodePages.tcvn3High).map { c in
            VietLetters.isLetter(c) ? VietLetters.upper(c) : c
        }
    )

    /// CP1258 tone marks: sắc, huyền, hỏi, ngã, nặng.
    static let cp1258Tones: [UInt8] = [0xEC, 0xCC, 0xD2, 0xDE, 0xF2]

    /// Precomposed where the code page has the letter (á, Ă, ơ), else base + combining tone
    /// byte, as Windows itself writes it.
    static func encodeCP1258(_ scalars: [UInt32]) -> [UInt8]? {
        var out: [UInt8] = []
        for c in scalars {
            if let b = cp1258.reverse[c] {
                out.append(b)
                continue
            }
            guard let info = VietLetters.info[c], info.tone != 0, let base = cp1258.reverse[info.base] else { return nil }
            out.append(base)
            out.append(cp1258Tones[Int(info.tone) - 1])
        }
        return out
    }
}

/// TCVN3's two fonts. The lowercase font has no toned capitals, so a heading typed in the
/// uppercase font reaches plain text as capitals ASCII letters around lowercase codes
/// ("QUYÕT §ÞNH"); those words are read back as capitals.
enum TCVN3Case {
    static func decode(_ input: [UInt8]) -> String {
        let table = ByteTable.tcvn3
        guard needsRepair(input[...]) else { return table.decode(input) }
        // Line by line: only lines with capitals around lowercase codes take the slow path.
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 2)
        var start = 0
        while start < input.count {
            var end = start
            while end < input.count, input[end] != 0x0A { end += 1 }
            if end < input.count { end += 1 }
            let line = input[start..<end]
            if needsRepair(line) {
                var scalars = line.map { table.scalars[Int($0)] }
                repair(&scalars)
                for c in scalars { VietConverter.appendUTF8(c, to: &out) }
            } else {
                out += table.decodeBytes(Array(line))
            }
            start = end
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes whose TCVN3 letter is a lowercase non-ASCII one.
    static let lowerCodes: [Bool] = (0..<256).map { b in
        let c = ByteTable.tcvn3.scalars[b]
        return b >= 0x80 && VietLetters.isLower(c)
    }

    /// A capital ASCII letter next to a lowercase non-ASCII letter.
    static func needsRepair(_ s: ArraySlice<UInt8>) -> Bool {
        guard s.count > 1 else { return false }
        let lower = lowerCodes
        for i in (s.startIndex + 1)..<s.endIndex {
            let a = s[i - 1]
            let b = s[i]
            if (a >= 0x41 && a <= 0x5A && lower[Int(b)]) || (b >= 0x41 && b <= 0x5A && lower[Int(a)]) { return true }
        }
        return false
    }

    struct Word {
        var start: Int
        var end: Int
        var asciiUpper = 0
        var asciiLower = 0
        var vnLower = 0
        var vnUpper = 0
    }

    /// Words with no lowercase ASCII and at least two capitals are capitals; a word with one
    /// capital (or none) joins them when its neighbour is one, or when its line has no
    /// lowercase ASCII letter and holds such a word.
    static func repair(_ s: inout [UInt32]) {
        var words: [Word] = []
        var lineOf: [Int] = []
        var line = 0
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == 0x0A { line += 1 }
            guard VietLetters.isLetter(c) else {
                i += 1
                continue
            }
            var w = Word(start: i, end: i)
            while i < s.count, VietLetters.isLetter(s[i]) {
                let c = s[i]
                if c >= 0x41 && c <= 0x5A {
                    w.asciiUpper += 1
                } else if c >= 0x61 && c <= 0x7A {
                    w.asciiLower += 1
                } else if VietLetters.isLower(c) {
                    w.vnLower += 1
                } else {
                    w.vnUpper += 1
                }
                i += 1
            }
            w.end = i
            words.append(w)
            lineOf.append(line)
        }
        func strong(_ w: Word) -> Bool { w.vnLower > 0 && w.asciiLower == 0 && w.asciiUpper + w.vnUpper >= 2 }
        func weak(_ w: Word) -> Bool { w.vnLower > 0 && w.asciiLower == 0 && w.asciiUpper + w.vnUpper < 2 }
        func caps(_ w: Word) -> Bool { w.asciiLower == 0 && w.asciiUpper + w.vnUpper >= 2 }
        var capitalLines = Set<Int>()
        var lowerLines = Set<Int>()
        for (k, w) in words.enumerated() {
            if w.asciiLower > 0 { lowerLines.insert(lineOf[k]) }
            if caps(w) { capitalLines.insert(lineOf[k]) }
        }
        var fix = words.map(strong)
        for (k, w) in words.enumerated() where weak(w) {
            let prev = k > 0 && lineOf[k - 1] == lineOf[k] && strong(words[k - 1])
            let next = k + 1 < words.count && lineOf[k + 1] == lineOf[k] && strong(words[k + 1])
            let line = capitalLines.contains(lineOf[k]) && !lowerLines.contains(lineOf[k])
            if prev || next || line { fix[k] = true }
        }
        for (k, w) in words.enumerated() where fix[k] {
            for j in w.start..<w.end { s[j] = VietLetters.upper(s[j]) }
        }
    }

    /// Capitals for the uppercase font: ASCII capitals as they are, Ă Â Ê Ô Ơ Ư Đ at their own
    /// codes, toned capitals at the code of their lowercase letter. Lowercase letters have no code.
    static func encodeUpperFont(_ scalars: [UInt32]) -> [UInt8]? {
        let table = ByteTable.tcvn3
        var out: [UInt8] = []
        for c in scalars {
            if VietLetters.isLower(c) { return nil }
            if let b = table.reverse[c] {
                out.append(b)
                continue
            }
            guard VietLetters.isUpper(c), let b = table.reverse[VietLetters.lower(c)] else { return nil }
            out.append(b)
        }
        return out
    }
}

/// NFC for decomposed Vietnamese: a vowel followed by a modifier (U+0302, U+0306, U+031B)
/// and/or a tone mark (U+0300, U+0301, U+0303, U+0309, U+0323), in either order.
enum VietNFC {
    static let modifiers: [UInt32: VietLetters.Modifier] = [0x302: .circumflex, 0x306: .breve, 0x31B: .horn]
    static let tones: [UInt32: UInt8] = [0x301: 1, 0x300: 2, 0x309: 3, 0x303: 4, 0x323: 5]

    /// nil when some other mark (or a mark on a non-Vietnamese base) needs the full algorithm.
    static func compose(_ scalars: some Sequence<UInt32>) -> [UInt32]? {
        var out: [UInt32] = []
        out.reserveCapacity(scalars.underestimatedCount)
        for c in scalars {
            guard c >= 0x300 && c < 0x370 else {
                out.append(c)
                continue
            }
            guard let last = out.last, let info = VietLetters.info[last] else { return nil }
            if let modifier = modifiers[c] {
                guard info.modifier == .none, let base = VietLetters.base(ascii: info.ascii, modifier: modifier),
                    let composed = VietLetters.composed(base, tone: info.tone)
                else { return nil }
                out[out.count - 1] = composed
            } else if let tone = tones[c] {
                guard info.tone == 0, let composed = VietLetters.composed(info.base, tone: tone) else { return nil }
                out[out.count - 1] = composed
            } else {
                return nil
            }
        }
        return out
    }
}
