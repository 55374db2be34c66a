// The fuzzing entries for the document text readers (RTF, HTML, plain text and CSV, OLE2 .doc and .xls, OOXML and
// ODF packages) and the PDF helper's frames. Scripts/fuzz builds this target with
// `-sanitize=fuzzer,address -DFUZZING`; built normally it replays files through the same code
// (FuzzSupport's `FuzzMain`).
import DocumentText
import FuzzSupport
import SecrecyMarks

enum DocumentTextFuzzTarget: String, FuzzTarget {
    case rtf
    case html
    /// Plain text and CSV, decoded by `TextDecoding` with the charset the first byte picks.
    case text
    case ole2
    case ooxml
    /// The PDF helper's framed responses as the gateway reads them (DocumentText/PDFTextFrames.swift).
    case pdfframes

    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .rtf: runRTF(input)
        case .html: runHTML(input)
        case .text: runText(input)
        case .ole2: runOLE2(input)
        case .ooxml: runPackage(input)
        case .pdfframes: Self.frames(input)
        }
    }

    /// Reads the input with the default limits and with tight ones (so the limit paths run too),
    /// and hands the units to the matcher. Properties: never more units or text than the limits
    /// allow (a cap reached is said), a second read is the same, a complete read has balanced groups.
    func runRTF(_ input: UnsafeRawBufferPointer) {
        // The RTF signature in front unless it is there, so the fuzzer spends its time in the tokenizer.
        let bytes = input.starts(with: "{\\rtf".utf8) ? Array(input) : Array("{\\rtf1 ".utf8) + input
        var tight = RTFLimits()
        tight.maxDepth = 8
        tight.maxTextBytes = 256
        tight.maxUnits = 16
        tight.maxInputBytes = 4_096
        for limits in [RTFLimits(), tight] {
            let result = RTFText.units(bytes, limits: limits)
            precondition(result.units.count <= limits.maxUnits, "more units than the limit")
            let text = result.units.reduce(0) { $0 + $1.text.utf8.count }
            precondition(text <= limits.maxTextBytes, "more text than the limit")
            precondition(RTFText.units(bytes, limits: limits) == result, "a second read differs")
            if result.isComplete {
                precondition(bytes.count <= limits.maxInputBytes, "a cut input read as complete")
            }
            _ = SecrecyMatcher.match(result.units)
        }
    }

    /// The input as a stream from a helper, cut into reads by its first byte. Properties: no payload above the
    /// cap is returned; whatever decodes as a response encodes to bytes that decode to the same encoding.
    static func frames(_ input: UnsafeRawBufferPointer) {
        guard let first = input.first else { return }
        let chunk = Int(first % 64) + 1
        let stream = Array(input.dropFirst())
        var reader = PDFFrameReader(maxPayload: 1 << 16)
        var offset = 0
        while offset < stream.count {
            reader.append(stream[offset..<min(stream.count, offset + chunk)])
            offset += chunk
            do {
                while let payload = try reader.next() {
                    precondition(payload.count <= 1 << 16, "a payload above the cap")
                    _ = try? PDFTextRequest(decoding: payload)
                    guard let response = try? PDFTextResponse(decoding: payload) else { continue }
                    let once = response.encoded()
                    guard let again = try? PDFTextResponse(decoding: once) else {
                        preconditionFailure("an encoded response does not decode")
                    }
                    precondition(again.encoded() == once, "a response does not survive a second round")
                    _ = SecrecyMatcher.match(response.text.units)
                }
            } catch {
                return
            }
        }
    }

    /// The HTML reader as a mail body and as a document, with the default limits and tight ones.
    /// Properties: the limits hold (a cap reached is said), a second read is the same, units are
    /// not blank and those with an index are numbered 0, 1, 2… in order, a complete read read all.
    func runHTML(_ input: UnsafeRawBufferPointer) {
        let html = String(decoding: input, as: UTF8.self)
        var tight = ExtractionLimits()
        tight.maxHTMLDepth = 8
        tight.maxTextBytes = 256
        tight.maxUnits = 16
        tight.maxInputBytes = 4_096
        for limits in [ExtractionLimits(), tight] {
            for container in [TextUnit.Container.mailBody, .documentBody] {
                let result = HTMLText.units(html, container: container, limits: limits)
                checkBounds(result, limits)
                precondition(HTMLText.units(html, container: container, limits: limits) == result, "a second read differs")
                let indexed = result.units.filter { $0.index != nil }
                precondition(indexed.map(\.index) == indexed.indices.map(Optional.some), "units not numbered in order")
                if result.isComplete {
                    precondition(html.utf8.count <= limits.maxInputBytes, "a cut input read as complete")
                }
                _ = SecrecyMatcher.match(result.units)
            }
        }
    }

    func runText(_ input: UnsafeRawBufferPointer) {
        let charsets: [String?] = [nil, "utf-8", "utf-16", "utf-16le", "windows-1258", "tcvn3", "vni", "iso-8859-1"]
        let charset = input.first.map { charsets[Int($0) % charsets.count] } ?? nil
        let text = TextDecoding.string(from: input.dropFirst(), charset: charset)
        if let declared = TextDecoding.htmlCharset(input) {
            precondition(!declared.isEmpty && declared.utf8.count <= 1_024, "a charset not from the head")
        }
        var tight = ExtractionLimits()
        tight.maxTextBytes = 256
        tight.maxUnits = 16
        tight.maxInputBytes = 4_096
        for limits in [ExtractionLimits(), tight] {
            let plain = PlainText.units(text, container: .mailBody, limits: limits)
            checkBounds(plain, limits)
            precondition(plain.units.map(\.index) == plain.units.indices.map(Optional.some), "lines not numbered in order")
            let csv = CSVText.units(text, limits: limits)
            checkBounds(csv, limits)
            precondition(csv.units.allSatisfy { $0.container == .sheetCell }, "a CSV field not a sheet cell")
            _ = SecrecyMatcher.match(plain.units + csv.units)
        }
    }

    func checkBounds(_ result: ExtractedText, _ limits: ExtractionLimits) {
        precondition(result.units.count <= limits.maxUnits, "more units than the limit")
        let text = result.units.reduce(0) { $0 + $1.text.utf8.count }
        precondition(text <= limits.maxTextBytes, "more text than the limit")
        precondition(!result.units.contains { $0.text.allSatisfy(\.isWhitespace) }, "a blank unit")
        precondition(Set(result.problems.map { $0.prefix(while: { $0 != ":" }) }).count == result.problems.count, "a problem said twice")
    }

    /// Reads the input as a compound file with the default limits and with tight ones, and hands
    /// the units to the matcher. Properties: never more units or text than the limits allow, a
    /// second read is the same, a complete read read the whole input, and a file that is not a
    /// compound file is never complete.
    func runOLE2(_ input: UnsafeRawBufferPointer) {
        // The signature in front unless it is there, so the fuzzer spends its time past the header check.
        let bytes = OLE2Text.isCompoundFile(input) ? Array(input) : [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + input
        var tight = ExtractionLimits()
        tight.maxSectors = 8
        tight.maxTextBytes = 256
        tight.maxUnits = 16
        tight.maxInputBytes = 16_384
        for limits in [ExtractionLimits(), tight] {
            let result = OLE2Text.units(bytes, limits: limits)
            // The limits, no blank unit, no problem said twice.
            checkBounds(result, limits)
            precondition(OLE2Text.units(bytes, limits: limits) == result, "a second read differs")
            if result.isComplete {
                precondition(bytes.count <= limits.maxInputBytes, "a cut input read as complete")
            }
            _ = SecrecyMatcher.match(result.units)
        }
        precondition(!OLE2Text.units(Array(bytes.dropFirst())).isComplete, "a file without the signature read as complete")
    }

    /// A zip (it starts with "PK") is read as a package of its own format and of every other; any
    /// other input is XML, stored (uncompressed, so the fuzzer's edits reach expat) as every part the
    /// readers look at, in a package read as each of the six formats. With default and tight limits:
    /// never more units or text than the limits allow, a second read is the same, the matcher runs.
    private func runPackage(_ input: UnsafeRawBufferPointer) {
        let bytes: [UInt8]
        if input.starts(with: [0x50, 0x4B]) {
            bytes = Array(input)
        } else {
            let parts = [
                "[Content_Types].xml", "word/document.xml", "word/styles.xml", "word/header1.xml", "word/footnotes.xml",
                "xl/workbook.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "ppt/presentation.xml",
                "ppt/slides/slide1.xml", "ppt/slideMasters/slideMaster1.xml", "docProps/core.xml", "docProps/custom.xml",
                "content.xml", "styles.xml", "meta.xml",
            ]
            bytes = StoredZip.make(parts.map { ($0, Array(input)) })
        }
        var tight = ExtractionLimits()
        tight.maxXMLDepth = 8
        tight.maxUnits = 16
        tight.maxTextBytes = 256
        tight.maxInflatedBytes = 64 << 10
        tight.maxEntries = 8
        let formats: [DocumentFormat] = [.docx, .xlsx, .pptx, .odt, .ods, .odp]
        _ = bytes.withUnsafeBytes { DocumentFormat.of(mimeType: "application/zip", bytes: $0) }
        for limits in [ExtractionLimits(), tight] {
            for format in formats {
                let read = {
                    [.odt, .ods, .odp].contains(format)
                        ? ODFText.units(bytes, format: format, limits: limits) : OOXMLText.units(bytes, format: format, limits: limits)
                }
                let result = read()
                precondition(result.units.count <= limits.maxUnits, "more units than the limit")
                let text = result.units.reduce(0) { $0 + $1.text.utf8.count }
                precondition(text <= limits.maxTextBytes, "more text than the limit")
                precondition(read() == result, "a second read differs")
                _ = SecrecyMatcher.match(result.units)
            }
        }
    }
}

