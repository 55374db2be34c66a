import Foundation

/// What the detector decided about one text.
public struct VietDetection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case unicode, legacy(VietEncoding), notVietnamese }
    public var kind: Kind
    /// 0...1.
    public var confidence: Double
    /// The text as it should be delivered: NFC for unicode; converted for legacy; for
    /// notVietnamese, the bytes decoded from their own charset, content unchanged.
    public var text: String
    /// "utf-8", "tcvn3", "vni", ...; for notVietnamese the charset used ("utf-8", "windows-1252").
    public var encodingName: String

    public init(kind: Kind, confidence: Double, text: String, encodingName: String) {
        self.kind = kind
        self.confidence = confidence
        self.text = text
        self.encodingName = encodingName
    }
}

/// Decides whether text is Unicode, Vietnamese in a legacy encoding, or not Vietnamese, by how
/// well each candidate decoding forms Vietnamese syllables (onset + rhyme + one tone), not by
/// byte frequency. Western text in Latin-1/Windows-1252 and valid UTF-8 are never converted.
///
/// - SeeAlso: QĐ 40/2022/QĐ-UBND (Quảng Ninh) Đ12 k1; `Syllable`.
public enum VietDetector {
    /// Bytes of a legacy text that are scored (around its first 8-bit byte); the winner then
    /// converts the whole text.
    static let sampleBytes = 16 * 1024

    /// `declaredCharset` is the MIME label (may be wrong or nil).
    public static func detect(_ bytes: some Collection<UInt8>, declaredCharset: String? = nil) -> VietDetection {
        let input = Array(bytes)
        let declared = declaredCharset.map(Label.init)

        var firstHigh = -1
        input.withUnsafeBufferPointer { p in
            for i in 0..<p.count where p[i] >= 0x80 { firstHigh = i; break }
        }
        if firstHigh < 0 { return detectASCII(input) }

        if let text = String(validating: input, as: UTF8.self) {
            return detectUTF8(text, input)
        }
        return detectLegacy(input, firstHigh: firstHigh, declared: declared)
    }

    // MARK: ASCII and VIQR

    static func detectASCII(_ input: [UInt8]) -> VietDetection {
        let text = String(decoding: input, as: UTF8.self)
        let notVietnamese = VietDetection(kind: .notVietnamese, confidence: 1, text: text, encodingName: "utf-8")
        guard mayBeVIQR(input) else { return notVietnamese }
        // The decision is taken on a sample; the winner converts the whole text.
        let sample = input.count > sampleBytes ? Array(input[0..<sampleBytes]) : input
        var words = 0, valid = 0, converted = 0, strong = 0, english = 0
        VIQR.scan(sample) { word, raw in
            words += 1
            if word.converted && word.valid {
                converted += 1
                if word.strong { strong += 1 }
                valid += 1
            } else if word.converted {
                english += 1
            } else {
                let letters = raw.filter(VIQR.isLetter).map { UInt32($0 | 0x20) }
                if !letters.isEmpty && letters.count == raw.count {
                    if Syllable.isValidToneless(letters[...]) { valid += 1 } else { english += 1 }
                } else {
                    english += 1
                }
            }
        } other: { _ in }
        // Marks that form syllables, in text whose other words are Vietnamese too.
        guard strong >= 2 || (strong >= 1 && words <= 4 && english == 0),
              Double(valid) >= 0.7 * Double(words), converted * 5 >= words || converted >= 8 else { return notVietnamese }
        let confidence = min(1, Double(valid) / Double(max(words, 1))) * (strong >= 3 ? 1 : 0.8)
        return VietDetection(kind: .legacy(.viqr), confidence: confidence, text: VIQR.decode(input), encodingName: "viqr")
    }

    /// A VIQR mark right after a vowel, or dd / d- : cheap test before any parsing.
    static func mayBeVIQR(_ input: [UInt8]) -> Bool {
        var previous: UInt8 = 0
        for b in input {
            switch b {
            case 0x5E, 0x28, 0x2B, 0x27, 0x60, 0x3F, 0x7E, 0x2E:
                if isVowel[Int(previous)] { return true }
            case 0x64, 0x44, 0x2D:
                if (previous | 0x20) == 0x64 && (b | 0x20) != 0x44 || (previous | 0x20) == 0x64 && (b | 0x20) == 0x64 { return true }
            default: break
            }
            previous = b
        }
        return false
    }

