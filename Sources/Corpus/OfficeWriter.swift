/// Word and Excel files as Office writes them: OOXML packages (ECMA-376 Part 2 Open Packaging
/// Conventions) with content types, package and part relationships, core and app properties, and
/// a page header part in Word documents (where a secrecy stamp stands, Nghị định 30/2020 Phụ lục I).
///
/// - SeeAlso: ECMA-376 5th edition Parts 1 and 2; ISO/IEC 29500.
enum OfficeWriter {
    /// One paragraph of a Word document.
    struct Paragraph {
        var text: String
        var bold = false
        var centered = false
        var size: Int? = nil
    }

    struct WordDocument {
        /// The two-column letterhead: the agency (left) and the national motto (right).
        var agency: String
        var parentAgency: String
        var number: String
        var placeAndDate: String
        var paragraphs: [Paragraph]
        /// The page header's lines: the agency's short name, or a secrecy stamp.
        var header: [Paragraph]
        var title: String
        var author: String
        /// W3CDTF, as core.xml carries it.
        var created: String
    }

    static func docx(_ document: WordDocument, date: (Int, Int, Int)) -> [UInt8] {
        var zip = ZipWriter(year: date.0, month: date.1, day: date.2)
        zip.add(
            "[Content_Types].xml",
            xml(
                """
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/word/document.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>\
                <Override PartName="/word/header1.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>\
                <Override PartName="/word/styles.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>\
                <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
                <Override PartName="/docProps/app.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>\
                </Types>
                """
            )
        )
        zip.add("_rels/.rels", packageRelationships(main: "word/document.xml"))
        zip.add("word/document.xml", xml(wordBody(document)))
        zip.add(
            "word/_rels/document.xml.rels",
            xml(
                """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" \
                Target="header1.xml"/>\
                <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
                Target="styles.xml"/>\
                </Relationships>
                """
            )
        )
        zip.add(
            "word/header1.xml",
            xml("<w:hdr \(wordNamespaces)>" + document.header.map(paragraph).joined() + "</w:hdr>")
        )
        zip.add(
            "word/styles.xml",
            xml(
                """
                <w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">\
                <w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" \
                w:cs="Times New Roman"/><w:sz w:val="28"/><w:lang w:val="vi-VN"/></w:rPr></w:rPrDefault></w:docDefaults>\
                <w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>\
                </w:styles>
                """
            )
        )
        zip.add("docProps/core.xml", coreProperties(title: document.title, author: document.author, created: document.created))
        zip.add("docProps/app.xml", appProperties(application: "Microsoft Office Word"))
        return zip.finished()
    }

    struct Workbook {
        var sheetName: String
        /// Rows of cells; the first is the column headings.
        var rows: [[String]]
        var title: String
        var author: String
        var created: String
    }

