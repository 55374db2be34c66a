public import SecrecyMarks
import VietText

/// Bounds on reading one RTF document (hostile input).
public struct RTFLimits: Sendable, Hashable {
    /// Bytes of input read; the rest is not.
    public var maxInputBytes: Int = 64 << 20
    /// Group nesting kept; deeper groups are read as text of the group at the cap (their destinations and
    /// formatting are not undone at their end), and the document is not fully read.
    public var maxDepth: Int = 1_000
    /// UTF-8 bytes of text extracted in all.
    public var maxTextBytes: Int = 16 << 20
    /// Units returned.
    public var maxUnits: Int = 200_000

    public init() {}
}

/// The text units of one RTF document, and whether it was read completely.
public struct RTFResult: Sendable, Hashable {
    /// Why a document was not read completely.
    public enum Problem: String, Sendable, Hashable {
        /// The input is larger than `maxInputBytes`: only its start was read.
        case inputTooLarge = "input-too-large"
        /// Groups nested deeper than `maxDepth`.
        case tooDeep = "too-deep"
        /// More text than `maxTextBytes`, or more units than `maxUnits`.
        case textCapReached = "text-cap-reached"
        /// The groups do not balance (a truncated or damaged file).
        case unbalancedGroups = "unbalanced-groups"
        /// The input does not start with `{\rtf`.
        case notRTF = "not-rtf"
    }

    public var units: [TextUnit]
    /// Every problem met, in the order met (empty: read completely).
    public var problems: [Problem]

    public var isComplete: Bool { problems.isEmpty }
}

/// Text units from RTF, by a small tokenizer of the RTF 1.9.1 specification. Pure, no I/O, no
/// recursion: groups are kept on an explicit stack, bounded by `RTFLimits`.
///
/// What is read: the body's paragraphs (`\par`, `\line` end a unit), table cells (`\cell`,
/// `\nestcell`; a `\par` or `\line` in one is a line of the cell), page headers and footers (`\header*`, `\footer*`), text boxes (`\shptxt` of a
/// shape, `\dptxbxtext`) and frames (`\pos*`, `\absw`, `\absh` paragraphs), footnotes and
/// annotations (as body units without an index). Text is `\'hh` in the code page of the current
/// font (`\fcharset` 163 = Windows-1258, composed to NFC; 0 and 1 = the document's `\ansicpg`;
/// Windows-1252 otherwise), `\uN` with its `\ucN` fallback skipped. The style of a unit is what
/// all its visible runs share (`\b`, `\caps`, a red `\cf`, hidden text `\v`), plus `\box` /
/// `\brdr*` / `\chbrdr` borders, and `.partlyHidden` when some of its runs are hidden, not all; its font is the one of its first visible run, so legacy `.VnTime` / `VNI-Times`
/// text reaches the matcher as its bytes read as Windows-1252. A unit whose runs mix a Unicode
/// font and a legacy one (a letterhead cell with its stamp in `VNI-Times`) has its legacy runs
/// converted and the font of its first Unicode run (`LegacyRuns`).
///
/// What is skipped: `\*` destinations and the known ones that are not text (font, colour and
/// style tables, `\info`, pictures, objects, theme data, field instructions, list text) and
/// `\bin` data. `\shprslt` and `\nonshppict` (a shape's fallback copy) are skipped, so a text
/// box is read once.
///
/// - SeeAlso: Microsoft, Rich Text Format (RTF) Specification, version 1.9.1 (2008).
public enum RTFText {
    public static func units(_ bytes: some Collection<UInt8>, limits: RTFLimits = RTFLimits()) -> RTFResult {
        var reader = RTFReader(limits: limits)
        let input: [UInt8]
        if bytes.count > limits.maxInputBytes {
            input = Array(bytes.prefix(limits.maxInputBytes))
            reader.problem(.inputTooLarge)
        } else {
            input = Array(bytes)
        }
        reader.read(input)
        return RTFResult(units: reader.units, problems: reader.problems)
    }
}

/// Where the text of a group goes.
enum RTFSink: Hashable {
    case body
    case header
    case footer
    case textBox
    /// Footnotes and annotations.
    case note
    case fontTable
    case colorTable
    /// Not text (a skipped destination).
    case skip
    /// A shape's properties (`\shpinst`): nothing but its `\shptxt` is text.
    case shapeInstructions
}

