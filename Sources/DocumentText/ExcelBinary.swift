import SecrecyMarks
import VietText

/// Reads an Excel 97–2003 workbook stream (BIFF8, and BIFF5/7 strings in the `Book` stream) into
/// text units: the shared string table (SST, with its CONTINUE records), the cells that show
/// strings (LABELSST, LABEL, RSTRING, a FORMULA's STRING result), the sheets' page headers and
/// footers (HEADER / FOOTER, their `&` codes stripped, one unit per section), the sheet names
/// (BOUNDSHEET, as metadata), and for each cell its font (XF → FONT: name, bold, red, size).
///
/// - SeeAlso: [MS-XLS] Excel Binary File Format, 2.4 (records), 2.5.293 (XLUnicodeRichExtendedString),
///   2.5.294 (XLUnicodeString), 2.4.58 (CONTINUE), 2.2.4 (continuing strings), 2.4.136 (HEADER).
struct ExcelReader {
    struct Font {
        var name: String
        var bold: Bool
        var red: Bool
        var points: Double
    }

    let stream: [UInt8]
    let limits: ExtractionLimits
    /// BIFF8 (Unicode strings) rather than BIFF5/7 (8-bit strings).
    let biff8: Bool
    var units: [TextUnit] = []
    var problems: [String] = []
    var stopped = false
    var textBytes = 0
    var emittedBytes = 0

    var sst: [String] = []
    var codePage = 1252
    var fonts: [Font] = []
    var xfFonts: [Int] = []
    var sheet = 0
    var cellIndex = 0
    /// A FORMULA whose string result follows in a STRING record.
    var pendingFormula: Int?

    init(stream: [UInt8], biff8: Bool, limits: ExtractionLimits) {
        self.stream = stream
        self.biff8 = biff8
        self.limits = limits
    }

    mutating func problem(_ text: String) {
        ExtractedText.add(text, to: &problems)
    }

