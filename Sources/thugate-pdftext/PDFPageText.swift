import CPoppler
import DocumentText
import SecrecyMarks

/// Text units of one PDF through poppler's GLib API: pages 1 and 2 (`positionedPages`) line by
/// line with where the line sits, its font, size and colour; later pages as plain lines; at most
/// `maxPages` pages, `maxUnits` units, `maxTextBytes` bytes of text.
///
/// A line is what poppler's text layout puts between two line ends (`poppler_page_get_text`);
/// each character has a rectangle (`poppler_page_get_text_layout`, same order), so the line's box
/// gives its region: the top third of the page, left or right of the middle (where Nghị định
/// 30/2020 Phụ lục I puts the secrecy stamp and the circulation notes). The line's style is the
/// one of the text attributes (`poppler_page_get_text_attributes`) covering most of it: bold when
/// the font's name says so (PDF fonts carry their weight in the name, `TimesNewRomanPS-BoldMT`),
/// red from the fill colour.
///
/// - SeeAlso: Nghị định 30/2020/NĐ-CP, Phụ lục I (the layout of an administrative document).
enum PDFPageText {
    /// `tesseract`: the OCR program for a first page without text (nil: no OCR).
    static func read(_ request: PDFTextRequest, tesseract: String? = nil) -> ExtractedText {
        request.pdf.withUnsafeBytes { raw -> ExtractedText in
            guard let base = raw.baseAddress, raw.count > 0 else { return ExtractedText(problems: ["pdf-broken: empty"]) }
            // The bytes outlive the document (both end in this closure), so poppler need not copy them.
            let bytes = g_bytes_new_static(base, gsize(raw.count))
            defer { g_bytes_unref(bytes) }
            var error: UnsafeMutablePointer<GError>?
            guard let document = poppler_document_new_from_bytes(bytes, nil, &error) else {
                defer { if error != nil { g_error_free(error) } }
                let message = error.map { String(cString: $0.pointee.message) } ?? "cannot be opened"
                if let error, error.pointee.domain == poppler_error_quark(), error.pointee.code == Int32(POPPLER_ERROR_ENCRYPTED.rawValue) {
                    return ExtractedText(problems: ["encrypted: PDF needs a password (\(message))"])
                }
                return ExtractedText(problems: ["pdf-broken: \(message)"])
            }
            defer { g_object_unref(UnsafeMutableRawPointer(document)) }
            var reader = Reader(request: request, tesseract: tesseract)
            reader.read(document)
            return reader.result
        }
    }

    struct Reader {
        let request: PDFTextRequest
        let tesseract: String?
        var result = ExtractedText()
        var textBytes = 0
        var full = false
        /// Units read as text (not by OCR).
        var textUnits = 0
        var readByOCR = false

        init(request: PDFTextRequest, tesseract: String?) {
            self.request = request
            self.tesseract = tesseract
        }

        mutating func read(_ document: OpaquePointer) {
            let pages = Int(poppler_document_get_n_pages(document))
            guard pages > 0 else {
                result.problems.append("pdf-broken: no page can be read (page tree empty or damaged)")
                return
            }
            if pages > request.maxPages {
                result.problems.append("pdf-pages: \(pages) pages, the first \(request.maxPages) read")
            }
            for index in 0..<min(pages, request.maxPages) where !full {
                guard let page = poppler_document_get_page(document, Int32(index)) else {
                    result.problems.append("pdf-broken: page \(index + 1) cannot be read")
                    continue
                }
                defer { g_object_unref(UnsafeMutableRawPointer(page)) }
                let before = result.units.count
                if index < request.positionedPages { readPositioned(page, number: index + 1) } else { readPlain(page, number: index + 1) }
                textUnits += result.units.count - before
                // A first page without text is a scan: its stamp is an image.
                if index == 0, result.units.isEmpty, let tesseract {
                    switch PageOCR.read(page, number: 1, tesseract: tesseract) {
                    case .success(let units):
                        readByOCR = true
                        for unit in units { add(unit) }
                    case .failure(let failure):
                        result.problems.append("ocr-failed: page 1: \(failure.reason)")
                    }
                }
            }
            if textUnits == 0 && !result.problems.contains(where: { !$0.hasPrefix("ocr-failed:") }) {
                result.problems.append(
                    "pdf-no-text: no text on the pages read (a scanned image?)" + (readByOCR ? ", the top of page 1 read by OCR" : "")
                )
            }
        }