    static let isVowel: [Bool] = (0..<256).map { b in
        "aeiouyAEIOUY".utf8.contains(UInt8(b))
    }

    // MARK: UTF-8

    static func detectUTF8(_ text: String, _ input: [UInt8]) -> VietDetection {
        if VietConverter.isQuickNFC(text) {
            let vietnamese = hasVietnameseLetters(input)
            return VietDetection(kind: vietnamese ? .unicode : .notVietnamese, confidence: vietnamese ? 1 : 0.9,
                                 text: text, encodingName: "utf-8")
        }
        let composed = VietConverter.nfc(text)
        let vietnamese = hasVietnameseLetters(Array(composed.utf8)) || formsSyllables(composed)
        if !vietnamese {
            // Not ours to normalize: the text is delivered exactly as written.
            return VietDetection(kind: .notVietnamese, confidence: 0.9, text: text, encodingName: "utf-8")
        }
        if composed.utf8.elementsEqual(text.utf8) {
            return VietDetection(kind: .unicode, confidence: 1, text: text, encodingName: "utf-8")
        }
        return VietDetection(kind: .legacy(.nfd), confidence: 1, text: composed, encodingName: "nfd")
    }

    /// Every word with a non-ASCII letter is a Vietnamese syllable ("Báo cáo" decomposed).
    static func formsSyllables(_ text: String) -> Bool {
        var score = Score()
        var word: [UInt32] = []
        var high = false
        func finish() {
            if high { judge(word, changed: true, encoding: .unicode, lowerContext: false, into: &score) }
            word.removeAll(keepingCapacity: true); high = false
        }
        for s in text.unicodeScalars {
            let c = s.value
            if VietLetters.isLetter(c) || (c >= 0x80 && c < 0x2000 && !edgePunctuation.contains(c)) {
                word.append(c); if c >= 0x80 { high = true }
            } else {
                finish()
            }
        }
        finish()
        return score.valid >= 1 && score.bad + score.garbage == 0
    }

    /// UTF-8 of ă Ă đ Đ ĩ Ĩ ũ Ũ ơ Ơ ư Ư or U+1EA0–U+1EF9: letters only Vietnamese uses.
    static func hasVietnameseLetters(_ utf8: [UInt8]) -> Bool {
        let n = utf8.count
        var i = 0
        while i + 1 < n {
            let b = utf8[i]
            if b < 0xC4 { i += 1; continue }
            let c = utf8[i + 1]
            switch b {
            case 0xC4: if c == 0x82 || c == 0x83 || c == 0x90 || c == 0x91 || c == 0xA8 || c == 0xA9 { return true }
            case 0xC5: if c == 0xA8 || c == 0xA9 { return true }
            case 0xC6: if c == 0xA0 || c == 0xA1 || c == 0xAF || c == 0xB0 { return true }
            case 0xE1:
                if i + 2 < n {
                    let d = utf8[i + 2]
                    if (c == 0xBA && d >= 0xA0) || (c == 0xBB && d <= 0xB9) { return true }
                }
            default: break
            }
            i += 1
        }
        return false
    }

    // MARK: Legacy 8-bit

    /// The candidates, in the order that wins ties (identical readings are common between
    /// CP1258, VISCII and VPS for short texts; CP1258 is the most used of the three).
    static let candidates: [VietEncoding] = [.tcvn3, .vni, .cp1258, .viscii, .vps]

    struct Score {
        var valid = 0          // changed by the decoding, one well-formed syllable
        var bad = 0            // changed, but not a syllable (or capitals inside a word)
        var garbage = 0        // symbols or non-Vietnamese letters inside a word
        var neutralValid = 0   // read the same as Windows-1252, well formed
        var neutralInvalid = 0 // read the same as Windows-1252, not a syllable
        var common = 0         // valid words that are frequent syllables (the tie-breaker)
        var value: Double {
            Double(valid) + 0.5 * Double(common) + 0.25 * Double(neutralValid) - 2 * Double(bad + garbage)
                - 0.5 * Double(neutralInvalid)
        }
        var negatives: Int { bad + garbage + neutralInvalid }
        var accepted: Bool {
            guard valid >= 1 else { return false }
            if valid < 3 { return negatives == 0 }
            return negatives * 5 <= valid + neutralValid
        }
    }

