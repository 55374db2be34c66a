import Foundation
import SecrecyMarks

/// Text units from Office Open XML packages: Word (docx, docm, dotx), Excel (xlsx, xlsm) and
/// PowerPoint (pptx, pptm). Pure, no I/O. The zip is read in memory with the bounds of
/// `ExtractionLimits` counted on real inflated output (`zip-bomb: …`), each XML part streamed
/// through expat with DTDs refused and nesting capped (`xml-dtd: …`, `xml-too-deep: …`,
/// `xml-error: …`); a problem leaves the units read so far and says why the rest is not.
///
/// What is read:
/// - docx: the main document (`WordPartReader`: paragraphs, the letterhead table, text boxes
///   once, frames), every header and footer, footnotes, endnotes, comments, with styles resolved
///   through `word/styles.xml`; core and custom properties (`MetadataReader`).
/// - xlsx: shared strings, inline / formula strings of every sheet and cell comments as `sheetCell`
///   (the font of a shared string's first run is kept, so a `.VnTime` workbook is converted);
///   sheet headers and footers (`&L`, `&C`, `&R` sections, codes stripped) as `pageHeader` /
///   `pageFooter`; text boxes and shapes of a sheet's drawings as `textBox` (no page).
/// - pptx: every slide in presentation order (`DrawingTextReader`), slide layouts and masters,
///   notes.
///
/// Parts are found through the package relationships (`_rels/.rels`, then the main part's), with
/// the conventional names as a fallback for a package that has none.
///
/// - SeeAlso: ECMA-376 5th edition, Office Open XML File Formats, Parts 1–3; ISO/IEC 29500.
public enum OOXMLText {
    public static func units(
        _ bytes: some Collection<UInt8>,
        format: DocumentFormat,
        limits: ExtractionLimits = ExtractionLimits()
    ) -> ExtractedText {
        let (opened, problems) = PackageInput.open(bytes, limits: limits)
        guard let archive = opened else { return ExtractedText(units: [], problems: problems) }
        let collector = UnitCollector(limits: limits)
        switch format {
        case .docx: readWord(archive, collector)
        case .xlsx: readWorkbook(archive, collector)
        case .pptx: readPresentation(archive, collector)
        default:
            return ExtractedText(units: [], problems: ["unsupported-format: \(format.rawValue) is not an OOXML format"])
        }
        readProperties(archive, collector)
        return ExtractedText(units: collector.units, problems: archive.problems + collector.problems)
    }

    public static func units(
        _ bytes: UnsafeRawBufferPointer,
        format: DocumentFormat,
        limits: ExtractionLimits = ExtractionLimits()
    ) -> ExtractedText {
        units(bytes.bindMemory(to: UInt8.self), format: format, limits: limits)
    }

    /// The main part (`officeDocument` relationship of the package), or the conventional name.
    static func mainPart(_ archive: PackageArchive, fallback: String) -> String {
        for relationship in RelationshipsReader.of("", in: archive) where relationship.type == "officeDocument" {
            if archive.entries[relationship.target] != nil { return relationship.target }
        }
        return fallback
    }

