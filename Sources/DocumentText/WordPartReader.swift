import SecrecyMarks

/// Reads one WordprocessingML part (the document, a header or footer, footnotes, endnotes,
/// comments) into units, streaming: one unit per paragraph (`w:p`), in reading order.
///
/// - Body paragraphs are `documentBody` with their index among the body's paragraphs and cells,
///   on page 1 until the first page boundary (`w:br w:type="page"`, `w:lastRenderedPageBreak`,
///   `w:pageBreakBefore`, a section that starts a new page); a break that follows another with no
///   text between is the same boundary.
/// - A paragraph in a table cell (`w:tc`) is `tableCell`. The first table of page 1 with two
///   grid columns is the letterhead: its left cell's paragraphs are region `letterheadLeft`, its
///   right cell's `topRight` (Nghị định 30/2020 Phụ lục I: agency, number and subject left; the
///   national motto, and circulation notes, right).
/// - A paragraph in a text box (`w:txbxContent`) or a frame (`w:framePr`) is `textBox`. Of an
///   `mc:AlternateContent` only the first `mc:Choice` is read (the DrawingML box); its
///   `mc:Fallback` (the same box again in VML) is skipped, so a box is read once. A VML box with
///   no DrawingML (`w:pict` alone) is read.
/// - In a header or footer part everything is `pageHeader` / `pageFooter`; in notes and comments
///   `documentBody` with no index and no page.
/// - Style: bold, capitals, red and font through `WordStyles`; a paragraph border (`w:pBdr`, its
///   own or its style's) or a cell border (`w:tcBorders`) that draws something is `.bordered`.
/// - Not read: deleted text (`w:delText`), field instructions (`w:instrText`).
///
/// - SeeAlso: ECMA-376 Part 1 §17.3 (paragraphs and runs), §17.4 (tables), §17.6 (sections),
///   §17.10 (headers and footers), §17.11 (notes), §17.13.4 (comments); Part 3 §10.2
///   (`mc:AlternateContent`).
final class WordPartReader: XMLEventHandler {
    enum Kind {
        case body, header, footer, notes
    }

    struct Paragraph {
        var buffer = ParagraphBuffer()
        var styleId: String?
        var bordered = false
        var frame = false
        var sectionBreak = false
        var page: Int
    }

    struct Table {
        var gridColumns = 0
        var column = 0
        var isFirstOfPageOne: Bool
    }

    struct Cell {
        var column: Int
        var span = 1
        var bordered = false
    }

    let styles: WordStyles
    let kind: Kind
    let collector: UnitCollector
    /// The body's unit counter (paragraphs and cells), shared by the parts of one document.
    var bodyIndex = 0
    var page = 1
    private var textSinceBoundary = true
    private var topLevelTables = 0

    private var skipDepth = 0
    private var alternates = AlternateContent()
    private var paragraphs: [Paragraph] = []
    private var tables: [Table] = []
    private var cells: [Cell] = []
    private var textBoxDepth = 0
    private var inParagraphProperties = false
    private var inParagraphBorders = false
    private var inSection = false
    private var inCellBorders = false
    private var inRun = false
    private var inRunProperties = false
    private var inText = false
    private var runStyleId: String?
    private var runProperties = WordProperties()

    init(styles: WordStyles, kind: Kind, collector: UnitCollector) {
        self.styles = styles
        self.kind = kind
        self.collector = collector
    }

