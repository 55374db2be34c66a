import Foundation
import SecrecyMarks

/// Collects the units of one package: the text and unit caps of `ExtractionLimits` are checked as
/// units arrive, and the first one reached stops every part reader (`full`).
final class UnitCollector {
    let limits: ExtractionLimits
    private(set) var units: [TextUnit] = []
    private(set) var textBytes = 0
    private(set) var full = false
    var problems: [String] = []

    init(limits: ExtractionLimits) { self.limits = limits }

    /// Says that one unit's text alone passed `maxTextBytes` (a paragraph of `text:s` spaces): the
    /// readers stop, so a paragraph buffer never grows past the text budget.
    func overflow() {
        guard !full else { return }
        full = true
        problems.append("text-cap-reached: one unit has more than \(limits.maxTextBytes) bytes of text")
    }

    /// False (and the collector full) when a buffer of `count` bytes is past the text budget.
    func fits(_ count: Int) -> Bool {
        if count > limits.maxTextBytes { overflow() }
        return !full
    }

    func add(_ unit: TextUnit) {
        guard !full else { return }
        let size = unit.text.utf8.count
        guard units.count < limits.maxUnits, textBytes + size <= limits.maxTextBytes else {
            full = true
            problems.append("text-cap-reached: more than \(limits.maxUnits) units or \(limits.maxTextBytes) bytes of text")
            return
        }
        textBytes += size
        units.append(unit)
    }
}

/// The style of one run of text, resolved.
struct RunStyle: Hashable {
    var bold = false
    var caps = false
    var red = false
    var fontName: String?
    var fontSize: Double?
}

/// One paragraph (or cell, line, text box paragraph) being collected, as UTF-8 bytes. Its style is
/// what all its visible runs share; its font and size are those of its first visible run (so
/// legacy `.VnTime` / `VNI-Times` text reaches the matcher with its font, as in `RTFText`). When
/// its runs mix a Unicode font and a legacy one, or two legacy encodings, the legacy runs are
/// converted and the font is the first Unicode run's (`LegacyRuns`).
struct ParagraphBuffer {
    var bytes: [UInt8] = []
    private var shared: TextUnit.Style?
    private var firstFont: String?
    private(set) var fontSize: Double?
    private var legacy = LegacyRuns()

    var isBlank: Bool { !bytes.contains { $0 > 0x20 } }

    mutating func append(_ text: UnsafeBufferPointer<UInt8>, _ run: RunStyle) {
        let start = bytes.count
        bytes.append(contentsOf: text)
        let visible = text.contains(where: { $0 > 0x20 })
        legacy.add(font: run.fontName, bytes: start..<bytes.count, visible: visible)
        // Only visible text decides the style: a bold space does not make a paragraph bold.
        guard visible else { return }
        var style: TextUnit.Style = []
        if run.bold { style.insert(.bold) }
        if run.caps { style.insert(.allCaps) }
        if run.red { style.insert(.red) }
        if let current = shared {
            shared = current.intersection(style)
        } else {
            shared = style
            firstFont = run.fontName
            fontSize = run.fontSize
        }
    }

    mutating func append(_ text: String, _ run: RunStyle) {
        var text = text
        text.withUTF8 { append($0, run) }
    }

    var style: TextUnit.Style { shared ?? [] }
    var fontName: String? { legacy.fontName(first: firstFont) }
    var text: String { legacy.converted(bytes) ?? String(decoding: bytes, as: UTF8.self) }
}

enum ColorHints {
    /// "FF0000", "C00000", "#e31b23": a red, as stamps are printed (red well above green and blue).
    static func isRed(hex: String) -> Bool {
        var digits = Substring(hex)
        if digits.hasPrefix("#") { digits = digits.dropFirst() }
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return false }
        let red = Int(value >> 16 & 0xFF)
        let green = Int(value >> 8 & 0xFF)
        let blue = Int(value & 0xFF)
        return red >= 0x99 && green * 2 <= red && blue * 2 <= red
    }

    /// Border values that draw nothing.
    static func drawsBorder(_ value: String?) -> Bool {
        guard let value else { return true }
        return !["nil", "none", "hidden", ""].contains(value.lowercased())
    }
}

/// Reads `_rels/*.rels` parts: relationship type (its last path segment) and resolved target.
final class RelationshipsReader: XMLEventHandler {
    private(set) var relationships: [(id: String, type: String, target: String)] = []
    let base: String

    /// `base` is the folder of the source part ("word/"), targets are resolved against it.
    init(base: String) { self.base = base }

    func start(_ name: String, _ attributes: XMLAttributes) {
        guard name == "rel:Relationship", let type = attributes["Type"], let target = attributes["Target"],
            attributes["TargetMode"] != "External"
        else { return }
        let kind = type.split(separator: "/").last.map(String.init) ?? type
        relationships.append((attributes["Id"] ?? "", kind, PackagePaths.resolve(target, against: base)))
    }

