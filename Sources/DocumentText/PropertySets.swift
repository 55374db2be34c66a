import SecrecyMarks
import VietText

/// The document properties of a compound file ([MS-OLEPS] property set streams): the title,
/// subject, keywords and comments of `\u{5}SummaryInformation`, the category and company of
/// `\u{5}DocumentSummaryInformation`, and its user-defined properties (where labelling tools
/// put `MSIP_Label_…` and e-office systems an "Độ mật" field), as metadata units
/// ("name: value" for a user-defined one). Bounded by the stream: every offset is checked.
///
/// - SeeAlso: [MS-OLEPS] Object Linking and Embedding (OLE) Property Set Data Structures, 2.21
///   (PropertySetStream), 2.20 (PropertySet), 2.17 (Dictionary), 2.5 (CodePageString);
///   [MS-OSHARED] 2.3.3.2 (the SummaryInformation and DocumentSummaryInformation properties).
enum PropertySets {
    static let summary = "\u{5}SummaryInformation"
    static let documentSummary = "\u{5}DocumentSummaryInformation"

    /// Property identifiers read from SummaryInformation: title, subject, keywords, comments.
    static let summaryProperties: Set<Int> = [2, 3, 5, 6]
    /// From DocumentSummaryInformation's first set: category, manager, company.
    static let documentSummaryProperties: Set<Int> = [2, 14, 15]

    /// The metadata units, at most `maxUnits` of them and `maxBytes` of text (`capped` when more were there).
    static func units(_ file: inout CompoundFile, textBytes maxBytes: Int, units maxUnits: Int) -> (units: [TextUnit], capped: Bool) {
        var found: [String] = []
        if let stream = file.stream(named: summary) {
            for set in propertySets(stream).prefix(1) { found += values(stream, set, wanted: summaryProperties).map(\.value) }
        }
        if let stream = file.stream(named: documentSummary) {
            let sets = propertySets(stream)
            if let first = sets.first { found += values(stream, first, wanted: documentSummaryProperties).map(\.value) }
            // The second set holds the user-defined properties, named by its dictionary.
            if sets.count > 1 {
                let names = dictionary(stream, sets[1])
                for (id, value) in values(stream, sets[1], wanted: nil) where id >= 2 {
                    if let name = names[id] { found.append("\(name): \(value)") }
                }
            }
        }
        var units: [TextUnit] = []
        var bytes = 0
        for text in found {
            let text = VietConverter.nfc(text.trimmingWhitespace())
            guard !text.allSatisfy(\.isWhitespace) else { continue }
            bytes += text.utf8.count
            guard bytes <= maxBytes, units.count < maxUnits else { return (units, true) }
            units.append(TextUnit(text, container: .metadata))
        }
        return (units, false)
    }

    static func u16(_ bytes: [UInt8], _ offset: Int) -> Int { Int(CompoundFile.u16(bytes, offset) ?? 0) }
    static func u32(_ bytes: [UInt8], _ offset: Int) -> Int { Int(CompoundFile.u32(bytes, offset) ?? 0) }

    /// The offsets of the property sets in the stream.
    static func propertySets(_ stream: [UInt8]) -> [Int] {
        guard stream.count >= 48, u16(stream, 0) == 0xFFFE else { return [] }
        let count = min(u32(stream, 24), 2)
        return (0..<count).map { u32(stream, 28 + 20 * $0 + 16) }.filter { $0 > 0 && $0 < stream.count }
    }

    /// The property set's code page (property 1), 1252 when absent.
    static func codePage(_ stream: [UInt8], _ set: Int) -> Int {
        for (id, offset) in entries(stream, set) where id == 1 {
            if u16(stream, offset) == 0x0002 { return u16(stream, offset + 4) }
        }
        return 1252
    }

    static func entries(_ stream: [UInt8], _ set: Int) -> [(id: Int, offset: Int)] {
        let size = u32(stream, set)
        let count = u32(stream, set + 4)
        guard size >= 8, set + size <= stream.count, count <= (size - 8) / 8 else { return [] }
        return (0..<count).compactMap { index in
            let id = u32(stream, set + 8 + 8 * index)
            let offset = u32(stream, set + 12 + 8 * index)
            return offset >= 8 && offset < size ? (id, set + offset) : nil
        }
    }

    static func decode(_ bytes: ArraySlice<UInt8>, codePage: Int) -> String {
        var bytes = Array(bytes)
        switch codePage {
        case 1200:
            var units: [UInt16] = []
            for index in stride(from: 0, to: bytes.count - 1, by: 2) { units.append(UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8) }
            while units.last == 0 { units.removeLast() }
            return String(decoding: units, as: UTF16.self)
        default:
            while bytes.last == 0 { bytes.removeLast() }
            if codePage == 65001 { return String(decoding: bytes, as: UTF8.self) }
            if codePage == 1258 { return VietConverter.toUnicode(bytes, from: .cp1258) }
            // Other code pages as Windows-1252: legacy TCVN3 / VNI bytes stay as the matcher expects.
            var scalars = String.UnicodeScalarView()
            for byte in bytes { scalars.append(Windows1252.scalar(byte)) }
            return String(scalars)
        }
    }

    /// The string properties of the set (VT_LPSTR, VT_LPWSTR), those in `wanted` or all.
    static func values(_ stream: [UInt8], _ set: Int, wanted: Set<Int>?) -> [(id: Int, value: String)] {
        let page = codePage(stream, set)
        var found: [(id: Int, value: String)] = []
        for (id, offset) in entries(stream, set) where wanted?.contains(id) ?? true {
            let type = u16(stream, offset)
            let length = u32(stream, offset + 4)
            let start = offset + 8
            switch type {
            case 0x001E:  // VT_LPSTR: a byte count, in the set's code page
                guard length <= stream.count - start else { continue }
                found.append((id, decode(stream[start..<(start + length)], codePage: page)))
            case 0x001F:  // VT_LPWSTR: a character count, UTF-16
                guard length <= (stream.count - start) / 2 else { continue }
                found.append((id, decode(stream[start..<(start + 2 * length)], codePage: 1200)))
            default:
                continue
            }
        }
        return found
    }

    /// The names of the user-defined properties (the dictionary, property 0).
    static func dictionary(_ stream: [UInt8], _ set: Int) -> [Int: String] {
        let page = codePage(stream, set)
        guard let offset = entries(stream, set).first(where: { $0.id == 0 })?.offset else { return [:] }
        var names: [Int: String] = [:]
        var position = offset + 4
        for _ in 0..<min(u32(stream, offset), 10_000) {
            let id = u32(stream, position)
            let length = u32(stream, position + 4)
            let start = position + 8
            let bytes = page == 1200 ? 2 * length : length
            guard length >= 0, bytes <= stream.count - start else { break }
            names[id] = decode(stream[start..<(start + bytes)], codePage: page)
            // Unicode names are padded to a multiple of 4 bytes.
            position = start + (page == 1200 ? (bytes + 3) / 4 * 4 : bytes)
        }
        return names
    }
}