    private func boundary() {
        guard kind == .body, textSinceBoundary else { return }
        page += 1
        textSinceBoundary = false
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
        case "w:delText", "w:instrText", "w:del":
            skipDepth = 1
        case "w:p":
            paragraphs.append(Paragraph(page: page))
        case "w:pPr": inParagraphProperties = true
        case "w:pStyle" where inParagraphProperties: paragraphs.indices.last.map { paragraphs[$0].styleId = attributes["w:val"] }
        case "w:pBdr" where inParagraphProperties: inParagraphBorders = true
        case "w:framePr" where inParagraphProperties: paragraphs.indices.last.map { paragraphs[$0].frame = true }
        case "w:pageBreakBefore" where inParagraphProperties:
            if WordProperties.isOn(attributes) {
                boundary()
                paragraphs.indices.last.map { paragraphs[$0].page = page }
            }
        case "w:sectPr" where inParagraphProperties:
            inSection = true
            paragraphs.indices.last.map { paragraphs[$0].sectionBreak = true }
        case "w:type" where inSection:
            if attributes["w:val"] == "continuous" { paragraphs.indices.last.map { paragraphs[$0].sectionBreak = false } }
        case "w:top", "w:left", "w:bottom", "w:right", "w:start", "w:end", "w:between", "w:bar":
            if inParagraphBorders, ColorHints.drawsBorder(attributes["w:val"]) {
                paragraphs.indices.last.map { paragraphs[$0].bordered = true }
            } else if inCellBorders, ColorHints.drawsBorder(attributes["w:val"]) {
                cells.indices.last.map { cells[$0].bordered = true }
            }
        case "w:rPr":
            if inRun {
                inRunProperties = true
            } else if inParagraphProperties {
                // The paragraph mark's formatting: not text.
                skipDepth = 1
            }
        case "w:rStyle" where inRunProperties: runStyleId = attributes["w:val"]
        case "w:r":
            inRun = true
            runStyleId = nil
            runProperties = WordProperties()
        case "w:t" where inRun: inText = true
        case "w:tab", "w:ptab": appendText(" ")
        case "w:br":
            if attributes["w:type"] == "page" {
                boundary()
            } else {
                appendText("\n")
            }
        case "w:cr": appendText("\n")
        case "w:noBreakHyphen": appendText("-")
        case "w:lastRenderedPageBreak": boundary()
        case "w:txbxContent": textBoxDepth += 1
        case "w:tbl":
            let first = tables.isEmpty && textBoxDepth == 0 && kind == .body && topLevelTables == 0 && page == 1
            tables.append(Table(isFirstOfPageOne: first))
        case "w:gridCol": tables.indices.last.map { tables[$0].gridColumns += 1 }
        case "w:tr": tables.indices.last.map { tables[$0].column = 0 }
        case "w:tc": cells.append(Cell(column: tables.last?.column ?? 0))
        case "w:gridSpan":
            if let span = attributes["w:val"].flatMap(Int.init), span > 0, span < 1_000 {
                cells.indices.last.map { cells[$0].span = span }
            }
        case "w:tcBorders": inCellBorders = true
        default:
            if inRunProperties { _ = runProperties.readRunProperty(name, attributes) }
        }
    }

    func end(_ name: String) {
        if skipDepth > 0 {
            skipDepth -= 1
            return
        }
        alternates.ends(name)
        switch name {
        case "w:p":
            guard let paragraph = paragraphs.popLast() else { return }
            emit(paragraph)
            if paragraph.sectionBreak { boundary() }
        case "w:pPr": inParagraphProperties = false
        case "w:pBdr": inParagraphBorders = false
        case "w:sectPr": inSection = false
        case "w:rPr": inRunProperties = false
        case "w:r": inRun = false
        case "w:t": inText = false
        case "w:txbxContent": textBoxDepth = max(0, textBoxDepth - 1)
        case "w:tc":
            guard let cell = cells.popLast() else { return }
            tables.indices.last.map { tables[$0].column += cell.span }
        case "w:tcBorders": inCellBorders = false
        case "w:tbl":
            _ = tables.popLast()
            if tables.isEmpty, textBoxDepth == 0 { topLevelTables += 1 }
        default: break
        }
    }

    func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard inText, let count = paragraphs.last?.buffer.bytes.count, collector.fits(count + text.count) else { return }
        paragraphs[paragraphs.count - 1].buffer.append(text, currentRunStyle())
    }

    private func appendText(_ text: String) {
        guard inRun, let count = paragraphs.last?.buffer.bytes.count, collector.fits(count + text.utf8.count) else { return }
        paragraphs[paragraphs.count - 1].buffer.append(text, currentRunStyle())
    }

    private func currentRunStyle() -> RunStyle {
        var properties = styles.inherited(paragraphStyle: paragraphs.last?.styleId, runStyle: runStyleId)
        properties.apply(runProperties)
        return RunStyle(
            bold: properties.bold ?? false,
            caps: properties.caps ?? false,
            red: properties.red ?? false,
            fontName: properties.fontName,
            fontSize: properties.fontSize
        )
    }

    private func emit(_ paragraph: Paragraph) {
        guard !paragraph.buffer.isBlank, !collector.full else { return }
        var style = paragraph.buffer.style
        let styleBorder = styles.inherited(paragraphStyle: paragraph.styleId, runStyle: nil).bordered ?? false
        if paragraph.bordered || styleBorder || cells.last?.bordered == true { style.insert(.bordered) }
        let container: TextUnit.Container
        var unitPage: Int? = nil
        var region: TextUnit.Region? = nil
        var index: Int? = nil
        switch kind {
        case .header: container = .pageHeader
        case .footer: container = .pageFooter
        case .notes: container = .documentBody
        case .body:
            unitPage = paragraph.page
            if textBoxDepth > 0 || paragraph.frame {
                container = .textBox
            } else if let cell = cells.last, let table = tables.last {
                container = .tableCell
                index = bodyIndex
                bodyIndex += 1
                if tables.count == 1, table.isFirstOfPageOne, table.gridColumns == 2, paragraph.page == 1 {
                    if cell.column == 0, cell.span == 1 { region = .letterheadLeft }
                    if cell.column == 1 { region = .topRight }
                }
            } else {
                container = .documentBody
                index = bodyIndex
                bodyIndex += 1
            }
            textSinceBoundary = true
        }
        collector.add(
            TextUnit(
                paragraph.buffer.text,
                container: container,
                page: unitPage,
                region: region,
                style: style,
                fontName: paragraph.buffer.fontName,
                fontSize: paragraph.buffer.fontSize,
                index: index
            )
        )
    }
}