    func u16(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> Int {
        let at = bytes.startIndex + offset
        guard offset >= 0, at + 2 <= bytes.endIndex else { return 0 }
        return Int(bytes[at]) | Int(bytes[at + 1]) << 8
    }

    func u32(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> Int {
        u16(bytes, offset) | u16(bytes, offset + 2) << 16
    }

    mutating func read() {
        var position = 0
        var records = 0
        var sawBOF = false
        while position + 4 <= stream.count, !stopped {
            let type = Int(stream[position]) | Int(stream[position + 1]) << 8
            let length = Int(stream[position + 2]) | Int(stream[position + 3]) << 8
            let data = position + 4
            guard data + length <= stream.count else {
                problem("xls-truncated: record 0x\(String(type, radix: 16)) runs past the end of the stream")
                break
            }
            position = data + length
            records += 1
            let body = stream[data..<(data + length)]
            if !sawBOF {
                guard type == 0x0809 || type == 0x0409 || type == 0x0209 || type == 0x0009 else {
                    problem("xls-bad-stream: the workbook stream does not start with BOF")
                    return
                }
                sawBOF = true
            }
            switch type {
            case 0x002F:  // FILEPASS
                problem("encrypted: the workbook is encrypted (FILEPASS)")
                return
            case 0x0809:  // BOF: a sheet's substream counts from 1
                let kind = u16(body, 2)
                if kind == 0x0010 || kind == 0x0020 || kind == 0x0040 { sheet += 1 }
            case 0x00FC:  // SST, continued by the CONTINUE records that follow it
                var segments = [body]
                var next = position
                while next + 4 <= stream.count, Int(stream[next]) | Int(stream[next + 1]) << 8 == 0x003C {
                    let continued = Int(stream[next + 2]) | Int(stream[next + 3]) << 8
                    guard next + 4 + continued <= stream.count else { break }
                    segments.append(stream[(next + 4)..<(next + 4 + continued)])
                    next += 4 + continued
                }
                position = next
                readSST(segments)
            case 0x00FD:  // LABELSST
                let index = u32(body, 6)
                if index < sst.count {
                    cell(sst[index], xf: u16(body, 4))
                } else {
                    problem("xls-bad-sst: a cell names string \(index) of \(sst.count)")
                }
            case 0x0204, 0x00D6:  // LABEL, RSTRING
                var reader = StringCursor(segments: [body.dropFirst(6)])
                if let text = biff8 ? reader.unicodeString(lengthBytes: 2) : reader.byteString(lengthBytes: 2, codePage: codePage) {
                    cell(text, xf: u16(body, 4))
                }
            case 0x0006:  // FORMULA: a string result (0x0000 in byte 0, 0xFFFF in bytes 6-7) comes in STRING
                pendingFormula = u16(body, 12) == 0xFFFF && body.count > 6 && body[body.startIndex + 6] == 0 ? u16(body, 4) : nil
            case 0x0207:  // STRING
                if let formula = pendingFormula {
                    var reader = StringCursor(segments: [body])
                    if let text = biff8 ? reader.unicodeString(lengthBytes: 2) : reader.byteString(lengthBytes: 1, codePage: codePage) {
                        cell(text, xf: formula)
                    }
                }
                pendingFormula = nil
            case 0x0014, 0x0015:  // HEADER, FOOTER
                guard !body.isEmpty else { break }
                var reader = StringCursor(segments: [body])
                if let text = biff8 ? reader.unicodeString(lengthBytes: 2) : reader.byteString(lengthBytes: 1, codePage: codePage) {
                    headerFooter(text, container: type == 0x0014 ? .pageHeader : .pageFooter)
                }
            case 0x0085:  // BOUNDSHEET: the sheet's name
                var reader = StringCursor(segments: [body.dropFirst(6)])
                if let name = biff8 ? reader.unicodeString(lengthBytes: 1) : reader.byteString(lengthBytes: 1, codePage: codePage) {
                    emit(name, container: .metadata, font: nil, index: nil)
                }
            case 0x0031:  // FONT
                let height = u16(body, 0)
                let weight = u16(body, 6)
                let color = u16(body, 4)
                var reader = StringCursor(segments: [body.dropFirst(14)])
                let name = (biff8 ? reader.unicodeString(lengthBytes: 1) : reader.byteString(lengthBytes: 1, codePage: codePage)) ?? ""
                // Palette index 10 (and 2 of the first eight) is red (FF0000) in the default palette.
                if fonts.count < 1 << 16 {
                    fonts.append(Font(name: name, bold: weight >= 700, red: color == 10 || color == 2, points: Double(height) / 20))
                }
            case 0x01B6:  // TXO: a text box or note; its text is in the CONTINUE records that follow
                var segments: [ArraySlice<UInt8>] = []
                var next = position
                while next + 4 <= stream.count, Int(stream[next]) | Int(stream[next + 1]) << 8 == 0x003C {
                    let continued = Int(stream[next + 2]) | Int(stream[next + 3]) << 8
                    guard next + 4 + continued <= stream.count else { break }
                    segments.append(stream[(next + 4)..<(next + 4 + continued)])
                    next += 4 + continued
                }
                position = next
                let count = u16(body, 10)
                guard count > 0, biff8 else { break }
                // Each record of the text starts with its own option byte (fHighByte).
                var reader = StringCursor(segments: segments)
                if let flags = reader.byte(), let text = reader.characters(count, highByte: flags & 0x01 != 0) {
                    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
                        emit(String(line), container: .textBox, font: nil, index: nil)
                    }
                } else {
                    problem("xls-bad-text-box: a text box's text ends early")
                }
            case 0x0042:  // CODEPAGE (BIFF5/7 strings are in it)
                codePage = u16(body, 0)
            case 0x00E0:  // XF
                if xfFonts.count < 1 << 16 { xfFonts.append(u16(body, 0)) }
            default:
                break
            }
        }
        if !sawBOF { problem("xls-bad-stream: an empty workbook stream") }
    }

    mutating func readSST(_ segments: [ArraySlice<UInt8>]) {
        let unique = u32(segments[0], 4)
        var cursor = StringCursor(segments: segments, offset: 8)
        var count = 0
        while count < unique, !cursor.atEnd, !stopped {
            guard let text = cursor.richString() else {
                problem("xls-bad-sst: the shared string table ends inside a string")
                break
            }
            textBytes += text.utf8.count
            if textBytes > limits.maxTextBytes {
                problem("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
                stopped = true
                break
            }
            sst.append(text)
            count += 1
        }
        if count < unique, !stopped { problem("xls-bad-sst: \(count) of \(unique) shared strings read") }
    }

    func font(ofXF xf: Int) -> Font? {
        guard xf < xfFonts.count else { return nil }
        let index = xfFonts[xf]
        // Font 4 is never written: indices past it are one off ([MS-XLS] 2.5.129).
        let position = index >= 4 ? index - 1 : index
        return position < fonts.count ? fonts[position] : nil
    }

    mutating func cell(_ text: String, xf: Int) {
        emit(text, container: .sheetCell, font: font(ofXF: xf), index: cellIndex)
        cellIndex += 1
    }

    /// A header or footer: `&L`, `&C`, `&R` start its sections, the other codes are fields and formatting.
    mutating func headerFooter(_ text: String, container: TextUnit.Container) {
        var section = ""
        var fontName: String?
        var points: Double?
        var bold = false
        var sectionFont: (name: String?, points: Double?, bold: Bool)?
        func flush(_ reader: inout ExcelReader) {
            let font = sectionFont ?? (fontName, points, bold)
            let unitFont = Font(name: font.name ?? "", bold: font.bold, red: false, points: font.points ?? 0)
            reader.emit(
                section,
                container: container,
                font: font.name == nil && font.points == nil && !font.bold ? nil : unitFont,
                index: nil
            )
            section = ""
            sectionFont = nil
        }
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            guard scalar == "&", index < scalars.count else {
                if sectionFont == nil, !scalar.properties.isWhitespace { sectionFont = (fontName, points, bold) }
                section.unicodeScalars.append(scalar)
                continue
            }
            let code = scalars[index]
            index += 1
            switch code {
            case "L", "C", "R":
                flush(&self)
            case "&":
                section += "&"
            case "\"":
                // &"Font name,Style"
                var spec = ""
                while index < scalars.count, scalars[index] != "\"" {
                    spec.unicodeScalars.append(scalars[index])
                    index += 1
                }
                index += 1
                let parts = spec.split(separator: ",", maxSplits: 1).map(String.init)
                if let name = parts.first, name != "-" { fontName = name }
                if parts.count > 1 { bold = parts[1].lowercased().contains("bold") }
            case "B":
                bold.toggle()
            case "K":
                // A colour: six hex digits, or a theme colour (two digits, a sign, three digits).
                var skip = 0
                while skip < 6, index < scalars.count,
                    scalars[index].properties.isASCIIHexDigit || scalars[index] == "+" || scalars[index] == "-"
                {
                    index += 1
                    skip += 1
                }
            case "0"..."9":
                var digits = String(code)
                while index < scalars.count, ("0"..."9").contains(scalars[index]), digits.count < 3 {
                    digits.unicodeScalars.append(scalars[index])
                    index += 1
                }
                points = Double(digits)
            default:
                // &P &N &D &T &F &A &Z &G &I &U &E &S &X &Y &O &H: fields and formatting, no text.
                break
            }
        }
        flush(&self)
    }

    mutating func emit(_ raw: String, container: TextUnit.Container, font: Font?, index: Int?) {
        guard !stopped else { return }
        let text = VietConverter.nfc(raw.trimmingWhitespace())
        guard !text.allSatisfy(\.isWhitespace) else { return }
        // Counted as returned: one shared string can be shown by many cells.
        emittedBytes += text.utf8.count
        guard emittedBytes <= limits.maxTextBytes else {
            problem("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
            stopped = true
            return
        }
        guard units.count < limits.maxUnits else {
            problem("text-cap-reached: more than \(limits.maxUnits) units")
            stopped = true
            return
        }
        var style: TextUnit.Style = []
        if font?.bold == true { style.insert(.bold) }
        if font?.red == true { style.insert(.red) }
        let name = font.flatMap { $0.name.isEmpty ? nil : $0.name }
        let points = font.flatMap { $0.points > 0 ? $0.points : nil }
        units.append(TextUnit(text, container: container, style: style, fontName: name, fontSize: points, index: index))
    }
}

/// Reads strings from a record and its CONTINUE records: when a string's characters run into the
/// next record, that record starts with a new option byte (fHighByte), re-read there.
struct StringCursor {
    var segments: [ArraySlice<UInt8>]
    var segment = 0
    var position: Int

    init(segments: [ArraySlice<UInt8>], offset: Int = 0) {
        self.segments = segments
        self.position = (segments.first?.startIndex ?? 0) + offset
    }

    var atEnd: Bool {
        var index = segment
        var at = position
        while index < segments.count {
            if at < segments[index].endIndex { return false }
            index += 1
            if index < segments.count { at = segments[index].startIndex }
        }
        return true
    }

    /// The next byte, moving to the next record when this one is used up.
    mutating func byte() -> UInt8? {
        while segment < segments.count {
            if position < segments[segment].endIndex {
                defer { position += 1 }
                return segments[segment][position]
            }
            segment += 1
            if segment < segments.count { position = segments[segment].startIndex }
        }
        return nil
    }

    mutating func skip(_ count: Int) -> Bool {
        var left = count
        while left > 0 {
            guard segment < segments.count else { return false }
            let available = segments[segment].endIndex - position
            if available >= left {
                position += left
                return true
            }
            left -= available
            segment += 1
            if segment < segments.count { position = segments[segment].startIndex } else { return false }
        }
        return true
    }

    mutating func integer(_ bytes: Int) -> Int? {
        var value = 0
        for shift in 0..<bytes {
            guard let next = byte() else { return nil }
            value |= Int(next) << (8 * shift)
        }
        return value
    }

    /// `count` characters, 8-bit or 16-bit as `highByte` says, re-reading the option byte at each record boundary.
    mutating func characters(_ count: Int, highByte: Bool) -> String? {
        var wide = highByte
        // Encoded to UTF-8 as read: decoding a UTF-16 array at the end costs more.
        var paragraph = WordReader.Paragraph()
        paragraph.text.reserveCapacity(min(count, 1 << 16))
        var read = 0
        while read < count {
            guard segment < segments.count else { return nil }
            if position >= segments[segment].endIndex {
                segment += 1
                guard segment < segments.count else { return nil }
                position = segments[segment].startIndex
                guard let flags = byte() else { return nil }
                wide = flags & 0x01 != 0
                continue
            }
            let unit: UInt16
            if wide {
                if position + 1 < segments[segment].endIndex {
                    unit = UInt16(segments[segment][position]) | UInt16(segments[segment][position + 1]) << 8
                    position += 2
                } else {
                    // A UTF-16 unit split across records: not allowed; read it as the rest goes.
                    guard let low = byte(), let high = byte() else { return nil }
                    unit = UInt16(low) | UInt16(high) << 8
                }
            } else {
                // Compressed characters are the low bytes of UTF-16 units (ISO-8859-1), not a code page.
                unit = UInt16(segments[segment][position])
                position += 1
            }
            WordReader.appendUTF8(unit, to: &paragraph)
            read += 1
        }
        if paragraph.high != nil { WordReader.appendScalar(0xFFFD, to: &paragraph.text) }
        return String(decoding: paragraph.text, as: UTF8.self)
    }

    /// XLUnicodeString (a 2-byte count) or ShortXLUnicodeString (a 1-byte count).
    mutating func unicodeString(lengthBytes: Int) -> String? {
        guard let count = integer(lengthBytes), let flags = byte() else { return nil }
        return characters(count, highByte: flags & 0x01 != 0)
    }

    /// BIFF5/7: a count and bytes in the workbook's code page (Windows-1258 is decoded; any
    /// other is read as Windows-1252, which is how legacy TCVN3 / VNI bytes reach the matcher).
    mutating func byteString(lengthBytes: Int, codePage: Int) -> String? {
        guard let count = integer(lengthBytes) else { return nil }
        var bytes: [UInt8] = []
        for _ in 0..<count {
            guard let next = byte() else { return nil }
            bytes.append(next)
        }
        if codePage == 1258 { return VietConverter.toUnicode(bytes, from: .cp1258) }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Windows1252.scalar(byte)) }
        return String(scalars)
    }

    /// XLUnicodeRichExtendedString: count, flags, run count, extension size, characters, runs, extension.
    mutating func richString() -> String? {
        guard let count = integer(2), let flags = byte() else { return nil }
        let runs = flags & 0x08 != 0 ? integer(2) : 0
        let extended = flags & 0x04 != 0 ? integer(4) : 0
        guard let runs, let extended, let text = characters(count, highByte: flags & 0x01 != 0) else { return nil }
        guard skip(4 * runs), skip(extended) else { return nil }
        return text
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
