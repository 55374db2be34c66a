import Foundation

/// What the detector decided about one text.
public struct VietDetection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case unicode
        case legacy(VietEncoding)
        case notVietnamese
    }
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
            for i in 0..<p.count where p[i] >= 0x80 {
                firstHigh = i
                break
            }
        }
        if firstHigh < 0 { return detectASCII(input) }

        if let text = String(validating: input, as: UTF8.self) {
            let detection = detectUTF8(text, input)
            // Latin-1 text can be valid UTF-8 by chance ("OPCIÓ…" is D3 85): when it holds no
            // Vietnamese, a Western label is believed.
            if detection.kind == .notVietnamese, let (table, name) = declared?.table, declared?.name != "us-ascii" {
                return VietDetection(kind: .notVietnamese, confidence: 0.9, text: table.decode(input), encodingName: name)
            }
            return detection
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
        var words = 0
        var valid = 0
        var converted = 0
        var strong = 0
        var english = 0
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
        } other: { _ in
        }
        // Marks that form syllables, in text whose other words are Vietnamese too.
        guard strong >= 2 || (strong >= 1 && words <= 4 && english == 0),
            Double(valid) >= 0.7 * Double(words), converted * 5 >= words || converted >= 8
        else { return notVietnamese }
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
            return VietDetection(
                kind: vietnamese ? .unicode : .notVietnamese,
                confidence: vietnamese ? 1 : 0.9,
                text: text,
                encodingName: "utf-8"
            )
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
            word.removeAll(keepingCapacity: true)
            high = false
        }
        for s in text.unicodeScalars {
            let c = s.value
            if VietLetters.isLetter(c) || (c >= 0x80 && c < 0x2000 && !edgePunctuation.contains(c)) {
                word.append(c)
                if c >= 0x80 { high = true }
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
            if b < 0xC4 {
                i += 1
                continue
            }
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
    /// CP1258, VISCII and VPS for short texts; CP1258 is the most used of the three). VN1 reads
    /// lowercase text as TCVN3 (VN3) does, and VN3 is by far the more common.
    static let candidates: [VietEncoding] = [.tcvn3, .vn1, .vni, .cp1258, .viscii, .vps]

    struct Score {
        var valid = 0  // changed by the decoding, one well-formed syllable
        var bad = 0  // changed, but not a syllable (or capitals inside a word)
        var garbage = 0  // symbols or non-Vietnamese letters inside a word
        var neutralValid = 0  // read the same as Windows-1252, well formed
        var neutralInvalid = 0  // read the same as Windows-1252, not a syllable
        var common = 0  // valid words that are frequent syllables (the tie-breaker)
        /// Valid words whose Windows-1252 reading is no Western word (a symbol or a control
        /// inside it, a capital after a small letter, accented letters in a row): bytes only a
        /// legacy Vietnamese encoding writes.
        var strong = 0
        /// Of those, the words whose reading holds a symbol or a control among its letters
        /// ("Gi¸m", "®i", "T\u{10}CH"): no Western word at all.
        var symbolic = 0
        /// Valid words whose Windows-1252 reading is punctuation alone ("«", "·", "µ"): a
        /// letter on its own in a list of letters, or a Western quote.
        var punctuation = 0
        /// Valid words whose Windows-1252 reading is a Western word with a final accent.
        var accentFinal = 0
        /// Distinct valid words (hashes), punctuation ones apart: "N°" a hundred times is one
        /// piece of evidence.
        var distinct = Set<Int>()
        var distinctPunctuation = Set<Int>()
        /// Letters on their own ("a à ả ã ạ", "ă â đ"): changed by the decoding, and not.
        var letters = Set<Int>()
        var neutralLetters = Set<Int>()
        /// Letters on their own that follow one on the same vowel ("a à ả ã ạ"): how a list of
        /// tones reads in the right encoding, and not in another.
        var sameVowel = 0
        var previousVowel: UInt8 = 0
        /// Letters on their own read the same as Windows-1252: as good as changed ones in a list.
        var neutralLetterCount = 0
        var value: Double {
            Double(valid) + 0.5 * Double(common) + 0.25 * Double(neutralValid) + Double(sameVowel)
                + 0.75 * Double(neutralLetterCount) - 2 * Double(bad + garbage)
                - 0.5 * Double(neutralInvalid)
        }
        var negatives: Int { bad + garbage + neutralInvalid }
        var accepted: Bool {
            guard valid >= 1 else { return false }
            if valid < 3 { return negatives == 0 }
            return negatives * 5 <= valid + neutralValid
        }
    }

    /// What the text around the 8-bit words says, the same for every candidate: its ASCII
    /// words (outside markup; not acronyms, single letters or entity names), how many are
    /// toneless Vietnamese syllables, and whether a legacy Vietnamese font is named.
    struct Context {
        var asciiWords = 0
        var asciiValid = 0
        var fontName = false
        /// ASCII words that are not Vietnamese, weighed against the syllables: Western prose
        /// ("klarte ikke å allokere") has few of the first kind.
        func agrees(with score: Score) -> Bool {
            let invalid = asciiWords - asciiValid
            return invalid * 2 <= asciiValid + score.valid - score.punctuation + score.distinctPunctuation.count + score.neutralValid
        }
    }

    /// Converting needs evidence, because a few high bytes are ordinary Western text (NBSP, °,
    /// «», ©, ·, accented letters) and most single ones read as some Vietnamese syllable in some
    /// encoding ("N°" is VISCII "Nồ"): a word only a legacy encoding writes, or three distinct
    /// syllables in text whose ASCII words are Vietnamese too, or a legacy font's name, or a label
    /// naming the encoding.
    static func hasEvidence(_ score: Score, _ context: Context, labelled: Bool) -> Bool {
        guard score.accepted else { return false }
        if labelled || context.fontName { return true }
        // A word only a legacy encoding writes; one that merely looks unusual as Western letters
        // ("deán", "poäng") needs a second syllable beside it.
        let syllables = score.valid - score.punctuation + score.neutralValid + context.asciiValid
        // Two words no Western text writes outweigh a signature in English below them.
        if score.symbolic >= 1 || score.strong >= 1 && syllables >= 2 {
            return context.agrees(with: score) || score.strong >= 3 || score.symbolic >= 2
        }
        // Several distinct syllables; letters on their own ("a à ả ã ạ") only in a list of them,
        // as Western quotes and signs («», ©, °) are a few distinct ones.
        if score.distinct.count >= 3 || score.distinct.count + score.distinctPunctuation.count >= 5,
            context.agrees(with: score)
        {
            return true
        }
        // A list of letters: four distinct ones at least, two of them changed.
        if score.letters.count >= 2, score.letters.count + score.neutralLetters.count >= 4, context.agrees(with: score) { return true }
        // A short text ("Lịch công tác"): every word of it a syllable, two of them with 8-bit
        // letters, one of which the encoding changes.
        let words = score.valid - score.punctuation - score.accentFinal
        let evidence = words >= 1 && words + score.neutralValid >= 2 || words + score.accentFinal >= 1 && score.neutralValid >= 2
        return score.negatives == 0 && context.asciiWords == context.asciiValid && evidence
            && score.valid - score.punctuation + score.neutralValid + context.asciiValid >= 3
    }

    static func detectLegacy(_ input: [UInt8], firstHigh: Int, declared: Label?) -> VietDetection {
        let start = max(0, firstHigh - 256)
        let sample = Array(input[start..<min(input.count, start + sampleBytes)])
        let (scores, context) = self.scores(sample)
        var best: (index: Int, value: Double)? = nil
        for (k, score) in scores.enumerated() {
            // VN1 is rare in mail and its capitals sit where other encodings keep small letters
            // ("Hà Nội" in VISCII reads "HỔ Nài"): it has to win by a clear margin.
            let value = score.value + (declared?.encoding == candidates[k] ? 1 : 0) - (candidates[k] == .vn1 ? 1 : 0)
            if best == nil || value > best!.value { best = (k, value) }
        }
        if let best, hasEvidence(scores[best.index], context, labelled: declared?.encoding == candidates[best.index]) {
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
    static let edgePunctuation: Set<UInt32> = [
        0xA0, 0xAB, 0xBB, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D,
        0x2026, 0x2022, 0xB7,
    ]

    /// Letters, 8-bit bytes, and the C0 bytes VISCII and VPS use for capitals (not tab or line breaks).
    @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
        b >= 0x80 || (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || (b >= 0x01 && b < 0x20 && !(b >= 0x09 && b <= 0x0D))
    }

    /// Scores every candidate over the words that hold 8-bit bytes, and reads the context.
    static func scores(_ sample: [UInt8]) -> ([Score], Context) {
        var scores = [Score](repeating: Score(), count: candidates.count)
        var context = Context()
        var decoded: [UInt32] = []
        var baseline: [UInt32] = []
        var letters: [UInt32] = []
        context.fontName = namesLegacyFont(sample)
        sample.withUnsafeBufferPointer { p in
            let n = p.count
            var i = 0
            var previousLower = false  // the previous word ended in a lowercase ASCII letter
            var sentenceBreak = true  // . ! ? : ; or a line break since the previous word
            var inTag = false  // inside <...>: markup, not text
            // ASCII words count on lines that hold 8-bit words: a signature or a quoted English
            // reply below Vietnamese text is not its context.
            var line = Context()
            var lineHasHigh = false
            func endLine() {
                if lineHasHigh {
                    context.asciiWords += line.asciiWords
                    context.asciiValid += line.asciiValid
                }
                line = Context()
                lineHasHigh = false
            }
            while i < n {
                let b = p[i]
                guard isWordByte(b) else {
                    if b == 0x2E || b == 0x21 || b == 0x3F || b == 0x3A || b == 0x3B || b == 0x0A || b == 0x2D { sentenceBreak = true }
                    if b == 0x0A { endLine() }
                    if b == 0x3C, i + 1 < n, p[i + 1] == 0x2F || p[i + 1] == 0x21 || (p[i + 1] | 0x20) >= 0x61 && (p[i + 1] | 0x20) <= 0x7A
                    {
                        inTag = true
                    } else if b == 0x3E {
                        inTag = false
                    }
                    i += 1
                    continue
                }
                let start = i
                var high = false
                // C0 bytes in a word are VISCII, VPS or VN1 capitals: judged like 8-bit ones.
                while i < n, isWordByte(p[i]) {
                    if p[i] >= 0x80 || p[i] < 0x20 { high = true }
                    i += 1
                }
                let word = UnsafeBufferPointer(rebasing: p[start..<i])
                let last = word[word.count - 1]
                defer {
                    previousLower = last >= 0x61 && last <= 0x7A
                    sentenceBreak = false
                }
                guard high else {
                    // Entity names (&nbsp;), markup and words glued to digits, paths or
                    // addresses are not prose.
                    let before = start > 0 ? p[start - 1] : 0x20
                    let after = i < n ? p[i] : 0x20
                    if !inTag, before != 0x26, before != 0x25, before != 0x5C, !isGlue(before), !isGlue(after),
                        !(after == 0x3A && isReplyPrefix(word))
                    {
                        countASCII(word, into: &line, letters: &letters)
                    }
                    continue
                }
                baseline.removeAll(keepingCapacity: true)
                for b in word { baseline.append(ByteTable.cp1252.scalars[Int(b)]) }
                let western = reading(baseline)
                let punctuation = western == .western && isPunctuation(baseline)
                let accentFinal = western == .western && !punctuation && isAccentFinal(baseline)
                let quote = baseline.count == 1 && quotes.contains(baseline[0])
                for (k, encoding) in candidates.enumerated() {
                    decoded.removeAll(keepingCapacity: true)
                    decodeScalars(word, encoding, into: &decoded)
                    judge(
                        decoded,
                        changed: decoded != baseline,
                        encoding: encoding,
                        lowerContext: previousLower && !sentenceBreak,
                        western: western,
                        punctuation: punctuation,
                        accentFinal: accentFinal,
                        quote: quote,
                        into: &scores[k]
                    )
                }
                lineHasHigh = true
            }
            endLine()
        }
        return (scores, context)
    }

    /// "Re:", "Fwd:", "TR:", "AW:", "WG:", "SV:", "RV:": reply and forward markers, in any language.
    static func isReplyPrefix(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        let w = String(decoding: word, as: UTF8.self).lowercased()
        return ["re", "fw", "fwd", "tr", "aw", "wg", "sv", "rv", "vs", "ref", "antw", "enc", "res", "rif", "vl", "tl"].contains(w)
    }

    /// Bytes that join a word to a number, a path or an address ("x86", "a/b", "www.x.vn").
    @inline(__always) static func isGlue(_ b: UInt8) -> Bool {
        b >= 0x30 && b <= 0x39 || b == 0x2F || b == 0x40 || b == 0x5F || b == 0x3D
    }

    /// One ASCII word of the context: a toneless syllable or not. Single letters and
    /// acronyms (all capitals) say nothing either way.
    static func countASCII(_ word: UnsafeBufferPointer<UInt8>, into context: inout Context, letters: inout [UInt32]) {
        guard word.count >= 2 else { return }
        var upper = 0
        letters.removeAll(keepingCapacity: true)
        for b in word {
            guard (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A else { return }
            if b < 0x61 { upper += 1 }
            letters.append(UInt32(b | 0x20))
        }
        let valid = word.count <= 7 && Syllable.isValid(letters[...])
        if upper == word.count && !valid { return }
        context.asciiWords += 1
        if valid { context.asciiValid += 1 }
    }

    /// A legacy Vietnamese font named in the text (HTML, RTF): .VnTime, .VnArial, VNI-Times, ...
    static func namesLegacyFont(_ sample: [UInt8]) -> Bool {
        let n = sample.count
        guard n >= 4 else { return false }
        for i in 0..<(n - 3) {
            let a = sample[i]
            let b = sample[i + 1] | 0x20
            let c = sample[i + 2] | 0x20
            let d = sample[i + 3]
            // ".Vn" + a capital letter: .VnTime, .VnArial, .VnCentury ...
            if a == 0x2E, b == 0x76, c == 0x6E, d >= 0x41 && d <= 0x5A, i == 0 || !isLetterByte(sample[i - 1]) { return true }
            // "VNI-" + a letter: VNI-Times, VNI-Helve ...
            if (a | 0x20) == 0x76, b == 0x6E, c == 0x69, d == 0x2D, i + 4 < n, isLetterByte(sample[i + 4]),
                i == 0 || !isLetterByte(sample[i - 1])
            {
                return true
            }
        }
        return false
    }

    @inline(__always) static func isLetterByte(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    /// Western symbols that stand before a word in Western text: quotes and guillemets (both
    /// ways round, as German writes »so«), ¡ ¿, ©, currency and unit signs, dashes, bullets,
    /// NBSP.
    static let westernLeading: Set<UInt32> = [
        0xA0, 0xAB, 0xBB, 0x2039, 0x203A, 0x201C, 0x201D, 0x201E, 0x2018, 0x2019, 0x201A, 0xA1, 0xBF, 0xA9,
        0x20AC, 0xA3, 0xA5, 0xA2, 0xB1, 0xB5, 0xB7, 0x2022, 0x2013, 0x2014, 0x2026,
    ]
    /// And after one: quotes, guillemets, ° º ª (N°, 1ª), ® ™, superscripts, fractions, dashes.
    static let westernTrailing: Set<UInt32> = [
        0xA0, 0xAB, 0xBB, 0x2039, 0x203A, 0x201C, 0x201D, 0x2018, 0x2019, 0xB0, 0xBA, 0xAA, 0xAE, 0x2122,
        0xB2, 0xB3, 0xB9, 0xBC, 0xBD, 0xBE, 0x20AC, 0xA2, 0xB7, 0x2022, 0x2013, 0x2014, 0x2026, 0x2020, 0x2021, 0x2030,
    ]

    /// Quotation marks: on their own they open or close a quotation, never a letter of a list.
    static let quotes: Set<UInt32> = [0xAB, 0xBB, 0x2039, 0x203A, 0x201C, 0x201D, 0x201E, 0x2018, 0x2019, 0x201A, 0xA0]

    /// The word without the Western symbols at its edges.
    static func core(_ w: [UInt32]) -> Range<Int> {
        var lo = 0
        var hi = w.count
        while lo < hi, westernLeading.contains(w[lo]) { lo += 1 }
        while hi > lo, westernTrailing.contains(w[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    /// Symbols alone, or an ASCII word with Western punctuation at its edges ("N°", "c»",
    /// "«-c»"): what a legacy reading changes there is punctuation, not letters.
    static func isPunctuation(_ w: [UInt32]) -> Bool {
        if !w.contains(where: { isWesternLetter($0) || $0 >= 0x41 && $0 < 0x80 }) { return true }
        return w[core(w)].allSatisfy { $0 >= 0x20 && $0 < 0x80 }
    }

    /// A Western word whose one accented letter ends it or is followed by one more letter
    /// ("è", "già", "più", "não", "país", "están"): Italian, French, Spanish and Portuguese
    /// write thousands of them, so alone they say little.
    static func isAccentFinal(_ w: [UInt32]) -> Bool {
        guard let i = w.lastIndex(where: { $0 >= 0x80 }), i >= w.count - 2, isWesternLower(w[i]) else { return false }
        return w[..<i].allSatisfy { $0 < 0x80 } && w[(i + 1)...].allSatisfy { $0 < 0x80 }
    }

    /// How a word's Windows-1252 reading looks as Western text.
    enum Reading { case western, foreign, symbolic }

    static func reading(_ w: [UInt32]) -> Reading {
        readsAsWestern(w) ? .western : w[core(w)].contains { !(isWesternLetter($0) || $0 >= 0x41 && $0 < 0x80) } ? .symbolic : .foreign
    }

    static func readsAsWestern(_ w: [UInt32]) -> Bool {
        // A word of symbols only is punctuation ("§", "·", "½"), unless it holds controls.
        if isPunctuation(w) {
            return !w.contains { $0 < 0x20 || $0 >= 0x80 && $0 < 0xA0 }
        }
        let range = core(w)
        let lo = range.lowerBound
        let hi = range.upperBound
        var run = 0
        for j in lo..<hi {
            let c = w[j]
            if c < 0x80 {
                guard c >= 0x41 else { return false }  // C0 bytes: capitals of VISCII, VPS, VN1
                run = 0
                continue
            }
            if (c == 0x2019 || c == 0xAD) && j > lo && j + 1 < hi && w[j - 1] < 0x80 && w[j + 1] < 0x80 {
                run = 0
                continue
            }
            guard isWesternLetter(c) else { return false }
            if j > lo, w[j - 1] < 0x80, !westernAfterVowel(w[j - 1], c) { return false }
            if j > lo, isWesternUpper(c), w[j - 1] >= 0x61 && w[j - 1] <= 0x7A || isWesternLower(w[j - 1]) { return false }
            // Nor inside a capitalized word ("KÝnh"): Western capitals inside a word come in
            // words of capitals.
            if j > lo, isWesternUpper(c), j + 1 < hi, w[j + 1] >= 0x61 && w[j + 1] <= 0x7A || isWesternLower(w[j + 1]) { return false }
            run += 1
            if run >= 2 {
                let pair = (w[j - 1] | 0x20, c | 0x20)
                guard run == 2, pair.0 == 0xE7 || pair == (0xE9, 0xE9) else { return false }
            }
        }
        return true
    }

    /// An accented vowel right after an ASCII vowel, unless the pair is one VNI writes for a
    /// toned vowel and Western words do not ("yù", "kieán", "aø"): Western words write "où",
    /// "più", "août", "naïf", "aéro", "aún", "Israël", "quê", "ción" and so on. True when
    /// `previous` is no vowel.
    static func westernAfterVowel(_ previous: UInt32, _ c: UInt32) -> Bool {
        let v = previous | 0x20
        guard v == 0x61 || v == 0x65 || v == 0x69 || v == 0x6F || v == 0x75 || v == 0x79 else { return true }
        switch c | 0x20 {
        case 0xF8, 0xF5: return false  // ø õ: VNI huyền, ngã
        case 0xF9: return v == 0x6F || v == 0x69  // ù: VNI sắc; où, più
        case 0xFB: return v == 0x6F  // û: VNI hỏi; août
        case 0xEF: return v != 0x69 && v != 0x79  // ï: VNI nặng; naïf, ouï, égoïste
        case 0xE2, 0xE1, 0xE0, 0xE5, 0xE3, 0xE4:  // â á à å ã ä: VNI â ê ô with a tone
            return v != 0x61 && v != 0x65 && v != 0x6F
        case 0xEA, 0xE8, 0xFC: return v != 0x61  // ê è ü: VNI ă with a tone
        default: return true
        }
    }

    @inline(__always) static func isWesternLetter(_ c: UInt32) -> Bool {
        (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7) || c == 0x152 || c == 0x153 || c == 0x160 || c == 0x161
            || c == 0x17D || c == 0x17E || c == 0x178
    }
    @inline(__always) static func isWesternUpper(_ c: UInt32) -> Bool {
        (c >= 0xC0 && c <= 0xDE && c != 0xD7) || c == 0x152 || c == 0x160 || c == 0x17D || c == 0x178
    }
    @inline(__always) static func isWesternLower(_ c: UInt32) -> Bool {
        (c >= 0xDF && c <= 0xFF && c != 0xF7) || c == 0x153 || c == 0x161 || c == 0x17E
    }

    static func decodeScalars(_ word: UnsafeBufferPointer<UInt8>, _ encoding: VietEncoding, into out: inout [UInt32]) {
        switch encoding {
        case .vni:
            VNI.decode(word) { out.append($0) }
        case .cp1258, .vn1:
            // Both write tones as combining marks after a base letter.
            let table = encoding == .vn1 ? ByteTable.vn1.scalars : ByteTable.cp1258.scalars
            for b in word {
                let c = table[Int(b)]
                if c >= 0x300 && c < 0x370, let last = out.last, let info = VietLetters.info[last], info.tone == 0,
                    let tone = VietLetters.toneMarks.firstIndex(of: Unicode.Scalar(c)!),
                    let composed = VietLetters.composed(info.base, tone: UInt8(tone + 1))
                {
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

    static func judge(
        _ decoded: [UInt32],
        changed: Bool,
        encoding: VietEncoding,
        lowerContext: Bool,
        western: Reading = .western,
        punctuation: Bool = false,
        accentFinal: Bool = false,
        quote: Bool = false,
        into score: inout Score
    ) {
        var lo = 0
        var hi = decoded.count
        while lo < hi, edgePunctuation.contains(decoded[lo]) { lo += 1 }
        while hi > lo, edgePunctuation.contains(decoded[hi - 1]) { hi -= 1 }
        guard lo < hi else { return }
        var lower: [UInt32] = []
        lower.reserveCapacity(hi - lo)
        var anomaly = false
        for j in lo..<hi {
            let c = decoded[j]
            guard VietLetters.isLetter(c) else {
                score.garbage += 1
                return
            }
            // A capital after a lowercase letter: not how words are written (TCVN3's
            // uppercase-font headings put capitals after lowercase codes, so not there).
            if j > lo, VietLetters.isUpper(c), VietLetters.isLower(decoded[j - 1]),
                encoding != .tcvn3 || decoded[j - 1] < 0x80
            {
                anomaly = true
            }
            lower.append(VietLetters.lower(c))
        }
        // A lone non-ASCII capital in the middle of a lowercase sentence ("Góp Ỷ văn").
        if hi - lo == 1, decoded[lo] >= 0x80, VietLetters.isUpper(decoded[lo]), lowerContext { anomaly = true }
        // A letter on its own is a word of a list (an alphabet, the tones, a key of
        // abbreviations), whether or not it is a syllable.
        let single = hi - lo == 1
        if single, !quote {
            if changed {
                score.letters.insert(Int(lower[0]))
            } else {
                score.neutralLetters.insert(Int(lower[0]))
                score.neutralLetterCount += 1
            }
            let vowel = VietLetters.info[lower[0]]?.ascii ?? (lower[0] < 0x80 ? UInt8(lower[0]) : 0)
            if vowel != 0 && vowel == score.previousVowel { score.sameVowel += 1 }
            score.previousVowel = vowel
        } else {
            score.previousVowel = 0
        }
        let ok = !anomaly && (single || Syllable.isValid(lower[...]))
        switch (changed, ok) {
        case (true, true):
            score.valid += 1
            if western == .foreign || western == .symbolic { score.strong += 1 }
            if western == .symbolic { score.symbolic += 1 }
            if accentFinal { score.accentFinal += 1 }
            if punctuation {
                score.punctuation += 1
                score.distinctPunctuation.insert(lower.hashValue)
            } else {
                score.distinct.insert(lower.hashValue)
            }
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
            case "tcvn", "tcvn3", "tcvn-5712", "tcvn5712-3", "vn3", "x-viet-tcvn5712", "abc": .tcvn3
            case "tcvn5712-1", "tcvn5712-1:1993", "vn1", "vn2": .vn1
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
                let c = VietLetters.composed(w[i], tone: 1)
            {
                w[i] = c
            }
            return isValid(w[...])
        }
        return isValid(word)
    }
}

extension VietDetector {
    /// The detector's reasoning for one text, for `thugate text --explain` and the benchmark:
    /// every candidate's score and the context.
    public static func explain(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        guard let firstHigh = input.firstIndex(where: { $0 >= 0x80 }) else { return "ascii" }
        let start = max(0, firstHigh - 256)
        let (scores, context) = self.scores(Array(input[start..<min(input.count, start + sampleBytes)]))
        var lines = ["context: ascii words \(context.asciiWords), syllables \(context.asciiValid), font name \(context.fontName)"]
        for (k, s) in scores.enumerated() {
            lines.append(
                "\(candidates[k].rawValue): valid \(s.valid) strong \(s.strong)/\(s.symbolic) punct \(s.punctuation) final \(s.accentFinal) distinct \(s.distinct.count)+\(s.distinctPunctuation.count) letters \(s.letters.count)+\(s.neutralLetters.count) bad \(s.bad) "
                    + "garbage \(s.garbage) neutral \(s.neutralValid)/\(s.neutralInvalid) common \(s.common) value \(s.value) "
                    + "accepted \(s.accepted) evidence \(hasEvidence(s, context, labelled: false))"
            )
        }
        return lines.joined(separator: "\n")
    }
}
