import Foundation
import SecrecyMarks

/// Text units from OpenDocument packages: text (odt, ott), spreadsheets (ods) and presentations
/// (odp). Pure, no I/O, with the same bounds and problems as `OOXMLText` (zip through
/// `PackageArchive`, XML through `XMLStream`).
///
/// What is read: `styles.xml` first (named and automatic styles, font faces, and the master
/// pages, whose `style:header*` / `style:footer*` are `pageHeader` / `pageFooter`, and whose
/// drawings in a presentation are `pageHeader`: they repeat on every page), then `content.xml`
/// (`ODFPartReader`), then `meta.xml` (`MetadataReader`). An encrypted package (`manifest:encryption-data`
/// in `META-INF/manifest.xml`) is the problem `encrypted: …`: its parts cannot be read.
///
/// - SeeAlso: OASIS Open Document Format for Office Applications (OpenDocument) Version 1.3,
///   Part 2 (packages), Part 3 (schema): §5 (paragraphs), §9 (tables), §10 (drawing shapes,
///   frames, text boxes), §16 (styles).
public enum ODFText {
    public static func units(
        _ bytes: some Collection<UInt8>,
        format: DocumentFormat,
        limits: ExtractionLimits = ExtractionLimits()
    ) -> ExtractedText {
        guard format.isODF else {
            return ExtractedText(units: [], problems: ["unsupported-format: \(format.rawValue) is not an ODF format"])
        }
        let (opened, problems) = PackageInput.open(bytes, limits: limits)
        guard let archive = opened else { return ExtractedText(units: [], problems: problems) }
        let manifest = ManifestReader()
        archive.parse("META-INF/manifest.xml", with: manifest)
        if manifest.encrypted {
            return ExtractedText(units: [], problems: archive.problems + ["encrypted: the OpenDocument package is encrypted"])
        }
        let collector = UnitCollector(limits: limits)
        let sheet = ODFStyleSheet()
        let done = { collector.full }
        archive.parse("styles.xml", with: ODFPartReader(format: format, sheet: sheet, collector: collector), stopWhen: done)
        archive.parse("content.xml", with: ODFPartReader(format: format, sheet: sheet, collector: collector), stopWhen: done)
        archive.parse("meta.xml", with: MetadataReader(collector: collector), stopWhen: done)
        if archive.entries["content.xml"] == nil, archive.problems.isEmpty {
            archive.problems.append("odf-error: no content.xml")
        }
        return ExtractedText(units: collector.units, problems: archive.problems + collector.problems)
    }

    public static func units(
        _ bytes: UnsafeRawBufferPointer,
        format: DocumentFormat,
        limits: ExtractionLimits = ExtractionLimits()
    ) -> ExtractedText {
        units(bytes.bindMemory(to: UInt8.self), format: format, limits: limits)
    }
}

final class ManifestReader: XMLEventHandler {
    private(set) var encrypted = false
    func start(_ name: String, _ attributes: XMLAttributes) {
        if name == "manifest:encryption-data" { encrypted = true }
    }
    func end(_ name: String) {}
    func characters(_ text: UnsafeBufferPointer<UInt8>) {}
}

/// An ODF style's formatting; nil: inherited.
struct ODFProperties {
    var bold: Bool?
    var caps: Bool?
    var red: Bool?
    var fontName: String?
    var fontSize: Double?
    var bordered: Bool?
    var breakBefore = false
    var breakAfter = false

    mutating func apply(_ other: ODFProperties) {
        if let value = other.bold { bold = value }
        if let value = other.caps { caps = value }
        if let value = other.red { red = value }
        if let value = other.fontName { fontName = value }
        if let value = other.fontSize { fontSize = value }
        if let value = other.bordered { bordered = value }
    }
}

struct ODFStyle {
    var family: String
    var parent: String?
    var properties = ODFProperties()
}

/// The named styles, default styles and font faces of a package (from `styles.xml`, and
/// `content.xml`'s own font faces), shared by its parts.
final class ODFStyleSheet {
    var named: [String: ODFStyle] = [:]
    var defaults: [String: ODFProperties] = [:]
    /// Font face name → font family.
    var fontFaces: [String: String] = [:]
}