    static func xlsx(_ workbook: Workbook, date: (Int, Int, Int)) -> [UInt8] {
        var zip = ZipWriter(year: date.0, month: date.1, day: date.2)
        zip.add(
            "[Content_Types].xml",
            xml(
                """
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/worksheets/sheet1.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/sharedStrings.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
                <Override PartName="/docProps/app.xml" \
                ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>\
                </Types>
                """
            )
        )
        zip.add("_rels/.rels", packageRelationships(main: "xl/workbook.xml"))
        zip.add(
            "xl/workbook.xml",
            xml(
                """
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                <sheets><sheet name="\(escape(workbook.sheetName))" sheetId="1" r:id="rId1"/></sheets></workbook>
                """
            )
        )
        zip.add(
            "xl/_rels/workbook.xml.rels",
            xml(
                """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
                Target="worksheets/sheet1.xml"/>\
                <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" \
                Target="sharedStrings.xml"/>\
                <Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
                Target="styles.xml"/>\
                </Relationships>
                """
            )
        )
        // Every text cell through the shared string table, as Excel writes it.
        var strings: [String] = []
        var index: [String: Int] = [:]
        var sheet = "<sheetData>"
        for (row, cells) in workbook.rows.enumerated() {
            sheet += "<row r=\"\(row + 1)\">"
            for (column, cell) in cells.enumerated() {
                let reference = columnName(column) + String(row + 1)
                if let number = Int(cell) {
                    sheet += "<c r=\"\(reference)\"><v>\(number)</v></c>"
                } else {
                    let at = index[cell] ?? strings.count
                    if at == strings.count {
                        index[cell] = at
                        strings.append(cell)
                    }
                    sheet += "<c r=\"\(reference)\" t=\"s\"\(row == 0 ? " s=\"1\"" : "")><v>\(at)</v></c>"
                }
            }
            sheet += "</row>"
        }
        sheet += "</sheetData>"
        let columns = workbook.rows.map(\.count).max() ?? 1
        zip.add(
            "xl/worksheets/sheet1.xml",
            xml(
                """
                <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                <dimension ref="A1:\(columnName(columns - 1))\(workbook.rows.count)"/>\(sheet)</worksheet>
                """
            )
        )
        zip.add(
            "xl/sharedStrings.xml",
            xml(
                "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"\(strings.count)\" "
                    + "uniqueCount=\"\(strings.count)\">" + strings.map { "<si><t xml:space=\"preserve\">\(escape($0))</t></si>" }.joined()
                    + "</sst>"
            )
        )
        zip.add(
            "xl/styles.xml",
            xml(
                """
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                <fonts count="2"><font><sz val="11"/><name val="Times New Roman"/></font>\
                <font><b/><sz val="11"/><name val="Times New Roman"/></font></fonts>\
                <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
                <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
                <cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
                <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
                <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
                </styleSheet>
                """
            )
        )
        zip.add("docProps/core.xml", coreProperties(title: workbook.title, author: workbook.author, created: workbook.created))
        zip.add("docProps/app.xml", appProperties(application: "Microsoft Excel"))
        return zip.finished()
    }

    // MARK: - Parts

    private static let wordNamespaces =
        "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
        + "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

    private static func wordBody(_ document: WordDocument) -> String {
        func cell(_ paragraphs: [Paragraph]) -> String {
            "<w:tc><w:tcPr><w:tcW w:w=\"4500\" w:type=\"dxa\"/></w:tcPr>" + paragraphs.map(paragraph).joined() + "</w:tc>"
        }
        let letterhead =
            "<w:tbl><w:tblPr><w:tblW w:w=\"9000\" w:type=\"dxa\"/></w:tblPr>"
            + "<w:tblGrid><w:gridCol w:w=\"4500\"/><w:gridCol w:w=\"4500\"/></w:tblGrid><w:tr>"
            + cell([
                Paragraph(text: document.parentAgency.uppercased(), centered: true, size: 26),
                Paragraph(text: document.agency.uppercased(), bold: true, centered: true, size: 26),
                Paragraph(text: document.number, centered: true),
            ])
            + cell([
                Paragraph(text: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold: true, centered: true, size: 26),
                Paragraph(text: "Độc lập - Tự do - Hạnh phúc", bold: true, centered: true),
                Paragraph(text: document.placeAndDate, centered: true),
            ])
            + "</w:tr></w:tbl>"
        return "<w:document \(wordNamespaces)><w:body>" + letterhead + document.paragraphs.map(paragraph).joined()
            + "<w:sectPr><w:headerReference w:type=\"default\" r:id=\"rId1\"/>"
            + "<w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"1134\" w:bottom=\"1134\" w:left=\"1701\" "
            + "w:header=\"720\" w:footer=\"720\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    }

    private static func paragraph(_ paragraph: Paragraph) -> String {
        var properties = ""
        if paragraph.centered { properties += "<w:pPr><w:jc w:val=\"center\"/></w:pPr>" }
        var run = ""
        if paragraph.bold { run += "<w:b/>" }
        if let size = paragraph.size { run += "<w:sz w:val=\"\(size)\"/>" }
        let runProperties = run.isEmpty ? "" : "<w:rPr>\(run)</w:rPr>"
        return "<w:p>\(properties)<w:r>\(runProperties)<w:t xml:space=\"preserve\">\(escape(paragraph.text))</w:t></w:r></w:p>"
    }

    private static func packageRelationships(main: String) -> [UInt8] {
        xml(
            """
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
            Target="\(main)"/>\
            <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" \
            Target="docProps/core.xml"/>\
            <Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" \
            Target="docProps/app.xml"/>\
            </Relationships>
            """
        )
    }

    private static func coreProperties(title: String, author: String, created: String) -> [UInt8] {
        xml(
            """
            <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
            xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
            <dc:title>\(escape(title))</dc:title><dc:creator>\(escape(author))</dc:creator>\
            <cp:lastModifiedBy>\(escape(author))</cp:lastModifiedBy>\
            <dcterms:created xsi:type="dcterms:W3CDTF">\(created)</dcterms:created>\
            <dcterms:modified xsi:type="dcterms:W3CDTF">\(created)</dcterms:modified>\
            </cp:coreProperties>
            """
        )
    }

    private static func appProperties(application: String) -> [UInt8] {
        xml(
            """
            <Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">\
            <Application>\(application)</Application><AppVersion>16.0000</AppVersion></Properties>
            """
        )
    }

    private static func xml(_ body: String) -> [UInt8] {
        Array(("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n" + body).utf8)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A, B, ..., Z, AA, ...
    static func columnName(_ index: Int) -> String {
        var index = index
        var name = ""
        repeat {
            name = String(UnicodeScalar(UInt8(65 + index % 26))) + name
            index = index / 26 - 1
        } while index >= 0
        return name
    }
}
