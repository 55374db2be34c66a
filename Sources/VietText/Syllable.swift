/// Vietnamese syllable structure: onset + rhyme (medial, nucleus, coda) + exactly one tone.
/// Used by the detector to score candidate decodings and by the VIQR decoder to tell marks
/// from punctuation.
///
/// - SeeAlso: Đoàn Thiện Thuật, *Ngữ âm tiếng Việt*; the rhyme inventory of the Vietnamese
///   spelling rules (Quy tắc chính tả, QĐ 1989/QĐ-BGDĐT 2018 appendix).
enum Syllable {
    static let onsets: [String] = [
        "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
        "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
    ]

    static let rhymes: Set<String> = Set("""
        a ai ao au ay ac ach am an ang anh ap at ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây \
        e eo ec em en eng ep et ê êch êm ên ênh êp êt êu \
        i ia iu ich im in inh ip it iêc iêm iên iêng iêp iêt iêu \
        o oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt oe oen oeo oet \
        oc oi om on ong op ot ooc oong ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt \
        u ua uân uâng uât uây uê uêch uênh uy uya uych uyên uyêt uynh uyt uyu ui uc um un ung up ut \
        uôc uôi uôm uôn uông uôt uơ ư ưa ưi ưu ưc ưng ưt ưm ươc ươi ươm ươn ương ươp ươt ươu \
        y yêm yên yêng yêt yêu ynh yt ych
        """.split(separator: " ").map(String.init))

    /// Onsets that take only front vowels (i, e, ê, y) and those that never do.
    static let frontOnly: Set<String> = ["k", "gh", "ngh"]
    static let backOnly: Set<String> = ["c", "ng", "q"]

    /// `word`: lowercase scalars (Vietnamese letters only). True when it is one well-formed
    /// syllable: known onset and rhyme, at most one tone, and a stop coda (c ch p t) only
    /// with sắc or nặng.
    static func isValid(_ word: ArraySlice<UInt32>) -> Bool {
        guard !word.isEmpty, word.count <= 8 else { return false }
        var tone: UInt8 = 0
        var bare = String.UnicodeScalarView()
        for c in word {
            if c < 0x80 {
                guard c >= 0x61 && c <= 0x7A else { return false }
                if c == 0x66 || c == 0x6A || c == 0x77 || c == 0x7A { return false }  // f j w z
                bare.append(Unicode.Scalar(c)!)
            } else if c == VietLetters.dStroke {
                bare.append("đ")
            } else if let info = VietLetters.info[c], !info.isUpper {
                if info.tone != 0 {
                    guard tone == 0 else { return false }
                    tone = info.tone
                }
                bare.append(Unicode.Scalar(info.base)!)
            } else {
                return false
            }
        }
        let s = String(bare)
        for onset in onsets where s.hasPrefix(onset) {
            let rhyme = String(s.dropFirst(onset.count))
            guard rhymes.contains(rhyme) else { continue }
            if let first = rhyme.unicodeScalars.first {
                let front = first == "i" || first == "e" || first == "ê" || first == "y"
                if frontOnly.contains(onset) && !front { continue }
                if backOnly.contains(onset) && front { continue }
                if onset == "qu" && (first == "u" || first == "o") { continue }
            }
            if rhyme.hasSuffix("c") || rhyme.hasSuffix("ch") || rhyme.hasSuffix("p") || rhyme.hasSuffix("t") {
                guard tone == 1 || tone == 5 else { continue }
            }
            return true
        }
        return false
    }
}
