import DocumentText
import Foundation
import SecrecyMarks
import Testing

/// A package fixture made by Fixtures/make_packages.py (python-docx, openpyxl, python-pptx, odfpy,
/// LibreOffice, Python's zipfile).
private func package(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/packages"))
    return Array(try Data(contentsOf: url))
}

private func read(_ name: String, limits: ExtractionLimits = ExtractionLimits()) throws -> ExtractedText {
    let bytes = try package(name)
    let format = try #require(bytes.withUnsafeBytes { DocumentFormat.of(mimeType: "application/zip", bytes: $0) })
    return format == .odt || format == .ods || format == .odp
        ? ODFText.units(bytes, format: format, limits: limits) : OOXMLText.units(bytes, format: format, limits: limits)
}

private func describe(_ units: [TextUnit]) -> String {
    units.map {
        "\($0.container.rawValue) p\($0.page.map(String.init) ?? "-") \($0.region?.rawValue ?? "-") i\($0.index.map(String.init) ?? "-") \($0.style.rawValue) \($0.fontName ?? "-"): \($0.text)"
    }
    .joined(separator: "\n")
}

@Suite struct PackageTextTests {
    /// Each writer's stamp, in one placement: found once, strong, with that placement.
    @Test(arguments: [
        ("python-docx-header.docx", SecrecyLevel.secret, SecrecyFinding.Placement.pageHeader),
        ("python-docx-letterhead.docx", .confidential, .letterheadLeftCell),
        ("python-docx-bordered.docx", .topSecret, .bordered),
        ("python-docx-vntime.docx", .confidential, .documentHead),
        ("libreoffice-textbox.docx", .confidential, .textBox),
        ("openpyxl-header.xlsx", .confidential, .pageHeader),
        ("python-pptx-stamped.pptx", .secret, .textBox),
        ("libreoffice-letterhead.odt", .confidential, .letterheadLeftCell),
        ("odfpy-frame.odt", .confidential, .textBox),
        ("libreoffice-header.ods", .confidential, .pageHeader),
        ("odfpy-stamped.odp", .secret, .textBox),
        ("python-docx-mixed-fonts.docx", .topSecret, .letterheadLeftCell),
        ("libreoffice-mixed-fonts.odt", .topSecret, .letterheadLeftCell),
    ])
    func stampIsFoundOnceWithItsPlacement(name: String, level: SecrecyLevel, placement: SecrecyFinding.Placement) throws {
        let result = try read(name)
        #expect(result.isComplete, "\(result.problems)")
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [level], "\(describe(result.units))")
        #expect(report.findings.map(\.placement) == [placement], "\(describe(result.units))")
    }

    /// The odfpy text: TUYỆT MẬT in the master page's header (styles.xml), and "tối mật" in a
    /// paragraph whose parent style gives border and capitals, deep in page 1.
    @Test func odfHeaderAndStyledBorderedParagraph() throws {
        let result = try read("odfpy-header-bordered.odt")
        #expect(result.isComplete, "\(result.problems)")
        let report = SecrecyMatcher.match(result.units)
        let found = report.findings.map { "\($0.level.rawValue) \($0.placement.rawValue)" }
        #expect(found == ["tuyet-mat page-header", "toi-mat bordered"], "\(describe(result.units))")
        let styled = try #require(result.units.first { $0.text == "tối mật" })
        #expect(styled.style.isSuperset(of: [.bold, .red, .allCaps, .bordered]))
        #expect(styled.fontSize == 14)
    }

    @Test func textBoxIsReadOnceNotAlsoFromItsVMLFallback() throws {
        let result = try read("libreoffice-textbox.docx")
        #expect(result.units.filter { $0.text == "MẬT" }.count == 1)
        #expect(result.units.first { $0.text == "MẬT" }?.container == .textBox)
    }

    @Test func legacyFontComesThroughTheStyleChain() throws {
        let result = try read("python-docx-vntime.docx")
        let unit = try #require(result.units.first { $0.text == "M\u{CB}T" })
        #expect(unit.fontName == ".VnTimeH")
        #expect(unit.style.contains(.bold))
        let finding = try #require(SecrecyMatcher.match(result.units).findings.first)
        #expect(finding.decoder == .tcvn3Upper)
    }

    /// A paragraph of the letterhead's left cell: the number in a Unicode font, a line break, then
    /// TUYỆT MẬT in `.VnTimeH`; in the right cell "mật khẩu" in `.VnTime` after Unicode text. The
    /// legacy runs are converted, each by its font, and the unit's font is a Unicode one.
    @Test(arguments: ["python-docx-mixed-fonts.docx", "libreoffice-mixed-fonts.odt"])
    func paragraphMixingUnicodeAndLegacyRunsIsConverted(name: String) throws {
        let result = try read(name)
        let stamp = try #require(result.units.first { $0.text.hasPrefix("Số: 16/") }, "\(describe(result.units))")
        #expect(stamp.text == "Số: 16/STTTT-VP\nTUYỆT MẬT")
        #expect(stamp.region == .letterheadLeft)
        #expect(SecrecyMatcher.legacyDecoder(forFont: stamp.fontName) == nil)
        #expect(result.units.contains { $0.text == "Hướng dẫn đổi mật khẩu" && $0.region == .topRight })
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.matched) == ["TUYỆT MẬT"] && report.weak.isEmpty)
    }

    @Test func letterheadCellsHaveTheirRegions() throws {
        let result = try read("python-docx-letterhead.docx")
        #expect(result.units.first { $0.text == "Số: 12/STTTT-VP" }?.region == .letterheadLeft)
        #expect(result.units.first { $0.text == "Độc lập - Tự do - Hạnh phúc" }?.region == .topRight)
        #expect(result.units.first { $0.text.hasPrefix("Kính gửi") }?.container == .documentBody)
        let indices = result.units.compactMap(\.index)
        #expect(indices == Array(0..<indices.count))
    }

    @Test func headersFootersAndPagesOfAWordFile() throws {
        let result = try read("python-docx-header.docx")
        #expect(result.units.contains { $0.container == .pageHeader && $0.text == "TỐI MẬT" && $0.style.contains(.red) })
        #expect(result.units.contains { $0.container == .pageFooter && $0.text == "Trang 1" })
        #expect(result.units.filter { $0.container == .documentBody }.allSatisfy { $0.page == 1 })
    }

    /// Trap words (mật khẩu, bảo mật, bí mật nhà nước in running text, "Độ mật: Thường", a list of
    /// the levels) in every writer's file: nothing, not even weak.
    @Test(arguments: ["python-docx-traps.docx", "libreoffice-traps.odt", "python-pptx-traps.pptx"])
    func trapWordsGiveNothing(name: String) throws {
        let result = try read(name)
        #expect(result.isComplete, "\(result.problems)")
        #expect(result.units.contains { $0.text.localizedCaseInsensitiveContains("mật khẩu") })
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty, "\(describe(result.units))")
        #expect(report.weak.isEmpty, "\(describe(result.units))")
    }

    /// A register's "Độ mật" column and a level alone on slide 2 are weak at most, never strong.
    @Test func levelsInSheetCellsAndLaterSlidesAreWeak() throws {
        let register = SecrecyMatcher.match(try read("openpyxl-register.xlsx").units)
        #expect(register.findings.isEmpty)
        let sheet = try read("openpyxl-header.xlsx")
        #expect(sheet.units.contains { $0.container == .sheetCell && $0.text == "MẬT" })
        #expect(sheet.units.contains { $0.container == .pageFooter && $0.text == "Trang" })
        #expect(sheet.units.contains { $0.container == .sheetCell && $0.text.hasSuffix("Kiểm tra lại trích yếu") })
        let slides = try read("python-pptx-stamped.pptx")
        #expect(slides.units.contains { $0.container == .documentBody && $0.page == 2 && $0.text.hasPrefix("Ghi chú") })
        let odp = SecrecyMatcher.match(try read("odfpy-stamped.odp").units)
        #expect(odp.weak.map(\.level) == [.confidential])
    }

    @Test func formatsAreToldFromTheirEntries() throws {
        let expected: [(String, DocumentFormat)] = [
            ("python-docx-header.docx", .docx), ("openpyxl-header.xlsx", .xlsx), ("python-pptx-stamped.pptx", .pptx),
            ("odfpy-frame.odt", .odt), ("libreoffice-header.ods", .ods), ("odfpy-stamped.odp", .odp),
        ]
        for (name, format) in expected {
            let bytes = try package(name)
            #expect(bytes.withUnsafeBytes { DocumentFormat.of(mimeType: "application/octet-stream", bytes: $0) } == format)
            #expect(bytes.withUnsafeBytes { DocumentFormat.of(mimeType: nil, bytes: $0) } == format)
        }
        // libmagic's own answer wins; a zip that is no document is none.
        let docx = try package("python-docx-header.docx")
        #expect(docx.withUnsafeBytes { DocumentFormat.of(mimeType: "text/rtf", bytes: $0) } == .rtf)
        let plain: [UInt8] = Array("PK\u{3}\u{4}not a zip".utf8)
        #expect(plain.withUnsafeBytes { DocumentFormat.of(mimeType: "application/zip", bytes: $0) } == nil)
    }

    /// A Purview label and keywords are metadata units: the label's name is evidence (weak), never a
    /// stamp by itself, and the companions (dates, ids) are units too.
    @Test func labelsAndKeywordsAreMetadataUnits() throws {
        let result = try read("python-docx-labelled.docx")
        #expect(result.isComplete, "\(result.problems)")
        let metadata = result.units.filter { $0.container == .metadata }.map(\.text)
        #expect(metadata.contains("kế hoạch; an ninh mạng"))
        #expect(metadata.contains("MSIP_Label_d9f4a6c2-1b3e-4f5a-9c8d-7e6f5a4b3c2d_Name: TỐI MẬT"))
        #expect(metadata.contains("MSIP_Label_d9f4a6c2-1b3e-4f5a-9c8d-7e6f5a4b3c2d_Method: Privileged"))
        #expect(metadata.contains("TỐI MẬT"))
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map { "\($0.level.rawValue) \($0.container.rawValue)" } == ["toi-mat metadata"])
    }

    // MARK: - Hostile packages: each ends inside the bounds with its problem.

    @Test(arguments: [
        ("hostile-bomb.docx", "zip-bomb:"),
        ("hostile-deep.docx", "xml-too-deep:"),
        ("hostile-laughs.docx", "xml-dtd:"),
        ("hostile-doctype.docx", "xml-dtd:"),
        ("hostile-malformed.docx", "xml-error: word/document.xml:"),
        ("hostile-encrypted.odt", "encrypted:"),
    ])
    func hostilePackageEndsWithItsProblem(name: String, code: String) throws {
        let clock = ContinuousClock()
        var result = ExtractedText()
        let elapsed = try clock.measure { result = try read(name) }
        #expect(result.problems.contains { $0.hasPrefix(code) }, "\(result.problems)")
        #expect(!result.isComplete)
        // Generous: the bound is what ends it, not the input's size (64 MiB of spaces, 100,000 levels).
        #expect(elapsed < .seconds(20))
        #expect(!result.units.contains { $0.text.contains("lol") })
    }

    @Test func inflatedBytesAreCountedFromRealOutput() throws {
        var limits = ExtractionLimits()
        limits.maxRatio = 100_000
        limits.maxInflatedBytes = 4 << 20
        let result = try read("hostile-bomb.docx", limits: limits)
        #expect(result.problems.contains { $0.hasPrefix("zip-bomb: more than 4194304 bytes inflated") }, "\(result.problems)")
    }

    /// `text:s text:c="1000"` would amplify 22 bytes of XML into 1,000 spaces: it gives at most 8, and
    /// the one paragraph of 200,000 of them (1.6 MB) stops at a 1 MiB text budget; with the default
    /// bounds the zip ratio stops it (4 MiB of XML from 11 KiB).
    @Test func aParagraphNeverGrowsPastTheTextBudget() throws {
        var limits = ExtractionLimits()
        limits.maxRatio = 1_000_000
        limits.maxTextBytes = 1 << 20
        let result = try read("hostile-spaces.odt", limits: limits)
        #expect(result.units.isEmpty)
        #expect(result.problems.contains { $0.hasPrefix("text-cap-reached: one unit") }, "\(result.problems)")
        #expect(try read("hostile-spaces.odt").problems.first?.hasPrefix("zip-bomb: content.xml inflates") == true)
    }

    @Test func capsOnUnitsAndTextAreSaid() throws {
        var limits = ExtractionLimits()
        limits.maxUnits = 3
        let result = try read("python-docx-bordered.docx", limits: limits)
        #expect(result.units.count == 3)
        #expect(result.problems.contains { $0.hasPrefix("text-cap-reached:") })
    }

    /// `bytes` with the central directory header of `name` changed at `offset` (from the header's start) to `value`.
    private func patched(_ bytes: [UInt8], entry name: String, at offset: Int, _ value: [UInt8]) throws -> [UInt8] {
        let signature: [UInt8] = [0x50, 0x4B, 1, 2]
        var at = 0
        while at + 46 <= bytes.count {
            if Array(bytes[at..<(at + 4)]) == signature {
                let length = Int(bytes[at + 28]) | Int(bytes[at + 29]) << 8
                if String(decoding: bytes[(at + 46)..<(at + 46 + length)], as: UTF8.self) == name {
                    var copy = bytes
                    copy.replaceSubrange((at + offset)..<(at + offset + value.count), with: value)
                    return copy
                }
            }
            at += 1
        }
        Issue.record("no central directory header for \(name)")
        return bytes
    }

    /// What ZIPFoundation 0.9.20 trapped on (an offset past the end, Tests/DocumentTextTests/FuzzRegressions/ooxml-crash-*),
    /// an encrypted entry, and a wrong CRC: each a problem, the rest of the package still read.
    @Test func damagedEntriesAreProblems() throws {
        let bytes = try package("python-docx-header.docx")
        let outside = try patched(bytes, entry: "word/document.xml", at: 42, [0x00, 0xFF, 0xFF, 0x7F])
        let result = OOXMLText.units(outside, format: .docx)
        #expect(result.problems.contains("zip-error: word/document.xml: data outside the archive"), "\(result.problems)")
        #expect(result.units.contains { $0.container == .pageHeader && $0.text == "TỐI MẬT" })
        let encrypted = try patched(bytes, entry: "word/document.xml", at: 8, [0x01, 0x00])
        #expect(OOXMLText.units(encrypted, format: .docx).problems.contains("encrypted: word/document.xml is encrypted"))
        let crc = try patched(bytes, entry: "word/document.xml", at: 16, [0, 0, 0, 0])
        #expect(OOXMLText.units(crc, format: .docx).problems.contains("zip-error: word/document.xml: CRC-32 mismatch"))
        // The central directory past the end: not a zip at all.
        var truncated = bytes
        truncated.removeLast(200)
        #expect(OOXMLText.units(truncated, format: .docx).problems == ["zip-error: not a readable zip archive"])
    }

    @Test func notAZipIsAProblemNotACrash() {
        let result = OOXMLText.units(Array("hello".utf8), format: .docx)
        #expect(result.units.isEmpty)
        #expect(result.problems == ["zip-error: not a readable zip archive"])
        #expect(ODFText.units(Array("hello".utf8), format: .docx).problems.first?.hasPrefix("unsupported-format") == true)
    }
}
