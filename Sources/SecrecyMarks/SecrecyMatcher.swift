import Foundation
import VietText

/// Finds state-secret markings (TUYỆT MẬT, TỐI MẬT, MẬT) in a document's or a message's text
/// units, and tells a stamp from the many words that contain "mật". No I/O.
///
/// What it detects:
/// - **Strong** (the rule acts): a unit, or a line of it, that *is* a level once trimmed of
///   punctuation, brackets, an "Độ mật:" prefix and a trailing urgency stamp, in capitals (by its
///   text or its style), standing where a stamp stands: on page 1 the upper left below the number
///   and subject line, the letterhead's left cell, the top-right circulation area, a text box,
///   frame or bordered paragraph, one of the first units of page 1; a page header on any page; one
///   of a mail body's first lines on its own; a Subject tag ("[TỐI MẬT] …", "MẬT - …", or a
///   Subject that is a level); an e-office field "Độ mật: Mật | Tối mật | Tuyệt mật" anywhere.
///   Written without diacritics ("TOI MAT") it counts only in these places.
/// - **Weak** (evidence only): a level in capitals with diacritics standing alone as a unit
///   anywhere else (a cell in the middle of a table, a paragraph deep in the body, a footer).
/// - **Downgraded**: strong findings of a document that also bears a GIẢI MẬT stamp in a stamp
///   position, shown (a unit styled `.hidden` or `.partlyHidden` gives no GIẢI MẬT stamp; a hidden
///   level still counts). They are reported for the log, not as findings.
///
/// What it never reports: a level word inside a longer phrase (mật khẩu, bảo mật, bí mật nhà
/// nước, thân mật, mật độ, mật mã, tài liệu mật, giải mật…), a list of levels ("Tuyệt mật, Tối
/// mật và Mật" in a regulation, or list items of different levels on consecutive lines), a level
/// in quotation marks, a mail line quoted from an earlier mail ("> MẬT", or a unit styled
/// `.quoted`: weak at most), "Độ mật: Thường", urgency stamps
/// (HỎA TỐC, THƯỢNG KHẨN, KHẨN) and circulation notes alone, a lowercase "mật". Images carry no
/// text here: a scanned stamp is found only if OCR made a unit of it. Look-alike letters from
/// other scripts or full-width forms ("ＭẬＴ") are not folded (NFC, not NFKC).
///
/// Each unit is normalised first (its original is kept for evidence): legacy fonts (`.VnTime`,
/// `.VnTimeH` = TCVN3, `VNI-Times` = VNI; `UVn…` fonts are Unicode) converted through VietText,
/// zero-width and bidirectional controls removed, NFC, spaces folded, letter-spacing collapsed
/// ("T Ố I  M Ậ T" → "TỐI MẬT"), style capitals applied. Only the first
/// `SecrecyTables.unitByteCap` bytes of a unit are considered.
///
/// - SeeAlso: Nghị định 30/2020/NĐ-CP Phụ lục I (the secrecy stamp at the upper left of page 1,
///   below the number and the subject line; the urgency stamp below it; circulation notes top
///   right). Law 117/2025/QH15 on Protection of State Secrets (in force 1 March 2026) and Nghị định
///   63/2026/NĐ-CP (stamp forms, from Circular 24/2020/TT-BCA form 02). QĐ 40/2022/QĐ-UBND (Quảng
///   Ninh) Đ11 k2: documents on the state-secret list are not sent by e-mail.
public enum SecrecyMatcher {
    /// Matches the units of one document (or of one message's own text: Subject and bodies).
    public static func match(_ units: [TextUnit]) -> SecrecyReport {
        // Each finding with the ordinal of its line in the whole input, so that a run of lines
        // that are levels can be told apart as a list.
        var found: [(finding: SecrecyFinding, line: Int)] = []
        var declassification: DeclassificationMark?
        var ordinal = 0
        for (unitIndex, unit) in units.enumerated() {
            // Every level, label and declassification stamp has an "M" (ASCII in every legacy
            // encoding too): a unit with none is skipped before any work.
            let head = unit.text.utf8.prefix(SecrecyTables.unitByteCap)
            guard head.contains(0x4D) || head.contains(0x6D) else {
                ordinal += 1
                continue
            }
            let normalised = normalise(unit)
            for (lineNumber, line) in normalised.lines.enumerated() {
                ordinal += 1
                // Every level, label and declassification stamp has an "M": most lines stop here.
                guard line.utf8.contains(0x4D) || line.utf8.contains(0x6D) else { continue }
                let place = Place(unit: unit, unitIndex: unitIndex, lineNumber: lineNumber, decoder: normalised.decoder)
                if declassification == nil, let mark = declassificationMark(line, place) {
                    declassification = mark
                    continue
                }
                if let finding = finding(line, place) { found.append((finding, ordinal)) }
            }
        }
        let kept = withoutLists(found)
        let strong = kept.filter { $0.strength == .strong }
        let weak = kept.filter { $0.strength == .weak }
        if let declassification {
            return SecrecyReport(findings: [], downgraded: strong, weak: weak, declassification: declassification)
        }
        return SecrecyReport(findings: strong, downgraded: [], weak: weak, declassification: nil)
    }