/// The state a group inherits from its parent.
struct RTFState {
    var sink: RTFSink = .body
    var bold = false
    var caps = false
    var color = 0
    var halfPoints = 24
    var font: Int?
    var charBorder = false
    /// `\v`: hidden text.
    var hidden = false
    var unicodeSkip = 1
    // Paragraph properties.
    var inTable = false
    var frame = false
    var paragraphBorder = false
}

/// One paragraph (or cell, or text box line) being collected.
struct RTFParagraph {
    var text: String = ""
    var visible = false
    var style: TextUnit.Style = []
    var fontName: String?
    var fontSize: Double?
    var legacy = LegacyRuns()
    var frame = false
    var inTable = false
    /// One of the visible runs is hidden (`\v`).
    var anyHidden = false
}

struct RTFFont {
    var name = ""
    var charset: Int?
    var codePage: Int?
}

struct RTFReader {
    let limits: RTFLimits
    var units: [TextUnit] = []
    var problems: [RTFResult.Problem] = []

    var state = RTFState()
    var stack: [RTFState] = []
    /// Groups deeper than `maxDepth`: counted, not stacked.
    var excessDepth = 0
    var textBytes = 0
    var emittedBytes = 0
    var stopped = false

    var ansiCodePage = 1252
    var defaultFont: Int?
    var fonts: [Int: RTFFont] = [:]
    var fontEntry: (number: Int, font: RTFFont)?
    var colors: [(red: Int, green: Int, blue: Int)] = []
    var colorEntry = (red: 0, green: 0, blue: 0)

    var paragraphs: [RTFSink: RTFParagraph] = [:]
    /// Pending `\'hh` and text bytes, decoded together (Windows-1258 tones follow their letters).
    var pending: [UInt8] = []
    var pendingCodePage = 1252
    var pendingSink: RTFSink = .body

    var page = 1
    var sectionBreakPending = false
    var bodyIndex = 0
    var tableCount = 0
    var cellInRow = 0
    var tableOpen = false
    /// `\uN` fallback characters still to skip.
    var skipCount = 0
    var highSurrogate: Int?

    init(limits: RTFLimits) { self.limits = limits }

    mutating func problem(_ problem: RTFResult.Problem) {
        if !problems.contains(problem) { problems.append(problem) }
    }

    var depth: Int { stack.count + excessDepth }

    mutating func read(_ input: [UInt8]) {
        if !input.starts(with: Array("{\\rtf".utf8)) { problem(.notRTF) }
        var position = 0
        let end = input.count
        while position < end, !stopped {
            let byte = input[position]
            switch byte {
            case UInt8(ascii: "{"):
                flush()
                skipCount = 0
                if stack.count >= limits.maxDepth {
                    excessDepth += 1
                    problem(.tooDeep)
                } else {
                    stack.append(state)
                }
                position += 1
            case UInt8(ascii: "}"):
                flush()
                skipCount = 0
                if excessDepth > 0 {
                    excessDepth -= 1
                } else if let parent = stack.popLast() {
                    endGroup(returningTo: parent)
                } else {
                    problem(.unbalancedGroups)
                }
                position += 1
            case UInt8(ascii: "\\"):
                position = control(input, at: position)
            case 0x0D, 0x0A:
                position += 1
            case 0x09:
                if consumeSkip() {
                    position += 1
                    continue
                }
                text("\t")
                position += 1
            default:
                if consumeSkip() {
                    position += 1
                    continue
                }
                textByte(byte)
                position += 1
            }
        }
        flush()
        if depth > 0 { problem(.unbalancedGroups) }
        for sink in [RTFSink.body, .header, .footer, .textBox, .note] { endParagraph(sink) }
    }

    /// True when the character is a `\uN` fallback to skip.
    mutating func consumeSkip() -> Bool {
        guard skipCount > 0 else { return false }
        skipCount -= 1
        return true
    }