    /// Targets of `part`'s relationships of `type`, in relationship order (once each), or the entries
    /// whose names match the conventional `prefix`…`.xml` when the part has no relationships.
    static func related(
        _ part: String,
        _ type: String,
        _ relationships: [(id: String, type: String, target: String)],
        _ archive: PackageArchive,
        prefix: String
    ) -> [String] {
        var seen: Set<String> = []
        var targets: [String] = []
        for relationship in relationships where relationship.type == type && seen.insert(relationship.target).inserted {
            if archive.entries[relationship.target] != nil { targets.append(relationship.target) }
        }
        if relationships.isEmpty {
            targets = archive.paths.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".xml") && !$0.contains("/_rels/") }
                .sorted { PackagePaths.number(in: $0) < PackagePaths.number(in: $1) }
        }
        return targets
    }

    static func readWord(_ archive: PackageArchive, _ collector: UnitCollector) {
        let main = mainPart(archive, fallback: "word/document.xml")
        let folder = PackagePaths.folder(of: main)
        let relationships = RelationshipsReader.of(main, in: archive)
        let styles = WordStyles()
        for part in related(main, "styles", relationships, archive, prefix: folder + "styles") {
            archive.parse(part, with: styles)
        }
        let done = { collector.full }
        for part in related(main, "header", relationships, archive, prefix: folder + "header") {
            archive.parse(part, with: WordPartReader(styles: styles, kind: .header, collector: collector), stopWhen: done)
        }
        archive.parse(main, with: WordPartReader(styles: styles, kind: .body, collector: collector), stopWhen: done)
        for part in related(main, "footer", relationships, archive, prefix: folder + "footer") {
            archive.parse(part, with: WordPartReader(styles: styles, kind: .footer, collector: collector), stopWhen: done)
        }
        for type in ["footnotes", "endnotes", "comments"] {
            for part in related(main, type, relationships, archive, prefix: folder + type) {
                archive.parse(part, with: WordPartReader(styles: styles, kind: .notes, collector: collector), stopWhen: done)
            }
        }
    }

    static func readWorkbook(_ archive: PackageArchive, _ collector: UnitCollector) {
        let main = mainPart(archive, fallback: "xl/workbook.xml")
        let folder = PackagePaths.folder(of: main)
        let relationships = RelationshipsReader.of(main, in: archive)
        let done = { collector.full }
        for part in related(main, "sharedStrings", relationships, archive, prefix: folder + "sharedStrings") {
            archive.parse(part, with: SpreadsheetTextReader(collector: collector), stopWhen: done)
        }
        let sheets = related(main, "worksheet", relationships, archive, prefix: folder + "worksheets/sheet")
        for part in sheets {
            archive.parse(part, with: SpreadsheetTextReader(collector: collector), stopWhen: done)
        }
        // A sheet's comments (cell notes), and the text boxes and shapes of its drawings: a stamp can be a box
        // drawn over the sheet.
        for sheet in sheets {
            for relationship in RelationshipsReader.of(sheet, in: archive) {
                switch relationship.type {
                case "comments":
                    archive.parse(relationship.target, with: SpreadsheetTextReader(collector: collector), stopWhen: done)
                case "drawing":
                    let reader = DrawingTextReader(mode: .slide, page: nil, collector: collector)
                    archive.parse(relationship.target, with: reader, stopWhen: done)
                default: break
                }
            }
        }
    }

    static func readPresentation(_ archive: PackageArchive, _ collector: UnitCollector) {
        let main = mainPart(archive, fallback: "ppt/presentation.xml")
        let folder = PackagePaths.folder(of: main)
        let relationships = RelationshipsReader.of(main, in: archive)
        let done = { collector.full }
        // Slides in the order of the presentation's slide list; its rIds name the relationships.
        let order = SlideListReader()
        archive.parse(main, with: order)
        var slides: [String] = []
        var seen: Set<String> = []
        for id in order.ids {
            if let relationship = relationships.first(where: { $0.id == id && $0.type == "slide" }),
                archive.entries[relationship.target] != nil, seen.insert(relationship.target).inserted
            {
                slides.append(relationship.target)
            }
        }
        if slides.isEmpty { slides = related(main, "slide", relationships, archive, prefix: folder + "slides/slide") }
        // Masters and layouts repeat on every slide they lay out: read like a page header.
        let masters = related(main, "slideMaster", relationships, archive, prefix: folder + "slideMasters/slideMaster")
        var layouts: [String] = []
        for master in masters {
            archive.parse(master, with: DrawingTextReader(mode: .master, page: nil, collector: collector), stopWhen: done)
            let masterRelationships = RelationshipsReader.of(master, in: archive)
            for layout in masterRelationships where layout.type == "slideLayout" && !layouts.contains(layout.target) {
                layouts.append(layout.target)
            }
        }
        for layout in layouts {
            archive.parse(layout, with: DrawingTextReader(mode: .master, page: nil, collector: collector), stopWhen: done)
        }
        for (number, slide) in slides.enumerated() {
            archive.parse(slide, with: DrawingTextReader(mode: .slide, page: number + 1, collector: collector), stopWhen: done)
            for notes in RelationshipsReader.of(slide, in: archive) where notes.type == "notesSlide" {
                archive.parse(notes.target, with: DrawingTextReader(mode: .notes, page: number + 1, collector: collector), stopWhen: done)
            }
        }
    }

    static func readProperties(_ archive: PackageArchive, _ collector: UnitCollector) {
        let package = RelationshipsReader.of("", in: archive)
        var parts = package.filter { $0.type == "core-properties" || $0.type == "custom-properties" }.map(\.target)
        if parts.isEmpty { parts = ["docProps/core.xml", "docProps/custom.xml"] }
        for part in parts {
            archive.parse(part, with: MetadataReader(collector: collector), stopWhen: { collector.full })
        }
    }
}