        /// Adds a unit unless a cap is reached (then notes it once and stops).
        mutating func add(_ unit: TextUnit) {
            guard !full else { return }
            textBytes += unit.text.utf8.count
            guard result.units.count < request.maxUnits, textBytes <= request.maxTextBytes else {
                full = true
                result.problems.append(
                    "text-cap-reached: more than \(request.maxUnits) lines or \(request.maxTextBytes) bytes of text, the rest not read"
                )
                return
            }
            result.units.append(unit)
        }

        mutating func readPlain(_ page: OpaquePointer, number: Int) {
            guard let raw = poppler_page_get_text(page) else { return }
            defer { g_free(raw) }
            let text = String(cString: raw)
            checkCap(text.unicodeScalars, page: number)
            var index = 0
            // Split by scalars: a line end is its own character (UAX #29 GB4/GB5), and walking
            // characters costs more than the rest of a page's Swift side.
            for line in text.unicodeScalars.split(separator: "\n") where !full {
                let text = line.trimmingWhitespace
                guard !text.isEmpty else { continue }
                add(TextUnit(text, container: .pdfLine, page: number, region: .other, index: index))
                index += 1
            }
        }

        /// What poppler's TextOutputDev keeps of one page (`TextPage`'s cap on characters).
        static let popplerPageCharacters = 50_000

        /// poppler's text layout keeps at most `popplerPageCharacters` of a page and drops the rest
        /// unseen (text drawn first can push a stamp out): a page at the cap is not fully read.
        mutating func checkCap<S: Sequence<Unicode.Scalar>>(_ scalars: S, page: Int) {
            var count = 0
            for scalar in scalars where scalar != "\n" { count += 1 }
            if count >= Self.popplerPageCharacters {
                result.problems.append(
                    "pdf-page-text-cap: page \(page) holds \(Self.popplerPageCharacters) characters or more, the rest not read"
                )
            }
        }

        struct Attribute {
            var start: Int
            var end: Int
            var font: String
            var size: Double
            var red: Bool
        }

