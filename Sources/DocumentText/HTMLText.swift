public import SecrecyMarks
import VietText

/// Text units from HTML (a mail's text/html body, an .html attachment), by a small tokenizer after
/// the WHATWG HTML tokenizer's main states. Pure, no I/O, no recursion, no regular expressions:
/// one pass over the bytes, open elements on an explicit stack bounded by `maxHTMLDepth`, every
/// search for a closing delimiter resumed where it stopped, never restarted.
///
/// What is read: text between tags, entities decoded (every HTML5 named reference, `&#N;`,
/// `&#xH;`; 0, surrogates and values past U+10FFFF give U+FFFD, 0x80–0x9F the Windows-1252
/// character, as browsers do). A block element (`p`, `div`, `li`, `tr`, `td`, `th`, `h1`–`h6`,
/// `table`, `blockquote`, `hr`, `pre`, …) and `br` end a unit; white space is folded as a browser
/// shows it (kept line by line inside `pre`). Units are numbered in reading order, blank ones
/// skipped, so "one of a mail's first lines" is the first units. The `<title>` is a `metadata`
/// unit without an index (not a stamp position: weak at most).
///
/// In a document (any container but `.mailBody`): a LibreOffice `<div title="header">` /
/// `"footer"` or a Word `mso-element: header | footer` is a `pageHeader` / `pageFooter` unit, a
/// VML `<v:textbox>` (Word's text boxes, inside `<!--[if gte vml 1]>`, which is read: Outlook and
/// Word show conditional comments) a `textBox` unit, none of them with an index; body units carry
/// the page, 1 and one more at each `page-break-before: always`.
///
/// Table cells: in a mail body (`container` `.mailBody`) a cell stays mail-body text, one unit a
/// cell: mail clients lay out whole bodies with tables, and the matcher's only mail-body stamp
/// position is the first lines. The units of a table with two or more cells in a row (a register:
/// STT | Số | Độ mật | Đơn vị; a letterhead pasted from a letter) are data and get no index, nor
/// do those of the tables inside it, and the lines after it are numbered as if it were not there;
/// a one-cell table (a box drawn around a stamp) keeps its units' indices. In a document (any other container) a cell is a `tableCell`, and
/// the first cell of each row of the first table has the region `letterheadLeft` (the letterhead
/// of a letter saved as HTML by Word or LibreOffice).
///
/// Style of a unit, what all its visible runs share: `.bold` (`b`, `strong`, `th`, `h1`–`h6`,
/// `font-weight: bold | bolder | 600–900`), `.allCaps` (`text-transform: uppercase`,
/// `font-variant: small-caps`), `.red` (`color` or `<font color>` red or close to it: `red`,
/// `#f00`, `#c00000`, `rgb(255,0,0)`, `crimson`…), `.bordered` (inside an element with a `border`
/// or `border-style` that is not `none`, or a `<table border>`), `.quoted` (inside a
/// `blockquote` — Gmail's `gmail_quote`, Apple Mail's and Thunderbird's `type="cite"` — or any
/// element with `type="cite"`), `.hidden` (inside an element with `display: none`, `mso-hide:
/// all` or the `hidden` attribute, which nothing inside undoes; `visibility: hidden | collapse`
/// not undone by a `visibility: visible`; a `font-size` under 1 pt); a unit some of whose runs are
/// hidden, not all, is `.partlyHidden`. Declarations come from the `style` attribute and from simple rules
/// (`tag`, `.class`, `tag.class` selectors) of the `<style>` blocks read so far. The font is the
/// first family of the first visible run (`font-family`, `<font face>`), so legacy `.VnTime` /
/// `VNI-Times` text reaches the matcher as typed; the size is in points (`pt`, `px`, `<font size>`).
///
/// What is skipped: tags and attributes, comments (`<!-- -->`, conditional comments included),
/// `<!DOCTYPE>`, CDATA sections, processing instructions, the contents of `script`, `style`,
/// `template`, `noframes` and `iframe`. Text a style hides (`display: none`) is read like any
/// text, styled `.hidden`.
/// Outlook's reply header ("From: … Sent: …") is not a quotation mark: the original it introduces
/// is read as the body's own text.
///
/// Problems: `input-too-large`, `html-too-deep` (elements past the depth cap keep the style of
/// the deepest one kept), `text-cap-reached`, `html-unterminated` (a comment, tag or raw-text
/// element runs to the end of the input: a browser shows nothing after it either).
///
/// - SeeAlso: WHATWG HTML Living Standard, 13.2.5 "Tokenization" and 13.5 "Named character
///   references"; CSS Text Module Level 3, `text-transform`.
public enum HTMLText {
    public static func units(_ html: String, container: TextUnit.Container, limits: ExtractionLimits = .init()) -> ExtractedText {
        var reader = HTMLReader(container: container, limits: limits)
        let bytes = html.utf8
        if bytes.count > limits.maxInputBytes {
            reader.problem("input-too-large: \(bytes.count) bytes, read \(limits.maxInputBytes)")
            // Cut at a character boundary: a split character would come back as a longer U+FFFD.
            reader.read(Array(bytes.prefixString(limits.maxInputBytes).utf8))
        } else {
            reader.read(Array(bytes))
        }
        return ExtractedText(units: reader.units, problems: reader.problems)
    }
}

/// Style properties an element sets (nil: inherited), from a `style` attribute or a rule.
struct CSSDeclarations: Hashable {
    var bold: Bool?
    var caps: Bool?
    var red: Bool?
    var border: Bool?
    var font: String?
    var size: Double?
    /// `page-break-before: always`, `break-before: page`.
    var pageBreakBefore: Bool?
    /// `mso-element: header | footer` (Word's HTML).
    var part: TextUnit.Container?
    /// `display: none`, `mso-hide: all`: the element and all inside it are not shown.
    var removed: Bool?
    /// `visibility: hidden | collapse` (true) or `visible` (false): inherited, undone inside.
    var invisible: Bool?

