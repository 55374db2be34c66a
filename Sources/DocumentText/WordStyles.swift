/// Formatting a Word style or run sets; nil: not set here (inherited).
struct WordProperties {
    var bold: Bool?
    var caps: Bool?
    var red: Bool?
    var fontName: String?
    var fontSize: Double?
    var bordered: Bool?

    /// `other`'s settings over these.
    mutating func apply(_ other: WordProperties) {
        if let value = other.bold { bold = value }
        if let value = other.caps { caps = value }
        if let value = other.red { red = value }
        if let value = other.fontName { fontName = value }
        if let value = other.fontSize { fontSize = value }
        if let value = other.bordered { bordered = value }
    }

    /// Reads one run property element (`w:b`, `w:caps`, `w:color`, `w:sz`, `w:rFonts`); false
    /// when `name` is none of them.
    mutating func readRunProperty(_ name: String, _ attributes: XMLAttributes) -> Bool {
        switch name {
        case "w:b": bold = WordProperties.isOn(attributes)
        // Small capitals show every letter as a capital too.
        case "w:caps", "w:smallCaps": caps = WordProperties.isOn(attributes)
        case "w:color": red = attributes["w:val"].map(ColorHints.isRed(hex:)) ?? false
        case "w:sz":
            if let value = attributes["w:val"].flatMap(Double.init), value > 0, value < 10_000 { fontSize = value / 2 }
        case "w:rFonts":
            // Legacy Vietnamese bytes are Latin-range characters: the hAnsi font shows them, ascii the rest.
            if let font = attributes["w:hAnsi"] ?? attributes["w:ascii"] { fontName = font }
        default: return false
        }
        return true
    }

    /// A toggle element: on unless `w:val` is 0, false or off.
    static func isOn(_ attributes: XMLAttributes) -> Bool {
        guard let value = attributes["w:val"]?.lowercased() else { return true }
        return !["0", "false", "off", "none"].contains(value)
    }
}

/// `word/styles.xml`: document defaults and styles by id, with their `w:basedOn` parents, so a
/// run's bold, capitals, colour, size and font (a `.VnTimeH` set only on a style) are resolved
/// the way Word shows them: defaults, then the paragraph style chain, then the character style
/// chain, then the run's own properties.
///
/// Not read (`skipsChildren`): the latent style exceptions (`w:latentStyles`: names and UI flags,
/// no formatting) and a table style's table, row and cell properties and conditional formatting
/// (`w:tblPr`, `w:trPr`, `w:tcPr`, `w:tblStylePr`): `WordPartReader` applies paragraph and
/// character styles, never table styles, and these are most of a template's styles part
/// (python-docx's default one is 349 KB, nearly all table styles).
///
/// - SeeAlso: ECMA-376 Part 1 §17.7 (styles), §17.7.2 (style hierarchy), §17.7.4.5
///   (`latentStyles`), §17.7.6 (table styles).
final class WordStyles: XMLEventHandler {
    struct Style {
        var basedOn: String?
        var properties = WordProperties()
    }

    private(set) var defaults = WordProperties()
    private(set) var styles: [String: Style] = [:]
    /// The paragraph style of paragraphs that name none (`w:default="1"`).
    private(set) var defaultParagraphStyle: String?

    // Parse state.
    private var current: (id: String, style: Style)?
    private var inDefaults = false
    private var inRunProperties = false
    private var inBorders = false
    private(set) var skipsChildren = false

    func start(_ name: String, _ attributes: XMLAttributes) {
        skipsChildren = false
        switch name {
        case "w:latentStyles", "w:tblPr", "w:trPr", "w:tcPr", "w:tblStylePr": skipsChildren = true
        case "w:docDefaults": inDefaults = true
        case "w:style":
            if let id = attributes["w:styleId"] {
                current = (id, Style())
                if attributes["w:type"] == "paragraph", attributes["w:default"].map({ $0 == "1" || $0 == "true" }) == true {
                    defaultParagraphStyle = id
                }
            }
        case "w:basedOn": current?.style.basedOn = attributes["w:val"]
        case "w:rPr": inRunProperties = true
        case "w:pBdr": inBorders = true
        case "w:top", "w:left", "w:bottom", "w:right", "w:start", "w:end", "w:between", "w:bar":
            if inBorders, ColorHints.drawsBorder(attributes["w:val"]) {
                if current != nil { current?.style.properties.bordered = true } else if inDefaults { defaults.bordered = true }
            }
        default:
            guard inRunProperties else { return }
            if current != nil {
                _ = current?.style.properties.readRunProperty(name, attributes)
            } else if inDefaults {
                _ = defaults.readRunProperty(name, attributes)
            }
        }
    }

    func end(_ name: String) {
        switch name {
        case "w:docDefaults": inDefaults = false
        case "w:style":
            if let current, styles[current.id] == nil { styles[current.id] = current.style }
            current = nil
        case "w:rPr": inRunProperties = false
        case "w:pBdr": inBorders = false
        default: break
        }
    }

    func characters(_ text: UnsafeBufferPointer<UInt8>) {}

    /// The properties of style `id` with its parents', root first (a loop or a chain longer than 32 is cut).
    func chain(_ id: String?) -> WordProperties {
        var lineage: [WordProperties] = []
        var next = id
        var seen: Set<String> = []
        while let name = next, lineage.count < 32, seen.insert(name).inserted, let style = styles[name] {
            lineage.append(style.properties)
            next = style.basedOn
        }
        var result = WordProperties()
        for properties in lineage.reversed() { result.apply(properties) }
        return result
    }

    private var cache: [String: WordProperties] = [:]

    /// Defaults, paragraph style chain, character style chain (the part a run does not set itself).
    func inherited(paragraphStyle: String?, runStyle: String?) -> WordProperties {
        let key = (paragraphStyle ?? "") + "\u{1}" + (runStyle ?? "")
        if let hit = cache[key] { return hit }
        var result = defaults
        result.apply(chain(paragraphStyle ?? defaultParagraphStyle))
        if let runStyle { result.apply(chain(runStyle)) }
        // Borders are a paragraph's, not a run's.
        result.bordered = chain(paragraphStyle ?? defaultParagraphStyle).bordered
        cache[key] = result
        return result
    }
}
