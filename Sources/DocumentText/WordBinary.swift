import SecrecyMarks
import VietText

/// Character properties of a run, as far as the matcher needs them.
struct WordCharProps: Hashable {
    var font: Int?
    var bold = false
    var caps = false
    var red = false
    var halfPoints = 20
}

/// Paragraph properties that say where a paragraph sits.
struct WordParaProps {
    var istd = 0
    var inTable = false
    /// The end-of-row mark of a table row (a TTP), not a cell.
    var rowEnd = false
    var bordered = false
    /// Positioned (a frame): read as a text box.
    var frame = false
    /// Starts a new page (how LibreOffice writes a page break).
    var pageBreakBefore = false
}

/// A text of the document's character positions: a run of one piece ([MS-DOC] 2.9.177 Pcd).
struct WordPiece {
    var cpStart: Int
    var cpEnd: Int
    /// Byte offset in the WordDocument stream of the piece's first character.
    var offset: Int
    /// 8-bit (Windows-1252) characters rather than UTF-16LE.
    var compressed: Bool
}

/// One formatted-disk-page (FKP) run: the byte range of the WordDocument stream and its grpprl.
struct WordRun {
    var start: Int
    var end: Int
    var grpprl: ArraySlice<UInt8>
    var istd: Int
}

/// Reads a Word 97–2003 binary document ([MS-DOC]) into text units: the FIB, the piece table,
/// the stories (main text, footnotes, headers, annotations, endnotes, text boxes, header text
/// boxes), paragraph marks, table cell marks, page breaks and fields, and for each unit the
/// character formatting of its first visible run (font through SttbfFfn, bold, caps, red, size),
/// resolved through the paragraph's style chain (STSH) and the run's CHPX. A unit whose runs mix
/// a Unicode font and a legacy one (a letterhead cell with its stamp in `.VnTime`) has its legacy
/// runs converted and the font of its first Unicode run (`LegacyRuns`).
///
/// - SeeAlso: [MS-DOC] Word (.doc) Binary File Format, 2.5 (FIB), 2.8 (PLCs), 2.9.38 (Clx),
///   2.4.1 (retrieving text), 2.9.44 / 2.9.175 (ChpxFkp, PapxFkp), 2.9.271 (STSH), 2.6 (sprms).
struct WordReader {
    let word: [UInt8]
    let limits: ExtractionLimits
    var table: [UInt8] = []
    var units: [TextUnit] = []
    var problems: [String] = []
    var stopped = false
    var textBytes = 0
    var emittedBytes = 0

    var pieces: [WordPiece] = []
    var fonts: [String] = []
    /// Some font of the document is a legacy Vietnamese one: only then is each run's font looked
    /// up as its characters are read (`LegacyRuns`).
    var hasLegacyFont = false
    /// The font of the last run looked up, and the WordDocument byte range it holds for.
    var fontSpan: (range: Range<Int>, font: String?)?
    var defaultFont: Int?
    /// Each style's character properties once resolved; its paragraph properties' "in table" bit.
    var styleChp: [Int: WordCharProps] = [:]
    var styles: [(base: Int, stk: Int, chpx: ArraySlice<UInt8>?)] = []
    var chpBte: [(fc: Int, page: Int)] = []
    var papBte: [(fc: Int, page: Int)] = []
    var fkpCache: [Int: [WordRun]] = [:]
    var papCache: [Int: [WordRun]] = [:]

    // Where the body reader is.
    var page = 1
    var bodyIndex = 0
    var tableCount = 0
    var cellInRow = 0
    var tableOpen = false
    var lastWasCellMark = false
    var singlePage = true
    var bodyParagraphs = 0
    var visitBudget = 0
    /// The character position where each page after the first starts (as far as breaks say).
    var pageStarts: [Int] = []
    var paragraphStart = 0
    /// Body units by the character position they start at, and text boxes by their anchor's: the
    /// boxes go into the body where they are anchored (reading order).
    var bodyStarts: [(unit: Int, cp: Int)] = []
    var anchoredBoxes: [(unit: Int, cp: Int)] = []

    init(word: [UInt8], limits: ExtractionLimits) {
        self.word = word
        self.limits = limits
    }

    mutating func problem(_ text: String) {
        ExtractedText.add(text, to: &problems)
    }

    func u16(_ bytes: [UInt8], _ offset: Int) -> Int { Int(CompoundFile.u16(bytes, offset) ?? 0) }
    func u32(_ bytes: [UInt8], _ offset: Int) -> Int { Int(CompoundFile.u32(bytes, offset) ?? 0) }

    /// Reads the FIB and tells which table stream holds the document's tables; nil (with a
    /// problem) when the document cannot be read.
    func tableStreamName() -> (name: String?, problem: String?) {
        guard word.count >= 0x22, u16(word, 0) == 0xA5EC else {
            return (nil, "doc-bad-fib: the WordDocument stream does not start with a Word 97 FIB (wIdent 0xA5EC)")
        }
        let flags = u16(word, 0x0A)
        if flags & 0x0100 != 0 { return (nil, "encrypted: the Word document is encrypted (FIB fEncrypted)") }
        if flags & 0x8000 != 0 { return (nil, "encrypted: the Word document is obfuscated (FIB fObfuscated)") }
        // Word 6 and Word 95 (nFib below 193) have another FIB and no table stream.
        if u16(word, 2) < 193 { return (nil, nil) }
        return (flags & 0x0200 != 0 ? "1Table" : "0Table", nil)
    }

