import DocumentText
import Foundation
import SecrecyMarks
import Testing
import VietText

private func rtf(
    _ body: String,
    header: String = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}"
)
    -> RTFResult
{
    RTFText.units(Array((header + body + "}").utf8))
}

private func texts(_ result: RTFResult) -> [String] { result.units.map(\.text) }

private func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "rtf", subdirectory: "Fixtures"))
    return Array(try Data(contentsOf: url))
}

@Suite struct RTFTextTests {
    @Test func paragraphsAndLinesAreUnitsInOrder() {
        let result = rtf("\\pard First\\par Second\\line Third\\par\\par")
        #expect(result.isComplete)
        #expect(texts(result) == ["First", "Second", "Third"])
        #expect(result.units.map(\.index) == [0, 1, 2])
        #expect(result.units.allSatisfy { $0.container == .documentBody && $0.page == 1 })
    }

    @Test func unicodeEscapesSkipTheirFallbackPerUc() {
        // \uc1: one fallback byte; \uc2: two (a \'hh counts as one); \uc0: none. Negative N is above 32767.
        let result = rtf("M\\u7852?T\\par{\\uc2 T\\u7888\\'3f\\'3fI}\\par{\\uc0 \\u272 \\u7897 c}\\par\\u-4064?\\par")
        #expect(texts(result) == ["MẬT", "TỐI", "Độc", "\u{F020}"])
        // Beyond the BMP: a surrogate pair (U+1F512 as \u-10179 \u-8942); a lone surrogate is dropped.
        #expect(texts(rtf("\\u-10179?\\u-8942?x\\par\\u-10179?y\\par")) == ["\u{1F512}x", "y"])
    }