/// `p:sldIdLst`'s relationship ids, in slide order.
final class SlideListReader: XMLEventHandler {
    private(set) var ids: [String] = []

    func start(_ name: String, _ attributes: XMLAttributes) {
        guard name == "p:sldId" else { return }
        for pair in attributes.pairs where pair.name.hasSuffix("}id") || pair.name == "r:id" {
            ids.append(pair.value)
        }
    }

    func end(_ name: String) {}
    func characters(_ text: UnsafeBufferPointer<UInt8>) {}
}

/// SpreadsheetML shared strings (`x:si`: one unit each, its phonetic runs skipped) and sheets:
/// inline strings (`t="inlineStr"`) and formula string results (`t="str"`) as `sheetCell`, the
/// header and footer (`x:oddHeader`, `x:evenHeader`, `x:firstHeader` and footers) as
/// `pageHeader` / `pageFooter`, one unit per `&L` / `&C` / `&R` section.
///
/// - SeeAlso: ECMA-376 Part 1 §18.4 (shared strings), §18.3.1.4 (cells), §18.3.1.46 (header and
///   footer codes).
final class SpreadsheetTextReader: XMLEventHandler {
    let collector: UnitCollector
    private var buffer: ParagraphBuffer?
    private var collecting = false
    private var skipDepth = 0
    private var headerFooter: TextUnit.Container?
    private var cellType: String?
    private var run = RunStyle()
    private var inRunProperties = false

    init(collector: UnitCollector) { self.collector = collector }

    func start(_ name: String, _ attributes: XMLAttributes) {
        if skipDepth > 0 {
            skipDepth += 1
            return
        }
        switch name {
        case "x:rPh", "x:phoneticPr": skipDepth = 1
        case "x:si", "x:is", "x:text": buffer = ParagraphBuffer()
        case "x:r": run = RunStyle()
        case "x:rPr": inRunProperties = true
        case "x:rFont" where inRunProperties: run.fontName = attributes["val"]
        case "x:b" where inRunProperties: run.bold = attributes["val"].map { $0 != "0" && $0 != "false" } ?? true
        case "x:color" where inRunProperties:
            if let rgb = attributes["rgb"] { run.red = ColorHints.isRed(hex: String(rgb.suffix(6))) }
        case "x:sz" where inRunProperties: run.fontSize = attributes["val"].flatMap(Double.init)
        case "x:t": collecting = buffer != nil
        case "x:c": cellType = attributes["t"]
        case "x:v" where cellType == "str":
            buffer = ParagraphBuffer()
            collecting = true
        case "x:oddHeader", "x:evenHeader", "x:firstHeader":
            headerFooter = .pageHeader
            buffer = ParagraphBuffer()
            collecting = true
        case "x:oddFooter", "x:evenFooter", "x:firstFooter":
            headerFooter = .pageFooter
            buffer = ParagraphBuffer()
            collecting = true
        default: break
        }
    }

