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

    static let rhymes: Set<String> = Set(
        """
        a ai ao au ay ac ach am an ang anh ap at ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây \
        e eo ec em en eng ep et ê êch êm ên ênh êp êt êu \
        i ia iu ich im in inh ip it iêc iêm iên iêng iêp iêt iêu \
        o oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt oe oen oeo oet \
        oc oi om on ong op ot ooc oong ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt \
        u ua uân uâng uât uây uê uêch uênh uy uya uych uyên uyêt uynh uyt uyu ui uc um un ung up ut \
        uôc uôi uôm uôn uông uôt uơ ư ưa ưi ưu ưc ưng ưt ưm ươc ươi ươm ươn ương ươp ươt ươu \
        y yêm yên yêng yêt yêu ynh yt ych
        """.split(separator: " ").map(String.init)
    )

    /// Onsets that take only front vowels (i, e, ê, y) and those that never do.
    static let frontOnly: Set<String> = ["k", "gh", "ngh"]
    static let backOnly: Set<String> = ["c", "ng", "q"]

    /// 6-bit codes of the toneless lowercase letters: a–z 1…26, ă â ê ô ơ ư đ 27…33.
    static func code(_ c: UInt32) -> UInt64 {
        switch c {
        case 0x61...0x7A: UInt64(c - 0x60)
        case 0x103: 27
        case 0xE2: 28
        case 0xEA: 29
        case 0xF4: 30
        case 0x1A1: 31
        case 0x1B0: 32
        case 0x111: 33
        default: 0
        }
    }

    static func key(_ s: String) -> UInt64 {
        s.unicodeScalars.reduce(0) { $0 << 6 | code($1.value) }
    }

    struct Onset {
        var key: UInt64
        var length: Int
        var frontOnly: Bool
        var backOnly: Bool
        var qu: Bool
    }
    static let onsetTable: [Onset] = onsets.map {
        Onset(
            key: key($0),
            length: $0.unicodeScalars.count,
            frontOnly: frontOnly.contains($0),
            backOnly: backOnly.contains($0),
            qu: $0 == "qu"
        )
    }
    static let rhymeKeys: Set<UInt64> = Set(rhymes.map(key))

    /// `word`: lowercase scalars (Vietnamese letters only). True when it is one well-formed
    /// syllable: known onset and rhyme, at most one tone, and a stop coda (c ch p t) only
    /// with sắc or nặng.
    static func isValid(_ word: ArraySlice<UInt32>) -> Bool {
        guard !word.isEmpty, word.count <= 8 else { return false }
        var tone: UInt8 = 0
        var codes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        for c in word {
            var bare = c
            if c >= 0x80 && c != VietLetters.dStroke {
                guard let info = VietLetters.info[c], !info.isUpper else { return false }
                if info.tone != 0 {
                    guard tone == 0 else { return false }
                    tone = info.tone
                }
                bare = info.base
            } else if c == 0x66 || c == 0x6A || c == 0x77 || c == 0x7A {
                return false  // f j w z
            }
            let k = code(bare)
            guard k != 0 else { return false }
            withUnsafeMutableBytes(of: &codes) { $0.storeBytes(of: k, toByteOffset: n * 8, as: UInt64.self) }
            n += 1
        }
        let all = withUnsafeBytes(of: &codes) { Array($0.bindMemory(to: UInt64.self).prefix(n)) }
        let front: Set<UInt64> = [9, 5, 29, 25]  // i e ê y
        for onset in onsetTable where onset.length <= n {
            var prefix: UInt64 = 0
            for j in 0..<onset.length { prefix = prefix << 6 | all[j] }
            guard prefix == onset.key else { continue }
            var rhyme: UInt64 = 0
            for j in onset.length..<n { rhyme = rhyme << 6 | all[j] }
            guard rhyme != 0, rhymeKeys.contains(rhyme) else { continue }
            let first = all[onset.length]
            let isFront = front.contains(first)
            if onset.frontOnly && !isFront { continue }
            if onset.backOnly && isFront { continue }
            if onset.qu && (first == 21 || first == 15) { continue }  // u o
            let last = all[n - 1]
            let stop = last == 3 || last == 16 || last == 20 || (last == 8 && n >= 2 && all[n - 2] == 3)  // c p t ch
            if stop && tone != 1 && tone != 5 { continue }
            return true
        }
        return false
    }
}