    static func detectLegacy(_ input: [UInt8], firstHigh: Int, declared: Label?) -> VietDetection {
        let start = max(0, firstHigh - 256)
        let sample = Array(input[start..<min(input.count, start + sampleBytes)])
        let scores = self.scores(sample)
        var best: (index: Int, value: Double)? = nil
        for (k, score) in scores.enumerated() {
            let value = score.value + (declared?.encoding == candidates[k] ? 1 : 0)
            if best == nil || value > best!.value { best = (k, value) }
        }
        if let best, scores[best.index].accepted {
            let score = scores[best.index]
            var kind = candidates[best.index]
            var text = VietConverter.toUnicode(input, from: kind)
            if kind == .tcvn3, isAllCapitals(text) {
                kind = .tcvn3Upper
                text = VietConverter.toUnicode(input, from: .tcvn3Upper)
            }
            let good = Double(score.valid + score.neutralValid)
            let confidence = good / (good + Double(score.negatives)) * min(1, 0.6 + 0.1 * Double(score.valid))
            return VietDetection(kind: .legacy(kind), confidence: confidence, text: text, encodingName: kind.rawValue)
        }
        // Not Vietnamese: decode with the label's own table, else Windows-1252.
        let (table, name) = declared?.table ?? (ByteTable.cp1252, "windows-1252")
        return VietDetection(kind: .notVietnamese, confidence: 0.9, text: table.decode(input), encodingName: name)
    }

    /// Letters present and none lowercase (an uppercase-font heading).
    static func isAllCapitals(_ text: String) -> Bool {
        var letters = 0
        for s in text.unicodeScalars {
            let c = s.value
            if VietLetters.isLower(c) { return false }
            if VietLetters.isUpper(c) { letters += 1 }
        }
        return letters >= 2
    }

    /// Punctuation a decoding may put at a word's edge (curly quotes, dashes, «», …).
    static let edgePunctuation: Set<UInt32> = [0xA0, 0xAB, 0xBB, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D,
                                               0x2026, 0x2022, 0xB7]

    /// Letters, 8-bit bytes, and the C0 bytes VISCII and VPS use for capitals (not tab or line breaks).
    @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
        b >= 0x80 || (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || (b >= 0x01 && b < 0x20 && !(b >= 0x09 && b <= 0x0D))
    }

    /// Scores every candidate over the words that hold 8-bit bytes.
    static func scores(_ sample: [UInt8]) -> [Score] {
        var scores = [Score](repeating: Score(), count: candidates.count)
        var decoded: [UInt32] = [], baseline: [UInt32] = []
        sample.withUnsafeBufferPointer { p in
            let n = p.count
            var i = 0
            var previousLower = false  // the previous word ended in a lowercase ASCII letter
            var sentenceBreak = true   // . ! ? : ; or a line break since the previous word
            while i < n {
                let b = p[i]
                guard isWordByte(b) else {
                    if b == 0x2E || b == 0x21 || b == 0x3F || b == 0x3A || b == 0x3B || b == 0x0A || b == 0x2D { sentenceBreak = true }
                    i += 1; continue
                }
                let start = i
                var high = false
                while i < n, isWordByte(p[i]) { if p[i] >= 0x80 { high = true }; i += 1 }
                let word = UnsafeBufferPointer(rebasing: p[start..<i])
                let last = word[word.count - 1]
                defer { previousLower = last >= 0x61 && last <= 0x7A; sentenceBreak = false }
                guard high else { continue }
                baseline.removeAll(keepingCapacity: true)
                for b in word { baseline.append(ByteTable.cp1252.scalars[Int(b)]) }
                for (k, encoding) in candidates.enumerated() {
                    decoded.removeAll(keepingCapacity: true)
                    decodeScalars(word, encoding, into: &decoded)
                    judge(decoded, changed: decoded != baseline, encoding: encoding,
                          lowerContext: previousLower && !sentenceBreak, into: &scores[k])
                }
            }
        }
        return scores
    }