        mutating func readPositioned(_ page: OpaquePointer, number: Int) {
            guard let raw = poppler_page_get_text(page) else { return }
            defer { g_free(raw) }
            let scalars = Array(String(cString: raw).unicodeScalars)
            checkCap(scalars, page: number)
            var width = 0.0
            var height = 0.0
            poppler_page_get_size(page, &width, &height)

            var rectangles: UnsafeMutablePointer<PopplerRectangle>?
            var count: guint = 0
            let hasLayout = poppler_page_get_text_layout(page, &rectangles, &count) != 0
            defer { g_free(rectangles) }
            // The layout has one rectangle per character of the text; when they disagree (a
            // damaged page), lines get no region rather than a wrong one.
            let boxes =
                hasLayout && Int(count) == scalars.count ? rectangles.map { UnsafeBufferPointer(start: $0, count: Int(count)) } : nil

            var attributes = [Attribute]()
            let list = poppler_page_get_text_attributes(page)
            defer { if list != nil { poppler_page_free_text_attributes(list) } }
            var node = list
            while let current = node {
                if let data = current.pointee.data {
                    let a = data.assumingMemoryBound(to: PopplerTextAttributes.self).pointee
                    let r = Double(a.color.red) / 65535
                    let g = Double(a.color.green) / 65535
                    let b = Double(a.color.blue) / 65535
                    attributes.append(
                        Attribute(
                            start: Int(a.start_index),
                            end: Int(a.end_index),
                            font: a.font_name.map { Self.baseFontName(String(cString: $0)) } ?? "",
                            size: a.font_size,
                            red: r >= 0.5 && r - max(g, b) >= 0.35
                        )
                    )
                }
                node = current.pointee.next
            }

            var index = 0
            var lineStart = 0
            var nextAttribute = 0
            for position in 0...scalars.count where !full {
                guard position == scalars.count || scalars[position] == "\n" else { continue }
                let range = lineStart..<position
                lineStart = position + 1
                var line = String.UnicodeScalarView()
                line.append(contentsOf: scalars[range])
                let text = String(line).trimmingWhitespace
                guard !text.isEmpty else { continue }

                var region: TextUnit.Region?
                if let boxes, width > 0, height > 0 {
                    var top = Double.infinity
                    var left = Double.infinity
                    for i in range where !scalars[i].isWhitespace {
                        top = min(top, boxes[i].y1)
                        left = min(left, boxes[i].x1)
                    }
                    if top < height / 3 {
                        // By where the line starts: a body line across the page is on the left.
                        region = left < width / 2 ? .topLeft : .topRight
                    } else {
                        region = .other
                    }
                }

                // The attribute covering most of the line (the list is in text order).
                while nextAttribute < attributes.count, attributes[nextAttribute].end < range.lowerBound { nextAttribute += 1 }
                var best: Attribute?
                var bestCover = 0
                var candidate = nextAttribute
                while candidate < attributes.count, attributes[candidate].start < range.upperBound {
                    let a = attributes[candidate]
                    let cover = min(a.end + 1, range.upperBound) - max(a.start, range.lowerBound)
                    if cover > bestCover {
                        best = a
                        bestCover = cover
                    }
                    candidate += 1
                }
                var style: TextUnit.Style = []
                if let best {
                    if best.red { style.insert(.red) }
                    if Self.isBold(best.font) { style.insert(.bold) }
                }
                add(
                    TextUnit(
                        text,
                        container: .pdfLine,
                        page: number,
                        region: region,
                        style: style,
                        fontName: best.map(\.font).flatMap { $0.isEmpty ? nil : $0 },
                        fontSize: best?.size,
                        index: index
                    )
                )
                index += 1
            }
        }

        /// The font's name without the subset tag (`ABCDEF+TimesNewRomanPS-BoldMT`), so legacy
        /// fonts (`.VnTimeH`, `VNI-Times`) are named as the matcher knows them.
        static func baseFontName(_ name: String) -> String {
            let scalars = Array(name.unicodeScalars)
            guard scalars.count > 7, scalars[6] == "+", scalars[..<6].allSatisfy({ ("A"..."Z").contains($0) }) else { return name }
            var rest = String.UnicodeScalarView()
            rest.append(contentsOf: scalars[7...])
            return String(rest)
        }

        /// PDF fonts name their weight: `-Bold`, `,Bold`, `Black`, `Heavy`, `Semibold`, `Demi`.
        static func isBold(_ font: String) -> Bool {
            let name = font.lowercased()
            return ["bold", "black", "heavy", "demi"].contains { name.contains($0) } || name.hasSuffix(",b")
        }
    }
}

extension Unicode.Scalar {
    /// White space by Unicode, ASCII decided without the property tables.
    var isWhitespace: Bool {
        value < 0x80 ? value == 0x20 || (0x09...0x0D).contains(value) : properties.isWhitespace
    }
}

extension String {
    var trimmingWhitespace: String { self[...].unicodeScalars.trimmingWhitespace }
}

extension Substring {
    var trimmingWhitespace: String { unicodeScalars.trimmingWhitespace }
}

extension Substring.UnicodeScalarView {
    /// The scalars without white space at either end.
    var trimmingWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