    /// Reads one control word or symbol at `start` (a backslash); returns the position after it.
    mutating func control(_ input: [UInt8], at start: Int) -> Int {
        var position = start + 1
        let end = input.count
        guard position < end else { return position }
        let first = input[position]
        if !isLetter(first) {
            position += 1
            switch first {
            case UInt8(ascii: "'"):
                guard position + 2 <= end, let high = hexValue(input[position]), let low = hexValue(input[position + 1]) else {
                    return position
                }
                if consumeSkip() { return position + 2 }
                textByte(high << 4 | low)
                return position + 2
            case UInt8(ascii: "*"):
                // An optional destination: skipped unless it is one this reader knows.
                ignorableDestination = true
                return position
            default:
                if consumeSkip() { return position }
                switch first {
                case UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"): textByte(first)
                case UInt8(ascii: "~"): text("\u{A0}")
                case UInt8(ascii: "_"): text("\u{2011}")
                case 0x0D, 0x0A: endParagraph(state.sink)
                default: break  // \- optional hyphen, \: index subentry, \| formula
                }
                return position
            }
        }
        // A control word: up to 32 letters, an optional signed parameter, an optional space.
        let wordStart = position
        while position < end, isLetter(input[position]), position - wordStart < 32 { position += 1 }
        let word = String(decoding: input[wordStart..<position], as: UTF8.self)
        var parameter: Int?
        var negative = false
        if position < end, input[position] == UInt8(ascii: "-"), position + 1 < end, isDigit(input[position + 1]) {
            negative = true
            position += 1
        }
        let digitsStart = position
        var value = 0
        while position < end, isDigit(input[position]) {
            // At most 10 digits count (a parameter is a 32-bit integer); the rest are skipped.
            if position - digitsStart < 10 { value = value * 10 + Int(input[position] - 0x30) }
            position += 1
        }
        if position > digitsStart { parameter = negative ? -value : value }
        if position < end, input[position] == 0x20 { position += 1 }
        if word == "bin" {
            flush()
            // Binary data: the next N bytes are not RTF.
            let count = max(0, parameter ?? 0)
            return min(end, position + count)
        }
        if skipCount > 0, word != "u" {
            skipCount -= 1
            return position
        }
        controlWord(word, parameter)
        return position
    }

    var ignorableDestination = false