    var isEmpty: Bool { self == CSSDeclarations() }

    /// `other`'s settings over these.
    mutating func apply(_ other: CSSDeclarations) {
        if let bold = other.bold { self.bold = bold }
        if let caps = other.caps { self.caps = caps }
        if let red = other.red { self.red = red }
        if let border = other.border { self.border = border }
        if let font = other.font { self.font = font }
        if let size = other.size { self.size = size }
        if let pageBreakBefore = other.pageBreakBefore { self.pageBreakBefore = pageBreakBefore }
        if let part = other.part { self.part = part }
        if let removed = other.removed { self.removed = removed }
        if let invisible = other.invisible { self.invisible = invisible }
    }

    /// Parses `name: value; …` (lowercased names, `!important` ignored); unknown properties are skipped.
    init(parsing text: Substring) {
        for declaration in text.split(separator: ";") {
            guard let colon = declaration.firstIndex(of: ":") else { continue }
            let name = declaration[..<colon].trimmingASCIISpaces().lowercased()
            var raw = declaration[declaration.index(after: colon)...].trimmingASCIISpaces()
            if let bang = raw.firstIndex(of: "!") { raw = String(raw[..<bang]).trimmingASCIISpaces() }
            set(name, raw.lowercased(), raw: raw)
        }
    }

    init() {}

    /// Sets property `name` from its `value` (lowercased) as written (`raw`: font names keep their case).
    mutating func set(_ name: String, _ value: String, raw: String) {
        switch name {
        case "font-weight":
            if let weight = Int(value) {
                bold = weight >= 600
            } else if value == "bold" || value == "bolder" {
                bold = true
            } else if value == "normal" || value == "lighter" {
                bold = false
            }
        case "text-transform":
            caps = value.hasPrefix("uppercase") || value.hasPrefix("full-width uppercase")
        case "font-variant", "font-variant-caps":
            caps = value.contains("small-caps") || value.contains("all-petite-caps") || value.contains("titling-caps")
        case "color":
            red = CSSColor.isRed(value)
        case "border", "border-style":
            border = CSSColor.isBorder(value)
        case "font-family":
            font = CSSDeclarations.firstFamily(raw[...])
        case "font-size":
            size = CSSDeclarations.points(value)
        case "page-break-before", "break-before":
            pageBreakBefore = value == "always" || value == "page" || value == "left" || value == "right"
        case "mso-element":
            part = value == "header" ? .pageHeader : value == "footer" ? .pageFooter : nil
        case "display":
            removed = value == "none"
        case "mso-hide":
            removed = value == "all"
        case "visibility":
            invisible = value == "hidden" || value == "collapse"
        case "font":
            // The shorthand: `bold 14pt "Times New Roman"`; only weight and family are read.
            if value.split(separator: " ").contains(where: { $0 == "bold" || $0 == "bolder" || $0 == "700" || $0 == "800" }) {
                bold = true
            }
        default:
            break
        }
    }

    /// The first family of a `font-family` list or a `face` attribute, unquoted, as written.
    static func firstFamily(_ value: Substring) -> String? {
        let first = value.split(separator: ",", maxSplits: 1).first.map { $0.trimmingASCIISpaces() } ?? ""
        let unquoted = first.trimming("\"'")
        return unquoted.isEmpty ? nil : unquoted
    }

    /// `14pt`, `18.5px`, `1.2em` (nil) → points; a zero size in any unit (`0`, `0em`, `0%`) → 0.
    static func points(_ value: String) -> Double? {
        if value.hasSuffix("pt"), let number = Double(value.dropLast(2)) { return number }
        if value.hasSuffix("px"), let number = Double(value.dropLast(2)) { return number * 0.75 }
        let number = value.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
        if !number.isEmpty, Double(number) == 0 { return 0 }
        return nil
    }
}

enum CSSColor {
    static let namedReds: Set<String> = ["red", "darkred", "crimson", "firebrick", "maroon", "orangered", "indianred"]

    /// Red, or close to it: a stamp's colour (`red`, `#f00`, `#ff0000`, Word's dark red `#c00000`,
    /// `rgb(255, 0, 0)`, `rgb(100%, 0%, 0%)`): a strong red channel, weak green and blue.
    static func isRed(_ value: String) -> Bool {
        let value = value.trimmingASCIISpaces()
        if namedReds.contains(value) { return true }
        guard let (red, green, blue) = rgb(value) else { return false }
        return red >= 0x80 && green <= 0x60 && blue <= 0x60 && red - max(green, blue) >= 0x60
    }

    static func rgb(_ value: String) -> (Int, Int, Int)? {
        if value.hasPrefix("#") {
            let hex = value.dropFirst()
            guard hex.allSatisfy(\.isHexDigit) else { return nil }
            let digits = hex.compactMap(\.hexDigitValue)
            switch digits.count {
            case 3, 4: return (digits[0] * 17, digits[1] * 17, digits[2] * 17)
            case 6, 8: return (digits[0] * 16 + digits[1], digits[2] * 16 + digits[3], digits[4] * 16 + digits[5])
            default: return nil
            }
        }
        // A `<font color=ff0000>` without its "#": read as hex, as browsers do.
        if value.count == 6, value.allSatisfy(\.isHexDigit) { return rgb("#" + value) }
        guard value.hasPrefix("rgb"), let open = value.firstIndex(of: "("), let close = value.lastIndex(of: ")"), open < close else {
            return nil
        }
        let channels = value[value.index(after: open)..<close].split(whereSeparator: { $0 == "," || $0 == " " || $0 == "/" })
        guard channels.count >= 3 else { return nil }
        var result: [Int] = []
        for channel in channels.prefix(3) {
            if channel.hasSuffix("%"), let percent = Double(channel.dropLast()) {
                result.append(Int(min(100, max(0, percent)) * 2.55))
            } else if let number = Double(channel) {
                result.append(Int(min(255, max(0, number))))
            } else {
                return nil
            }
        }
        return (result[0], result[1], result[2])
    }