    @Test func windows1258BytesWithCombiningTonesAreComposed() throws {
        // "MẬT" in Windows-1258: M, Â (0xC2), combining dot below (0xF2), T; "Tối": T, ô (0xF4), combining acute (0xEC), i.
        let header = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fcharset0 Times New Roman;}{\\f1\\fcharset163 Times New Roman;}}"
        let result = rtf("{\\f1 M\\'c2\\'f2T}\\par{\\f1 T\\'f4\\'eci}\\par{\\f0 caf\\'e9}\\par", header: header)
        #expect(texts(result) == ["MẬT", "Tối", "café"])
        #expect(result.units[0].text.unicodeScalars.count == 3)
        // The document's code page applies to fonts of charset 0.
        let whole = rtf("M\\'c2\\'f2T\\par", header: "{\\rtf1\\ansi\\ansicpg1258\\deff0{\\fonttbl{\\f0\\fcharset0 Arial;}}")
        #expect(texts(whole) == ["MẬT"])
    }

    @Test func binaryDataIsSkippedWithBracesInside() {
        let result = rtf("Before\\par{\\pict\\bin5 }{\\}x}After\\par{\\bin4 {{{{}Still\\par")
        #expect(result.isComplete)
        #expect(texts(result) == ["Before", "After", "Still"])
    }

    @Test func destinationsAreNotText() {
        let body =
            "{\\stylesheet{\\s0 MẬT;}}{\\info{\\title TỐI MẬT}{\\author MẬT}}{\\*\\generator MẬT}"
            + "{\\*\\unknowndest TUYỆT MẬT}{\\field{\\*\\fldinst HYPERLINK MẬT}{\\fldrslt Link}}"
            + "{\\object{\\*\\objdata 4d4154}{\\result Shown}}{\\*\\themedata MẬT}{\\listtext MẬT}Body\\par"
        let result = rtf(body)
        #expect(texts(result) == ["LinkBody"])
    }

    @Test func fontsColoursSizesAndBordersGiveTheStyle() {
        let header =
            "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}{\\f1\\fcharset0 .VnTimeH;}{\\f2 VNI-Times;}}"
            + "{\\colortbl;\\red255\\green0\\blue0;\\red0\\green0\\blue0;}"
        let result = rtf(
            "\\pard\\box\\brdrdb{\\f1\\b\\cf1\\fs28 M\\'cdT}\\par\\pard{\\f2\\caps\\cf2 plain}\\par\\pard{\\b bold} not\\par",
            header: header
        )
        #expect(result.units.count == 3)
        #expect(result.units[0].fontName == ".VnTimeH")
        #expect(result.units[0].fontSize == 14)
        #expect(result.units[0].style == [.bold, .red, .bordered])
        #expect(result.units[0].text == "M\u{CD}T")
        #expect(result.units[1].fontName == "VNI-Times")
        #expect(result.units[1].style == [.allCaps])
        #expect(result.units[2].style == [])
    }

    @Test func tablesHeadersFootersTextBoxesFramesAndPages() {
        let body =
            "{\\header\\pard Header line\\par}{\\footerf\\pard Footer\\par}"
            + "\\trowd\\cellx100\\cellx200\\pard\\intbl AGENCY\\par S\\u7889?: 1\\cell\\pard\\intbl NATION\\cell\\row\\pard "
            + "Body one\\par{\\shp{\\*\\shpinst{\\sp{\\sn wzName}{\\sv Box}}{\\shptxt M\\u7852?T\\par}}{\\shprslt M\\u7852?T\\par}}"
            + "\\pard\\posx100\\posy100\\absw2000 Framed\\par\\pard After\\page Two\\par\\sect\\sectd\\sbknone Still two\\par"
            + "\\sect\\sectd Three\\par"
        let result = rtf(body)
        let byText = Dictionary(result.units.map { ($0.text, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(texts(result).filter { $0 == "MẬT" }.count == 1)
        #expect(byText["Header line"]?.container == .pageHeader)
        #expect(byText["Footer"]?.container == .pageFooter)
        #expect(byText["AGENCY\nSố: 1"]?.container == .tableCell)
        #expect(byText["AGENCY\nSố: 1"]?.region == .letterheadLeft)
        #expect(byText["NATION"]?.container == .tableCell)
        #expect(byText["NATION"]?.region == nil)
        #expect(byText["MẬT"]?.container == .textBox)
        #expect(byText["Framed"]?.container == .textBox)
        #expect(byText["Body one"]?.container == .documentBody)
        #expect(byText["After"]?.page == 1)
        #expect(byText["Two"]?.page == 2)
        #expect(byText["Still two"]?.page == 2)
        #expect(byText["Three"]?.page == 3)
    }

    @Test func aTableInThePageHeaderGivesHeaderUnitsPerCell() {
        let result = rtf("{\\header\\trowd\\cellx100\\cellx200\\pard\\intbl AGENCY\\cell\\pard\\intbl M\\u7852?T\\cell\\row}Body\\par")
        #expect(result.units.map(\.container) == [.pageHeader, .pageHeader, .documentBody])
        #expect(texts(result) == ["AGENCY", "MẬT", "Body"])
        #expect(SecrecyMatcher.match(result.units).findings.map(\.placement) == [.pageHeader])
    }

    @Test func longParagraphsOfManyRunsStayLinear() {
        // 200,000 runs in one paragraph: appended in place, not copied per run.
        let body = String(repeating: "{\\b a}b", count: 200_000) + "\\par"
        let result = rtf(body)
        #expect(result.isComplete)
        #expect(result.units.first?.text.utf8.count == 400_000)
    }

    @Test func millionNestedGroupsFinishNotFullyRead() {
        let depth = 1_000_000
        var input = Array("{\\rtf1 ".utf8)
        input += [UInt8](repeating: UInt8(ascii: "{"), count: depth)
        input += Array("MẬT".utf8)
        input += [UInt8](repeating: UInt8(ascii: "}"), count: depth)
        input.append(UInt8(ascii: "}"))
        let result = RTFText.units(input)
        #expect(!result.isComplete)
        #expect(result.problems == [.tooDeep])
        // A destination past the cap is read as text and does not hide what follows it.
        let deep = String(repeating: "{", count: 1_001) + "{\\*\\hide x}" + String(repeating: "}", count: 1_001) + "After\\par"
        let after = rtf(deep)
        #expect(after.problems == [.tooDeep])
        #expect(after.units.last?.text == "xAfter")
    }

    @Test func unbalancedAndEmptyInput() {
        let open = RTFText.units(Array("{\\rtf1 Text\\par{\\b cut".utf8))
        #expect(open.problems == [.unbalancedGroups])
        #expect(texts(open) == ["Text", "cut"])
        let extra = RTFText.units(Array("{\\rtf1 Text\\par}}}".utf8))
        #expect(extra.problems == [.unbalancedGroups])
        let empty = RTFText.units([UInt8]())
        #expect(empty.units.isEmpty)
        #expect(empty.problems == [.notRTF])
        let notRTF = RTFText.units(Array("plain text".utf8))
        #expect(notRTF.problems.contains(.notRTF))
    }

    @Test func boundsOnInputAndText() {
        var limits = RTFLimits()
        limits.maxInputBytes = 20
        let cut = RTFText.units(Array("{\\rtf1 First\\par Second\\par}".utf8), limits: limits)
        #expect(cut.problems.contains(.inputTooLarge))
        #expect(texts(cut).first == "First")
        #expect(!texts(cut).contains("Second"))
        limits = RTFLimits()
        limits.maxTextBytes = 1_000
        let long = RTFText.units(Array(("{\\rtf1 " + String(repeating: "word ", count: 1_000) + "}").utf8), limits: limits)
        #expect(long.problems == [.textCapReached])
    }

    @Test func libreOfficeStampedLetter() throws {
        let result = RTFText.units(try fixture("libreoffice-stamped"))
        #expect(result.isComplete)
        let stamp = try #require(result.units.first { $0.text == "MẬT" })
        #expect(stamp.container == .documentBody)
        #expect(stamp.page == 1)
        #expect(stamp.style.isSuperset(of: [.bold, .red, .bordered]))
        #expect(stamp.fontSize == 14)
        let header = try #require(result.units.first { $0.container == .pageHeader })
        #expect(header.text == "Ủy ban nhân dân tỉnh Quảng Ninh")
        #expect(result.units.contains { $0.container == .tableCell && $0.region == .letterheadLeft && $0.text == "Số: 12/STTTT-VP" })
        #expect(result.units.first { $0.text == "Trang hai của văn bản." }?.page == 2)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.confidential])
    }

    @Test func libreOfficeTextBox() throws {
        let result = RTFText.units(try fixture("libreoffice-textbox"))
        #expect(result.isComplete)
        let boxes = result.units.filter { $0.container == .textBox }
        #expect(boxes.map(\.text) == ["TỐI MẬT"])
        #expect(boxes.first?.style.isSuperset(of: [.bold, .red]) == true)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.secret])
        #expect(report.findings.first?.placement == .textBox)
    }

    @Test func libreOfficeTrapWordsGiveNoFinding() throws {
        let result = RTFText.units(try fixture("libreoffice-traps"))
        #expect(result.isComplete)
        #expect(result.units.contains { $0.text.contains("mật khẩu") })
        #expect(result.units.contains { $0.text == "BẢO MẬT" })
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.isEmpty)
    }

    @Test(arguments: [("VNI-Times", VietEncoding.vni), (".VnTimeH", .tcvn3Upper)])
    func legacyFontStampReachesTheMatcher(font: String, encoding: VietEncoding) throws {
        // The legacy bytes as a Word user's RTF holds them: \'hh in a font of charset 0.
        let bytes = try #require(VietConverter.fromUnicode("MẬT", to: encoding))
        let escaped = bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\'" + String($0, radix: 16) }.joined()
        let header = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}{\\f1\\fcharset0 \(font);}}"
        let result = rtf("\\pard{\\f1\\b \(escaped)}\\par", header: header)
        #expect(result.units.first?.fontName == font)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.confidential])
    }
}