    func end(_ name: String) {}
    func characters(_ text: UnsafeBufferPointer<UInt8>) {}

    /// The relationships of `part` (its `_rels/NAME.rels`), empty when it has none. Read once per
    /// package: the package's own are asked for by the main part's lookup and by the properties'.
    static func of(_ part: String, in archive: PackageArchive) -> [(id: String, type: String, target: String)] {
        if let known = archive.relationships[part] { return known }
        let folder = PackagePaths.folder(of: part)
        let name = String(part.dropFirst(folder.count))
        let reader = RelationshipsReader(base: folder)
        archive.parse(folder + "_rels/" + name + ".rels", with: reader)
        archive.relationships[part] = reader.relationships
        return reader.relationships
    }
}

enum PackagePaths {
    /// "word/document.xml" → "word/"; "a.xml" → "".
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }

    /// A relationship target resolved to a package path: "/word/a.xml" is absolute, "../x" climbs.
    static func resolve(_ target: String, against base: String) -> String {
        var components: [Substring] = target.hasPrefix("/") ? [] : base.split(separator: "/")
        for component in target.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        return components.joined(separator: "/")
    }

    /// The number in "ppt/slides/slide12.xml" (12), for ordering parts by their number.
    static func number(in path: String) -> Int {
        let name = path.split(separator: "/").last ?? Substring(path)
        let digits = name.filter(\.isNumber)
        return Int(digits.prefix(9)) ?? 0
    }
}

extension DocumentFormat {
    /// The format of a file from libmagic's type and, for a zip libmagic did not name (python-docx
    /// files come out as `application/zip` or `application/octet-stream`), from the package's
    /// entries: an OOXML `[Content_Types].xml` with `word/document.xml`, `xl/workbook.xml` or
    /// `ppt/presentation.xml`, or an ODF `mimetype` entry. Cheap: reads the central directory and at
    /// most the small `mimetype` entry.
    ///
    /// - SeeAlso: ECMA-376 Part 2 §10.1.2 (content types); OASIS OpenDocument 1.3 Part 2 §3.3 (mimetype).
    public static func of(mimeType: String?, bytes: UnsafeRawBufferPointer) -> DocumentFormat? {
        if let known = of(mimeType: mimeType) { return known }
        // Only a zip (local header signature) is looked into.
        guard bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 else { return nil }
        guard let listing = PackageArchive.listing(bytes, limit: ExtractionLimits().maxEntries) else { return nil }
        let names = Set(listing.entries.map(\.path))
        if names.contains("[Content_Types].xml") {
            if names.contains("word/document.xml") { return .docx }
            if names.contains("xl/workbook.xml") { return .xlsx }
            if names.contains("ppt/presentation.xml") { return .pptx }
            // A main part elsewhere: the package relationship says which kind it is (a small part, read).
            var limits = ExtractionLimits()
            limits.maxInflatedBytes = 1 << 16
            guard let archive = PackageArchive(Array(bytes), limits: limits) else { return nil }
            for relationship in RelationshipsReader.of("", in: archive) where relationship.type == "officeDocument" {
                if relationship.target.hasPrefix("word/") { return .docx }
                if relationship.target.hasPrefix("xl/") { return .xlsx }
                if relationship.target.hasPrefix("ppt/") { return .pptx }
            }
            return nil
        }
        // ODF: the first entry is `mimetype`, stored (Part 2 §3.3); read straight from the input.
        guard let entry = listing.entries.first(where: { $0.path == "mimetype" }), entry.method == 0, entry.compressedSize <= 256,
            let range = PackageArchive.dataRange(entry, in: bytes)
        else { return nil }
        let type = String(decoding: bytes[range], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if type.hasPrefix("application/vnd.oasis.opendocument.text") { return .odt }
        if type.hasPrefix("application/vnd.oasis.opendocument.spreadsheet") { return .ods }
        if type.hasPrefix("application/vnd.oasis.opendocument.presentation") { return .odp }
        return nil
    }

    var isOOXML: Bool { self == .docx || self == .xlsx || self == .pptx }
    var isODF: Bool { self == .odt || self == .ods || self == .odp }
}

/// Opens a package for a reader: the input bound, the zip, the format check.
enum PackageInput {
    static func open(_ bytes: some Collection<UInt8>, limits: ExtractionLimits) -> (PackageArchive?, [String]) {
        guard bytes.count <= limits.maxInputBytes else {
            return (nil, ["input-too-large: \(bytes.count) bytes, more than \(limits.maxInputBytes)"])
        }
        guard let archive = PackageArchive(Array(bytes), limits: limits) else {
            return (nil, ["zip-error: not a readable zip archive"])
        }
        return (archive, [])
    }
}