    /// Drops lines that are levels standing one after another with different levels ("TUYỆT MẬT"
    /// / "TỐI MẬT" / "MẬT" as a regulation's list items, in one kind of container): a stamp names
    /// one level. Fields and Subject tags are not lines of a list.
    static func withoutLists(_ found: [(finding: SecrecyFinding, line: Int)]) -> [SecrecyFinding] {
        var kept: [SecrecyFinding] = []
        var run: [(finding: SecrecyFinding, line: Int)] = []
        func flush() {
            if Set(run.map(\.finding.level)).count < 2 { kept += run.map(\.finding) }
            run.removeAll()
        }
        for entry in found {
            guard entry.finding.placement != .field, entry.finding.placement != .subjectTag else {
                flush()
                kept.append(entry.finding)
                continue
            }
            // A list is lines of one kind of place: a header's TUYỆT MẬT right before a text box's
            // TỐI MẬT are two stamps, not a list.
            if let last = run.last, last.line + 1 != entry.line || last.finding.container != entry.finding.container { flush() }
            run.append(entry)
        }
        flush()
        return kept
    }

    // MARK: - Normalisation

    /// A unit's text made ready for matching.
    struct Normalised {
        var lines: [String]
        var decoder: SecrecyDecoder
    }

    static func normalise(_ unit: TextUnit) -> Normalised {
        let capped = cap(unit.text)
        var decoder = SecrecyDecoder.unicode
        var text = capped
        if let legacy = legacyDecoder(forFont: unit.fontName), let unicode = unicode(fromLegacy: capped, legacy) {
            decoder = legacy
            text = unicode
        }
        var stripped = text
        // Every invisible scalar is outside ASCII and Latin Extended Additional (UTF-8 lead 0xE1):
        // most text has none and is kept as is.
        if text.unicodeScalars.contains(where: { SecrecyTables.invisible.contains($0.value) }) {
            var visible = String.UnicodeScalarView()
            for scalar in text.unicodeScalars where !SecrecyTables.invisible.contains(scalar.value) {
                visible.append(scalar)
            }
            stripped = String(visible)
        }
        let composed = VietConverter.nfc(stripped)
        if decoder == .unicode, !composed.utf8.elementsEqual(stripped.utf8) {
            decoder = .nfd
        }
        var lines: [String] = []
        for raw in Self.lines(of: composed, limit: SecrecyTables.unitLineCap) {
            var line = foldSpaces(collapseLetterSpacing(Substring(raw)))
            if unit.style.contains(.allCaps) { line = line.uppercased() }
            if !line.isEmpty { lines.append(line) }
        }
        return Normalised(lines: lines, decoder: decoder)
    }

