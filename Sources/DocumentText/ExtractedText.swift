public import SecrecyMarks

/// The text units an extractor read from one document, and what stopped it from reading all of
/// it. Every extractor (RTF, OOXML, ODF, OLE2, PDF, plain text, HTML) answers in this shape; a
/// document with problems gets a "not fully checked" finding, never "clean".
public struct ExtractedText: Sendable, Hashable {
    public var units: [TextUnit]
    /// Why the document was not read completely, one short line each (`"xml-too-deep:
    /// word/document.xml deeper than 256"`), in the order met. Empty: read completely.
    public var problems: [String]

    public init(units: [TextUnit] = [], problems: [String] = []) {
        self.units = units
        self.problems = problems
    }

    public var isComplete: Bool { problems.isEmpty }

    /// Adds `problem` to `problems` unless one of its kind (the code before its first `:`) is
    /// there already: one line per kind, since a hostile file could otherwise make millions.
    static func add(_ problem: String, to problems: inout [String]) {
        let code = problem.prefix(while: { $0 != ":" })
        if !problems.contains(where: { $0.hasPrefix(code + ":") }) { problems.append(problem) }
    }
}

/// Bounds shared by the extractors for one document (hostile input: each is checked on real
/// output, not on what headers declare).
public struct ExtractionLimits: Sendable, Hashable {
    /// Input bytes read; the rest is not.
    public var maxInputBytes: Int = 64 << 20
    /// UTF-8 bytes of text extracted from one document.
    public var maxTextBytes: Int = 16 << 20
    /// Units returned for one document.
    public var maxUnits: Int = 200_000
    /// XML element nesting (OOXML, ODF).
    public var maxXMLDepth: Int = 256
    /// Entries of a package (zip) looked at.
    public var maxEntries: Int = 10_000
    /// Bytes inflated from all entries of a package, counted from real output.
    public var maxInflatedBytes: Int = 256 << 20
    /// Inflated bytes per compressed byte for one entry past 1 MiB of output.
    public var maxRatio: Int = 200
    /// Sectors followed in one chain of a compound file (OLE2).
    public var maxSectors: Int = 1 << 20
    /// HTML element nesting kept (deeper elements are read as text of the deepest one kept).
    /// Browsers cap their tree near 512; long Gmail reply chains nest a few hundred deep.
    public var maxHTMLDepth: Int = 1_024

    public init() {}
}

/// The formats the extractors read, by the real type libmagic gives (and the OOXML / ODF package
/// structure, which libmagic names too).
public enum DocumentFormat: String, Sendable, Hashable, CaseIterable {
    case rtf, docx, xlsx, pptx, odt, ods, odp, doc, xls, pdf, text, csv, html
    /// A compound file (OLE2) libmagic did not name as Word or Excel: `OLE2Text` tells by its
    /// streams (a `.doc`, an `.xls`, an encrypted OOXML package, or something it does not read).
    case ole2

    /// The format of a file of real type `mimeType` (libmagic's), nil when no extractor reads it.
    public static func of(mimeType: String?) -> DocumentFormat? {
        switch mimeType {
        case "text/rtf", "application/rtf": .rtf
        case "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-word.document.macroEnabled.12",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
            "application/vnd.ms-word.template.macroEnabled.12":
            .docx
        case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-excel.sheet.macroEnabled.12",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
            "application/vnd.ms-excel.template.macroEnabled.12":
            .xlsx
        case "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
            "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
            "application/vnd.openxmlformats-officedocument.presentationml.template",
            "application/vnd.ms-powerpoint.slideshow.macroEnabled.12":
            .pptx
        case "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text-template": .odt
        case "application/vnd.oasis.opendocument.spreadsheet", "application/vnd.oasis.opendocument.spreadsheet-template": .ods
        case "application/vnd.oasis.opendocument.presentation", "application/vnd.oasis.opendocument.presentation-template":
            .odp
        case "application/msword": .doc
        case "application/vnd.ms-excel": .xls
        case "application/CDFV2", "application/x-ole-storage", "application/vnd.ms-office", "application/CDFV2-encrypted",
            "application/CDFV2-corrupt":
            .ole2
        case "application/pdf": .pdf
        case "text/plain": .text
        case "text/csv": .csv
        case "text/html": .html
        // Any other text (XML, a shell script, troff, vCard, a log) is read as plain text.
        case let type? where type.hasPrefix("text/"): .text
        default: nil
        }
    }
}

/// Reads a PDF's text in a limited helper process (a PDF engine on hostile input must not be able
/// to take the gateway down): implemented by the scanning layer's helper pool.
public protocol PDFTextReading: Sendable {
    /// Text units of the PDF in `bytes`; a helper that dies or runs out of time gives a problem,
    /// never an empty complete result.
    func read(_ bytes: UnsafeRawBufferPointer, limits: ExtractionLimits) -> ExtractedText
}