/// Reads `styles.xml` or `content.xml` of an OpenDocument package into units, streaming.
///
/// - `text:p` and `text:h` are units (one each, spans and their styles inside); `text:s` (at
///   most 8 of its `text:c` spaces), `text:tab`, `text:line-break` are spaces and line breaks.
/// - odt: body paragraphs are `documentBody` with their index, page 1 until the first page
///   boundary (`text:soft-page-break` as laid out by the writer, or a paragraph style breaking
///   before or after); `table:table-cell` paragraphs are `tableCell`, and the first table of page 1
///   with two columns is the letterhead (left cell `letterheadLeft`, right `topRight`).
/// - ods: cells are `sheetCell`. odp: each `draw:page` is a page (the slide number); text in its
///   shapes is `textBox` as in `DrawingTextReader`, its notes `documentBody`.
/// - Frames, text boxes and shapes (`draw:frame`, `draw:text-box`, `draw:custom-shape`, …) are
///   `textBox`; notes (`text:note`) and annotations `documentBody` with no index; deleted text
///   of tracked changes and note citations are not read.
/// - Style: `fo:font-weight` bold, `fo:color` red, `fo:text-transform="uppercase"` (`.allCaps`),
///   `style:font-name` (through the font face) or `fo:font-family`, `fo:font-size`, and
///   `fo:border*` of a paragraph or cell style that draws something (`.bordered`), resolved from
///   the automatic style through `style:parent-style-name` and the family's default style.
final class ODFPartReader: XMLEventHandler {
    struct Paragraph {
        var buffer = ParagraphBuffer()
        var styleName: String?
        var page: Int?
    }

    struct Table {
        var columns = 0
        var column = 0
        var isFirstOfPageOne: Bool
    }

    struct Cell {
        var column: Int
        var span: Int
        var repeated: Int
        var bordered: Bool
    }

    let format: DocumentFormat
    let sheet: ODFStyleSheet
    let collector: UnitCollector
    private var automatic: [String: ODFStyle] = [:]

    // Style definitions being read.
    private var definition: (name: String?, style: ODFStyle)?
    private var inFontFaces = false

    // Where the text is.
    private var skipDepth = 0
    private var masterSection: TextUnit.Container?
    private var inMasterPage = false
    private var inBody = false
    private var noteDepth = 0
    private var drawDepth = 0
    private var presentationNotes = false
    private var paragraphs: [Paragraph] = []
    private var spans: [String?] = []
    private var tables: [Table] = []
    private var cells: [Cell] = []
    private var topLevelTables = 0
    private var page = 1
    private var slide = 0
    private var textSinceBoundary = true
    private var bodyIndex = 0

    static let shapes: Set<String> = [
        "draw:frame", "draw:text-box", "draw:custom-shape", "draw:rect", "draw:ellipse", "draw:circle", "draw:polygon",
        "draw:polyline", "draw:path", "draw:line", "draw:connector", "draw:caption", "draw:measure", "draw:regular-polygon",
    ]

    init(format: DocumentFormat, sheet: ODFStyleSheet, collector: UnitCollector) {
        self.format = format
        self.sheet = sheet
        self.collector = collector
    }

    private func boundary() {
        guard format == .odt, textSinceBoundary, masterSection == nil, !inMasterPage else { return }
        page += 1
        textSinceBoundary = false
    }