extension RTFTextTests {
    // MARK: Units that mix a Unicode font and a legacy one

    /// LibreOffice's RTF of a python-docx letterhead: the left cell's number in a Unicode font, a
    /// line break (`\line`), then TỐI MẬT typed in `VNI-Times`.
    @Test func libreOfficeLetterheadCellMixingUnicodeAndVNI() throws {
        let result = RTFText.units(try fixture("libreoffice-mixed-fonts"))
        #expect(result.isComplete)
        let cell = try #require(result.units.first)
        // One unit, the line break a line of it, the VNI run converted, the font a Unicode one.
        #expect(cell.text == "UBND TỈNH QUẢNG NINH\nSố: 17/STTTT-VP\nTỐI MẬT\nV/v triển khai kế hoạch")
        #expect(cell.container == .tableCell && cell.region == .letterheadLeft)
        #expect(cell.fontName == "Cambria")
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.secret])
        #expect(report.findings.map(\.placement) == [.letterheadLeftCell])
        #expect(report.findings.first?.matched == "TỐI MẬT")
    }

    @Test func legacyRunsOfAMixedUnitAreConvertedEachByItsFont() throws {
        // Legacy bytes as a Word user's RTF holds them: \'hh in a font of charset 0.
        func legacy(_ text: String, _ encoding: VietEncoding) throws -> String {
            let bytes = try #require(VietConverter.fromUnicode(text, to: encoding))
            return bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\'" + String($0, radix: 16) }.joined()
        }
        let header =
            "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}{\\f1\\fcharset0 VNI-Times;}"
            + "{\\f2\\fcharset0 .VnTimeH;}{\\f3\\fcharset0 .VnTime;}}"
        // A letterhead cell: the agency in .VnTimeH, the number in Unicode, a line break, TỐI MẬT in
        // VNI; a paragraph "Đổi mật khẩu" with its last words in .VnTime; one all in VNI.
        let cell =
            "{\\f2 \(try legacy("ỦY BAN", .tcvn3Upper))}\\par S\\u7889?: 1\\line{\\f1\\b \(try legacy("TỐI MẬT", .vni))}\\cell"
        let body =
            "\\trowd\\cellx3000\\cellx6000\\pard\\intbl \(cell)\\pard\\intbl X\\cell\\row"
            + "\\pard \\u272?\\u7893?i {\\f3 \(try legacy("mật khẩu", .tcvn3))}\\par{\\f1 \(try legacy("Mật", .vni))}\\par"
        let result = rtf(body, header: header)
        #expect(texts(result) == ["ỦY BAN\nSố: 1\nTỐI MẬT", "X", "Đổi mật khẩu", "Ma\u{E4}t"])
        #expect(result.units.map(\.fontName) == ["Times New Roman", "Times New Roman", "Times New Roman", "VNI-Times"])
        #expect(result.units.first?.region == .letterheadLeft)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.placement) == [.letterheadLeftCell])
        #expect(report.findings.map(\.level) == [.secret])
        #expect(report.weak.isEmpty)
    }

    // MARK: Hidden text

    @Test func hiddenTextIsStyledHiddenWhenAllItsRunsAre() {
        let result = rtf(
            "\\pard{\\v GI\\u7842?I M\\u7852?T}\\par\\pard\\v sec\\v0 ret\\par"
                + "\\pard\\v hidden\\plain shown\\par\\pard\\v all\\v1  hidden\\par"
        )
        #expect(texts(result) == ["GIẢI MẬT", "secret", "hiddenshown", "all hidden"])
        #expect(result.units.map(\.style) == [.hidden, .partlyHidden, .partlyHidden, .hidden])
    }

    @Test func aHiddenDeclassificationWithdrawsNoStamp() {
        let stamp = "\\pard\\box\\brdrdb{\\b\\cf1 M\\u7852?T}\\par"
        let header = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}{\\colortbl;\\red255\\green0\\blue0;}"
        for hidden in ["\\pard{\\v GI\\u7842?I M\\u7852?T}\\par", "\\pard{\\v GI\\u7842?I M\\u7852?T} .\\par"] {
            let report = SecrecyMatcher.match(rtf(stamp + hidden + "\\pard K\\'ednh g\\u7917?i\\par", header: header).units)
            #expect(report.declassification == nil, "\(hidden)")
            #expect(report.findings.map(\.level) == [.confidential], "\(hidden)")
        }
        let shown = SecrecyMatcher.match(rtf(stamp + "\\pard GI\\u7842?I M\\u7852?T\\par", header: header).units)
        #expect(shown.findings.isEmpty && shown.downgraded.map(\.level) == [.confidential])
    }

    /// The same letter made by python-docx and LibreOffice (Fixtures/make.py), its GIẢI MẬT stamp
    /// shown (`\v0`) or hidden (`w:vanish`, `\v`).
    @Test func libreOfficeHiddenDeclassification() throws {
        let hidden = RTFText.units(try fixture("libreoffice-declassified-hidden"))
        #expect(hidden.isComplete)
        let mark = try #require(hidden.units.first { $0.text == "GIẢI MẬT" })
        #expect(mark.style.isSuperset(of: [.hidden, .bold, .red, .bordered]))
        let report = SecrecyMatcher.match(hidden.units)
        #expect(report.declassification == nil)
        #expect(report.findings.map(\.level) == [.confidential])

        let shown = RTFText.units(try fixture("libreoffice-declassified"))
        #expect(shown.units.first { $0.text == "GIẢI MẬT" }.map { !$0.style.contains(.hidden) } == true)
        let downgraded = SecrecyMatcher.match(shown.units)
        #expect(downgraded.findings.isEmpty)
        #expect(downgraded.downgraded.map(\.level) == [.confidential])
        #expect(downgraded.declassification?.matched == "GIẢI MẬT")
    }
}
