import Foundation
import SecrecyMarks
import Testing
import VietText

@testable import DocumentText

private func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    return Array(try Data(contentsOf: url))
}

private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
private func le16(_ value: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: value), UInt8(value >> 8)] }

/// Writes a compound file per [MS-CFB] (version 3: 512-byte sectors, version 4: 4096-byte ones):
/// the FAT in sector 0, the directory, the mini FAT and mini stream (streams under 4096 bytes),
/// then each large stream. Independent of the reader: the tests' own writer.
private func compoundFile(_ streams: [(name: String, data: [UInt8])], version: Int = 3) -> [UInt8] {
    let size = version == 4 ? 4096 : 512
    var sectors: [[UInt8]] = [[]]  // sector 0: the FAT, filled at the end
    var fat: [UInt32] = [0xFFFF_FFFD]
    func place(_ data: [UInt8]) -> UInt32 {
        guard !data.isEmpty else { return 0xFFFF_FFFE }
        let first = UInt32(sectors.count)
        let count = (data.count + size - 1) / size
        for index in 0..<count {
            var sector = Array(data[(index * size)..<min(data.count, (index + 1) * size)])
            sector += [UInt8](repeating: 0, count: size - sector.count)
            sectors.append(sector)
            fat.append(index == count - 1 ? 0xFFFF_FFFE : first + UInt32(index) + 1)
        }
        return first
    }
    var miniStream: [UInt8] = []
    var miniFat: [UInt32] = []
    var starts: [UInt32] = []
    var large: [Int] = []
    for (index, stream) in streams.enumerated() {
        if stream.data.count < 4096 {
            let first = UInt32(miniStream.count / 64)
            let count = (stream.data.count + 63) / 64
            miniStream += stream.data + [UInt8](repeating: 0, count: count * 64 - stream.data.count)
            for sector in 0..<count { miniFat.append(sector == count - 1 ? 0xFFFF_FFFE : first + UInt32(sector) + 1) }
            starts.append(count == 0 ? 0xFFFF_FFFE : first)
        } else {
            starts.append(0)
            large.append(index)
        }
    }
    func entry(_ name: String, kind: UInt8, child: UInt32, right: UInt32, start: UInt32, size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for unit in name.utf16 { bytes += le16(unit) }
        bytes += [UInt8](repeating: 0, count: 64 - bytes.count)
        bytes += le16(UInt16(2 * name.utf16.count + 2)) + [kind, 1]
        bytes += le32(0xFFFF_FFFF) + le32(right) + le32(child)
        bytes += [UInt8](repeating: 0, count: 16 + 4 + 16)
        bytes += le32(start) + le32(UInt32(size)) + le32(0)
        return bytes
    }
    // The directory's sectors come right after the FAT, then the mini FAT, the mini stream, the streams.
    let directorySectors = (streams.count + 1 + size / 128 - 1) / (size / 128)
    let directoryStart = UInt32(sectors.count)
    for index in 0..<directorySectors {
        sectors.append([])
        fat.append(index == directorySectors - 1 ? 0xFFFF_FFFE : directoryStart + UInt32(index) + 1)
    }
    let miniFatStart = place(miniFat.flatMap(le32))
    let miniStreamStart = place(miniStream)
    for index in large { starts[index] = place(streams[index].data) }
    var directory = entry(
        "Root Entry",
        kind: 5,
        child: streams.isEmpty ? 0xFFFF_FFFF : 1,
        right: 0xFFFF_FFFF,
        start: miniStreamStart,
        size: miniStream.count
    )
    for (index, stream) in streams.enumerated() {
        let right = index + 1 < streams.count ? UInt32(index + 2) : 0xFFFF_FFFF
        directory += entry(stream.name, kind: 2, child: 0xFFFF_FFFF, right: right, start: starts[index], size: stream.data.count)
    }
    directory += [UInt8](repeating: 0, count: directorySectors * size - directory.count)
    for index in 0..<directorySectors { sectors[Int(directoryStart) + index] = Array(directory[(index * size)..<((index + 1) * size)]) }
    precondition(fat.count <= size / 4, "one FAT sector")
    sectors[0] = (fat + [UInt32](repeating: 0xFFFF_FFFF, count: size / 4 - fat.count)).flatMap(le32)
    var header = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 16)
    header += le16(0x3E) + le16(UInt16(version)) + le16(0xFFFE) + le16(version == 4 ? 12 : 9) + le16(6)
    header += [UInt8](repeating: 0, count: 6) + le32(version == 4 ? UInt32(directorySectors) : 0) + le32(1) + le32(directoryStart)
    header +=
        le32(0) + le32(4096) + le32(miniFat.isEmpty ? 0xFFFF_FFFE : miniFatStart) + le32(UInt32((miniFat.count * 4 + size - 1) / size))
    header += le32(0xFFFF_FFFE) + le32(0) + le32(0)
    for _ in 1..<109 { header += le32(0xFFFF_FFFF) }
    header += [UInt8](repeating: 0, count: size - header.count)
    return header + sectors.joined()
}