    func start(_ name: String, _ attributes: XMLAttributes) {
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        switch name {
        case "office:font-face-decls": inFontFaces = true
        case "office:automatic-styles": inAutomaticScope = true
        case "style:font-face" where inFontFaces:
            if let face = attributes["style:name"], let family = attributes["svg:font-family"] {
                sheet.fontFaces[face] = family.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
            }
        case "style:style":
            definition = (
                attributes["style:name"], ODFStyle(family: attributes["style:family"] ?? "", parent: attributes["style:parent-style-name"])
            )
        case "style:default-style":
            definition = (nil, ODFStyle(family: attributes["style:family"] ?? ""))
        case "style:text-properties", "style:paragraph-properties", "style:table-cell-properties":
            if definition != nil { readProperties(name, attributes) }
        case "office:body": inBody = true
        case "style:master-page": inMasterPage = true
        case "style:header", "style:header-first", "style:header-left": if inMasterPage { masterSection = .pageHeader }
        case "style:footer", "style:footer-first", "style:footer-left": if inMasterPage { masterSection = .pageFooter }
        case "text:tracked-changes", "text:note-citation", "dc:creator", "dc:date":
            skipDepth = 1
        case "presentation:notes" where inMasterPage:
            skipDepth = 1
        case "presentation:notes": presentationNotes = true
        case "text:note", "office:annotation": noteDepth += 1
        case "draw:page":
            slide += 1
        case "text:p", "text:h":
            let styleName = attributes["text:style-name"]
            if inBody, format == .odt, noteDepth == 0, drawDepth == 0, resolved(styleName, family: "paragraph").breakBefore {
                boundary()
            }
            paragraphs.append(Paragraph(styleName: styleName, page: page))
        case "text:span": spans.append(attributes["text:style-name"])
        case "text:s":
            // The matcher folds spaces (a wider gap only marks a word boundary in letter-spaced text): more than
            // 8 are not kept, so 22 bytes of XML never become 1,000 bytes of text.
            let count = min(max(1, attributes["text:c"].flatMap(Int.init) ?? 1), 8)
            append(String(repeating: " ", count: count))
        case "text:tab": append(" ")
        case "text:line-break": append("\n")
        case "text:soft-page-break": if inBody { boundary() }
        case "table:table":
            let first = tables.isEmpty && drawDepth == 0 && noteDepth == 0 && inBody && topLevelTables == 0 && page == 1
            tables.append(Table(isFirstOfPageOne: first))
        case "table:table-column":
            let repeated = min(attributes["table:number-columns-repeated"].flatMap(Int.init) ?? 1, 1 << 14)
            tables.indices.last.map { tables[$0].columns += max(1, repeated) }
        case "table:table-row": tables.indices.last.map { tables[$0].column = 0 }
        case "table:table-cell", "table:covered-table-cell":
            let span = min(max(1, attributes["table:number-columns-spanned"].flatMap(Int.init) ?? 1), 1 << 14)
            let repeated = min(max(1, attributes["table:number-columns-repeated"].flatMap(Int.init) ?? 1), 1 << 14)
            let bordered = resolved(attributes["table:style-name"], family: "table-cell").bordered ?? false
            cells.append(Cell(column: tables.last?.column ?? 0, span: span, repeated: repeated, bordered: bordered))
        default:
            if ODFPartReader.shapes.contains(name) { drawDepth += 1 }
        }
    }

    func end(_ name: String) {
        if skipDepth > 0 {
            skipDepth -= 1
            return
        }
        switch name {
        case "office:font-face-decls": inFontFaces = false
        case "style:style", "style:default-style":
            if let definition {
                if let styleName = definition.name {
                    // In styles.xml outside automatic styles, and every style of content.xml's own kind, by scope.
                    if inAutomaticScope { automatic[styleName] = definition.style } else { sheet.named[styleName] = definition.style }
                } else {
                    sheet.defaults[definition.style.family] = definition.style.properties
                }
            }
            definition = nil
        case "office:automatic-styles": inAutomaticScope = false
        case "office:body": inBody = false
        case "style:master-page": inMasterPage = false
        case "style:header", "style:header-first", "style:header-left", "style:footer", "style:footer-first", "style:footer-left":
            masterSection = nil
        case "presentation:notes": presentationNotes = false
        case "text:note", "office:annotation": noteDepth = max(0, noteDepth - 1)
        case "text:p", "text:h":
            guard let paragraph = paragraphs.popLast() else { return }
            emit(paragraph)
            if inBody, format == .odt, noteDepth == 0, drawDepth == 0, resolved(paragraph.styleName, family: "paragraph").breakAfter {
                boundary()
            }
        case "text:span": _ = spans.popLast()
        case "table:table":
            _ = tables.popLast()
            if tables.isEmpty, drawDepth == 0, inBody { topLevelTables += 1 }
        case "table:table-cell", "table:covered-table-cell":
            guard let cell = cells.popLast() else { return }
            tables.indices.last.map { tables[$0].column += cell.span * cell.repeated }
        default:
            if ODFPartReader.shapes.contains(name) { drawDepth = max(0, drawDepth - 1) }
        }
    }

    /// Styles defined inside `office:automatic-styles` belong to this part only.
    private var inAutomaticScope = false

