// The fuzzing entries for the document text readers (RTF, HTML, plain text and CSV, OLE2 .doc and .xls) and the PDF
// helper's frames. Scripts/fuzz builds this target with
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
    /// The PDF helper's framed responses as the gateway reads them (DocumentText/PDFTextFrames.swift).
    case pdfframes

    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .rtf: runRTF(input)
        case .html: runHTML(input)
        case .text: runText(input)
        case .ole2: runOLE2(input)
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
                    guard let again = try? PDFTextResponse(decoding: once) else { preconditionFailure("an encoded response does not decode") }
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
}
