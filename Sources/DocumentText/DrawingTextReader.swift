import SecrecyMarks

/// Reads a PresentationML part (a slide, a slide layout or master, a notes slide): one unit per
/// DrawingML paragraph (`a:p`) of each shape's text body.
///
/// Containers, chosen for what `SecrecyMatcher` makes of them on a slide:
/// - A slide's shapes are `textBox` with the slide number as the page: every text on a slide sits
///   in a placed box, and a box on page 1 is a stamp position, so a level standing alone in a
///   shape on the first (title) slide is strong, and on a later slide only weak (a slide deep in
///   a deck is the middle of the document, like a paragraph deep in a body). A table on a slide
///   (`a:tbl`) gives `tableCell` units with no region and no index: a cell is a stamp position
///   only when bordered, and a register of "Độ mật" values in a slide table stays weak.
/// - Footer placeholders (`ftr`, `sldNum`, `dt`) are `pageFooter`, a header placeholder (`hdr`)
///   `pageHeader`.
/// - Shapes of slide masters and layouts are `pageHeader` (no page): what they carry is printed on
///   every slide they lay out, as a page header on every page (their footer placeholders
///   `pageFooter`); their title and body placeholders are skipped (prompt text no slide shows).
/// - A notes slide's text is `documentBody` with the slide number and no index (the speaker's
///   notes are running text).
///
/// Style: `b="1"`, `cap="all"` or `"small"`, `sz` (hundredths of a point), a red `a:srgbClr` fill and the
/// `a:latin` typeface of each run; a shape outline (`a:ln` with a fill) makes its paragraphs
/// `.bordered`. Of an `mc:AlternateContent` only the first choice is read. Styles inherited from
/// list styles and masters are not resolved.
///
/// - SeeAlso: ECMA-376 Part 1 §19.3 (slides), §20.1.2.2 (text body), §21.1.2 (DrawingML text).
final class DrawingTextReader: XMLEventHandler {
    enum Mode {
        case slide, master, notes
    }

    let mode: Mode
    let page: Int?
    let collector: UnitCollector

    private var skipDepth = 0
    private var alternates = AlternateContent()
    private var placeholders: [String?] = []
    private var bordered: [Bool] = []
    private var paragraph: ParagraphBuffer?
    private var run = RunStyle()
    private var inRunProperties = false
    private var inText = false
    private var cellDepth = 0
    private var inShapeProperties = false
    private var inLine = false
    private var lineHasFill = false

    init(mode: Mode, page: Int?, collector: UnitCollector) {
        self.mode = mode
        self.page = page
        self.collector = collector
    }

    func start(_ name: String, _ attributes: XMLAttributes) {
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        if alternates.skips(name) {
            skipDepth = 1
            return
        }
        switch name {
        case "p:sp", "p:graphicFrame", "p:cxnSp":
            placeholders.append(nil)
            bordered.append(false)
        case "p:ph":
            if !placeholders.isEmpty { placeholders[placeholders.count - 1] = attributes["type"] ?? "body" }
        case "p:spPr": inShapeProperties = true
        case "a:ln" where inShapeProperties:
            inLine = true
            lineHasFill = false
        case "a:solidFill", "a:gradFill", "a:pattFill":
            if inLine { lineHasFill = true }
        case "a:tc": cellDepth += 1
        case "a:p": paragraph = ParagraphBuffer()
        case "a:r", "a:fld":
            run = RunStyle()
        case "a:rPr":
            inRunProperties = true
            run.bold = attributes["b"] == "1" || attributes["b"] == "true"
            run.caps = attributes["cap"] == "all" || attributes["cap"] == "small"
            if let size = attributes["sz"].flatMap(Double.init), size > 0 { run.fontSize = size / 100 }
        case "a:srgbClr" where inRunProperties: run.red = attributes["val"].map(ColorHints.isRed(hex:)) ?? false
        case "a:latin" where inRunProperties: run.fontName = attributes["typeface"]
        case "a:t": inText = paragraph != nil
        case "a:br": paragraph?.append("\n", run)
        default: break
        }
    }

    func end(_ name: String) {
        if skipDepth > 0 {
            skipDepth -= 1
            return
        }
        alternates.ends(name)
        switch name {
        case "p:sp", "p:graphicFrame", "p:cxnSp":
            _ = placeholders.popLast()
            _ = bordered.popLast()
        case "p:spPr": inShapeProperties = false
        case "a:ln" where inLine:
            inLine = false
            if lineHasFill, !bordered.isEmpty { bordered[bordered.count - 1] = true }
        case "a:tc": cellDepth = max(0, cellDepth - 1)
        case "a:rPr": inRunProperties = false
        case "a:t": inText = false
        case "a:p":
            if let paragraph { emit(paragraph) }
            paragraph = nil
        default: break
        }
    }

    func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard inText, let count = paragraph?.bytes.count, collector.fits(count + text.count) else { return }
        paragraph?.append(text, run)
    }

    private func emit(_ paragraph: ParagraphBuffer) {
        guard !paragraph.isBlank else { return }
        var style = paragraph.style
        if bordered.last == true { style.insert(.bordered) }
        let placeholder = placeholders.last ?? nil
        let container: TextUnit.Container
        switch (mode, placeholder) {
        case (.notes, "sldNum"?), (.notes, "ftr"?), (.notes, "dt"?), (.notes, "hdr"?), (.notes, "sldImg"?): return
        case (.notes, _): container = .documentBody
        case (_, "ftr"?), (_, "sldNum"?), (_, "dt"?): container = .pageFooter
        case (_, "hdr"?): container = .pageHeader
        // A master's or layout's other placeholders hold prompt text ("Click to edit …") and formatting,
        // shown on no slide: the slide's own shape replaces them.
        case (.master, _?): return
        case (.master, nil): container = .pageHeader
        case (.slide, _): container = cellDepth > 0 ? .tableCell : .textBox
        }
        let unitPage = container == .pageHeader || container == .pageFooter ? nil : page
        collector.add(
            TextUnit(
                paragraph.text,
                container: container,
                page: unitPage,
                style: style,
                fontName: paragraph.fontName,
                fontSize: paragraph.fontSize
            )
        )
    }
}