    func end(_ name: String) {
        if skipDepth > 0 {
            skipDepth -= 1
            return
        }
        switch name {
        case "x:rPr": inRunProperties = false
        case "x:r": run = RunStyle()
        case "x:t": if headerFooter == nil, cellType != "str" { collecting = false }
        case "x:si", "x:is", "x:text", "x:v":
            guard let paragraph = buffer, name != "x:v" || cellType == "str" else { return }
            if !paragraph.isBlank {
                collector.add(
                    TextUnit(
                        paragraph.text,
                        container: .sheetCell,
                        style: paragraph.style,
                        fontName: paragraph.fontName,
                        fontSize: paragraph.fontSize
                    )
                )
            }
            buffer = nil
            collecting = false
        case "x:c": cellType = nil
        case "x:oddHeader", "x:evenHeader", "x:firstHeader", "x:oddFooter", "x:evenFooter", "x:firstFooter":
            if let paragraph = buffer, let container = headerFooter {
                for section in HeaderFooterCodes.sections(paragraph.text) {
                    collector.add(
                        TextUnit(
                            section.text,
                            container: container,
                            style: section.bold ? .bold : [],
                            fontName: section.fontName,
                            fontSize: section.fontSize
                        )
                    )
                }
            }
            buffer = nil
            collecting = false
            headerFooter = nil
        default: break
        }
    }

    func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard collecting, let count = buffer?.bytes.count, collector.fits(count + text.count) else { return }
        buffer?.append(text, run)
    }
}

/// Spreadsheet header and footer text: `&L`, `&C`, `&R` start the left, centre and right
/// sections; `&"font,style"`, `&NN` (size), `&K…` (colour), `&B`, `&I`, `&U`, `&E`, `&S`, `&X`,
/// `&Y` (formatting) and `&P`, `&N`, `&D`, `&T`, `&F`, `&A`, `&Z`, `&G` (fields) are not text;
/// `&&` is an ampersand.
///
/// - SeeAlso: ECMA-376 Part 1 §18.3.1.46 (`oddHeader`), §18.3.1.36 (header and footer formatting codes).
enum HeaderFooterCodes {
    struct Section: Equatable {
        var text = ""
        var fontName: String?
        var fontSize: Double?
        var bold = false
    }

    static func sections(_ value: String) -> [Section] {
        var sections: [Section] = []
        var current = Section()
        var characters = Substring(value)
        func flush() {
            if current.text.contains(where: { !$0.isWhitespace }) {
                current.text = current.text.trimmingCharacters(in: .whitespaces)
                sections.append(current)
            }
            current = Section()
        }
        while let character = characters.first {
            characters = characters.dropFirst()
            guard character == "&", let code = characters.first else {
                current.text.append(character)
                continue
            }
            characters = characters.dropFirst()
            switch code {
            case "&": current.text.append("&")
            case "L", "C", "R": flush()
            case "\"":
                let spec = characters.prefix(while: { $0 != "\"" })
                characters = characters.dropFirst(spec.count + 1)
                let parts = spec.split(separator: ",", maxSplits: 1)
                if let font = parts.first, font != "-" { current.fontName = String(font) }
                if parts.count > 1, parts[1].localizedLowercase.contains("bold") { current.bold = true }
            case "K":
                let color = characters.prefix(while: { $0.isHexDigit || $0 == "+" || $0 == "-" }).prefix(6)
                characters = characters.dropFirst(color.count)
            case "B": current.bold.toggle()
            case "P", "N":
                // "&P+1": a page number and an offset.
                if let sign = characters.first, sign == "+" || sign == "-" {
                    characters = characters.dropFirst()
                    characters = characters.drop(while: \.isNumber)
                }
            default:
                if code.isNumber {
                    let digits = String(code) + characters.prefix(while: \.isNumber)
                    characters = characters.dropFirst(digits.count - 1)
                    current.fontSize = Double(digits)
                }
            // Other codes (&I, &U, &D, &T, &F, &A, &Z, &G, …) carry no text.
            }
        }
        flush()
        return sections
    }
}