    static func decodeScalars(_ word: UnsafeBufferPointer<UInt8>, _ encoding: VietEncoding, into out: inout [UInt32]) {
        switch encoding {
        case .vni:
            VNI.decode(word) { out.append($0) }
        case .cp1258:
            let table = ByteTable.cp1258.scalars
            for b in word {
                let c = table[Int(b)]
                if c >= 0x300 && c < 0x370, let last = out.last, let info = VietLetters.info[last], info.tone == 0,
                   let tone = VietLetters.toneMarks.firstIndex(of: Unicode.Scalar(c)!),
                   let composed = VietLetters.composed(info.base, tone: UInt8(tone + 1)) {
                    out[out.count - 1] = composed
                } else {
                    out.append(c)
                }
            }
        case .viscii: for b in word { out.append(ByteTable.viscii.scalars[Int(b)]) }
        case .vps: for b in word { out.append(ByteTable.vps.scalars[Int(b)]) }
        default: for b in word { out.append(ByteTable.tcvn3.scalars[Int(b)]) }
        }
    }

    static func judge(_ decoded: [UInt32], changed: Bool, encoding: VietEncoding, lowerContext: Bool, into score: inout Score) {
        var lo = 0, hi = decoded.count
        while lo < hi, edgePunctuation.contains(decoded[lo]) { lo += 1 }
        while hi > lo, edgePunctuation.contains(decoded[hi - 1]) { hi -= 1 }
        guard lo < hi else { return }
        var lower: [UInt32] = []
        lower.reserveCapacity(hi - lo)
        var anomaly = false
        for j in lo..<hi {
            let c = decoded[j]
            guard VietLetters.isLetter(c) else { score.garbage += 1; return }
            // A capital after a lowercase letter: not how words are written (TCVN3's
            // uppercase-font headings put capitals after lowercase codes, so not there).
            if j > lo, VietLetters.isUpper(c), VietLetters.isLower(decoded[j - 1]),
               encoding != .tcvn3 || decoded[j - 1] < 0x80 { anomaly = true }
            lower.append(VietLetters.lower(c))
        }
        // A lone non-ASCII capital in the middle of a lowercase sentence ("Góp Ỷ văn").
        if hi - lo == 1, decoded[lo] >= 0x80, VietLetters.isUpper(decoded[lo]), lowerContext { anomaly = true }
        let ok = !anomaly && Syllable.isValid(lower[...])
        switch (changed, ok) {
        case (true, true):
            score.valid += 1
            if Syllable.common.contains(String(String.UnicodeScalarView(lower.compactMap(Unicode.Scalar.init)))) {
                score.common += 1
            }
        case (true, false): score.bad += 1
        case (false, true): score.neutralValid += 1
        case (false, false): score.neutralInvalid += 1
        }
    }

    // MARK: Labels

    /// A MIME charset label, normalized.
    struct Label {
        var name: String
        init(_ raw: String) { name = raw.trimmingCharacters(in: .whitespaces).lowercased() }

        /// The legacy encoding this label names, if any.
        var encoding: VietEncoding? {
            switch name {
            case "tcvn", "tcvn3", "tcvn-5712", "tcvn5712-1", "tcvn5712-3", "vn3", "x-viet-tcvn5712", "abc": .tcvn3
            case "vni", "vni-windows", "x-viet-vni": .vni
            case "viscii", "csviscii", "x-viet-viscii": .viscii
            case "vps", "x-viet-vps": .vps
            case "windows-1258", "cp1258", "x-cp1258": .cp1258
            default: nil
            }
        }

        /// The 8-bit table to read a not-Vietnamese text with, and the name reported.
        var table: (ByteTable, String)? {
            switch name {
            case "iso-8859-1", "iso8859-1", "latin1", "l1", "iso_8859-1", "us-ascii", "ascii", "windows-1252", "cp1252":
                (ByteTable.cp1252, name == "us-ascii" || name == "ascii" ? "windows-1252" : name)
            case "windows-1258", "cp1258": (ByteTable.cp1258, "windows-1258")
            case "viscii": (ByteTable.viscii, "viscii")
            default: nil
            }
        }
    }
}

extension Syllable {
    /// A toneless ASCII word that could be Vietnamese written without marks.
    static func isValidToneless(_ word: ArraySlice<UInt32>) -> Bool {
        guard let last = word.last else { return false }
        // Stop codas need a tone that ASCII cannot carry; allow them when unmarked (typed without accents).
        if last == 0x63 || last == 0x70 || last == 0x74 || (word.count >= 2 && last == 0x68 && word[word.endIndex - 2] == 0x63) {
            var w = Array(word)
            if let i = w.lastIndex(where: { VietLetters.info[$0] != nil }),
               let c = VietLetters.composed(w[i], tone: 1) { w[i] = c }
            return isValid(w[...])
        }
        return isValid(word)
    }
}