    func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard let count = paragraphs.last?.buffer.bytes.count, collector.fits(count + text.count) else { return }
        paragraphs[paragraphs.count - 1].buffer.append(text, runStyle())
    }

    private func append(_ text: String) {
        guard let count = paragraphs.last?.buffer.bytes.count, collector.fits(count + text.utf8.count) else { return }
        paragraphs[paragraphs.count - 1].buffer.append(text, runStyle())
    }

    private var runCache: [String: RunStyle] = [:]

    private func runStyle() -> RunStyle {
        let paragraphStyle = paragraphs.last?.styleName
        let span = spans.last ?? nil
        let key = (paragraphStyle ?? "") + "\u{1}" + (span ?? "")
        if let hit = runCache[key] { return hit }
        var properties = resolved(paragraphStyle, family: "paragraph")
        if let span { properties.apply(resolved(span, family: "text")) }
        let run = RunStyle(
            bold: properties.bold ?? false,
            caps: properties.caps ?? false,
            red: properties.red ?? false,
            fontName: properties.fontName,
            fontSize: properties.fontSize
        )
        runCache[key] = run
        return run
    }

    /// A style's formatting: the family's default, then its ancestors root first, then its own.
    func resolved(_ name: String?, family: String) -> ODFProperties {
        var lineage: [ODFProperties] = []
        var next = name
        var seen: Set<String> = []
        var breaks = (before: false, after: false)
        while let current = next, lineage.count < 32, seen.insert(current).inserted {
            // A part's automatic style first; its parent is always a named style.
            guard let style = (lineage.isEmpty ? automatic[current] : nil) ?? sheet.named[current] else { break }
            if lineage.isEmpty { breaks = (style.properties.breakBefore, style.properties.breakAfter) }
            lineage.append(style.properties)
            next = style.parent
        }
        var result = sheet.defaults[family] ?? ODFProperties()
        for properties in lineage.reversed() { result.apply(properties) }
        result.breakBefore = breaks.before
        result.breakAfter = breaks.after
        return result
    }

    private func readProperties(_ element: String, _ attributes: XMLAttributes) {
        guard var style = definition?.style else { return }
        switch element {
        case "style:text-properties":
            if let weight = attributes["fo:font-weight"] {
                style.properties.bold = weight == "bold" || (Int(weight) ?? 0) >= 600
            }
            if let color = attributes["fo:color"] { style.properties.red = ColorHints.isRed(hex: color) }
            if let transform = attributes["fo:text-transform"] { style.properties.caps = transform == "uppercase" }
            // Small capitals show every letter as a capital too.
            if attributes["fo:font-variant"] == "small-caps" { style.properties.caps = true }
            if let face = attributes["style:font-name"] {
                style.properties.fontName = sheet.fontFaces[face] ?? face
            } else if let family = attributes["fo:font-family"] {
                style.properties.fontName = family.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
            }
            if let size = attributes["fo:font-size"], size.hasSuffix("pt"), let points = Double(size.dropLast(2)) {
                style.properties.fontSize = points
            }
        default:
            let sides = ["fo:border", "fo:border-top", "fo:border-bottom", "fo:border-left", "fo:border-right"]
            let drawn = sides.compactMap { attributes[$0] }.contains { ColorHints.drawsBorder($0) && !$0.hasPrefix("0pt") }
            if drawn { style.properties.bordered = true }
            if element == "style:paragraph-properties" {
                if attributes["fo:break-before"] == "page" { style.properties.breakBefore = true }
                if attributes["fo:break-after"] == "page" { style.properties.breakAfter = true }
            }
        }
        definition?.style = style
    }

    private func emit(_ paragraph: Paragraph) {
        guard !paragraph.buffer.isBlank, !collector.full else { return }
        var style = paragraph.buffer.style
        if resolved(paragraph.styleName, family: "paragraph").bordered == true || cells.last?.bordered == true {
            style.insert(.bordered)
        }
        let container: TextUnit.Container
        var unitPage: Int? = nil
        var region: TextUnit.Region? = nil
        var index: Int? = nil
        let slidePage = slide > 0 ? slide : nil
        if let section = masterSection {
            container = section
        } else if inMasterPage {
            // A presentation master's drawings repeat on every slide.
            container = .pageHeader
        } else if noteDepth > 0 {
            container = .documentBody
        } else if presentationNotes {
            container = .documentBody
            unitPage = slidePage
        } else if drawDepth > 0 {
            container = .textBox
            unitPage = format == .odt ? paragraph.page : slidePage
        } else if let cell = cells.last, let table = tables.last {
            switch format {
            case .ods: container = .sheetCell
            case .odt:
                container = .tableCell
                unitPage = paragraph.page
                index = bodyIndex
                bodyIndex += 1
                if tables.count == 1, table.isFirstOfPageOne, table.columns == 2, paragraph.page == 1 {
                    if cell.column == 0, cell.span == 1 { region = .letterheadLeft }
                    if cell.column == 1 { region = .topRight }
                }
            default:
                container = .tableCell
                unitPage = slidePage
            }
        } else if format == .odp {
            container = .textBox
            unitPage = slidePage
        } else {
            container = format == .ods ? .sheetCell : .documentBody
            if format == .odt {
                unitPage = paragraph.page
                index = bodyIndex
                bodyIndex += 1
            }
        }
        if inBody, format == .odt, masterSection == nil { textSinceBoundary = true }
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