    /// The lines of `text`, split where `Character.isNewline` would split it, empty lines dropped,
    /// by a scan of the UTF-8 (a newline is always a grapheme of its own, UAX #29 GB4/GB5, so
    /// scalars and characters split alike): LF, VT, FF, CR (CR LF gives an empty line, dropped),
    /// NEL (C2 85), LINE and PARAGRAPH SEPARATOR (E2 80 A8/A9). At most `limit` lines. Walking
    /// the characters cost a fifth of the matcher's time on long text.
    static func lines(of text: String, limit: Int = .max) -> [Substring] {
        let utf8 = text.utf8
        var result: [Substring] = []
        var start = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex, result.count < limit {
            let byte = utf8[index]
            var width = 0
            if (0x0A...0x0D).contains(byte) {
                width = 1
            } else if byte == 0xC2 || byte == 0xE2 {
                let next = utf8.index(after: index)
                if byte == 0xC2, next != utf8.endIndex, utf8[next] == 0x85 {
                    width = 2
                } else if byte == 0xE2, next != utf8.endIndex, utf8[next] == 0x80 {
                    let third = utf8.index(after: next)
                    if third != utf8.endIndex, utf8[third] == 0xA8 || utf8[third] == 0xA9 { width = 3 }
                }
            }
            guard width > 0 else {
                index = utf8.index(after: index)
                continue
            }
            if start != index { result.append(text[start..<index]) }
            index = utf8.index(index, offsetBy: width)
            start = index
        }
        if start != utf8.endIndex, result.count < limit { result.append(text[start..<utf8.endIndex]) }
        return result
    }