    mutating func controlWord(_ word: String, _ parameter: Int?) {
        // The bytes before a control word are decoded with the state they were written in.
        flush()
        let starred = ignorableDestination
        ignorableDestination = false
        // Past the depth cap a group has no state of its own to restore: a destination there would
        // change its parent's for good and could hide the rest of the document, so it is read as text.
        if excessDepth > 0, starred || RTFReader.destinations[word] != nil { return }
        if starred {
            flush()
            switch word {
            case "shpinst": state.sink = state.sink == .skip ? .skip : .shapeInstructions
            default: state.sink = .skip
            }
            return
        }
        if let sink = RTFReader.destinations[word] {
            flush()
            if state.sink != .skip { enterDestination(sink) }
            return
        }
        switch word {
        case "ansicpg": if let parameter, parameter > 0 { ansiCodePage = parameter }
        case "deff": defaultFont = parameter
        case "f":
            if state.sink == .fontTable {
                if let entry = fontEntry { fonts[entry.number] = entry.font }
                fontEntry = (parameter ?? 0, RTFFont())
            } else {
                flush()
                state.font = parameter
            }
        case "fcharset": if state.sink == .fontTable { fontEntry?.font.charset = parameter }
        case "cpg": if state.sink == .fontTable { fontEntry?.font.codePage = parameter }
        case "red": colorEntry.red = parameter ?? 0
        case "green": colorEntry.green = parameter ?? 0
        case "blue": colorEntry.blue = parameter ?? 0
        case "b": state.bold = parameter != 0
        case "caps": state.caps = parameter != 0
        case "cf": state.color = parameter ?? 0
        case "fs": state.halfPoints = parameter ?? 24
        case "chbrdr": state.charBorder = true
        case "v": state.hidden = parameter != 0
        case "plain":
            state.bold = false
            state.caps = false
            state.color = 0
            state.halfPoints = 24
            state.font = defaultFont
            state.charBorder = false
            state.hidden = false
        case "uc": state.unicodeSkip = max(0, min(parameter ?? 1, 16))
        case "u":
            guard var value = parameter else { return }
            if value < 0 { value += 65_536 }
            flush()
            // A character beyond the BMP comes as two \u, its UTF-16 surrogates.
            if (0xD800..<0xDC00).contains(value) {
                highSurrogate = value
            } else {
                if (0xDC00..<0xE000).contains(value), let high = highSurrogate {
                    value = 0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)
                }
                highSurrogate = nil
                if let scalar = Unicode.Scalar(UInt32(clamping: value)) { text(String(Character(scalar))) }
            }
            skipCount = state.unicodeSkip
        case "pard":
            state.inTable = false
            state.frame = false
            state.paragraphBorder = false
        case "intbl", "itap": state.inTable = parameter != 0 || word == "intbl"
        case "box", "brdrt", "brdrb", "brdrl", "brdrr", "brdrbar": state.paragraphBorder = true
        case "absw", "absh", "posx", "posy", "posxc", "posxi", "posxo", "posxr", "posxl", "posyt", "posyil", "posyb", "posyc",
            "posyin", "posyout", "posnegx", "posnegy":
            state.frame = true
        case "par":
            flush()
            if state.sink == .body, paragraphs[.body]?.inTable == true || state.inTable {
                text("\n")
            } else {
                endParagraph(state.sink)
            }
        case "line":
            flush()
            // A line break in a cell is a line of the cell, as `\par` there: the cell stays one
            // unit with its region (a letterhead's left cell).
            if state.sink == .body, paragraphs[.body]?.inTable == true || state.inTable {
                text("\n")
            } else {
                endParagraph(state.sink)
            }
        case "cell", "nestcell":
            flush()
            // A table in a header, footer or text box (a letterhead in the page header): each cell a unit of it.
            if state.sink == .body { endCell() } else { endParagraph(state.sink) }
        case "row", "nestrow":
            flush()
            cellInRow = 0
        case "page":
            flush()
            if state.sink == .body {
                endParagraph(.body)
                page += 1
            }
        case "pagebb":
            if state.sink == .body { sectionBreakPending = true }
        case "sect":
            flush()
            if state.sink == .body {
                endParagraph(.body)
                sectionBreakPending = true
            }
        case "sbknone", "sbkcol": sectionBreakPending = false
        case "tab": text("\t")
        case "emdash": text("\u{2014}")
        case "endash": text("\u{2013}")
        case "lquote": text("\u{2018}")
        case "rquote": text("\u{2019}")
        case "ldblquote": text("\u{201C}")
        case "rdblquote": text("\u{201D}")
        case "bullet": text("\u{2022}")
        case "emspace", "enspace", "qmspace": text(" ")
        default: break
        }
    }

    /// Destinations that are not `\*`: what their text is.
    static let destinations: [String: RTFSink] = [
        "fonttbl": .fontTable, "colortbl": .colorTable,
        "stylesheet": .skip, "info": .skip, "pict": .skip, "object": .skip, "themedata": .skip, "datastore": .skip,
        "colorschememapping": .skip, "latentstyles": .skip, "xmlnstbl": .skip, "listtable": .skip,
        "listoverridetable": .skip, "rsidtbl": .skip, "filetbl": .skip, "revtbl": .skip, "fldinst": .skip,
        "listtext": .skip, "pntext": .skip, "pntxta": .skip, "pntxtb": .skip, "shprslt": .skip, "nonshppict": .skip,
        "sp": .skip, "sn": .skip, "sv": .skip, "bkmkstart": .skip, "bkmkend": .skip, "xe": .skip, "tc": .skip,
        "txe": .skip, "private": .skip, "template": .skip, "pgdsctbl": .skip, "generator": .skip,
        "header": .header, "headerl": .header, "headerr": .header, "headerf": .header,
        "footer": .footer, "footerl": .footer, "footerr": .footer, "footerf": .footer,
        "shptxt": .textBox, "dptxbxtext": .textBox,
        "footnote": .note, "annotation": .note,
    ]

    mutating func enterDestination(_ sink: RTFSink) {
        switch sink {
        case .textBox, .header, .footer, .note:
            // The text of a shape, a header or a note starts its own paragraph with its own properties.
            state.inTable = false
            state.frame = false
            state.paragraphBorder = false
            state.sink = sink
        case .fontTable:
            state.sink = .fontTable
        case .colorTable:
            colors = []
            colorEntry = (0, 0, 0)
            state.sink = .colorTable
        default:
            state.sink = sink
        }
    }

    mutating func endGroup(returningTo parent: RTFState) {
        let leaving = state.sink
        if leaving == .fontTable, parent.sink != .fontTable, let entry = fontEntry {
            fonts[entry.number] = entry.font
            fontEntry = nil
        }
        if [.header, .footer, .textBox, .note].contains(leaving), parent.sink != leaving { endParagraph(leaving) }
        // A `\*` seen just before the closing brace names nothing.
        ignorableDestination = false
        state = parent
    }

    mutating func textByte(_ byte: UInt8) {
        switch state.sink {
        case .fontTable:
            if byte == UInt8(ascii: ";") {
                if let entry = fontEntry { fonts[entry.number] = entry.font }
            } else if fontEntry != nil, byte >= 0x20, (fontEntry?.font.name.utf8.count ?? 0) < 256 {
                fontEntry?.font.name.unicodeScalars.append(Unicode.Scalar(byte))
            }
            return
        case .colorTable:
            if byte == UInt8(ascii: ";") {
                colors.append(colorEntry)
                colorEntry = (0, 0, 0)
            }
            return
        case .skip, .shapeInstructions:
            return
        default:
            break
        }
        let codePage = currentCodePage
        if !pending.isEmpty, codePage != pendingCodePage || pendingSink != state.sink { flush() }
        pendingCodePage = codePage
        pendingSink = state.sink
        pending.append(byte)
    }

    /// The code page of the current font: Windows-1258 for `\fcharset163`, the document's `\ansicpg` for 0 and 1.
    var currentCodePage: Int {
        guard let number = state.font ?? defaultFont, let font = fonts[number] else { return ansiCodePage }
        if let codePage = font.codePage, codePage > 0 { return codePage }
        switch font.charset {
        case 163: return 1258
        case nil, 0, 1: return ansiCodePage
        default: return 1252
        }
    }

    /// Decodes the pending bytes into the paragraph of their sink.
    mutating func flush() {
        guard !pending.isEmpty else { return }
        let bytes = pending
        pending.removeAll(keepingCapacity: true)
        let decoded: String
        if pendingCodePage == 1258 {
            decoded = VietConverter.toUnicode(bytes, from: .cp1258)
        } else {
            var scalars = String.UnicodeScalarView()
            for byte in bytes { scalars.append(Windows1252.scalar(byte)) }
            decoded = String(scalars)
        }
        append(decoded, to: pendingSink)
    }

    /// Text from a control word (not bytes of a code page).
    mutating func text(_ string: String) {
        switch state.sink {
        case .skip, .shapeInstructions, .fontTable, .colorTable: return
        default: break
        }
        flush()
        append(string, to: state.sink)
    }

    mutating func append(_ string: String, to sink: RTFSink) {
        guard !stopped else { return }
        textBytes += string.utf8.count
        if textBytes > limits.maxTextBytes {
            problem(.textCapReached)
            stopped = true
            return
        }
        if sink == .body { applyPendingPageBreak() }
        // Modified in place: a copy of the paragraph per append would make long paragraphs quadratic.
        let current = state
        let red = isRed(current.color)
        RTFReader.append(
            string,
            to: &paragraphs[sink, default: RTFParagraph()],
            state: current,
            red: red,
            fonts: fonts,
            defaultFont: defaultFont
        )
    }

    static func append(
        _ string: String,
        to paragraph: inout RTFParagraph,
        state: RTFState,
        red: Bool,
        fonts: [Int: RTFFont],
        defaultFont: Int?
    ) {
        let start = paragraph.text.utf8.count
        paragraph.text += string
        if state.frame { paragraph.frame = true }
        if state.inTable { paragraph.inTable = true }
        if state.paragraphBorder || state.charBorder { paragraph.style.insert(.bordered) }
        let visible = string.unicodeScalars.contains(where: { !$0.properties.isWhitespace })
        let font = (state.font ?? defaultFont).flatMap { fonts[$0]?.name }
        paragraph.legacy.add(font: font, bytes: start..<paragraph.text.utf8.count, visible: visible)
        if visible {
            var style: TextUnit.Style = []
            if state.bold { style.insert(.bold) }
            if state.caps { style.insert(.allCaps) }
            if red { style.insert(.red) }
            if state.hidden {
                style.insert(.hidden)
                paragraph.anyHidden = true
            }
            let bordered = paragraph.style.contains(.bordered)
            if paragraph.visible {
                paragraph.style = paragraph.style.intersection(style)
            } else {
                paragraph.visible = true
                paragraph.style = style
                paragraph.fontName = font
                paragraph.fontSize = Double(state.halfPoints) / 2
            }
            if bordered { paragraph.style.insert(.bordered) }
        }
    }

    mutating func applyPendingPageBreak() {
        guard sectionBreakPending else { return }
        sectionBreakPending = false
        page += 1
    }

    func isRed(_ index: Int) -> Bool {
        guard index > 0, index < colors.count else { return false }
        let color = colors[index]
        return color.red >= 0x99 && color.red - max(color.green, color.blue) >= 0x80
    }

    /// Ends the paragraph of `sink` as a unit.
    mutating func endParagraph(_ sink: RTFSink) {
        guard let paragraph = paragraphs.removeValue(forKey: sink), paragraph.visible else { return }
        switch sink {
        case .body:
            if paragraph.inTable {
                // A cell whose `\cell` never came (a damaged table): still a cell.
                emit(paragraph, container: .tableCell, region: nil, index: bodyIndex)
            } else {
                emit(paragraph, container: paragraph.frame ? .textBox : .documentBody, region: nil, index: bodyIndex)
            }
            bodyIndex += 1
        case .header: emit(paragraph, container: .pageHeader, region: nil, index: nil)
        case .footer: emit(paragraph, container: .pageFooter, region: nil, index: nil)
        case .textBox: emit(paragraph, container: .textBox, region: nil, index: nil)
        case .note: emit(paragraph, container: .documentBody, region: nil, index: nil)
        default: break
        }
    }

    mutating func endCell() {
        defer { cellInRow += 1 }
        if cellInRow == 0, !tableOpen {
            tableOpen = true
            tableCount += 1
        }
        guard let paragraph = paragraphs.removeValue(forKey: .body), paragraph.visible else { return }
        // The first table of page 1 is the letterhead: its left column holds the agency, the number and the subject line.
        let region: TextUnit.Region? = tableCount == 1 && page == 1 && cellInRow == 0 ? .letterheadLeft : nil
        emit(paragraph, container: .tableCell, region: region, index: bodyIndex)
        bodyIndex += 1
    }

    mutating func emit(_ paragraph: RTFParagraph, container: TextUnit.Container, region: TextUnit.Region?, index: Int?) {
        guard units.count < limits.maxUnits else {
            problem(.textCapReached)
            stopped = true
            return
        }
        // A body paragraph after a table ends it.
        if container != .tableCell, index != nil { tableOpen = false }
        // Legacy runs of a unit that mixes fonts are converted here, each by its own font.
        var text = paragraph.legacy.converted(Array(paragraph.text.utf8)) ?? paragraph.text
        while let last = text.unicodeScalars.last, last == "\n" || last == " " || last == "\t" { text.unicodeScalars.removeLast() }
        text = VietConverter.nfc(text)
        var style = paragraph.style
        if paragraph.anyHidden, !style.contains(.hidden) { style.insert(.partlyHidden) }
        // The cap holds for what is returned too (NFC can lengthen some scripts' text).
        emittedBytes += text.utf8.count
        guard emittedBytes <= limits.maxTextBytes else {
            problem(.textCapReached)
            stopped = true
            return
        }
        let unit = TextUnit(
            text,
            container: container,
            page: container == .pageHeader || container == .pageFooter ? nil : page,
            region: region,
            style: style,
            fontName: paragraph.legacy.fontName(first: paragraph.fontName),
            fontSize: paragraph.fontSize,
            index: index
        )
        units.append(unit)
    }

    func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) }
    func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x37
        case 0x61...0x66: byte - 0x57
        default: nil
        }
    }
}