    /// A `border` or `border-style` value that draws a line: a style other than `none` / `hidden`
    /// and no zero width.
    static func isBorder(_ value: String) -> Bool {
        let parts = value.split(separator: " ")
        let styles: Set<Substring> = ["solid", "double", "dotted", "dashed", "groove", "ridge", "inset", "outset"]
        guard parts.contains(where: { styles.contains($0) }) else { return false }
        return !parts.contains(where: { $0 == "0" || $0 == "0pt" || $0 == "0px" || $0 == "none" || $0 == "hidden" })
    }
}

/// The simple rules of `<style>` blocks: `tag`, `.class` and `tag.class` selectors.
struct StyleSheet {
    var tags: [String: CSSDeclarations] = [:]
    var classes: [String: CSSDeclarations] = [:]
    var tagClasses: [String: CSSDeclarations] = [:]
    var rules = 0
    var bytes = 0
    static let maxRules = 4_096
    /// Bytes of `<style>` read in all; rules past them are not applied.
    static let maxBytes = 256 << 10

    static let commentOpen = Array("<!--".utf8)
    static let commentClose = Array("-->".utf8)

    /// The CSS without `/* */` comments and the `<!--` `-->` Outlook wraps it in, in one pass.
    static func withoutComments(_ css: ArraySlice<UInt8>) -> String {
        var kept: [UInt8] = []
        kept.reserveCapacity(css.count)
        var position = css.startIndex
        func at(_ offset: Int, _ literal: [UInt8]) -> Bool {
            offset + literal.count <= css.endIndex && css[offset..<(offset + literal.count)].elementsEqual(literal)
        }
        while position < css.endIndex {
            if at(position, [0x2F, 0x2A]) {
                var close = position + 2
                while close < css.endIndex, !at(close, [0x2A, 0x2F]) { close += 1 }
                position = close + 2
            } else if at(position, commentOpen) {
                kept.append(0x20)
                position += 4
            } else if at(position, commentClose) {
                kept.append(0x20)
                position += 3
            } else {
                kept.append(css[position])
                position += 1
            }
        }
        return String(decoding: kept, as: UTF8.self)
    }

    mutating func add(_ css: [UInt8]) {
        let text = Self.withoutComments(css.prefix(Self.maxBytes - bytes))
        bytes += min(css.count, Self.maxBytes - bytes)
        for piece in text.split(separator: "}") {
            guard rules < Self.maxRules, let brace = piece.lastIndex(of: "{") else { continue }
            var selectors = piece[..<brace]
            // `@media screen { p.x { … } }`: the selectors are after the last "{" before this one.
            if let inner = selectors.lastIndex(of: "{") { selectors = selectors[selectors.index(after: inner)...] }
            let declarations = CSSDeclarations(parsing: piece[piece.index(after: brace)...])
            guard !declarations.isEmpty else { continue }
            rules += 1
            for selector in selectors.split(separator: ",") {
                let name = selector.trimmingASCIISpaces().lowercased()
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }) else {
                    continue
                }
                let parts = name.split(separator: ".", omittingEmptySubsequences: false)
                switch parts.count {
                case 1: tags[name, default: CSSDeclarations()].apply(declarations)
                case 2 where parts[0].isEmpty: classes[String(parts[1]), default: CSSDeclarations()].apply(declarations)
                case 2: tagClasses[name, default: CSSDeclarations()].apply(declarations)
                default: break
                }
            }
        }
    }

    var isEmpty: Bool { tags.isEmpty && classes.isEmpty && tagClasses.isEmpty }
}

/// What an open element gives the text inside it.
struct HTMLStyle: Hashable {
    var bold = false
    var caps = false
    var red = false
    var bordered = false
    var quoted = false
    /// `display: none`, `mso-hide: all`, the `hidden` attribute: nothing inside undoes it.
    var removed = false
    /// `visibility: hidden`.
    var invisible = false
    var pre = false
    /// A document part the element is (a LibreOffice `<div title="header">`, a VML text box).
    var part: TextUnit.Container?
    /// Inside a table cell, and the cell's region.
    var cell = false
    var region: TextUnit.Region?
    var font: String?
    var size: Double?

    var unitStyle: TextUnit.Style {
        var style: TextUnit.Style = []
        if bold { style.insert(.bold) }
        if caps { style.insert(.allCaps) }
        if red { style.insert(.red) }
        if bordered { style.insert(.bordered) }
        if quoted { style.insert(.quoted) }
        // A size under 1 pt is no text a reader reads.
        if removed || invisible || (size ?? 12) < 1 { style.insert(.hidden) }
        return style
    }
}

struct HTMLElement {
    var name: String
    var style: HTMLStyle
}

/// A start or end tag as read.
struct HTMLTag {
    var name = ""
    var isEnd = false
    var selfClosing = false
    var attributes: [(name: String, value: String)] = []

    func attribute(_ name: String) -> String? { attributes.first(where: { $0.name == name })?.value }
}

/// The unit being collected.
struct HTMLUnitBuffer {
    var bytes: [UInt8] = []
    var style: TextUnit.Style?
    var font: String?
    var size: Double?
    var pendingSpace = false
    var isCell = false
    var region: TextUnit.Region?
    var part: TextUnit.Container?
    /// One of the runs is hidden.
    var anyHidden = false
}

