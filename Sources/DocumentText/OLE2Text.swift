public import SecrecyMarks

/// Text units from legacy Office files, OLE2 compound files ([MS-CFB]): Word 97–2003 documents
/// (`.doc`, a `WordDocument` stream, [MS-DOC]) and Excel 97–2003 workbooks (`.xls`, a `Workbook`
/// stream in BIFF8, or `Book` in BIFF5/7, [MS-XLS]). Pure Swift, no I/O, no recursion, bounded by
/// `ExtractionLimits` (sector chains walked with loop detection and capped by `maxSectors`).
///
/// What is read from a `.doc`: the main text (paragraphs; table cells, the first table's left
/// column on page 1 as the letterhead's; page 1 up to the first page break), the header story
/// (page headers and footers, told apart by PlcfHdd), text boxes (main and header ones),
/// footnotes, endnotes and comments; field instructions are dropped and their results kept. Each
/// unit's font, bold, caps, red and size are those of its first visible run (the paragraph's style
/// chain, then the run's CHPX), so legacy `.VnTime` / `VNI-Times` text reaches the matcher as its
/// characters read as Windows-1252 with the legacy font named. From an `.xls`: shared strings and
/// the cells showing them, inline and formula strings, page headers and footers (`&` codes
/// stripped, one unit per section), sheet names (metadata), each cell's font. From both, the
/// document properties (title, subject, keywords, comments, category, company, user-defined
/// properties such as `MSIP_Label_…` labels) as metadata units.
///
/// Not read (yet): a `.doc`'s character styles (sprmCIstd) and its fonts for non-ASCII text when
/// they differ from the ASCII one (rgFtc2), which page a header text box or a footnote is on,
/// table cells of nested tables told apart from their parents, pictures and embedded objects
/// (an embedded workbook in a `.doc` is a storage: the scanner's libclamav layers reach it), the
/// drawing layer of an `.xls` beyond its text boxes, charts, and PowerPoint 97–2003 files. Word
/// 6/95 documents are read as plain text and said incomplete.
///
/// Problems (the document was not read completely): `encrypted` (FIB fEncrypted, FILEPASS, an
/// encrypted OOXML package in a compound file), `cfb-loop`, `cfb-bad-sector`, `cfb-truncated`,
/// `cfb-stream-size`, `cfb-short-stream`, `cfb-too-long`, `cfb-bad-header`, `cfb-not-compound`,
/// `doc-…`, `xls-…`, `ole2-unknown` (a compound file with neither stream), `text-cap-reached`,
/// `input-too-large`.
///
/// - SeeAlso: [MS-CFB] Compound File Binary File Format; [MS-DOC] Word (.doc) Binary File Format;
///   [MS-XLS] Excel Binary File Format (.xls).
public enum OLE2Text {
    /// The application of a compound file, by the streams under its root.
    public enum Kind: String, Sendable, Hashable {
        case doc, xls
        /// An OOXML document encrypted with a password ([MS-OFFCRYPTO]: `EncryptionInfo` and `EncryptedPackage`).
        case encryptedPackage = "encrypted-package"
    }

    /// True when `bytes` start with the compound file signature.
    public static func isCompoundFile(_ bytes: some Collection<UInt8>) -> Bool { CompoundFile.isCompoundFile(bytes) }

    /// What the compound file in `bytes` holds, nil when it is not one or holds none of the known streams.
    public static func kind(of bytes: some Collection<UInt8>, limits: ExtractionLimits = ExtractionLimits()) -> Kind? {
        guard isCompoundFile(bytes) else { return nil }
        var failure: [String] = []
        guard let file = CompoundFile(Array(bytes.prefix(limits.maxInputBytes)), limits: limits, failure: &failure) else { return nil }
        return kind(of: file)
    }

    static func kind(of file: CompoundFile) -> Kind? {
        if file.hasStream(named: "WordDocument") { return .doc }
        if file.hasStream(named: "Workbook") || file.hasStream(named: "Book") { return .xls }
        if file.hasStream(named: "EncryptedPackage") { return .encryptedPackage }
        return nil
    }

    /// The text units of the `.doc` or `.xls` in `bytes` (told apart by its streams), and what stopped
    /// it from being read completely.
    public static func units(_ bytes: some Collection<UInt8>, limits: ExtractionLimits = ExtractionLimits()) -> ExtractedText {
        var problems: [String] = []
        let input: [UInt8]
        if bytes.count > limits.maxInputBytes {
            input = Array(bytes.prefix(limits.maxInputBytes))
            problems.append("input-too-large: only the first \(limits.maxInputBytes) bytes read")
        } else {
            input = Array(bytes)
        }
        var failure: [String] = []
        guard var file = CompoundFile(input, limits: limits, failure: &failure) else {
            return ExtractedText(problems: problems + failure)
        }
        var units: [TextUnit] = []
        switch kind(of: file) {
        case .doc:
            var reader = WordReader(word: file.stream(named: "WordDocument") ?? [], limits: limits)
            let (tableName, fibProblem) = reader.tableStreamName()
            if let fibProblem {
                reader.problem(fibProblem)
            } else if tableName == nil {
                reader.readOldText()
            } else if let tableName, let table = file.stream(named: tableName) {
                reader.read(table: table)
            } else {
                reader.problem("doc-no-table: the FIB names a \(tableName ?? "table") stream the file does not hold")
            }
            units = reader.units
            problems += file.problems + reader.problems
        case .xls:
            let biff8 = file.hasStream(named: "Workbook")
            var reader = ExcelReader(stream: file.stream(named: biff8 ? "Workbook" : "Book") ?? [], biff8: biff8, limits: limits)
            reader.read()
            units = reader.units
            problems += file.problems + reader.problems
        case .encryptedPackage:
            problems += file.problems + ["encrypted: an encrypted Office document (EncryptedPackage)"]
        case nil:
            problems += file.problems + ["ole2-unknown: a compound file with no WordDocument or Workbook stream"]
        }
        if kind(of: file) == .doc || kind(of: file) == .xls {
            // The document's properties (title, subject, user-defined labels) after its text.
            let used = units.reduce(0) { $0 + $1.text.utf8.count }
            let properties = PropertySets.units(&file, textBytes: limits.maxTextBytes - used, units: limits.maxUnits - units.count)
            units += properties.units
            if properties.capped, !problems.contains(where: { $0.hasPrefix("text-cap-reached:") }) {
                problems.append("text-cap-reached: the document properties past the text cap")
            }
        }
        return ExtractedText(units: units, problems: problems)
    }
}
