import DocumentText
import Foundation
import SecrecyMarks
import Testing
import VietText

@Suite struct PlainTextTests {
    @Test func linesAreUnitsBlankLinesSkippedQuotesMarked() {
        let result = PlainText.units(
            "\r\n\n  \r\nMẬT\r\n\r\nKính gửi: các đơn vị\n> TỐI MẬT\n  >> Độ mật: Tối mật\rcuối",
            container: .mailBody
        )
        #expect(result.isComplete)
        #expect(result.units.map(\.text) == ["MẬT", "Kính gửi: các đơn vị", "> TỐI MẬT", "  >> Độ mật: Tối mật", "cuối"])
        #expect(result.units.map(\.index) == [0, 1, 2, 3, 4])
        #expect(result.units.map(\.style) == [[], [], [.quoted], [.quoted], []])
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.confidential])
        #expect(report.findings.first?.placement == .mailBodyFirstLines)
        #expect(report.weak.map(\.level) == [.secret, .secret])
    }

    @Test func aStampDeepInTheBodyIsWeakAndAQuotedDeclassificationDowngradesNothing() {
        let deep = PlainText.units((1...9).map { "Dòng \($0) của thư." }.joined(separator: "\n") + "\nMẬT", container: .mailBody)
        #expect(SecrecyMatcher.match(deep.units).findings.isEmpty)
        #expect(SecrecyMatcher.match(deep.units).weak.count == 1)
        let quoted = PlainText.units("MẬT\n\n> GIẢI MẬT\n", container: .mailBody)
        let report = SecrecyMatcher.match(quoted.units)
        #expect(report.declassification == nil)
        #expect(report.findings.count == 1)
    }

    @Test func trapWordsOnTheFirstLineAreNothing() {
        for trap in ["MẬT KHẨU", "Mật khẩu mới: 1234", "bảo mật", "mật", "Độ mật: Thường"] {
            let report = SecrecyMatcher.match(PlainText.units(trap + "\nKính gửi", container: .mailBody).units)
            #expect(report.findings.isEmpty && report.weak.isEmpty, "\(trap)")
        }
    }

    @Test func limitsHold() {
        var limits = ExtractionLimits()
        limits.maxUnits = 2
        #expect(PlainText.units("a\nb\nc", container: .mailBody, limits: limits).units.count == 2)
        limits = ExtractionLimits()
        limits.maxInputBytes = 3
        // The cut falls inside "Ậ" (bytes 1–3): it goes back to the character boundary.
        let cut = PlainText.units("MẬTMẬT", container: .documentBody, limits: limits)
        #expect(cut.units.map(\.text) == ["M"])
        #expect(cut.problems.first?.hasPrefix("input-too-large:") == true)
    }
}

@Suite struct CSVTextTests {
    @Test func rfc4180QuotingWithSemicolonsDetected() {
        let csv = "STT;Số hiệu;Độ mật;Trích yếu\r\n1;12/UBND;MẬT;\"Về việc; \"\"bảo mật\"\"\r\nhệ thống\"\r\n2;13/UBND;Thường;;\n"
        let result = CSVText.units(csv)
        #expect(result.isComplete)
        #expect(
            result.units.map(\.text) == [
                "STT", "Số hiệu", "Độ mật", "Trích yếu", "1", "12/UBND", "MẬT", "Về việc; \"bảo mật\"\r\nhệ thống", "2", "13/UBND",
                "Thường",
            ]
        )
        #expect(result.units.allSatisfy { $0.container == .sheetCell })
        #expect(result.units.map(\.index) == (0..<11).map(Optional.some))
        // A register's "Độ mật" column: a level in a cell is evidence, never a stamp.
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map(\.level) == [.confidential])
    }

    @Test func commasAndTabsAndAQuoteInsideAnUnquotedField() {
        #expect(CSVText.units("a,b;c,d\ne,\"f,g\"").units.map(\.text) == ["a", "b;c", "d", "e", "f,g"])
        #expect(CSVText.units("a\tb;c\t5\" x\n\"open").units.map(\.text) == ["a", "b;c", "5\" x", "open"])
    }

    @Test func limitsHold() {
        var limits = ExtractionLimits()
        limits.maxUnits = 3
        let result = CSVText.units(String(repeating: "x,", count: 1_000), limits: limits)
        #expect(result.units.count == 3)
        #expect(result.problems.first?.hasPrefix("text-cap-reached:") == true)
    }
}

@Suite struct TextDecodingTests {
    /// TCVN3 has no toned capitals: the stamp in lowercase (a .VnTimeH font would show it in capitals).
    static let letter = "tối mật\nKính gửi: Sở Thông tin và Truyền thông tỉnh Quảng Ninh. Đề nghị các đơn vị thực hiện nghiêm túc."

    @Test func byteOrderMarksDecide() {
        #expect(TextDecoding.string(from: [0xEF, 0xBB, 0xBF] + Array("MẬT".utf8), charset: "windows-1252") == "MẬT")
        let le: [UInt8] = [0xFF, 0xFE] + "MẬT".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let be: [UInt8] = [0xFE, 0xFF] + "MẬT".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        #expect(TextDecoding.string(from: le, charset: nil) == "MẬT")
        #expect(TextDecoding.string(from: be, charset: "us-ascii") == "MẬT")
        #expect(TextDecoding.string(from: le.dropFirst(2), charset: "UTF-16LE") == "MẬT")
        #expect(TextDecoding.string(from: be.dropFirst(2), charset: "utf-16") == "MẬT")
        #expect(TextDecoding.string(from: Array(le.dropFirst(2)) + [0x41], charset: "utf-16") == "MẬT\u{FFFD}")
    }

    @Test(arguments: [VietEncoding.tcvn3, .vni, .viscii, .cp1258])
    func legacyVietnameseIsConvertedDeclaredOrNot(_ encoding: VietEncoding) throws {
        let bytes = try #require(VietConverter.fromUnicode(Self.letter, to: encoding))
        #expect(TextDecoding.string(from: bytes, charset: nil) == Self.letter)
        #expect(TextDecoding.string(from: bytes, charset: "iso-8859-1") == Self.letter)
    }

    @Test func utf8AndWesternText() {
        #expect(TextDecoding.string(from: Array(Self.letter.utf8), charset: nil) == Self.letter)
        #expect(TextDecoding.string(from: Array("M\u{1EA0}\u{302}T".utf8), charset: "utf-8") == "MẬT")
        #expect(TextDecoding.string(from: [0x63, 0x61, 0x66, 0xE9, 0x20, 0x80], charset: "iso-8859-2") == "café €")
    }

    @Test func htmlDeclaresItsCharsetInAMetaTag() throws {
        #expect(TextDecoding.htmlCharset(Array("<html><head><META charset=\"Windows-1258\"></head>".utf8)) == "windows-1258")
        let outlook = "<html><head><meta http-equiv=Content-Type content=\"text/html; charset=us-ascii\"><meta name=Generator>"
        #expect(TextDecoding.htmlCharset(Array(outlook.utf8)) == "us-ascii")
        let libreOffice = try String(
            contentsOf: #require(Bundle.module.url(forResource: "libreoffice-stamped", withExtension: "html", subdirectory: "Fixtures")),
            encoding: .utf8
        )
        #expect(TextDecoding.htmlCharset(Array(libreOffice.utf8)) == "utf-8")
        #expect(TextDecoding.htmlCharset(Array("<p>charset=koi8-r</p><meta name=x>".utf8)) == nil)
        #expect(TextDecoding.htmlCharset(Array((String(repeating: " ", count: 1_100) + "<meta charset=utf-8>").utf8)) == nil)
    }
}
