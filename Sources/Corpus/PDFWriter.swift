/// PDF 1.4 files with text pages: a catalog, a page tree, one Flate-compressed content stream per
/// page in the standard Helvetica font, an Info dictionary, a cross-reference table with exact
/// offsets and a trailer.
///
/// Helvetica (WinAnsiEncoding) has no Vietnamese letters, so the text is its ASCII transliteration
/// (the way many provincial PDF exports look when fonts are not embedded).
///
/// - SeeAlso: ISO 32000-1:2008 (PDF 1.7, which reads 1.4) 7.5 (file structure), 9.6.2.2 (the
///   standard 14 fonts).
enum PDFWriter {
    static let linesPerPage = 48

    static func pdf(title: String, author: String, lines: [String], created: String) -> [UInt8] {
        let plain = lines.map { VietnameseText.ascii($0) }
        let pages = stride(from: 0, to: max(plain.count, 1), by: linesPerPage).map {
            Array(plain[$0..<min(plain.count, $0 + linesPerPage)])
        }
        // Objects: 1 catalog, 2 pages, 3 font, 4 info, then per page: page, contents.
        var objects: [[UInt8]] = []
        let pageIDs = pages.indices.map { 5 + 2 * $0 }
        objects.append(Array("<< /Type /Catalog /Pages 2 0 R >>".utf8))
        objects.append(Array("<< /Type /Pages /Kids [\(pageIDs.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages.count) >>".utf8))
        objects.append(Array("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".utf8))
        objects.append(
            Array(
                ("<< /Title \(string(VietnameseText.ascii(title))) /Author \(string(VietnameseText.ascii(author))) "
                    + "/Producer (ThuGate corpus) /CreationDate (D:\(created)+07'00') >>").utf8
            )
        )
        for (index, page) in pages.enumerated() {
            var content = "BT\n/F1 11 Tf\n14 TL\n56 790 Td\n"
            for line in page { content += "\(string(line)) Tj T*\n" }
            content += "ET\n"
            let compressed = Deflate.compress(Array(content.utf8), zlibWrapped: true)
            objects.append(
                Array(
                    ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                        + "/Contents \(pageIDs[index] + 1) 0 R >>").utf8
                )
            )
            objects.append(
                Array("<< /Length \(compressed.count) /Filter /FlateDecode >>\nstream\n".utf8) + compressed + Array("\nendstream".utf8)
            )
        }
        // A binary comment line after the header tells transfer programs the file is binary (7.5.2).
        var out: [UInt8] = Array("%PDF-1.4\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(index + 1) 0 obj\n".utf8) + object + Array("\nendobj\n".utf8)
        }
        let xref = out.count
        var table = "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            table += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
        }
        table += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R /Info 4 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return out + Array(table.utf8)
    }

    /// A literal string: backslash, parentheses escaped; only printable ASCII reaches here.
    private static func string(_ text: String) -> String {
        var out = "("
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\", "(", ")": out += "\\" + String(scalar)
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "?"
            }
        }
        return out + ")"
    }
}