    /// A Word 6 / Word 95 document: its text is the bytes from fcMin to fcMac in the Windows code
    /// page; read as body paragraphs without formatting (a fast-saved file's pieces come in saved
    /// order, not reading order), and said to be incomplete.
    mutating func readOldText() {
        let start = u32(word, 0x18)
        let end = min(u32(word, 0x1C), word.count)
        problem("doc-old-format: a Word 6/95 document (nFib \(u16(word, 2))): its text read without headers, text boxes or formatting")
        guard start < end else { return }
        var paragraph = Paragraph()
        var fields = FieldState()
        for offset in start..<end where !stopped {
            let character = UInt16(Windows1252.scalar(word[offset]).value)
            let (mark, text) = WordReader.classify(character, fields: &fields)
            switch mark {
            case .skip: continue
            case .text: _ = add(text ?? character, at: offset, to: &paragraph)
            case .paragraph, .cell, .pageBreak:
                // Offsets here are not those of a Word 97 FKP: no formatting is looked up.
                if paragraph.firstVisible != nil { emitPlain(paragraph) }
                paragraph = Paragraph()
                if mark == .pageBreak { page += 1 }
            }
        }
        if paragraph.firstVisible != nil { emitPlain(paragraph) }
    }

    mutating func emitPlain(_ paragraph: Paragraph) {
        guard units.count < limits.maxUnits else {
            problem("text-cap-reached: more than \(limits.maxUnits) units")
            stopped = true
            return
        }
        let text = VietConverter.nfc(String(decoding: paragraph.text, as: UTF8.self).trimmingWhitespace())
        guard !text.allSatisfy(\.isWhitespace) else { return }
        emittedBytes += text.utf8.count
        guard emittedBytes <= limits.maxTextBytes else {
            problem("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
            stopped = true
            return
        }
        units.append(TextUnit(text, container: .documentBody, page: page, index: bodyIndex))
        bodyIndex += 1
    }

    /// The FIB's fc/lcb pair number `index` of FibRgFcLcb, nil when it is absent or empty.
    func fcLcb(_ index: Int) -> (fc: Int, lcb: Int)? {
        let csw = u16(word, 32)
        let cslwOffset = 34 + 2 * csw
        let cslw = u16(word, cslwOffset)
        let cbOffset = cslwOffset + 2 + 4 * cslw
        let count = u16(word, cbOffset)
        guard index < count else { return nil }
        let offset = cbOffset + 2 + 8 * index
        let fc = u32(word, offset)
        let lcb = u32(word, offset + 4)
        guard lcb > 0, fc >= 0, fc <= table.count, lcb <= table.count - fc else { return nil }
        return (fc, lcb)
    }

    /// FibRgLw97 member `index` (ccpText is 3).
    func longWord(_ index: Int) -> Int {
        let csw = u16(word, 32)
        let cslwOffset = 34 + 2 * csw
        guard index < u16(word, cslwOffset) else { return 0 }
        return max(0, Int(Int32(truncatingIfNeeded: u32(word, cslwOffset + 2 + 4 * index))))
    }

    mutating func read(table: [UInt8]) {
        self.table = table
        // Every character position is read once from its own bytes in a sound file; pieces that
        // share bytes, or header stories that overlap, must not multiply the work.
        visitBudget = 2 * word.count + (1 << 16)
        readPieces()
        readFonts()
        readStyles()
        chpBte = readBte(12)
        papBte = readBte(13)
        if chpBte.isEmpty { problem("doc-no-formatting: no character formatting (PlcBteChpx); fonts come from the styles") }
        // The stories, in the order their character positions follow each other ([MS-DOC] 2.4.1).
        let lengths = [3, 4, 5, 6, 7, 8, 9, 10].map { longWord($0) }  // ccpText, Ftn, Hdd, Mcr, Atn, Edn, Txbx, HdrTxbx
        var start = 0
        var ranges: [Range<Int>] = []
        for length in lengths {
            // Each is at most Int32.max: the sum cannot overflow.
            let end = start + length
            ranges.append(start..<end)
            start = end
        }
        // Headers first: they stand above the body on every page (and a level in a header is not
        // read as one item of a list with the body's first line).
        readHeaders(ranges[2])
        readBody(ranges[0])
        singlePage = page == 1
        readNotes(ranges[1])
        readNotes(ranges[4])
        readNotes(ranges[5])
        readMainBoxes(ranges[6])
        placeAnchoredBoxes()
        readBoxes(ranges[7], container: .textBox)
    }

    // MARK: Piece table

    mutating func readPieces() {
        guard let (fc, lcb) = fcLcb(33) else {
            problem("doc-no-piece-table: the FIB names no Clx")
            return
        }
        var position = fc
        let end = fc + lcb
        // Prcs (0x01, cbGrpprl, grpprl) come first, then the Pcdt (0x02, lcb, PlcPcd).
        var guardCount = 0
        while position < end, table[position] == 0x01, guardCount < 1 << 16 {
            position += 3 + u16(table, position + 1)
            guardCount += 1
        }
        guard position < end, table[position] == 0x02 else {
            problem("doc-bad-piece-table: no Pcdt in the Clx")
            return
        }
        let plcLength = u32(table, position + 1)
        let plc = position + 5
        guard plcLength >= 16, plcLength <= end - plc else {
            problem("doc-bad-piece-table: the PlcPcd runs past the Clx")
            return
        }
        let count = (plcLength - 4) / 12
        var previousEnd = 0
        for index in 0..<count {
            let cpStart = u32(table, plc + 4 * index)
            let cpEnd = u32(table, plc + 4 * (index + 1))
            let pcd = plc + 4 * (count + 1) + 8 * index
            let raw = u32(table, pcd + 2)
            let compressed = raw & 0x4000_0000 != 0
            let fc = raw & 0x3FFF_FFFF
            guard cpEnd > cpStart, cpStart >= previousEnd else {
                if cpEnd < cpStart || cpStart < previousEnd { problem("doc-bad-piece-table: pieces out of order") }
                continue
            }
            previousEnd = cpEnd
            let offset = compressed ? fc / 2 : fc
            let length = (cpEnd - cpStart) * (compressed ? 1 : 2)
            guard offset + length <= word.count else {
                problem("doc-bad-piece-table: a piece runs past the end of the WordDocument stream")
                let available = max(0, (word.count - offset) / (compressed ? 1 : 2))
                if available > 0 {
                    pieces.append(WordPiece(cpStart: cpStart, cpEnd: cpStart + available, offset: offset, compressed: compressed))
                }
                continue
            }
            pieces.append(WordPiece(cpStart: cpStart, cpEnd: cpEnd, offset: offset, compressed: compressed))
        }
    }

    /// Calls `body` with each character of `range`, its byte offset in the WordDocument stream and
    /// its character position, until it returns false.
    static func characters(_ pieces: [WordPiece], _ word: [UInt8], _ range: Range<Int>, _ body: (UInt16, Int, Int) -> Bool) {
        guard !range.isEmpty else { return }
        // The first piece that ends after the range's start.
        var low = 0
        var high = pieces.count
        while low < high {
            let middle = (low + high) / 2
            if pieces[middle].cpEnd <= range.lowerBound { low = middle + 1 } else { high = middle }
        }
        var index = low
        while index < pieces.count, pieces[index].cpStart < range.upperBound {
            let piece = pieces[index]
            let from = max(piece.cpStart, range.lowerBound)
            let to = min(piece.cpEnd, range.upperBound)
            if from < to {
                for cp in from..<to {
                    let character: UInt16
                    let offset: Int
                    if piece.compressed {
                        offset = piece.offset + (cp - piece.cpStart)
                        character = UInt16(Windows1252.scalar(word[offset]).value)
                    } else {
                        offset = piece.offset + 2 * (cp - piece.cpStart)
                        character = UInt16(word[offset]) | UInt16(word[offset + 1]) << 8
                    }
                    if !body(character, offset, cp) { return }
                }
            }
            index += 1
        }
    }

    /// Counts one character read; false (with a problem) once more have been read than the stream could hold.
    mutating func spend() -> Bool {
        visitBudget -= 1
        guard visitBudget >= 0 else {
            problem("doc-bad-piece-table: the stories name more characters than the WordDocument stream holds")
            stopped = true
            return false
        }
        return true
    }

    // MARK: Fonts and styles

    mutating func readFonts() {
        guard let (fc, lcb) = fcLcb(15) else { return }
        var position = fc
        let end = fc + lcb
        if u16(table, position) == 0xFFFF { position += 2 }
        let count = u16(table, position)
        position += 4  // cData, cbExtra
        for _ in 0..<min(count, 4096) {
            guard position < end else { break }
            let size = Int(table[position])
            let ffn = position + 1
            position = ffn + size
            guard position <= end else { break }
            // FFN: ffid, wWeight, chs, ixchSzAlt, panose (10), fs (24), then the UTF-16 name.
            var name: [UInt16] = []
            var offset = ffn + 39
            while offset + 1 < position, name.count < 64 {
                let unit = UInt16(u16(table, offset))
                if unit == 0 { break }
                name.append(unit)
                offset += 2
            }
            fonts.append(String(decoding: name, as: UTF16.self))
        }
        hasLegacyFont = fonts.contains { SecrecyMatcher.legacyDecoder(forFont: $0) != nil }
    }

    mutating func readStyles() {
        guard let (fc, lcb) = fcLcb(1) else { return }
        let end = fc + lcb
        let cbStshi = u16(table, fc)
        let stshi = fc + 2
        let count = u16(table, stshi)
        let baseSize = u16(table, stshi + 2)
        if cbStshi >= 14 { defaultFont = u16(table, stshi + 12) }
        var position = stshi + cbStshi
        for _ in 0..<min(count, 4096) {
            guard position + 2 <= end else { break }
            let size = u16(table, position)
            let std = position + 2
            position = std + size
            guard size > 0, position <= end, size >= baseSize + 2 else {
                styles.append((0x0FFF, 0, nil))
                continue
            }
            let stk = u16(table, std + 2) & 0x000F
            let base = u16(table, std + 2) >> 4
            let cupx = u16(table, std + 4) & 0x000F
            // The name (Xstz: cch, characters, NUL), then the UPXs, each padded to an even length.
            var upx = std + baseSize
            upx += 2 + 2 * u16(table, upx) + 2
            var chpx: ArraySlice<UInt8>?
            for index in 0..<min(cupx, 3) {
                guard upx + 2 <= position else { break }
                let length = u16(table, upx)
                let data = upx + 2
                guard data + length <= position else { break }
                if (stk == 1 && index == 1) || (stk == 2 && index == 0) { chpx = table[data..<(data + length)] }
                upx = data + length + (length & 1)
            }
            styles.append((base, stk, chpx))
        }
    }

    /// The character properties of paragraph style `istd`, through its chain of base styles.
    mutating func styleProps(_ istd: Int) -> WordCharProps {
        if let known = styleChp[istd] { return known }
        var chain: [Int] = []
        var current = istd
        while current < styles.count, current != 0x0FFF, !chain.contains(current), chain.count < 16 {
            chain.append(current)
            current = styles[current].base
        }
        var props = WordCharProps(font: defaultFont)
        for index in chain.reversed() {
            if let chpx = styles[index].chpx { WordReader.apply(chpx, to: &props, style: props) }
        }
        styleChp[istd] = props
        return props
    }

    // MARK: Sprms

    /// Each sprm of `grpprl` with its operand ([MS-DOC] 2.2.5.1, operand size by spra).
    static func forEachSprm(_ grpprl: ArraySlice<UInt8>, _ body: (Int, ArraySlice<UInt8>) -> Void) {
        var position = grpprl.startIndex
        let end = grpprl.endIndex
        while position + 2 <= end {
            let sprm = Int(grpprl[position]) | Int(grpprl[position + 1]) << 8
            position += 2
            let size: Int
            switch sprm >> 13 {
            case 0, 1: size = 1
            case 2, 4, 5: size = 2
            case 3: size = 4
            case 7: size = 3
            default:
                guard position < end else { return }
                if sprm == 0xD608 || sprm == 0xD606 {
                    // sprmTDefTable: a 2-byte size counting itself minus one.
                    guard position + 2 <= end else { return }
                    size = Int(grpprl[position]) | Int(grpprl[position + 1]) << 8 + 1
                } else {
                    size = Int(grpprl[position]) + 1
                }
            }
            guard position + size <= end else { return }
            body(sprm, grpprl[position..<(position + size)])
            position += size
        }
    }

    /// Applies the character sprms of `grpprl`; `style` is what 0x80 / 0x81 toggles refer to.
    static func apply(_ grpprl: ArraySlice<UInt8>, to props: inout WordCharProps, style: WordCharProps) {
        forEachSprm(grpprl) { sprm, operand in
            let first = Int(operand[operand.startIndex])
            func toggle(_ styled: Bool) -> Bool {
                switch first {
                case 0: false
                case 1: true
                case 0x80: styled
                case 0x81: !styled
                default: styled
                }
            }
            func word() -> Int { operand.count >= 2 ? first | Int(operand[operand.startIndex + 1]) << 8 : first }
            switch sprm {
            case 0x0835: props.bold = toggle(style.bold)  // sprmCFBold
            case 0x083B: props.caps = toggle(style.caps)  // sprmCFCaps
            case 0x2A42: props.red = first == 6  // sprmCIco: 6 is red
            case 0x6870:  // sprmCCv: a COLORREF, red green blue fAuto
                let bytes = Array(operand)
                if bytes.count >= 4, bytes[3] == 0 {
                    let red = Int(bytes[0])
                    props.red = red >= 0x99 && red - max(Int(bytes[1]), Int(bytes[2])) >= 0x80
                }
            case 0x4A43: props.halfPoints = word()  // sprmCHps
            case 0x4A4F: props.font = word()  // sprmCRgFtc0: the font of ASCII characters
            default: break
            }
        }
    }

    static func applyParagraph(_ grpprl: ArraySlice<UInt8>, to props: inout WordParaProps) {
        forEachSprm(grpprl) { sprm, operand in
            let first = Int(operand[operand.startIndex])
            switch sprm {
            case 0x2416: props.inTable = first != 0  // sprmPFInTable
            case 0x2417: props.rowEnd = first != 0  // sprmPFTtp
            case 0x244C: if first != 0 { props.rowEnd = true }  // sprmPFInnerTtp
            case 0x6649: if first != 0 || operand.dropFirst().contains(where: { $0 != 0 }) { props.inTable = true }  // sprmPItap
            case 0x6424, 0x6425, 0x6426, 0x6427:  // sprmPBrc*80: brcType is the second byte
                let type = operand.count >= 2 ? operand[operand.startIndex + 1] : 0
                if type != 0, type != 0xFF { props.bordered = true }
            case 0xC64E, 0xC64F, 0xC650, 0xC651:  // sprmPBrc*: size byte, cv, width, brcType
                let type = operand.count >= 7 ? operand[operand.startIndex + 6] : 0
                if type != 0, type != 0xFF { props.bordered = true }
            case 0x8418, 0x8419, 0x841A, 0x261B: props.frame = true  // sprmPDxaAbs, DyaAbs, DxaWidth, PPc
            case 0x2407: props.pageBreakBefore = first != 0  // sprmPFPageBreakBefore
            default: break
            }
        }
    }

    // MARK: Formatted disk pages

    /// A PlcBte (character: 12, paragraph: 13): the first byte offset each FKP covers and its page.
    func readBte(_ index: Int) -> [(fc: Int, page: Int)] {
        guard let (fc, lcb) = fcLcb(index), lcb >= 12 else { return [] }
        let count = (lcb - 4) / 8
        return (0..<count).map { (u32(table, fc + 4 * $0), u32(table, fc + 4 * (count + 1) + 4 * $0) & 0x3F_FFFF) }
    }

    func fkpPage(_ bte: [(fc: Int, page: Int)], _ offset: Int) -> Int? {
        var low = 0
        var high = bte.count
        while low < high {
            let middle = (low + high) / 2
            if bte[middle].fc <= offset { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? bte[low - 1].page : nil
    }

    func parseFkp(_ page: Int, paragraph: Bool) -> [WordRun] {
        let base = page * 512
        guard base >= 0, base + 512 <= word.count else { return [] }
        let count = Int(word[base + 511])
        guard 4 * (count + 1) + (paragraph ? 13 : 1) * count <= 511 else { return [] }
        var runs: [WordRun] = []
        for index in 0..<count {
            let start = u32(word, base + 4 * index)
            let end = u32(word, base + 4 * (index + 1))
            let bytes: ArraySlice<UInt8>
            var istd = 0
            if paragraph {
                let offset = 2 * Int(word[base + 4 * (count + 1) + 13 * index])
                guard offset > 0, offset < 511 else { continue }
                var cb = 2 * Int(word[base + offset]) - 1
                var data = base + offset + 1
                if cb < 0 {
                    cb = 2 * Int(word[min(base + offset + 1, base + 511)])
                    data += 1
                }
                guard cb >= 2, data + cb <= base + 511 else { continue }
                istd = u16(word, data)
                bytes = word[(data + 2)..<(data + cb)]
            } else {
                let offset = 2 * Int(word[base + 4 * (count + 1) + index])
                if offset == 0 {
                    bytes = []
                } else {
                    let cb = Int(word[base + offset])
                    guard offset < 511, base + offset + 1 + cb <= base + 511 else { continue }
                    bytes = word[(base + offset + 1)..<(base + offset + 1 + cb)]
                }
            }
            runs.append(WordRun(start: start, end: end, grpprl: bytes, istd: istd))
        }
        return runs
    }

    mutating func run(at offset: Int, paragraph: Bool) -> WordRun? {
        guard let page = fkpPage(paragraph ? papBte : chpBte, offset) else { return nil }
        let runs: [WordRun]
        if let cached = paragraph ? papCache[page] : fkpCache[page] {
            runs = cached
        } else {
            runs = parseFkp(page, paragraph: paragraph)
            // Bounded: a hostile file has at most word.count / 512 pages.
            if paragraph { papCache[page] = runs } else { fkpCache[page] = runs }
        }
        return runs.first { $0.start <= offset && offset < $0.end }
    }

    mutating func paragraphProps(at offset: Int) -> WordParaProps? {
        guard let run = run(at: offset, paragraph: true) else { return nil }
        var props = WordParaProps(istd: run.istd)
        WordReader.applyParagraph(run.grpprl, to: &props)
        return props
    }

    /// The font of the character at byte `offset` of the WordDocument stream, looked up once per
    /// run: the range where its paragraph run and its character run (FKP) overlap has one font.
    mutating func font(at offset: Int) -> String? {
        if let span = fontSpan, span.range.contains(offset) { return span.font }
        let paragraph = run(at: offset, paragraph: true)
        let characters = run(at: offset, paragraph: false)
        let lower = max(paragraph?.start ?? offset, characters?.start ?? offset, 0)
        let upper = max(min(paragraph?.end ?? offset + 1, characters?.end ?? offset + 1), lower)
        let font = charProps(at: offset).font.flatMap { $0 < fonts.count ? fonts[$0] : nil }
        fontSpan = (lower..<upper, font)
        return font
    }

    mutating func charProps(at offset: Int) -> WordCharProps {
        let istd = paragraphProps(at: offset)?.istd ?? 0
        let style = styleProps(istd)
        var props = style
        if let run = run(at: offset, paragraph: false) { WordReader.apply(run.grpprl, to: &props, style: style) }
        return props
    }

    // MARK: Stories

    /// A paragraph (or cell, header line, text box line) being collected.
    struct Paragraph {
        /// UTF-8, encoded as the UTF-16 characters come (decoding UTF-16 at the end costs more).
        var text: [UInt8] = []
        /// A high surrogate waiting for its low half.
        var high: UInt16?
        var firstVisible: Int?
        var bordered = false
        var frame = false
        /// The runs in legacy fonts, when the document has such a font.
        var legacy = LegacyRuns()
    }

    /// Fields: the instructions (between 0x13 and 0x14) are dropped, the result kept.
    struct FieldState {
        var stack: [Bool] = []
        var excess = 0
        var instructionDepth = 0

        mutating func begin() {
            if stack.count < 256 {
                stack.append(true)
                instructionDepth += 1
            } else {
                excess += 1
            }
        }

        mutating func separate() {
            guard excess == 0, let last = stack.last, last else { return }
            stack[stack.count - 1] = false
            instructionDepth -= 1
        }

        mutating func end() {
            if excess > 0 {
                excess -= 1
            } else if let last = stack.popLast(), last {
                instructionDepth -= 1
            }
        }

        var hiding: Bool { instructionDepth > 0 || excess > 0 }
    }

    enum Mark { case text, paragraph, cell, pageBreak, skip }

    /// What a character is, and the text it adds.
    static func classify(_ character: UInt16, fields: inout FieldState) -> (Mark, UInt16?) {
        switch character {
        case 0x13:
            fields.begin()
            return (.skip, nil)
        case 0x14:
            fields.separate()
            return (.skip, nil)
        case 0x15:
            fields.end()
            return (.skip, nil)
        default: break
        }
        switch character {
        case 0x0D: return (.paragraph, nil)
        case 0x07: return (.cell, nil)
        case 0x0C: return (.pageBreak, nil)
        default: break
        }
        if fields.hiding { return (.skip, nil) }
        switch character {
        case 0x09: return (.text, 0x09)
        case 0x0B: return (.text, 0x0A)  // a line break inside the paragraph
        case 0x1E: return (.text, 0x2D)  // a non-breaking hyphen
        case 0x00..<0x20: return (.skip, nil)  // anchors of pictures, notes, drawn objects; optional hyphens
        default: return (.text, character)
        }
    }

    static func isVisible(_ character: UInt16) -> Bool {
        !(character == 0x20 || character == 0x09 || character == 0x0A || character == 0xA0 || character == 0x3000)
    }

    mutating func add(_ character: UInt16, at offset: Int, to paragraph: inout Paragraph) -> Bool {
        // At most 3 UTF-8 bytes per UTF-16 unit (4 for a surrogate pair).
        textBytes += character < 0x80 ? 1 : 3
        if textBytes > limits.maxTextBytes {
            problem("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
            stopped = true
            return false
        }
        let visible = WordReader.isVisible(character)
        if paragraph.firstVisible == nil, visible { paragraph.firstVisible = offset }
        let start = paragraph.text.count
        WordReader.appendUTF8(character, to: &paragraph)
        if hasLegacyFont { paragraph.legacy.add(font: font(at: offset), bytes: start..<paragraph.text.count, visible: visible) }
        return true
    }

    static func appendUTF8(_ unit: UInt16, to paragraph: inout Paragraph) {
        var value = UInt32(unit)
        if let high = paragraph.high {
            paragraph.high = nil
            if (0xDC00..<0xE000).contains(unit) {
                value = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(unit) - 0xDC00)
            } else {
                // A lone high surrogate: a replacement character, then this unit on its own.
                appendScalar(0xFFFD, to: &paragraph.text)
            }
        }
        if value >= 0xD800, value < 0xDC00 {
            paragraph.high = unit
            return
        }
        if value >= 0xDC00, value < 0xE000 { value = 0xFFFD }
        appendScalar(value, to: &paragraph.text)
    }

    static func appendScalar(_ value: UInt32, to bytes: inout [UInt8]) {
        switch value {
        case 0..<0x80:
            bytes.append(UInt8(value))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | value >> 6))
            bytes.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | value >> 12))
            bytes.append(UInt8(0x80 | (value >> 6) & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | value >> 18))
            bytes.append(UInt8(0x80 | (value >> 12) & 0x3F))
            bytes.append(UInt8(0x80 | (value >> 6) & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        }
    }

    mutating func emit(
        _ paragraph: Paragraph,
        container: TextUnit.Container,
        page: Int?,
        region: TextUnit.Region? = nil,
        index: Int?,
        extraStyle: TextUnit.Style = [],
        at cp: Int? = nil
    ) {
        guard let first = paragraph.firstVisible, !stopped else { return }
        guard units.count < limits.maxUnits else {
            problem("text-cap-reached: more than \(limits.maxUnits) units")
            stopped = true
            return
        }
        var bytes = paragraph.text
        if paragraph.high != nil { WordReader.appendScalar(0xFFFD, to: &bytes) }
        // Legacy runs of a unit that mixes fonts are converted here, each by its own font.
        var text = paragraph.legacy.converted(bytes) ?? String(decoding: bytes, as: UTF8.self)
        while let last = text.unicodeScalars.last, last == "\n" || last == " " || last == "\t" { text.unicodeScalars.removeLast() }
        text = VietConverter.nfc(text)
        // Visible to Word's eye but blank to Swift's (an em space): no unit.
        guard !text.allSatisfy(\.isWhitespace) else { return }
        // The cap holds for what is returned too (NFC can lengthen some scripts' text).
        emittedBytes += text.utf8.count
        guard emittedBytes <= limits.maxTextBytes else {
            problem("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
            stopped = true
            return
        }
        let props = charProps(at: first)
        var style = extraStyle
        if props.bold { style.insert(.bold) }
        if props.caps { style.insert(.allCaps) }
        if props.red { style.insert(.red) }
        if paragraph.bordered { style.insert(.bordered) }
        let fontName = paragraph.legacy.fontName(first: props.font.flatMap { $0 < fonts.count ? fonts[$0] : nil })
        units.append(
            TextUnit(
                text,
                container: container,
                page: page,
                region: region,
                style: style,
                fontName: fontName,
                fontSize: Double(props.halfPoints) / 2,
                index: index
            )
        )
        if let cp { bodyStarts.append((units.count - 1, cp)) }
    }

    mutating func readBody(_ range: Range<Int>) {
        var paragraph = Paragraph()
        var cell = Paragraph()
        var fields = FieldState()
        let pieces = self.pieces
        WordReader.characters(pieces, word, range) { character, offset, cp in
            guard spend() else { return false }
            let (mark, text) = WordReader.classify(character, fields: &fields)
            switch mark {
            case .skip: return true
            case .text:
                lastWasCellMark = false
                return add(text ?? character, at: offset, to: &paragraph)
            case .pageBreak:
                lastWasCellMark = false
                endBodyParagraph(&paragraph, cell: &cell, at: offset)
                page += 1
                pageStarts.append(cp + 1)
                paragraphStart = cp + 1
            case .paragraph:
                lastWasCellMark = false
                endBodyParagraph(&paragraph, cell: &cell, at: offset)
                paragraphStart = cp + 1
            case .cell:
                let props = paragraphProps(at: offset)
                let rowEnd = props.map(\.rowEnd) ?? (lastWasCellMark && paragraph.firstVisible == nil && cell.firstVisible == nil)
                if rowEnd {
                    cellInRow = 0
                    paragraph = Paragraph()
                    cell = Paragraph()
                    lastWasCellMark = false
                    return !stopped
                }
                merge(&paragraph, into: &cell, at: offset)
                paragraphStart = cp + 1
                bodyParagraphs += 1
                if cellInRow == 0, !tableOpen {
                    tableOpen = true
                    tableCount += 1
                }
                // The first table of page 1 is the letterhead: its left column holds the agency,
                // the number, the subject line (and sometimes the stamp).
                let region: TextUnit.Region? = tableCount == 1 && page == 1 && cellInRow == 0 ? .letterheadLeft : nil
                if cell.firstVisible != nil {
                    emit(cell, container: .tableCell, page: page, region: region, index: bodyIndex, at: paragraphStart)
                    bodyIndex += 1
                }
                cell = Paragraph()
                cellInRow += 1
                lastWasCellMark = true
            }
            return !stopped
        }
        merge(&paragraph, into: &cell, at: nil)
        if cell.firstVisible != nil { emit(cell, container: .documentBody, page: page, index: bodyIndex, at: paragraphStart) }
    }

    /// Adds a finished paragraph of a cell to the cell's text.
    func merge(_ paragraph: inout Paragraph, into cell: inout Paragraph, at offset: Int?) {
        if cell.firstVisible == nil, let first = paragraph.firstVisible { cell.firstVisible = first }
        if paragraph.high != nil { WordReader.appendScalar(0xFFFD, to: &paragraph.text) }
        if !cell.text.isEmpty, !paragraph.text.isEmpty { cell.text.append(0x0A) }
        cell.legacy.append(paragraph.legacy, at: cell.text.count)
        cell.text += paragraph.text
        cell.bordered = cell.bordered || paragraph.bordered
        paragraph = Paragraph()
    }

    mutating func endBodyParagraph(_ paragraph: inout Paragraph, cell: inout Paragraph, at offset: Int) {
        let props = paragraphProps(at: offset)
        if props?.pageBreakBefore == true, bodyParagraphs > 0, cell.firstVisible == nil {
            page += 1
            pageStarts.append(paragraphStart)
        }
        bodyParagraphs += 1
        if props?.inTable == true {
            // A paragraph inside a cell: the cell is one unit, ended by its cell mark.
            merge(&paragraph, into: &cell, at: offset)
            return
        }
        if cell.firstVisible != nil {
            // A cell whose mark never came (a damaged table): still a cell.
            emit(cell, container: .tableCell, page: page, index: bodyIndex, at: paragraphStart)
            bodyIndex += 1
            cell = Paragraph()
        }
        paragraph.bordered = props?.bordered ?? false
        if paragraph.firstVisible != nil {
            tableOpen = false
            cellInRow = 0
            emit(paragraph, container: props?.frame == true ? .textBox : .documentBody, page: page, index: bodyIndex, at: paragraphStart)
            bodyIndex += 1
        }
        paragraph = Paragraph()
    }

    /// A story of paragraphs without layout (notes, text boxes): one unit per paragraph or cell.
    mutating func readParagraphs(_ range: Range<Int>, container: TextUnit.Container, page: Int?) {
        var paragraph = Paragraph()
        var fields = FieldState()
        let pieces = self.pieces
        WordReader.characters(pieces, word, range) { character, offset, cp in
            guard spend() else { return false }
            let (mark, text) = WordReader.classify(character, fields: &fields)
            switch mark {
            case .skip: break
            case .text: return add(text ?? character, at: offset, to: &paragraph)
            case .paragraph, .cell, .pageBreak:
                if paragraph.firstVisible != nil {
                    paragraph.bordered = paragraphProps(at: offset)?.bordered ?? false
                    emit(paragraph, container: container, page: page, index: nil)
                }
                paragraph = Paragraph()
            }
            return !stopped
        }
        if paragraph.firstVisible != nil { emit(paragraph, container: container, page: page, index: nil) }
    }

    mutating func readNotes(_ range: Range<Int>) {
        readParagraphs(range, container: .documentBody, page: nil)
    }

    mutating func readBoxes(_ range: Range<Int>, container: TextUnit.Container) {
        readParagraphs(range, container: container, page: singlePage ? 1 : nil)
    }

    /// The main document's text boxes, each on the page of the shape that holds it: PlcftxbxTxt
    /// splits the story into boxes and names each box's shape (lid), PlcSpaMom anchors each shape
    /// (spid) at a character position of the main text ([MS-DOC] 2.8.34, 2.9.323, 2.8.37).
    mutating func readMainBoxes(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        guard !singlePage, let (boxFc, boxLcb) = fcLcb(56), let (spaFc, spaLcb) = fcLcb(40), boxLcb >= 30, spaLcb >= 34 else {
            readBoxes(range, container: .textBox)
            return
        }
        let shapes = (spaLcb - 4) / 30
        var anchors: [Int: Int] = [:]
        for index in 0..<shapes {
            anchors[u32(table, spaFc + 4 * (shapes + 1) + 26 * index)] = u32(table, spaFc + 4 * index)
        }
        let boxes = (boxLcb - 4) / 26
        var read = range.lowerBound
        for index in 0..<boxes {
            let start = max(read, range.lowerBound + u32(table, boxFc + 4 * index))
            let end = min(range.upperBound, range.lowerBound + u32(table, boxFc + 4 * (index + 1)))
            guard start < end else { continue }
            if start > read { readParagraphs(read..<start, container: .textBox, page: nil) }
            let lid = u32(table, boxFc + 4 * (boxes + 1) + 22 * index + 14)
            let first = units.count
            readParagraphs(start..<end, container: .textBox, page: anchors[lid].map(page(at:)))
            if let anchor = anchors[lid] { anchoredBoxes += (first..<units.count).map { ($0, anchor) } }
            read = end
            if stopped { return }
        }
        // Whatever the boxes do not cover is still read.
        if read < range.upperBound { readParagraphs(read..<range.upperBound, container: .textBox, page: nil) }
    }

    /// Moves each anchored text box's units to just after the body unit its anchor is in.
    mutating func placeAnchoredBoxes() {
        guard !anchoredBoxes.isEmpty else { return }
        let moved = Set(anchoredBoxes.map(\.unit))
        var after: [Int: [Int]] = [:]
        var before: [Int] = []
        for box in anchoredBoxes.sorted(by: { $0.cp < $1.cp }) {
            // The last body unit starting at or before the anchor.
            var low = 0
            var high = bodyStarts.count
            while low < high {
                let middle = (low + high) / 2
                if bodyStarts[middle].cp <= box.cp { low = middle + 1 } else { high = middle }
            }
            if low == 0 { before.append(box.unit) } else { after[bodyStarts[low - 1].unit, default: []].append(box.unit) }
        }
        let firstBody = bodyStarts.first?.unit ?? units.count
        var ordered: [TextUnit] = []
        ordered.reserveCapacity(units.count)
        for index in units.indices where !moved.contains(index) {
            if index == firstBody { ordered += before.map { units[$0] } }
            ordered.append(units[index])
            if let boxes = after[index] { ordered += boxes.map { units[$0] } }
        }
        if firstBody == units.count { ordered += before.map { units[$0] } }
        units = ordered
    }

    /// The page of main-text character position `cp`, by the breaks met.
    func page(at cp: Int) -> Int {
        1 + pageStarts.count { $0 <= cp }
    }

    /// The header story: PlcfHdd splits it into 6 separator stories, then 6 per section (even and
    /// odd header, even and odd footer, first-page header and footer).
    mutating func readHeaders(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        var bounds: [Int] = []
        if let (fc, lcb) = fcLcb(11) {
            bounds = (0..<(lcb / 4)).map { range.lowerBound + u32(table, fc + 4 * $0) }
        }
        guard bounds.count >= 2 else {
            readParagraphs(range, container: .pageHeader, page: nil)
            return
        }
        for story in 0..<(bounds.count - 1) {
            let start = max(bounds[story], range.lowerBound)
            let end = min(bounds[story + 1], range.upperBound)
            guard start < end else { continue }
            // The separators (footnote and endnote) are read as notes.
            let container: TextUnit.Container =
                story < 6 ? .documentBody : [0, 1, 4].contains((story - 6) % 6) ? .pageHeader : .pageFooter
            readParagraphs(start..<end, container: container, page: nil)
            if stopped { return }
        }
    }
}