/// A table open in a mail body: where its units start, and its widest row so far.
struct HTMLMailTable {
    var firstUnit: Int
    var cellsInRow = 0
    var columns = 0
}

struct HTMLReader {
    let container: TextUnit.Container
    let limits: ExtractionLimits
    var units: [TextUnit] = []
    var problems: [String] = []
    var stopped = false

    var stack: [HTMLElement] = []
    var openCounts: [String: Int] = [:]
    var excessDepth = 0
    var tooDeep = false
    /// The page in a document: 1, and one more at each `page-break-before`.
    var page = 1
    var sheet = StyleSheet()
    var unit = HTMLUnitBuffer()
    var index = 0
    var textBytes = 0
    var tableCount = 0
    var tableDepth = 0
    var cellInRow = 0
    /// The tables open in a mail body, outermost first, up to `maxMailTables`; `untrackedTables` more.
    var mailTables: [HTMLMailTable] = []
    var untrackedTables = 0
    static let maxMailTables = 64
    /// The contents of a `<title>` (HTML's RCDATA): "<" is text, only references are read.
    var characterReferencesOnly = false

    static let blocks: Set<String> = [
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hgroup", "hr", "html", "legend", "li", "listing", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "xmp", "option", "textarea", "br", "plaintext",
    ]
    static let voids: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "basefont", "bgsound", "frame", "keygen",
    ]
    /// Raw-text elements whose contents are not shown.
    static let hiddenRaw: Set<String> = ["script", "style", "template", "noframes", "iframe", "noembed", "xml"]
    /// Start tags that close an open `p` (HTML: "close a p element in button scope").
    static let closesParagraph: Set<String> = [
        "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "main",
        "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "ul", "li", "dd", "dt", "listing", "xmp",
    ]
    /// Start tags that end an open element of the same kind (`<li>` after `<li>`), and where the search stops.
    static let impliedEnds: [String: (targets: Set<String>, stops: Set<String>)] = [
        "li": (["li"], ["ul", "ol", "table", "div", "blockquote"]),
        "dt": (["dt", "dd"], ["dl", "table", "div"]),
        "dd": (["dt", "dd"], ["dl", "table", "div"]),
        "td": (["td", "th"], ["tr", "table"]),
        "th": (["td", "th"], ["tr", "table"]),
        "tr": (["tr", "td", "th"], ["table", "tbody", "thead", "tfoot"]),
        "tbody": (["tbody", "thead", "tfoot", "tr", "td", "th"], ["table"]),
        "thead": (["tbody", "thead", "tfoot", "tr", "td", "th"], ["table"]),
        "tfoot": (["tbody", "thead", "tfoot", "tr", "td", "th"], ["table"]),
        "option": (["option"], ["select", "datalist"]),
    ]
    /// How far down the stack an implied end looks (a constant, so a deep stack costs nothing).
    static let impliedEndReach = 12
    static let fontSizes: [Double] = [7.5, 10, 12, 13.5, 18, 24, 36]

    init(container: TextUnit.Container, limits: ExtractionLimits) {
        self.container = container
        self.limits = limits
    }

    mutating func problem(_ text: String) {
        ExtractedText.add(text, to: &problems)
    }

    var current: HTMLStyle { stack.last?.style ?? HTMLStyle() }

    // MARK: - Tokenizer

    mutating func read(_ input: [UInt8]) {
        input.withUnsafeBufferPointer { read($0) }
        flushUnit()
        // Tables never closed end with the input.
        while !mailTables.isEmpty { endMailTable() }
    }

    mutating func read(_ input: UnsafeBufferPointer<UInt8>) {
        var position = 0
        let end = input.count
        while position < end, !stopped {
            let byte = input[position]
            if startsMarkup(input, position) {
                position = markup(input, at: position)
            } else if byte == 0x26 {  // &
                position = reference(input, at: position) { reader, scalar in reader.appendScalar(scalar) }
            } else {
                position = text(input, from: position)
            }
        }
    }

    /// Reads the text up to the next markup or "&" with the style of the element it is in (looked
    /// up once a run, not once a byte); returns where it stopped.
    mutating func text(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let style = current
        var position = start
        var seen = false
        while position < input.count, !stopped {
            let byte = input[position]
            if byte == 0x26 || startsMarkup(input, position) { break }
            if isSpace(byte) {
                // A new unit after a line break in `pre` takes the style again.
                if style.pre, byte == 0x0A { seen = false }
                space(byte, style)
                position += 1
                continue
            }
            // A run of visible bytes, appended at once. ASCII bytes never occur inside a UTF-8
            // sequence, so the run ends at a character boundary and a cap reached cuts none.
            let runStart = position
            position += 1
            while position < input.count {
                let next = input[position]
                if next == 0x26 || isSpace(next) || startsMarkup(input, position) { break }
                position += 1
            }
            if !seen {
                visible(style)
                seen = true
            }
            append(UnsafeBufferPointer(rebasing: input[runStart..<position]))
        }
        return position
    }

    /// A "<" before a letter, "!", "/" or "?" starts markup; any other "<" is text (so is every
    /// "<" in a title).
    @inline(__always)
    func startsMarkup(_ input: UnsafeBufferPointer<UInt8>, _ position: Int) -> Bool {
        guard input[position] == 0x3C, !characterReferencesOnly else { return false }
        let next = position + 1 < input.count ? input[position + 1] : 0
        return isASCIILetter(next) || next == 0x21 || next == 0x2F || next == 0x3F
    }

    /// White space: a line break inside `pre` ends the unit; elsewhere runs fold to one space.
    mutating func space(_ byte: UInt8, _ style: HTMLStyle) {
        if style.pre, byte == 0x0A {
            flushUnit()
        } else if style.pre, byte == 0x0D {
            return
        } else if !unit.bytes.isEmpty {
            unit.pendingSpace = true
        }
    }

    /// Reads what starts with "<" at `start`; returns the position after it.
    mutating func markup(_ input: UnsafeBufferPointer<UInt8>, at start: Int) -> Int {
        let end = input.count
        let next = start + 1 < end ? input[start + 1] : 0
        if next == 0x21 {  // <!
            if matches(input, start + 2, "--") {
                // "<!-->" and "<!--->" are empty comments (HTML: abrupt closing).
                if matches(input, start + 4, ">") { return start + 5 }
                if matches(input, start + 4, "->") { return start + 6 }
                // A conditional comment (`<!--[if gte vml 1]>`, `<!--[if mso]>`): Outlook and Word
                // show what it holds (Word's text boxes are VML inside one), so it is read.
                if matches(input, start + 4, "[if") {
                    guard let close = find(input, "]>", from: start + 7) else { return unterminated("comment") }
                    return close + 2
                }
                guard let close = find(input, "-->", from: start + 4) else { return unterminated("comment") }
                return close + 3
            }
            if matches(input, start + 2, "[CDATA[") {
                guard let close = find(input, "]]>", from: start + 9) else { return unterminated("CDATA section") }
                return close + 3
            }
            guard let close = find(input, ">", from: start + 2) else { return unterminated("declaration") }
            return close + 1
        }
        if next == 0x3F {  // <? bogus comment
            guard let close = find(input, ">", from: start + 2) else { return unterminated("processing instruction") }
            return close + 1
        }
        let isEnd = next == 0x2F
        let nameStart = isEnd ? start + 2 : start + 1
        guard nameStart < end, isASCIILetter(input[nameStart]) else {
            if isEnd, nameStart < end {
                // "</>" is nothing; "</ x>" a bogus comment.
                if input[nameStart] == 0x3E { return nameStart + 1 }
                guard let close = find(input, ">", from: nameStart) else { return unterminated("tag") }
                return close + 1
            }
            appendByte(0x3C)
            return start + 1
        }
        var tag = HTMLTag()
        tag.isEnd = isEnd
        var position = nameStart
        var name: [UInt8] = []
        while position < end, !isSpace(input[position]), input[position] != 0x3E, input[position] != 0x2F {
            if name.count < 64 { name.append(lowercased(input[position])) }
            position += 1
        }
        tag.name = String(decoding: name, as: UTF8.self)
        // Attributes.
        while position < end {
            let byte = input[position]
            if isSpace(byte) {
                position += 1
                continue
            }
            if byte == 0x3E { break }
            if byte == 0x2F {
                if position + 1 < end, input[position + 1] == 0x3E { tag.selfClosing = true }
                position += 1
                continue
            }
            var attributeName: [UInt8] = []
            while position < end, !isSpace(input[position]), input[position] != 0x3E, input[position] != 0x2F,
                input[position] != 0x3D || attributeName.isEmpty
            {
                if attributeName.count < 64 { attributeName.append(lowercased(input[position])) }
                position += 1
            }
            while position < end, isSpace(input[position]) { position += 1 }
            var value: [UInt8] = []
            if position < end, input[position] == 0x3D {
                position += 1
                while position < end, isSpace(input[position]) { position += 1 }
                if position < end, input[position] == 0x22 || input[position] == 0x27 {
                    let quote = input[position]
                    guard let close = find(input, quote, from: position + 1) else { return unterminated("tag") }
                    value = Array(input[(position + 1)..<min(close, position + 1 + 65_536)])
                    position = close + 1
                } else {
                    while position < end, !isSpace(input[position]), input[position] != 0x3E {
                        if value.count < 65_536 { value.append(input[position]) }
                        position += 1
                    }
                }
            }
            let key = String(decoding: attributeName, as: UTF8.self)
            if Self.keptAttributes.contains(key), tag.attributes.count < 32 {
                tag.attributes.append((key, decodeAttribute(value)))
            }
        }
        guard position < end else { return unterminated("tag") }
        position += 1
        if tag.isEnd {
            endTag(tag.name)
            return position
        }
        if Self.hiddenRaw.contains(tag.name) || tag.name == "title" {
            guard let close = findEndTag(input, tag.name, from: position) else { return unterminated(tag.name) }
            let contents = Array(input[position..<close])
            if tag.name == "style" {
                sheet.add(contents)
            } else if tag.name == "title" {
                title(contents)
            }
            guard let after = find(input, ">", from: close) else { return unterminated("tag") }
            return after + 1
        }
        startTag(tag)
        return position
    }

    static let keptAttributes: Set<String> = ["class", "style", "color", "face", "size", "type", "border", "title", "hidden"]

    mutating func unterminated(_ what: String) -> Int {
        problem("html-unterminated: a \(what) runs to the end of the input")
        stopped = true
        return Int.max
    }

    func matches(_ input: UnsafeBufferPointer<UInt8>, _ at: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard at + count <= input.count else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where input[at + offset] != pointer[offset] { return false }
        return true
    }

    func find(_ input: UnsafeBufferPointer<UInt8>, _ literal: StaticString, from start: Int) -> Int? {
        let count = literal.utf8CodeUnitCount
        let first = literal.utf8Start[0]
        var position = start
        while position + count <= input.count {
            if input[position] == first, matches(input, position, literal) { return position }
            position += 1
        }
        return nil
    }

    func find(_ input: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from start: Int) -> Int? {
        var position = start
        while position < input.count {
            if input[position] == byte { return position }
            position += 1
        }
        return nil
    }

    /// Where `</name` (any case) starts, after `start`.
    func findEndTag(_ input: UnsafeBufferPointer<UInt8>, _ name: String, from start: Int) -> Int? {
        let name = Array(name.utf8)
        var position = start
        while position + 2 + name.count <= input.count {
            if input[position] == 0x3C, input[position + 1] == 0x2F {
                var same = true
                for (offset, letter) in name.enumerated() where lowercased(input[position + 2 + offset]) != letter {
                    same = false
                    break
                }
                let after = position + 2 + name.count
                if same, after == input.count || isSpace(input[after]) || input[after] == 0x3E || input[after] == 0x2F {
                    return position
                }
            }
            position += 1
        }
        return nil
    }

    func isASCIILetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D }
    func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    // MARK: - Character references

    /// Reads a reference at `start` ("&"), handing each scalar it stands for (or the "&" itself) to
    /// `emit`; returns the position after it.
    mutating func reference(
        _ input: UnsafeBufferPointer<UInt8>,
        at start: Int,
        emit: (inout HTMLReader, Unicode.Scalar) -> Void
    ) -> Int {
        let (scalars, next) = HTMLEntities.decode(input, at: start, inAttribute: false)
        for scalar in scalars { emit(&self, scalar) }
        return next
    }

    func decodeAttribute(_ value: [UInt8]) -> String {
        guard value.contains(0x26) else { return String(decoding: value, as: UTF8.self) }
        var result = String.UnicodeScalarView()
        value.withUnsafeBufferPointer { input in
            var position = 0
            var plain: [UInt8] = []
            while position < input.count {
                if input[position] == 0x26 {
                    result.append(contentsOf: String(decoding: plain, as: UTF8.self).unicodeScalars)
                    plain.removeAll()
                    let (scalars, next) = HTMLEntities.decode(input, at: position, inAttribute: true)
                    result.append(contentsOf: scalars)
                    position = next
                } else {
                    plain.append(input[position])
                    position += 1
                }
            }
            result.append(contentsOf: String(decoding: plain, as: UTF8.self).unicodeScalars)
        }
        return String(result)
    }

    // MARK: - Elements

    mutating func startTag(_ tag: HTMLTag) {
        let name = tag.name
        if Self.closesParagraph.contains(name) { impliedEnd(["p"], stops: ["table", "td", "th", "blockquote", "li"]) }
        if let implied = Self.impliedEnds[name] { impliedEnd(implied.targets, stops: implied.stops) }
        if Self.blocks.contains(name) { flushUnit() }
        if name == "table" {
            tableCount += 1
            tableDepth += 1
            if container == .mailBody {
                if mailTables.count < Self.maxMailTables {
                    mailTables.append(HTMLMailTable(firstUnit: units.count))
                } else {
                    untrackedTables += 1
                }
            }
        }
        if name == "tr" {
            cellInRow = 0
            if untrackedTables == 0, !mailTables.isEmpty { mailTables[mailTables.count - 1].cellsInRow = 0 }
        }
        if name == "td" || name == "th", untrackedTables == 0, var table = mailTables.popLast() {
            table.cellsInRow += 1
            table.columns = max(table.columns, table.cellsInRow)
            mailTables.append(table)
        }
        let declarations = elementDeclarations(tag)
        if declarations.pageBreakBefore == true, container != .mailBody {
            flushUnit()
            page += 1
        }
        if Self.voids.contains(name) || (tag.selfClosing && !Self.blocks.contains(name)) {
            if name == "hr" || name == "br" { flushUnit() }
            return
        }
        var style = current
        style.apply(declarations)
        if container != .mailBody {
            // LibreOffice writes a page's header and footer as `<div title="header">`; VML holds Word's text boxes.
            switch name == "div" ? tag.attribute("title")?.lowercased() : nil {
            case "header"?: style.part = .pageHeader
            case "footer"?: style.part = .pageFooter
            default: break
            }
            if name == "v:textbox" { style.part = .textBox }
            if style.part != current.part { flushUnit() }
        } else {
            style.part = nil
        }
        if name == "blockquote" || tag.attribute("type")?.lowercased() == "cite" { style.quoted = true }
        if tag.attribute("hidden") != nil { style.removed = true }
        if name == "pre" || name == "listing" || name == "xmp" || name == "plaintext" || name == "textarea" { style.pre = true }
        if name == "table", let border = tag.attribute("border"), border.isEmpty || (Int(border.trimmingASCIISpaces()) ?? 1) > 0 {
            style.bordered = true
        }
        if name == "td" || name == "th" {
            style.cell = true
            // The first table of a document is its letterhead: its left column holds the agency, the number and the subject line.
            style.region = container != .mailBody && tableCount == 1 && tableDepth == 1 && cellInRow == 0 ? .letterheadLeft : nil
            cellInRow += 1
        }
        guard stack.count < maxDepth else {
            // Said once (not built again for each of a million elements).
            if excessDepth == 0, !tooDeep {
                tooDeep = true
                problem("html-too-deep: elements nested deeper than \(maxDepth)")
            }
            excessDepth += 1
            return
        }
        stack.append(HTMLElement(name: name, style: style))
        openCounts[name, default: 0] += 1
    }

    var maxDepth: Int { limits.maxHTMLDepth }

    /// The declarations of the element's tag, its class rules and its `style` attribute, in that order.
    func elementDeclarations(_ tag: HTMLTag) -> CSSDeclarations {
        var declarations = CSSDeclarations()
        switch tag.name {
        case "b", "strong", "th", "h1", "h2", "h3", "h4", "h5", "h6": declarations.bold = true
        case "font":
            if let color = tag.attribute("color") { declarations.red = CSSColor.isRed(color.lowercased()) }
            if let face = tag.attribute("face") { declarations.font = CSSDeclarations.firstFamily(face[...]) }
            if let size = tag.attribute("size").flatMap({ Int($0.trimmingASCIISpaces()) }) {
                // `<font size=1…7>` (+n / -n relative sizes are not resolved).
                declarations.size = Self.fontSizes[min(6, max(0, size - 1))]
            }
        default: break
        }
        if !sheet.isEmpty {
            if let rule = sheet.tags[tag.name] { declarations.apply(rule) }
            if let classes = tag.attribute("class") {
                for name in classes.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).prefix(16) {
                    if let rule = sheet.classes[String(name)] { declarations.apply(rule) }
                    if let rule = sheet.tagClasses[tag.name + "." + name] { declarations.apply(rule) }
                }
            }
        }
        if let inline = tag.attribute("style") { declarations.apply(CSSDeclarations(parsing: inline[...])) }
        return declarations
    }

    mutating func endTag(_ name: String) {
        if Self.blocks.contains(name) { flushUnit() }
        if name == "table", tableDepth > 0 {
            tableDepth -= 1
            if untrackedTables > 0 {
                untrackedTables -= 1
            } else if !mailTables.isEmpty {
                endMailTable()
            }
        }
        if excessDepth > 0 {
            // Past the depth cap the elements were not kept: one of them ends.
            excessDepth -= 1
            return
        }
        guard (openCounts[name] ?? 0) > 0 else { return }
        let part = current.part
        while let element = stack.popLast() {
            openCounts[element.name, default: 1] -= 1
            if element.name == name { break }
        }
        if current.part != part { flushUnit() }
    }

    /// Ends an open element of `targets` near the top of the stack, unless one of `stops` comes first.
    mutating func impliedEnd(_ targets: Set<String>, stops: Set<String>) {
        guard targets.contains(where: { (openCounts[$0] ?? 0) > 0 }) else { return }
        var cursor = stack.count - 1
        while cursor >= 0, stack.count - cursor <= Self.impliedEndReach {
            let name = stack[cursor].name
            if targets.contains(name) {
                flushUnit()
                while stack.count > cursor {
                    let element = stack.removeLast()
                    openCounts[element.name, default: 1] -= 1
                }
                return
            }
            // A namespaced element (Word's `v:textbox`, `o:p`) is not HTML's to close.
            if stops.contains(name) || name.contains(":") { return }
            cursor -= 1
        }
    }

    // MARK: - Text

    mutating func appendByte(_ byte: UInt8) {
        let style = current
        if isSpace(byte) {
            space(byte, style)
            return
        }
        visible(style)
        append(CollectionOfOne(byte))
    }

    mutating func appendScalar(_ scalar: Unicode.Scalar) {
        if scalar.value < 0x80 {
            appendByte(UInt8(scalar.value))
            return
        }
        // U+00A0 (`&nbsp;`) and the other non-ASCII spaces are kept: the matcher folds them.
        guard let encoded = UTF8.encode(scalar) else { return }
        visible(current)
        append(encoded)
    }

    /// Appends visible bytes (after a pending space), unless they would pass the text cap.
    mutating func append(_ bytes: some Collection<UInt8>) {
        let space = unit.pendingSpace ? 1 : 0
        guard textBytes + space + bytes.count <= limits.maxTextBytes else {
            problem("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
            stopped = true
            return
        }
        textBytes += space + bytes.count
        if unit.pendingSpace {
            unit.bytes.append(0x20)
            unit.pendingSpace = false
        }
        unit.bytes.append(contentsOf: bytes)
    }

    /// Ends the innermost open mail-body table: a table of two or more columns is data, its units
    /// (those of the tables inside it too) lose their index, so none is "one of the first lines",
    /// and the lines after it are numbered as if it were not there.
    mutating func endMailTable() {
        guard let table = mailTables.popLast() else { return }
        guard table.columns >= 2 else { return }
        for position in table.firstUnit..<units.count where units[position].index != nil {
            units[position].index = nil
            // No unit after the table is out yet: the next one takes the first index it left.
            index -= 1
        }
    }

    /// A visible character in `style`: the unit's style is what all its runs share; its font the first run's.
    mutating func visible(_ style: HTMLStyle) {
        let runStyle = style.unitStyle
        if runStyle.contains(.hidden) { unit.anyHidden = true }
        if let shared = unit.style {
            if shared != runStyle { unit.style = shared.intersection(runStyle) }
        } else {
            unit.style = runStyle
            unit.font = style.font
            unit.size = style.size
            unit.part = style.part
            unit.isCell = style.cell
            unit.region = style.region
        }
    }

    mutating func title(_ contents: [UInt8]) {
        // Read by a reader of its own (entities decoded, tags dropped), its text counted here.
        var titleLimits = limits
        titleLimits.maxTextBytes = limits.maxTextBytes - textBytes
        var reader = HTMLReader(container: .metadata, limits: titleLimits)
        reader.characterReferencesOnly = true
        contents.withUnsafeBufferPointer { reader.read($0) }
        for problem in reader.problems { self.problem(problem) }
        if reader.stopped { stopped = true }
        textBytes += reader.textBytes
        let text = String(decoding: reader.unit.bytes, as: UTF8.self)
        guard !text.allSatisfy(\.isWhitespace) else { return }
        emit(TextUnit(text, container: .metadata))
    }

    mutating func flushUnit() {
        defer { unit = HTMLUnitBuffer() }
        guard !unit.bytes.isEmpty else { return }
        let text = String(decoding: unit.bytes, as: UTF8.self)
        guard !text.allSatisfy(\.isWhitespace) else { return }
        var unitContainer: TextUnit.Container = unit.isCell && container != .mailBody ? .tableCell : container
        if let part = unit.part { unitContainer = part }
        let isPart = unitContainer == .pageHeader || unitContainer == .pageFooter
        // Headers, footers and text boxes stand apart from the body's reading order (as in RTFText).
        let unitIndex: Int? = unit.part == nil ? index : nil
        var style = unit.style ?? []
        if unit.anyHidden, !style.contains(.hidden) { style.insert(.partlyHidden) }
        emit(
            TextUnit(
                text,
                container: unitContainer,
                page: container == .mailBody || isPart ? nil : page,
                region: unitContainer == .tableCell ? unit.region : nil,
                style: style,
                fontName: unit.font,
                fontSize: unit.size,
                index: unitIndex
            )
        )
        if unitIndex != nil { index += 1 }
    }

    mutating func emit(_ textUnit: TextUnit) {
        guard units.count < limits.maxUnits else {
            problem("text-cap-reached: more than \(limits.maxUnits) units")
            stopped = true
            return
        }
        units.append(textUnit)
    }
}