/// The streams of a compound file, by the reader under test (to repack a real file another way).
private func streams(of bytes: [UInt8], _ names: [String]) throws -> [(name: String, data: [UInt8])] {
    var failure: [String] = []
    var file = try #require(CompoundFile(bytes, limits: ExtractionLimits(), failure: &failure))
    var found: [(name: String, data: [UInt8])] = []
    for name in names {
        let data = file.stream(named: name)
        found.append((name, try #require(data)))
    }
    return found
}

private func findings(_ result: ExtractedText) -> [String] {
    SecrecyMatcher.match(result.units).findings.map { "\($0.level.rawValue)@\($0.placement.rawValue)" }.sorted()
}

@Suite struct OLE2TextTests {
    // MARK: Word documents written by LibreOffice

    @Test func wordStampsInHeaderLetterheadAndTextBoxAreFoundWhereTheyStand() throws {
        let result = OLE2Text.units(try fixture("libreoffice-stamped.doc"))
        #expect(result.isComplete, "\(result.problems)")
        #expect(findings(result) == ["mat@letterhead-left-cell", "toi-mat@text-box", "tuyet-mat@page-header"])
        let header = try #require(result.units.first { $0.container == .pageHeader })
        #expect(header.text == "TUYỆT MẬT")
        #expect(header.style.isSuperset(of: [.bold, .red]) && header.fontSize == 14)
        // The letterhead's left cell is one unit, its paragraphs on lines of their own.
        let cell = try #require(result.units.first { $0.text.hasPrefix("Số:") })
        #expect(cell.container == .tableCell && cell.region == .letterheadLeft && cell.page == 1)
        #expect(cell.text == "Số: 12/STTTT-VP\nMẬT")
        #expect(result.units.filter { $0.container == .tableCell }.map(\.region) == [.letterheadLeft, nil, .letterheadLeft, nil])
        // The bold MẬT after the page break is on page 2: evidence, not a stamp.
        let late = try #require(result.units.last { $0.text == "MẬT" })
        #expect(late.container == .documentBody && late.page == 2)
        // So is the text box anchored on page 2 (its page comes from its shape's anchor).
        let weak = SecrecyMatcher.match(result.units).weak
        #expect(weak.map(\.page) == [2, 2] && weak.map(\.container) == [.documentBody, .textBox])
        let body = result.units.filter { $0.container == .documentBody }
        #expect(body.map(\.index) == body.indices.map { Optional(4 + $0) })
        #expect(body.first?.text == "V/v triển khai kế hoạch năm 2026")
        // Each text box stands in the body where its shape is anchored, on that page.
        let boxes = result.units.filter { $0.container == .textBox }
        #expect(boxes.map(\.text) == ["TỐI MẬT", "TUYỆT MẬT"] && boxes.map(\.page) == [1, 2])
        #expect(boxes.allSatisfy { $0.style.isSuperset(of: [.bold, .red]) })
        let order = result.units.map(\.text)
        #expect(order.firstIndex(of: "TỐI MẬT") == order.firstIndex(of: "V/v triển khai kế hoạch năm 2026").map { $0 + 1 })
    }

    @Test func wordTrapWordsAndAnOrdinaryDegreeFieldFindNothing() throws {
        let result = OLE2Text.units(try fixture("libreoffice-traps.doc"))
        #expect(result.isComplete)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty && report.weak.isEmpty)
        // The text is there: the matcher was given it.
        #expect(result.units.map(\.text).contains("Độ mật: Thường"))
        #expect(result.units.map(\.text).contains("MẬT KHẨU"))
        #expect(result.units.contains { $0.container == .pageHeader && $0.text == "Hướng dẫn bảo mật hệ thống" })
    }

    @Test func wordTCVN3RunsKeepTheirLegacyFontAndAFieldShowsOnlyItsResult() throws {
        let result = OLE2Text.units(try fixture("libreoffice-tcvn3.doc"))
        #expect(result.isComplete)
        let stamp = try #require(result.units.first { $0.fontName == ".VnTimeH" })
        // The TCVN3 bytes read as Windows-1252, the font named: the matcher converts them.
        #expect(stamp.text == "tuy\u{D6}t m\u{CB}t" && stamp.page == 1 && stamp.index == 1)
        #expect(stamp.style.isSuperset(of: [.bold, .red]) && stamp.fontSize == 14)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.topSecret])
        #expect(report.findings.first?.decoder == .tcvn3Upper && report.findings.first?.placement == .documentHead)
        // The same stamp on page 2 is evidence only; "mật khẩu" in .VnTime is nothing.
        #expect(report.weak.map(\.page) == [2])
        #expect(result.units.contains { $0.fontName == ".VnTime" && $0.text == "m\u{CB}t kh\u{C8}u" })
        #expect(result.units.map(\.text).contains("Xem trang web nay."))
        #expect(!result.units.contains { $0.text.contains("HYPERLINK") || $0.text.contains("hidden-instruction") })
        #expect(result.units.first { $0.container == .pageHeader }?.text == "UBND TINH QUANG NINH")
    }

    /// LibreOffice's .doc of a python-docx letterhead whose left cell is in a Unicode font, but for
    /// the subject line typed in `.VnTime` and, after a line break (a vertical tab), TUYỆT MẬT in
    /// `.VnTimeH`: each legacy run converted by its own font, the cell one unit in a Unicode font.
    @Test func wordLetterheadCellMixingUnicodeAndTCVN3() throws {
        let result = OLE2Text.units(try fixture("libreoffice-mixed-fonts.doc"))
        #expect(result.isComplete, "\(result.problems)")
        let cell = try #require(result.units.first)
        #expect(cell.text == "UBND TỈNH QUẢNG NINH\nSố: 16/STTTT-VP\nV/v triển khai kế hoạch\nTUYỆT MẬT")
        #expect(cell.container == .tableCell && cell.region == .letterheadLeft)
        #expect(SecrecyMatcher.legacyDecoder(forFont: cell.fontName) == nil)
        #expect(findings(result) == ["tuyet-mat@letterhead-left-cell"])
        // The right cell's "mật khẩu" in .VnTime beside Unicode text is read, and is nothing.
        #expect(result.units.map(\.text).contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nHướng dẫn đổi mật khẩu"))
        #expect(SecrecyMatcher.match(result.units).weak.isEmpty)
    }

    @Test func documentPropertiesAreMetadataUnits() throws {
        let result = OLE2Text.units(try fixture("libreoffice-properties.doc"))
        #expect(result.isComplete, "\(result.problems)")
        let metadata = result.units.filter { $0.container == .metadata }.map(\.text)
        #expect(metadata.contains("Kế hoạch bảo đảm an toàn thông tin"))
        #expect(metadata.contains("Báo cáo tháng") && metadata.contains("an toàn, bảo mật"))
        #expect(metadata.contains("Độ mật: Tối mật"))
        #expect(metadata.contains("MSIP_Label_2fd1d0f0-1c2f-4d3e-9a8b-0c1d2e3f4a5b_Name: Mật"))
        // A label a tool wrote in the document's properties is evidence (issue 12), not a stamp.
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map { "\($0.level.rawValue)@\($0.container.rawValue)" }.contains("toi-mat@metadata"))
    }

    /// Word 6 / 95 (nFib under 193): no table stream; the text from fcMin to fcMac is read plain.
    @Test func word95TextIsReadPlainAndSaidIncomplete() {
        let text = Array(
            "UBND T\u{CD}NH\rV/v k\u{EA} ho\u{B8}ch\r\u{13} PAGE \u{14}1\u{15}\u{0C}Trang hai\r".unicodeScalars.map { UInt8($0.value) }
        )
        var word = [UInt8](repeating: 0, count: 0x300)
        word.replaceSubrange(0..<4, with: le16(0xA5EC) + le16(101))
        word.replaceSubrange(0x18..<0x20, with: le32(0x300) + le32(UInt32(0x300 + text.count)))
        word += text + [UInt8](repeating: 0, count: 4096)
        let result = OLE2Text.units(compoundFile([("WordDocument", word)]))
        #expect(result.units.map(\.text) == ["UBND T\u{CD}NH", "V/v k\u{EA} ho\u{B8}ch", "1", "Trang hai"])
        #expect(result.units.map(\.page) == [1, 1, 1, 2] && result.units.map(\.index) == [0, 1, 2, 3])
        #expect(result.problems.count == 1 && result.problems[0].hasPrefix("doc-old-format:"))
        // A Word 97 FIB whose table stream is missing.
        word.replaceSubrange(2..<4, with: le16(193))
        #expect(OLE2Text.units(compoundFile([("WordDocument", word)])).problems.first?.hasPrefix("doc-no-table:") == true)
    }

    // MARK: Excel workbooks written by LibreOffice

    @Test func excelHeaderStampIsStrongAndCellsAreDataOnly() throws {
        let result = OLE2Text.units(try fixture("libreoffice-register.xls"))
        #expect(result.isComplete, "\(result.problems)")
        #expect(findings(result) == ["toi-mat@page-header"])
        let report = SecrecyMatcher.match(result.units)
        // The .VnTimeH cell converts to TUYỆT MẬT, but a cell is data: weak. "Độ mật" / "Thường" / "Mật" are nothing.
        #expect(report.weak.map(\.level) == [.topSecret] && report.weak.first?.decoder == .tcvn3Upper)
        // The sheet names, then the document properties (openpyxl's AppVersion, kept by LibreOffice).
        #expect(result.units.filter { $0.container == .metadata }.map(\.text) == ["Công văn", "Sổ đăng ký", "AppVersion: 3.1"])
        #expect(result.units.filter { $0.container == .pageFooter }.map(\.text) == ["Trang  /", "Lưu hành nội bộ"])
        let header = try #require(result.units.first { $0.container == .pageHeader })
        #expect(header.fontName == "Times New Roman" && header.style.contains(.bold))
        // A formula's cached string result (FORMULA then STRING).
        #expect(result.units.contains { $0.container == .sheetCell && $0.text == "Kết quả" })
        let legacy = try #require(result.units.first { $0.fontName == ".VnTimeH" })
        #expect(legacy.text == "tuy\u{D6}t m\u{CB}t" && legacy.container == .sheetCell && legacy.style.contains(.bold))
    }

    @Test func excelSharedStringsAcrossContinueRecordsAreWhole() throws {
        let result = OLE2Text.units(try fixture("libreoffice-register.xls"))
        let cells = result.units.filter { $0.container == .sheetCell }.map(\.text)
        // Rows 6..605 of make_ole2.py: Vietnamese (UTF-16) and ASCII (8-bit) strings alternate, so
        // the SST's CONTINUE records split strings of both kinds and the option byte is re-read.
        let expected = (6..<606).map { $0 % 3 != 0 ? "Chuỗi số \($0) có dấu tiếng Việt" : "ascii string \($0)" }
        // The last cell is the second sheet's.
        #expect(cells.last == "Mật")
        let sheet = Array(cells.dropLast().suffix(expected.count))
        #expect(sheet.count == expected.count)
        #expect(zip(sheet, expected).filter { $0 != $1 }.map(\.0) == [])
    }

    @Test func excelTextBoxIsAStamp() throws {
        let result = OLE2Text.units(try fixture("libreoffice-textbox.xls"))
        #expect(result.isComplete, "\(result.problems)")
        #expect(result.units.filter { $0.container == .textBox }.map(\.text) == ["TỐI MẬT"])
        #expect(findings(result) == ["toi-mat@text-box"])
        #expect(result.units.contains { $0.container == .sheetCell && $0.text == "UBND TỈNH QUẢNG NINH" })
    }

    /// A BIFF5 workbook (`Book` stream, 8-bit strings in the CODEPAGE): LibreOffice reads the format
    /// but no longer writes it, so the records are written here ([MS-XLS] 2.4, BIFF5 layouts).
    @Test func biff5StringsAreReadInTheirCodePageWithTheirFonts() {
        func record(_ type: UInt16, _ body: [UInt8]) -> [UInt8] { le16(type) + le16(UInt16(body.count)) + body }
        func font(_ name: String, bold: Bool) -> [UInt8] {
            record(
                0x0031,
                le16(240) + le16(0) + le16(0x7FFF) + le16(bold ? 700 : 400) + le16(0) + [0, 0, 0, 0, UInt8(name.utf8.count)]
                    + Array(name.utf8)
            )
        }
        func xf(_ font: UInt16) -> [UInt8] { record(0x00E0, le16(font) + [UInt8](repeating: 0, count: 14)) }
        let header: [UInt8] = Array("&C&\".VnTimeH,Bold\"tuy".utf8) + [0xD6] + Array("t m".utf8) + [0xCB, 0x74]
        var book = record(0x0809, le16(0x0500) + le16(0x0005) + le16(0) + le16(1993))
        book += record(0x0042, le16(1252))
        book += font("Arial", bold: false) + font(".VnTimeH", bold: true) + xf(0) + xf(1)
        book += record(0x0085, le32(0) + [0, 0, 6] + Array("Sheet1".utf8))
        book += record(0x000A, [])
        book += record(0x0809, le16(0x0500) + le16(0x0010) + le16(0) + le16(1993))
        book += record(0x0014, [UInt8(header.count)] + header)
        book += record(0x0204, le16(1) + le16(0) + le16(0) + le16(4) + Array("Caf".utf8) + [0xE9])
        book += record(0x0204, le16(0) + le16(0) + le16(1) + le16(3) + [0x6D, 0xCB, 0x74])
        book += record(0x000A, [])
        let result = OLE2Text.units(compoundFile([("Book", book)]))
        #expect(result.isComplete, "\(result.problems)")
        #expect(result.units.map(\.text) == ["Sheet1", "tuy\u{D6}t m\u{CB}t", "Café", "m\u{CB}t"])
        #expect(result.units[1].container == .pageHeader && result.units[1].fontName == ".VnTimeH")
        #expect(result.units[3].fontName == ".VnTimeH" && result.units[3].style == [.bold] && result.units[3].fontSize == 12)
        #expect(findings(result) == ["tuyet-mat@page-header"])
    }

    // MARK: Compound files

    @Test func aVersion4FileWithTheSameStreamsReadsTheSame() throws {
        let original = try fixture("libreoffice-stamped.doc")
        let parts = try streams(of: original, ["WordDocument", "1Table", PropertySets.summary, PropertySets.documentSummary])
        for version in [3, 4] {
            let repacked = compoundFile(parts, version: version)
            #expect(repacked.count % (version == 4 ? 4096 : 512) == 0)
            let result = OLE2Text.units(repacked)
            #expect(result.isComplete, "\(result.problems)")
            #expect(result == OLE2Text.units(original))
        }
        #expect(OLE2Text.kind(of: compoundFile(parts, version: 4)) == .doc)
        #expect(OLE2Text.kind(of: try fixture("libreoffice-register.xls")) == .xls)
        #expect(OLE2Text.kind(of: Array("not a compound file".utf8)) == nil)
    }

    @Test func streamNamesAreFoundWithoutRegardToCase() throws {
        let parts = try streams(of: try fixture("libreoffice-stamped.doc"), ["WordDocument", "1Table"])
        let renamed = compoundFile([("WORDDOCUMENT", parts[0].data), ("1table", parts[1].data)])
        #expect(findings(OLE2Text.units(renamed)) == findings(OLE2Text.units(try fixture("libreoffice-stamped.doc"))))
        #expect(findings(OLE2Text.units(renamed)).count == 3)
    }

    @Test func aFATLoopIsSaidAndStopsTheChain() throws {
        var file = compoundFile([("WordDocument", [UInt8](repeating: 0x41, count: 8192))])
        // The stream's last sector points back to its first. The FAT is sector 0 (at 512), the
        // directory sector 1 (at 1024), its entry 1 the stream.
        let fat = 512
        let first = Int(CompoundFile.u32(file, 1024 + 128 + 0x74) ?? 0)
        #expect(first > 1)
        let last = first + 15
        file.replaceSubrange((fat + 4 * last)..<(fat + 4 * last + 4), with: le32(UInt32(first)))
        let result = OLE2Text.units(file)
        #expect(result.problems.contains { $0.hasPrefix("cfb-loop:") })
        #expect(!result.isComplete)
    }

    @Test func aDIFATLoopIsSaid() throws {
        var file = compoundFile([("Workbook", [UInt8](repeating: 0, count: 100))])
        // An extra sector that lists no FAT sector and names itself as the next DIFAT sector.
        let extra = UInt32(file.count / 512 - 1)
        var sector = [UInt8](repeating: 0xFF, count: 508) + le32(extra)
        sector.replaceSubrange(0..<4, with: le32(0xFFFF_FFFF))
        file += sector
        file.replaceSubrange(0x44..<0x48, with: le32(extra))
        file.replaceSubrange(0x48..<0x4C, with: le32(1))
        let result = OLE2Text.units(file)
        #expect(result.problems.contains { $0.hasPrefix("cfb-loop:") }, "\(result.problems)")
    }

    @Test func aDirectoryPastTheEndIsSaid() {
        var file = compoundFile([("WordDocument", [UInt8](repeating: 0, count: 5000))])
        file.replaceSubrange(0x30..<0x34, with: le32(100_000))
        let result = OLE2Text.units(file)
        #expect(result.units.isEmpty)
        #expect(result.problems.contains { $0.hasPrefix("cfb-bad-sector:") || $0.hasPrefix("cfb-bad-directory:") }, "\(result.problems)")
    }

    @Test func aHugeDeclaredStreamSizeIsCheckedAgainstTheFile() {
        var file = compoundFile([("WordDocument", [UInt8](repeating: 0, count: 5000))])
        file.replaceSubrange((1024 + 128 + 0x78)..<(1024 + 128 + 0x7C), with: le32(0xFFFF_FFF0))
        let start = Date()
        let result = OLE2Text.units(file)
        #expect(result.problems.contains { $0.hasPrefix("cfb-stream-size:") }, "\(result.problems)")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func aTruncatedFileIsReadAsFarAsItGoes() throws {
        let original = try fixture("libreoffice-stamped.doc")
        for length in [0, 8, 511, 600, original.count / 2, original.count - 700] {
            let result = OLE2Text.units(original.prefix(length))
            #expect(!result.isComplete, "\(length)")
        }
        let xls = try fixture("libreoffice-register.xls")
        let half = OLE2Text.units(xls.prefix(xls.count * 3 / 4))
        #expect(!half.isComplete)
    }

    /// 20,000 pieces that all name the same bytes (20 million characters from a 20 KiB stream):
    /// the reading stops at what the stream could hold.
    @Test func piecesSharingBytesDoNotMultiplyTheWork() throws {
        var parts = try streams(of: try fixture("libreoffice-stamped.doc"), ["WordDocument", "1Table"])
        let count = 20_000
        var clx: [UInt8] = [0x02] + le32(UInt32(4 * (count + 1) + 8 * count))
        for index in 0...count { clx += le32(UInt32(index * 1000)) }
        // Compressed pieces (bit 30) at byte 0x800 of the WordDocument stream.
        for _ in 0..<count { clx += le16(0) + le32(0x4000_0000 | 0x1000) + le16(0) }
        let offset = parts[1].data.count
        parts[1].data += clx
        parts[0].data.replaceSubrange(0x1A2..<0x1AA, with: le32(UInt32(offset)) + le32(UInt32(clx.count)))
        parts[0].data.replaceSubrange(0x4C..<0x50, with: le32(UInt32(count * 1000)))
        let start = Date()
        // Version 4: the test writer's one FAT sector then covers the 240 KiB table stream.
        let result = OLE2Text.units(compoundFile(parts, version: 4))
        #expect(result.problems.contains { $0.hasPrefix("doc-bad-piece-table:") }, "\(result.problems)")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func encryptionIsAProblem() throws {
        var word = try streams(of: try fixture("libreoffice-stamped.doc"), ["WordDocument", "1Table"])
        word[0].data[0x0B] |= 0x01  // FIB fEncrypted
        let result = OLE2Text.units(compoundFile(word))
        #expect(result.problems.first?.hasPrefix("encrypted:") == true && result.units.isEmpty)
        // An XLS FILEPASS record after the BOF.
        let bof: [UInt8] = le16(0x0809) + le16(16) + le16(0x0600) + le16(0x0005) + [UInt8](repeating: 0, count: 12)
        let filepass: [UInt8] = le16(0x002F) + le16(6) + [1, 0, 1, 0, 1, 0]
        let xls = OLE2Text.units(compoundFile([("Workbook", bof + filepass + le16(0x000A) + le16(0))]))
        #expect(xls.problems == ["encrypted: the workbook is encrypted (FILEPASS)"])
        let package = OLE2Text.units(compoundFile([("EncryptionInfo", [1, 2, 3]), ("EncryptedPackage", [4, 5, 6])]))
        #expect(package.problems.first?.hasPrefix("encrypted:") == true)
        #expect(OLE2Text.units(compoundFile([("Other", [1])])).problems.first?.hasPrefix("ole2-unknown:") == true)
    }

    @Test func limitsCapTheOutput() throws {
        var limits = ExtractionLimits()
        limits.maxUnits = 5
        let capped = OLE2Text.units(try fixture("libreoffice-register.xls"), limits: limits)
        #expect(capped.units.count == 5 && capped.problems.contains { $0.hasPrefix("text-cap-reached:") })
        limits = ExtractionLimits()
        limits.maxSectors = 4
        let short = OLE2Text.units(try fixture("libreoffice-stamped.doc"), limits: limits)
        #expect(short.problems.contains { $0.hasPrefix("cfb-too-long:") })
        limits = ExtractionLimits()
        limits.maxInputBytes = 1000
        #expect(
            OLE2Text.units(try fixture("libreoffice-stamped.doc"), limits: limits).problems.first?.hasPrefix("input-too-large:") == true
        )
    }

    @Test func compoundFileMimeTypesAreRead() {
        #expect(DocumentFormat.of(mimeType: "application/CDFV2") == .ole2)
        #expect(DocumentFormat.of(mimeType: "application/x-ole-storage") == .ole2)
        #expect(DocumentFormat.of(mimeType: "application/msword") == .doc)
    }
}
