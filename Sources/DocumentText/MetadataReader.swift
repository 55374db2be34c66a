import SecrecyMarks

/// Document properties as `metadata` units: what labelling tools and authors write there is
/// supporting evidence (a Microsoft Purview label's name, a "Độ mật" custom property, keywords).
///
/// - OOXML `docProps/core.xml`: title, subject, keywords, category, content status, description.
/// - OOXML `docProps/custom.xml`: every property as "name: value"; a `MSIP_Label_…_Name` (the
///   label's display name) also as its value alone.
/// - ODF `meta.xml`: title, subject, description, each keyword, and user-defined properties as
///   "name: value".
///
/// - SeeAlso: ECMA-376 Part 2 §11 (core properties); Part 1 §22.3 (custom properties); OASIS
///   OpenDocument 1.3 Part 3 §4 (metadata elements).
final class MetadataReader: XMLEventHandler {
    static let textElements: Set<String> = [
        "dc:title", "dc:subject", "dc:description", "cp:keywords", "cp:category", "cp:contentStatus", "meta:keyword",
    ]

    let collector: UnitCollector
    private var buffer: [UInt8]?
    private var label: String?
    private var propertyName: String?
    private var depth = 0

    init(collector: UnitCollector) { self.collector = collector }

    func start(_ name: String, _ attributes: XMLAttributes) {
        depth += 1
        if MetadataReader.textElements.contains(name) {
            buffer = []
            label = nil
        } else if name == "op:property" {
            propertyName = attributes["name"]
        } else if name == "meta:user-defined" {
            buffer = []
            label = attributes["meta:name"]
        } else if propertyName != nil, name.hasPrefix("vt:") {
            buffer = []
            label = propertyName
        }
    }

    func end(_ name: String) {
        depth -= 1
        if name == "op:property" { propertyName = nil }
        guard let bytes = buffer else { return }
        if MetadataReader.textElements.contains(name) || name == "meta:user-defined" || name.hasPrefix("vt:") {
            buffer = nil
            let value = String(decoding: bytes, as: UTF8.self)
            guard value.contains(where: { !$0.isWhitespace }) else { return }
            if let label {
                collector.add(TextUnit(label + ": " + value, container: .metadata))
                if label.hasPrefix("MSIP_Label_"), label.hasSuffix("_Name") {
                    collector.add(TextUnit(value, container: .metadata))
                }
            } else {
                collector.add(TextUnit(value, container: .metadata))
            }
        }
    }

    func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard buffer != nil, (buffer?.count ?? 0) < 1 << 16 else { return }
        buffer?.append(contentsOf: text)
    }
}