extension HTMLStyle {
    mutating func apply(_ declarations: CSSDeclarations) {
        if let bold = declarations.bold { self.bold = bold }
        if let caps = declarations.caps { self.caps = caps }
        if let red = declarations.red { self.red = red }
        // A box holds everything inside it: a `border: none` inside does not take the outer box away.
        if declarations.border == true { bordered = true }
        if let font = declarations.font { self.font = font }
        if let size = declarations.size { self.size = size }
        if let part = declarations.part { self.part = part }
        // `display: none` takes the element out with all inside it: a `display: block` inside does not show it.
        if declarations.removed == true { removed = true }
        if let invisible = declarations.invisible { self.invisible = invisible }
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\n" || first == "\r" || first == "\u{0C}" {
            slice = slice.dropFirst()
        }
        while let last = slice.last, last == " " || last == "\t" || last == "\n" || last == "\r" || last == "\u{0C}" {
            slice = slice.dropLast()
        }
        return String(slice)
    }

    func trimming(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// The HTML5 named character references (the table is generated: Scripts/html-entities.py) and
/// the numeric ones.
///
/// - SeeAlso: WHATWG HTML, 13.2.5.72 "Character reference state" and 13.5 "Named character references".
enum HTMLEntities {
    /// Name (with its ";", or bare for the legacy names) → the scalars it stands for.
    static let names: [String: [Unicode.Scalar]] = {
        var names: [String: [Unicode.Scalar]] = [:]
        for line in table.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let scalars = line[line.index(after: space)...].split(separator: ",").compactMap {
                UInt32($0, radix: 16).flatMap(Unicode.Scalar.init)
            }
            names[String(line[..<space])] = scalars
        }
        return names
    }()

    /// The longest name, in bytes.
    static let longestName = 32

    /// Decodes the reference at `start` (an "&"): the scalars it stands for and the position after
    /// it; a lone "&" stands for itself.
    static func decode(_ input: UnsafeBufferPointer<UInt8>, at start: Int, inAttribute: Bool) -> ([Unicode.Scalar], Int) {
        let end = input.count
        let ampersand: ([Unicode.Scalar], Int) = (["&"], start + 1)
        var position = start + 1
        guard position < end else { return ampersand }
        if input[position] == 0x23 {  // #
            position += 1
            var radix: UInt32 = 10
            if position < end, input[position] | 0x20 == 0x78 {
                radix = 16
                position += 1
            }
            let digitsStart = position
            var value: UInt32 = 0
            while position < end, let digit = digitValue(input[position], radix: radix) {
                // Saturates past the last scalar: the value is invalid anyway.
                value = min(value * radix + digit, 0x11_0000)
                position += 1
            }
            guard position > digitsStart else { return ampersand }
            if position < end, input[position] == 0x3B { position += 1 }
            return ([numeric(value)], position)
        }
        var nameEnd = position
        while nameEnd < end, nameEnd - position < longestName, isAlphanumeric(input[nameEnd]) { nameEnd += 1 }
        guard nameEnd > position else { return ampersand }
        if nameEnd < end, input[nameEnd] == 0x3B {
            var key = String(decoding: UnsafeBufferPointer(rebasing: input[position..<nameEnd]), as: UTF8.self)
            key.append(";")
            if let scalars = names[key] { return (scalars, nameEnd + 1) }
        }
        // A legacy name without its ";" ("&amp", "&copy2026"): the longest one that starts the run.
        for length in stride(from: min(nameEnd - position, 6), through: 2, by: -1) {
            let key = String(decoding: UnsafeBufferPointer(rebasing: input[position..<(position + length)]), as: UTF8.self)
            guard let scalars = names[key] else { continue }
            // In an attribute value "&copy=" and "&copyx" are text (URLs' query strings).
            if inAttribute, position + length < end, isAlphanumeric(input[position + length]) || input[position + length] == 0x3D {
                return ampersand
            }
            return (scalars, position + length)
        }
        return ampersand
    }

    /// What `&#value;` stands for: U+FFFD for 0, surrogates and values past U+10FFFF; the
    /// Windows-1252 character for 0x80–0x9F, as browsers read them.
    static func numeric(_ value: UInt32) -> Unicode.Scalar {
        if value >= 0x80, value <= 0x9F { return Windows1252.scalar(UInt8(value)) }
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }

    static func digitValue(_ byte: UInt8, radix: UInt32) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte - 0x30)
        case 0x41...0x46 where radix == 16: UInt32(byte - 0x37)
        case 0x61...0x66 where radix == 16: UInt32(byte - 0x57)
        default: nil
        }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
    }
}