    /// The first `unitByteCap` UTF-8 bytes of `text`, cut at a character boundary.
    static func cap(_ text: String) -> String {
        guard text.utf8.count > SecrecyTables.unitByteCap else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: SecrecyTables.unitByteCap)
        while end > text.startIndex, end.samePosition(in: text) == nil {
            end = text.utf8.index(before: end)
        }
        return String(text[..<end])
    }

    /// The legacy encoding text set in `font` is stored in (`.VnTime` → TCVN3, `.VnTimeH` → TCVN3
    /// uppercase, `VNI-Times` → VNI, by `SecrecyTables.legacyFonts`); nil for a Unicode font
    /// (`UVnTime`, `Times New Roman`) or none. Extractors use it to convert the legacy runs of a
    /// unit that mixes fonts, so they and the matcher decide alike.
    public static func legacyDecoder(forFont font: String?) -> SecrecyDecoder? {
        guard let font = font?.lowercased() else { return nil }
        let name = font.drop(while: { $0 == " " })
        for entry in SecrecyTables.legacyFonts where name.hasPrefix(entry.prefix) {
            return entry.decoder
        }
        return nil
    }

    /// Text set in a legacy font, read as Windows-1252 characters (how `TextUnit.text` holds it),
    /// converted to Unicode with `decoder`'s encoding; nil when a character could not have come
    /// from a byte (the text is Unicode after all).
    public static func unicode(fromLegacy text: String, _ decoder: SecrecyDecoder) -> String? {
        guard let bytes = windows1252Bytes(text) else { return nil }
        return VietConverter.toUnicode(bytes, from: decoder.encoding)
    }

    /// The bytes legacy text was read from, when it was read as Windows-1252; nil when a
    /// character could not have come from a byte (then the text is Unicode after all).
    static func windows1252Bytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            // 0x80–0x9F as themselves too: a reader that took the bytes for Latin-1 left them so.
            if let byte = Windows1252.byte(scalar) ?? (scalar.value <= 0xFF ? UInt8(scalar.value) : nil) {
                bytes.append(byte)
            } else {
                return nil
            }
        }
        return bytes
    }

    /// "T Ố I  M Ậ T" → "TỐI MẬT": when every space-separated token is one letter, the letters
    /// are joined, and a wider gap than the narrowest one is a word boundary.
    static func collapseLetterSpacing(_ line: Substring) -> String {
        var tokens: [Character] = []
        var gaps: [Int] = []
        var gap = 0
        var previousWasLetter = false
        for character in line {
            if character.isWhitespace {
                gap += 1
                previousWasLetter = false
                continue
            }
            // Two non-space characters in a row: not letter-spaced (most lines stop at once).
            guard !previousWasLetter, character.isLetter else { return String(line) }
            if !tokens.isEmpty { gaps.append(gap) }
            tokens.append(character)
            gap = 0
            previousWasLetter = true
        }
        guard tokens.count >= 3 else { return String(line) }
        let narrowest = gaps.min() ?? 1
        var joined = String(tokens[0])
        for (gap, token) in zip(gaps, tokens.dropFirst()) {
            if gap > narrowest { joined.append(" ") }
            joined.append(token)
        }
        return joined
    }

    /// Runs of white space become one space; both ends trimmed.
    static func foldSpaces(_ line: String) -> String {
        if isFolded(line) { return line }
        var result = ""
        result.reserveCapacity(line.utf8.count)
        var pendingSpace = false
        for character in line {
            if character.isWhitespace {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.append(character)
            }
        }
        return result
    }

    /// Already single-spaced and trimmed, by a scan of the UTF-8: no control characters, no
    /// non-ASCII white space (leads 0xC2 for U+0085/U+00A0, 0xE1 0x9A/0xA0 for U+1680/U+180E,
    /// 0xE2 for U+2000–U+205F, 0xE3 for U+3000), no double space at either end or inside.
    static func isFolded(_ line: String) -> Bool {
        var previous: UInt8 = 0x20
        var afterE1 = false
        for byte in line.utf8 {
            if byte < 0x20 || byte == 0x7F || byte == 0xC2 || byte == 0xE2 || byte == 0xE3 { return false }
            if afterE1, byte == 0x9A || byte == 0xA0 { return false }
            if byte == 0x20, previous == 0x20 { return false }
            afterE1 = byte == 0xE1
            previous = byte
        }
        return previous != 0x20 || line.isEmpty
    }

    // MARK: - Matching

    /// Where a line came from.
    struct Place {
        var unit: TextUnit
        var unitIndex: Int
        var lineNumber: Int
        var decoder: SecrecyDecoder

        /// The line's index among its container's units, when the unit's index is known.
        var index: Int? { unit.index.map { $0 + lineNumber } }
    }

    /// The stamp position the place is in, if any.
    static func stampPlacement(_ place: Place) -> SecrecyFinding.Placement? {
        let unit = place.unit
        // Quoted text (a reply's quotation of an earlier mail) is not where this text's stamp stands.
        if unit.style.contains(.quoted) { return nil }
        for position in SecrecyTables.stampPositions where position.containers.contains(unit.container) {
            if position.firstPageOnly, let page = unit.page, page != 1 { continue }
            if let regions = position.regions {
                guard let region = unit.region, regions.contains(region) else { continue }
            }
            if position.bordered, !unit.style.contains(.bordered) { continue }
            if position.head {
                let limit = unit.container == .mailBody ? SecrecyTables.mailBodyFirstLines : SecrecyTables.documentHeadUnits
                guard let index = place.index, index < limit else { continue }
            }
            return position.placement
        }
        return nil
    }

    static func finding(_ line: String, _ place: Place) -> SecrecyFinding? {
        if var field = fieldFinding(line, place) {
            // A field quoted from an earlier mail is that mail's, not this one's; one in document
            // properties or a classification header is a label a tool wrote: evidence only.
            if place.unit.style.contains(.quoted) || place.unit.container == .metadata {
                field.strength = .weak
                field.placement = .elsewhere
            }
            return field
        }
        if place.unit.container == .subject, let tag = subjectTag(line, place) { return tag }
        // A line that could be a stamp is short; a paragraph of running text is not one.
        guard line.utf8.count <= SecrecyTables.stampLineBytes, let core = core(of: line) else { return nil }
        let body = withoutTrailingUrgency(core)
        guard let found = level(exactly: body) else { return nil }
        let start = line.range(of: body).map { line.distance(from: line.startIndex, to: $0.lowerBound) } ?? 0
        let placement: SecrecyFinding.Placement?
        switch place.unit.container {
        case .subject: placement = .subjectTag
        // A line quoted from an earlier mail ("> MẬT") is not this mail's own first lines.
        case .mailBody where line.hasPrefix(">"): placement = nil
        default: placement = stampPlacement(place)
        }
        if let placement {
            return make(found, .strong, placement, line, start, body.count, place)
        }
        guard found.accented else { return nil }
        return make(found, .weak, .elsewhere, line, start, body.count, place)
    }

    /// The line trimmed of punctuation and brackets at both ends; nil for a quotation.
    static func core(of line: String) -> String? {
        var characters = Substring(line)
        while let first = characters.first, SecrecyTables.trimmed.contains(first) || first == " " {
            characters = characters.dropFirst()
        }
        while let last = characters.last, SecrecyTables.trimmed.contains(last) || last == " " {
            characters = characters.dropLast()
        }
        if let first = characters.first, SecrecyTables.quotes.contains(first) { return nil }
        if let last = characters.last, SecrecyTables.quotes.contains(last) { return nil }
        return characters.isEmpty ? nil : String(characters)
    }

    /// "MẬT HỎA TỐC" → "MẬT": an urgency stamp after the level on the same line.
    static func withoutTrailingUrgency(_ core: String) -> String {
        for word in SecrecyTables.urgency where core.hasSuffix(" " + word) {
            var rest = Substring(core.dropLast(word.count + 1))
            while let last = rest.last, last == " " || SecrecyTables.trimmed.contains(last) { rest = rest.dropLast() }
            return String(rest)
        }
        return core
    }

    /// The level `text` is, compared exactly (capitals) with spaces ignored, so a letter-spaced
    /// stamp with no wider word gap ("T Ố I M Ậ T" → "TỐIMẬT") still matches.
    static func level(exactly text: String) -> (level: SecrecyLevel, accented: Bool)? {
        let key = text.filter { $0 != " " }
        for entry in SecrecyTables.levelKeys where entry.key == key {
            return (entry.level, entry.accented)
        }
        return nil
    }

    /// A level at the start of `text` (capitals), longest first, and the characters it took.
    static func levelPrefix(_ text: Substring, anyCase: Bool) -> (level: SecrecyLevel, accented: Bool, length: Int)? {
        let subject = anyCase ? Substring(text.uppercased()) : text
        for entry in SecrecyTables.levels where subject.hasPrefix(entry.word) {
            // A level is a whole word: "MẬT" is not the start of "MẬTX".
            let after = subject.dropFirst(entry.word.count).first
            if let after, after.isLetter || after.isNumber { continue }
            return (entry.level, entry.accented, entry.word.count)
        }
        return nil
    }

    /// Whether the normalised `line` may hold a field label ("Độ mật", "DO MAT" in any case): "đ"
    /// or "d", then "ộ" or "o", spaces, then "m". Checked on the bytes before the line is
    /// uppercased, which costs more than everything else the matcher does with a line of text.
    static func mayHoldFieldLabel(_ line: String) -> Bool {
        var line = line
        return line.withUTF8 { b in
            var i = 0
            while i < b.count {
                var j: Int
                if b[i] == 0xC4, i + 1 < b.count, b[i + 1] == 0x90 || b[i + 1] == 0x91 {
                    j = i + 2
                } else if b[i] == 0x44 || b[i] == 0x64 {
                    j = i + 1
                } else {
                    i += 1
                    continue
                }
                if j + 2 < b.count, b[j] == 0xE1, b[j + 1] == 0xBB, b[j + 2] == 0x98 || b[j + 2] == 0x99 {
                    j += 3
                } else if j < b.count, b[j] == 0x4F || b[j] == 0x6F {
                    j += 1
                } else {
                    i += 1
                    continue
                }
                var spaces = 0
                while j < b.count, b[j] == 0x20 {
                    j += 1
                    spaces += 1
                }
                if spaces > 0, j < b.count, b[j] == 0x4D || b[j] == 0x6D { return true }
                i += 1
            }
            return false
        }
    }

    /// Whether `needle`'s UTF-8 bytes occur in `haystack`'s (both NFC: a byte match is a
    /// character match).
    static func containsBytes(_ haystack: String, _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard let first = needle.first else { return true }
        var haystack = haystack
        return haystack.withUTF8 { bytes in
            guard bytes.count >= needle.count else { return false }
            var i = 0
            while i <= bytes.count - needle.count {
                if bytes[i] == first, needle.indices.allSatisfy({ bytes[i + $0] == needle[$0] }) { return true }
                i += 1
            }
            return false
        }
    }

    /// "Độ mật: Mật" anywhere in a line; not "Độ mật: Thường", not a list of levels after the
    /// label, not inside quotation marks.
    static func fieldFinding(_ line: String, _ place: Place) -> SecrecyFinding? {
        // A field has a ":" or "-" after its label; most lines have neither, or no label.
        guard line.utf8.contains(0x3A) || line.utf8.contains(0x2D) else { return nil }
        guard mayHoldFieldLabel(line) else { return nil }
        let upper = line.uppercased()
        // A byte search: Foundation's `contains` folds every character of every line (it was a
        // quarter of a plain mail's secrecy check).
        guard SecrecyTables.fieldLabels.contains(where: { containsBytes(upper, $0) }) else { return nil }
        // Uppercasing Vietnamese keeps the character count, so offsets carry over to `line`.
        guard upper.count == line.count else { return nil }
        let characters = Array(upper)
        let original = Array(line)
        for label in SecrecyTables.fieldLabels {
            var searchFrom = upper.startIndex
            while let range = upper.range(of: label, range: searchFrom..<upper.endIndex) {
                searchFrom = range.upperBound
                let labelStart = upper.distance(from: upper.startIndex, to: range.lowerBound)
                if labelStart > 0 {
                    let before = characters[labelStart - 1]
                    if before.isLetter || SecrecyTables.quotes.contains(before) { continue }
                }
                var cursor = labelStart + label.count
                while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
                guard cursor < characters.count, characters[cursor] == ":" || characters[cursor] == "-" else { continue }
                cursor += 1
                while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
                let rest = Substring(String(characters[cursor...]))
                guard let found = levelPrefix(rest, anyCase: false) else { continue }
                if isListOrPhraseContinuation(characters, original, from: cursor + found.length) { continue }
                return make((found.level, found.accented), .strong, .field, line, labelStart, cursor + found.length - labelStart, place)
            }
        }
        return nil
    }

    /// After a field's value: the line ends, a separator or a new field ("Độ khẩn: …", a word
    /// with a capital) follows. A list ("Mật, Tối mật và Tuyệt mật"), lowercase running text
    /// ("Mật khẩu") or a closing quote does not. `upper` is the uppercased line, `original` the
    /// line as written (same length), `offset` where the value ends.
    static func isListOrPhraseContinuation(_ upper: [Character], _ original: [Character], from offset: Int) -> Bool {
        var cursor = offset
        while cursor < upper.count, upper[cursor] == " " { cursor += 1 }
        guard cursor < upper.count else { return false }
        let next = original[cursor]
        if SecrecyTables.quotes.contains(next) { return true }
        if next.isLetter {
            guard next.isUppercase else { return true }
            // A word in capitals after a value in capitals ("ĐỘ MẬT: MẬT KHẨU…" in a heading) is
            // the phrase going on, unless it is a field that follows on the same line.
            let word = original[cursor...].prefix(while: \.isLetter)
            let rest = String(upper[cursor...])
            let isLabel = SecrecyTables.followingFieldLabels.contains { rest.hasPrefix($0) }
            return word.count > 1 && word.allSatisfy(\.isUppercase) && !isLabel
        }
        while cursor < upper.count, [" ", ",", ";", "/", "|", "."].contains(upper[cursor]) { cursor += 1 }
        let rest = Substring(String(upper[cursor...]))
        if levelPrefix(rest, anyCase: false) != nil { return true }
        return rest.hasPrefix("VÀ ") || rest.hasPrefix("HOẶC ") || rest.hasPrefix("HAY ")
    }

    /// "[TỐI MẬT] …" anywhere, "MẬT - …" leading (after Re:/Fwd: prefixes): capitals only.
    static func subjectTag(_ line: String, _ place: Place) -> SecrecyFinding? {
        let characters = Array(line)
        for pair in SecrecyTables.brackets {
            var open = 0
            while open < characters.count {
                guard characters[open] == pair.open, let close = characters[(open + 1)...].firstIndex(of: pair.close) else {
                    open += 1
                    continue
                }
                let inner = foldSpaces(String(characters[(open + 1)..<close]))
                if let found = level(exactly: inner) {
                    return make(found, .strong, .subjectTag, line, open, close - open + 1, place)
                }
                open = close + 1
            }
        }
        var start = 0
        var stripped = true
        while stripped {
            stripped = false
            while start < characters.count, characters[start] == " " { start += 1 }
            let rest = String(characters[start...]).uppercased()
            for prefix in SecrecyTables.subjectPrefixes where rest.hasPrefix(prefix) {
                var cursor = start + prefix.count
                while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
                if cursor < characters.count, characters[cursor] == ":" {
                    start = cursor + 1
                    stripped = true
                    break
                }
            }
        }
        let rest = Substring(String(characters[start...]))
        guard let found = levelPrefix(rest, anyCase: false) else { return nil }
        var cursor = start + found.length
        while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
        guard cursor < characters.count, SecrecyTables.subjectTagSeparators.contains(characters[cursor]) else { return nil }
        return make((found.level, found.accented), .strong, .subjectTag, line, start, found.length, place)
    }

    /// A GIẢI MẬT stamp: a line in a stamp position that is, or starts with, the stamp in capitals,
    /// and that a reader sees: a hidden (or partly hidden) one would withdraw a stamp the reader
    /// sees alone.
    static func declassificationMark(_ line: String, _ place: Place) -> DeclassificationMark? {
        guard place.unit.container != .subject, place.unit.style.isDisjoint(with: [.hidden, .partlyHidden]),
            line.utf8.count <= SecrecyTables.stampLineBytes, stampPlacement(place) != nil, let core = core(of: line)
        else { return nil }
        for word in SecrecyTables.declassified where core.hasPrefix(word) {
            if let after = core.dropFirst(word.count).first, after.isLetter { continue }
            let context = String(line.prefix(2 * SecrecyTables.contextCharacters))
            return DeclassificationMark(
                container: place.unit.container,
                page: place.unit.page,
                region: place.unit.region,
                unitIndex: place.unitIndex,
                matched: word,
                context: context,
                decoder: place.decoder
            )
        }
        return nil
    }

    static func make(
        _ level: (level: SecrecyLevel, accented: Bool),
        _ strength: SecrecyFinding.Strength,
        _ placement: SecrecyFinding.Placement,
        _ line: String,
        _ start: Int,
        _ length: Int,
        _ place: Place
    ) -> SecrecyFinding {
        let characters = Array(line)
        let lower = max(0, min(start, characters.count))
        let upper = min(characters.count, lower + length)
        let context = characters[
            max(0, lower - SecrecyTables.contextCharacters)..<min(characters.count, upper + SecrecyTables.contextCharacters)
        ]
        return SecrecyFinding(
            level: level.level,
            strength: strength,
            placement: placement,
            container: place.unit.container,
            page: place.unit.page,
            region: place.unit.region,
            unitIndex: place.unitIndex,
            matched: String(characters[lower..<upper]),
            context: String(context),
            original: String(place.unit.text.prefix(200)),
            decoder: place.decoder,
            unaccented: !level.accented
        )
    }
}

extension SecrecyDecoder {
    var encoding: VietEncoding {
        switch self {
        case .unicode: .unicode
        case .nfd: .nfd
        case .tcvn3: .tcvn3
        case .tcvn3Upper: .tcvn3Upper
        case .vni: .vni
        }
    }
}