/// A zip of stored entries (no compression), for the fuzz entry: local headers, the central
/// directory and its end record, with real CRC-32s (the reader checks them).
enum StoredZip {
    static func make(_ entries: [(name: String, data: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le16(_ value: Int, _ buffer: inout [UInt8]) { buffer += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func le32(_ value: UInt32, _ buffer: inout [UInt8]) {
            buffer += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
        }
        for entry in entries {
            let name = Array(entry.name.utf8)
            let crc = crc32(entry.data)
            let offset = UInt32(out.count)
            le32(0x0403_4B50, &out)
            le16(20, &out)
            le16(0x0800, &out)  // UTF-8 names
            le16(0, &out)  // stored
            le16(0, &out)
            le16(0x21, &out)
            le32(crc, &out)
            le32(UInt32(entry.data.count), &out)
            le32(UInt32(entry.data.count), &out)
            le16(name.count, &out)
            le16(0, &out)
            out += name
            out += entry.data
            le32(0x0201_4B50, &central)
            le16(20, &central)
            le16(20, &central)
            le16(0x0800, &central)
            le16(0, &central)
            le16(0, &central)
            le16(0x21, &central)
            le32(crc, &central)
            le32(UInt32(entry.data.count), &central)
            le32(UInt32(entry.data.count), &central)
            le16(name.count, &central)
            le16(0, &central)
            le16(0, &central)
            le16(0, &central)
            le16(0, &central)
            le32(0, &central)
            le32(offset, &central)
            central += name
        }
        let directoryOffset = UInt32(out.count)
        out += central
        le32(0x0605_4B50, &out)
        le16(0, &out)
        le16(0, &out)
        le16(entries.count, &out)
        le16(entries.count, &out)
        le32(UInt32(central.count), &out)
        le32(directoryOffset, &out)
        le16(0, &out)
        return out
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
