import DocumentText
import Foundation
import SecrecyMarks
import Testing

private func fixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "html", subdirectory: "Fixtures"))
    return try String(contentsOf: url, encoding: .utf8)
}

private func mail(_ html: String) -> ExtractedText { HTMLText.units(html, container: .mailBody) }
private func texts(_ result: ExtractedText) -> [String] { result.units.map(\.text) }

/// Ten ordinary paragraphs: what pushes a later line out of a mail's first lines.
private let ordinaryParagraphs = (1...10).map { "<p>Đoạn văn thứ \($0) của thư, nói về công việc thường ngày.</p>" }.joined()

@Suite struct HTMLTextTests {
    // MARK: Mail clients

    @Test func gmailStampOnTheFirstLineIsStrong() throws {
        let result = mail(try fixture("gmail-stamped"))
        #expect(result.isComplete)
        #expect(result.units.first?.text == "MẬT")
        #expect(result.units.first?.style == [.bold, .red])
        #expect(result.units.map(\.index) == Array(0..<result.units.count).map(Optional.some))
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.confidential])
        #expect(report.findings.first?.placement == .mailBodyFirstLines)
        // "mật khẩu", "bảo mật" in the body: nothing.
        #expect(report.weak.isEmpty)
    }

    @Test func gmailQuotedStampAndFieldAreNotThisMailsStamp() throws {
        let result = mail(try fixture("gmail-reply-quoted"))
        #expect(result.isComplete)
        #expect(texts(result).first == "Đã nhận, cảm ơn anh.")
        let stamp = try #require(result.units.first { $0.text == "TỐI MẬT" })
        #expect(stamp.style.contains(.quoted))
        #expect(stamp.index! < 8)
        #expect(!result.units[0].style.contains(.quoted))
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map(\.level) == [.secret, .secret])
        // Unquoted, the same mail's stamp is strong: the quote is what makes it weak.
        let unquoted = try fixture("gmail-reply-quoted").replacingOccurrences(of: "blockquote", with: "div")
        #expect(SecrecyMatcher.match(mail(unquoted).units).findings.map(\.placement) == [.mailBodyFirstLines, .field])
    }

    @Test func outlookClassRuleWithTextTransformGivesCapitals() throws {
        let result = mail(try fixture("outlook-stamped"))
        #expect(result.isComplete)
        // The `<o:p>&nbsp;</o:p>` paragraphs are blank: skipped, and not counted.
        #expect(
            texts(result) == [
                "tối mật", "Kính gửi anh Nam,", "Gửi anh báo cáo về mật độ dân cư và bảo mật hệ thống.", "Trân trọng,", "Trần Thị Bình",
            ]
        )
        #expect(result.units[0].style == [.bold, .allCaps, .red])
        #expect(result.units[0].fontName == "Calibri")
        #expect(result.units[0].fontSize == 11)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.secret])
        #expect(report.findings.first?.placement == .mailBodyFirstLines)
    }

    @Test func thunderbirdCiteQuoteIsWeakAndTitleIsMetadata() throws {
        let reply = mail(try fixture("thunderbird-reply"))
        #expect(reply.isComplete)
        #expect(
            texts(reply) == [
                "Cảm ơn anh, em đã nhận.", "Vào 30/11/2026 09:15, Nguyễn Văn An viết:", "TUYỆT MẬT",
                "Kính gửi: Sở Thông tin và Truyền thông",
            ]
        )
        #expect(reply.units[2].style == [.bold, .red, .quoted])
        let report = SecrecyMatcher.match(reply.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map(\.level) == [.topSecret])

        #expect(
            mail("<title>a <b>&amp; <title>c</title>d").units == [
                TextUnit("a <b>& <title>c", container: .metadata), TextUnit("d", container: .mailBody, index: 0),
            ]
        )
        let stamped = mail(try fixture("thunderbird-stamped"))
        #expect(stamped.units.first == TextUnit("Báo cáo tháng 11", container: .metadata))
        #expect(stamped.units[1].text == "tối mật")
        #expect(stamped.units[1].index == 0)
        #expect(SecrecyMatcher.match(stamped.units).findings.map(\.level) == [.secret])
    }

    @Test func entityEncodedStampIsStrong() {
        let result = mail("<div dir=\"ltr\"><p>T&#7888;I M&#x1EAC;T</p><p>K&iacute;nh g&#7917;i</p></div>")
        #expect(texts(result) == ["TỐI MẬT", "Kính gửi"])
        #expect(SecrecyMatcher.match(result.units).findings.map(\.level) == [.secret])
    }

    @Test func boldRedFontStampAsTheFirstLine() {
        let result = mail("<b><font color=\"#ff0000\">MẬT</font></b><br>Kính gửi: các đơn vị<br>")
        #expect(result.units.first == TextUnit("MẬT", container: .mailBody, style: [.bold, .red], index: 0))
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.placement) == [.mailBodyFirstLines])
    }

    @Test func theSameStampDeepInTheBodyIsWeak() {
        let result = mail("<div dir=\"ltr\">" + ordinaryParagraphs + "<p><b>MẬT</b></p></div>")
        #expect(result.units.last?.index == 10)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map(\.level) == [.confidential])
    }

    @Test func trapWordsAreNothingEvenInCapitalsOnTheFirstLine() {
        for trap in [
            "MẬT KHẨU", "Bảo mật", "bí mật nhà nước", "mật", "<span style=\"text-transform:uppercase\">mật khẩu</span>", "TÀI LIỆU MẬT",
        ] {
            let report = SecrecyMatcher.match(mail("<p>\(trap)</p><p>Kính gửi</p>").units)
            #expect(report.findings.isEmpty, "\(trap)")
            #expect(report.weak.isEmpty, "\(trap)")
        }
    }

    // MARK: Documents saved as HTML

    @Test func libreOfficeLetterHeaderLetterheadAndBorderedStamp() throws {
        let result = HTMLText.units(try fixture("libreoffice-stamped"), container: .documentBody)
        #expect(result.isComplete)
        #expect(result.units.first == TextUnit("Ủy ban nhân dân tỉnh Quảng Ninh", container: .pageHeader, fontName: "Cambria"))
        let stamp = try #require(result.units.first { $0.text == "MẬT" })
        #expect(stamp.style == [.bold, .red, .bordered])
        #expect(stamp.container == .documentBody && stamp.page == 1 && stamp.fontSize == 14)
        #expect(result.units.filter { $0.region == .letterheadLeft }.map(\.text) == ["SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 12/STTTT-VP"])
        #expect(result.units.last?.page == 2)
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.map(\.level) == [.confidential])
        #expect(report.findings.first?.placement == .bordered)
    }

    @Test func libreOfficeTrapsAndTextBox() throws {
        let traps = SecrecyMatcher.match(HTMLText.units(try fixture("libreoffice-traps"), container: .documentBody).units)
        #expect(traps.findings.isEmpty && traps.weak.isEmpty)
        let box = HTMLText.units(try fixture("libreoffice-textbox"), container: .documentBody)
        let report = SecrecyMatcher.match(box.units)
        #expect(report.findings.map(\.level) == [.secret])
        #expect(report.findings.first?.placement == .documentHead)
    }

    @Test func wordVMLTextBoxInAConditionalCommentAndWordHeaders() {
        let html =
            "<div class=WordSection1><p class=MsoNormal>Số: 15/UBND-VP<!--[if gte vml 1]><v:shape id=\"_x0000_s1026\" type=\"#_x0000_t202\">"
            + "<v:textbox><![if !mso]><table cellpadding=0 cellspacing=0 width=\"100%\"><tr><td><![endif]><div><p class=MsoNormal>"
            + "<b><span style='color:red'>TUYỆT MẬT<o:p></o:p></span></b></p></div><![if !mso]></td></tr></table><![endif]></v:textbox>"
            + "</v:shape><![endif]--><![if !vml]><img width=120 height=40 src=\"image001.png\"><![endif]></p>"
            + "<div style='mso-element:header' id=h1><p class=MsoHeader>TUYỆT MẬT</p></div>"
            + "<br clear=all style='page-break-before:always'><p class=MsoNormal>Trang 2</p></div>"
        let result = HTMLText.units(html, container: .documentBody)
        #expect(result.isComplete)
        #expect(result.units.map(\.text) == ["Số: 15/UBND-VP", "TUYỆT MẬT", "TUYỆT MẬT", "Trang 2"])
        #expect(result.units.map(\.container) == [.documentBody, .textBox, .pageHeader, .documentBody])
        #expect(result.units.map(\.index) == [0, nil, nil, 1])
        #expect(result.units.map(\.page) == [1, 1, nil, 2])
        let placements = SecrecyMatcher.match(result.units).findings.map(\.placement)
        #expect(placements == [.textBox, .pageHeader])
        // In a mail none of that applies: all mail-body lines, in order.
        let inMail = mail(html)
        #expect(inMail.units.allSatisfy { $0.container == .mailBody && $0.page == nil })
    }

    // MARK: Tokenizer

    @Test func blocksAndBreaksEndUnitsAndSpacesFold() {
        let result = mail("<p>a<br>b</p><div>c\n  <span> d</span></div><ul><li>e<li>f</ul>x<hr>y<h1>z</h1><pre>MẬT\nline two</pre>")
        #expect(texts(result) == ["a", "b", "c d", "e", "f", "x", "y", "z", "MẬT", "line two"])
        #expect(result.units.map(\.index) == (0..<10).map(Optional.some))
        #expect(result.units[7].style == [.bold])
        let pre = mail("<pre style=\"color:red\">MẬT\n\nline <b>two</b></pre>")
        #expect(pre.units.map(\.style) == [[.red], [.red]])
    }

    @Test func scriptsStylesCommentsAndCDATAAreSkipped() {
        let result = mail(
            "<!DOCTYPE html><script>document.write('<p>MẬT</p>')</script ><style>p{color:red}</style><!-- MẬT --><!--> -->"
                + "<![CDATA[MẬT]]><?xml MẬT?><!--[if !mso]><!--><p>Text</p><!--<![endif]--><template>MẬT</template>"
        )
        #expect(texts(result) == ["-->", "Text"])
        #expect(result.units[1].style == [.red])
    }

    @Test func entitiesNamedNumericAndInvalid() {
        let result = mail(
            "<p>&Agrave;&acirc;&ecirc;&ocirc;&abreve;&dstrok;&amp;&lt;&nbsp;&copy2026 &#x1EA0;&#0;&#x110000;&#xD800;&#150;&notanentity;&#;&</p>"
        )
        #expect(texts(result) == ["Àâêôăđ&<\u{A0}©2026 Ạ\u{FFFD}\u{FFFD}\u{FFFD}–¬anentity;&#;&"])
    }

    @Test func implicitlyClosedParagraphsDoNotLeakTheirStyle() {
        let result = mail("<p style=\"text-transform:uppercase\">Công văn<p>mật<div style='font-weight:700'>A</div>B")
        #expect(texts(result) == ["Công văn", "mật", "A", "B"])
        #expect(result.units.map(\.style) == [[.allCaps], [], [.bold], []])
        #expect(SecrecyMatcher.match(result.units).weak.isEmpty)
    }

    @Test func colorsBordersAndFonts() {
        let result = mail(
            "<p style=\"color:#C00000\">a</p><p style=\"color: rgb(255, 0, 0)\">b</p><p style=\"color:#00f\">c</p>"
                + "<div style=\"border:double windowtext 1.5pt;padding:1pt\"><p>d</p></div>"
                + "<div style=\"border:none;border-top:solid #E1E1E1 1.0pt\">e</div>"
                + "<p><font face=\".VnTimeH\" size=\"4\">M\u{CB}T</font></p><p style='font-family:\"VNI-Times\";font-size:14pt'>f</p>"
        )
        #expect(result.units.map(\.style) == [[.red], [.red], [], [.bordered], [], [], []])
        #expect(result.units[5].fontName == ".VnTimeH")
        #expect(result.units[5].fontSize == 13.5)
        #expect(result.units[6].fontName == "VNI-Times")
        #expect(result.units[6].fontSize == 14)
        // The legacy .VnTimeH bytes are converted by the matcher: "MËT" reads "MẬT".
        #expect(SecrecyMatcher.match(result.units).findings.map(\.decoder) == [.tcvn3Upper])
    }

    @Test func cellsAreMailBodyInAMailAndLetterheadCellsInADocument() {
        let html =
            "<table border=0><tr><td>UBND TỈNH QUẢNG NINH</td><td>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</td></tr>"
            + "<tr><td>Số: 12/UBND-VP<td>Quảng Ninh, ngày 1 tháng 12 năm 2026</tr>"
            + "<tr><td><b>MẬT</b></td><td></td></tr></table><p>Kính gửi</p>"
        let inMail = mail(html)
        #expect(inMail.units.allSatisfy { $0.container == .mailBody && $0.region == nil })
        // A table of two columns in a mail body is data (a register's "MẬT" cell looks the same):
        // weak at most; the line after it is the mail's first.
        #expect(inMail.units.map(\.index) == [nil, nil, nil, nil, nil, 0])
        let mailReport = SecrecyMatcher.match(inMail.units)
        #expect(mailReport.findings.isEmpty && mailReport.weak.map(\.level) == [.confidential])
        // The stamp below the letterhead, as a letter puts it, is one of the mail's first lines.
        let below = mail(html.replacingOccurrences(of: "<tr><td><b>MẬT</b></td><td></td></tr>", with: "") + "<p><b>MẬT</b></p>")
        #expect(SecrecyMatcher.match(below.units).findings.map(\.placement) == [.mailBodyFirstLines])
        let document = HTMLText.units(html, container: .documentBody)
        #expect(document.units.map(\.container) == [.tableCell, .tableCell, .tableCell, .tableCell, .tableCell, .documentBody])
        #expect(document.units.map(\.region) == [.letterheadLeft, nil, .letterheadLeft, nil, .letterheadLeft, nil])
        #expect(SecrecyMatcher.match(document.units).findings.map(\.placement) == [.letterheadLeftCell])
    }

    // MARK: Hostile input

    @Test func tenMegabytesOfOpeningBracketsAreText() {
        let result = mail(String(repeating: "<", count: 10 << 20))
        #expect(result.isComplete)
        #expect(result.units.count == 1)
        #expect(result.units[0].text.utf8.count == 10 << 20)
    }

    @Test func unterminatedCommentsTagsAndAttributesStopWithAProblem() {
        for html in [
            "<p>Before</p><!-- " + String(repeating: "<!-- a ", count: 100_000), "<p>Before</p><div class=\"x", "<p>Before</p><p",
            "<p>Before</p><script>MẬT",
        ] {
            let result = mail(html)
            #expect(texts(result) == ["Before"])
            #expect(result.problems.count == 1)
            #expect(result.problems.first?.hasPrefix("html-unterminated:") == true)
        }
    }

    @Test func aMillionNestedDivsAreCappedNotRecursed() {
        let html =
            String(repeating: "<div style=\"color:red\">", count: 1_000_000) + "MẬT" + String(repeating: "</div>", count: 1_000_000)
            + "after"
        let result = mail(html)
        #expect(texts(result) == ["MẬT", "after"])
        #expect(result.units[0].style == [.red])
        #expect(result.units[1].style == [])
        #expect(result.problems.map { $0.prefix(14) } == ["html-too-deep:"])
    }

    @Test func limitsHold() {
        var limits = ExtractionLimits()
        limits.maxUnits = 3
        let many = HTMLText.units(String(repeating: "<p>x</p>", count: 10), container: .mailBody, limits: limits)
        #expect(many.units.count == 3)
        #expect(many.problems.first?.hasPrefix("text-cap-reached:") == true)
        limits = ExtractionLimits()
        limits.maxTextBytes = 10
        let long = HTMLText.units("<p>0123456789abc</p>", container: .mailBody, limits: limits)
        #expect(long.problems.first?.hasPrefix("text-cap-reached:") == true)
        #expect(long.units.reduce(0) { $0 + $1.text.utf8.count } <= 10)
        limits = ExtractionLimits()
        limits.maxInputBytes = 8
        let cut = HTMLText.units("<p>abcdefghij</p>", container: .mailBody, limits: limits)
        #expect(cut.problems.first?.hasPrefix("input-too-large:") == true)
        #expect(texts(cut) == ["abcde"])
    }
}

/// A mail stamped MẬT on its first line, then `stamp` (a GIẢI MẬT, maybe hidden) on the second.
private func stampedThen(_ stamp: String, head: String = "") -> SecrecyReport {
    SecrecyMatcher.match(mail(head + "<p><b>MẬT</b></p>" + stamp + "<p>Kính gửi: các đơn vị</p>").units)
}

/// The units with their indices numbered again in reading order, as they were before register
/// tables lost theirs: what would have made the cells "first lines".
private func renumbered(_ units: [TextUnit]) -> [TextUnit] {
    var next = 0
    return units.map { unit in
        var unit = unit
        guard unit.container == .mailBody else { return unit }
        unit.index = next
        next += 1
        return unit
    }
}

extension HTMLTextTests {
    // MARK: Hidden text

    @Test(arguments: [
        "<p style=\"display:none\">GIẢI MẬT</p>",
        "<p style=\"visibility: hidden\">GIẢI MẬT</p>",
        "<p><span style=\"font-size:0\">GIẢI MẬT</span></p>",
        "<p style=\"font-size:0px;line-height:0\">GIẢI MẬT</p>",
        "<p class=MsoNormal><span style='mso-hide:all'>GIẢI MẬT<o:p></o:p></span></p>",
        "<p hidden>GIẢI MẬT</p>",
        "<div class=\"pre\">GIẢI MẬT</div>",
        // `display: none` is not undone inside; `visibility: hidden` is undone by `visible` only.
        "<div style=\"display:none\"><p style=\"display:block\">GIẢI MẬT</p></div>",
        "<div style=\"visibility:hidden\"><p style=\"color:red\">GIẢI MẬT</p></div>",
    ])
    func hiddenDeclassificationWithdrawsNoStamp(hidden: String) {
        let units = mail("<style>.pre { display: none !important; }</style><p><b>MẬT</b></p>" + hidden).units
        let stamp = units.first { $0.text.contains("GIẢI") }
        #expect(stamp?.style.contains(.hidden) == true, "\(hidden)")
        let report = stampedThen(hidden, head: "<style>.pre { display: none !important; }</style>")
        #expect(report.declassification == nil, "\(hidden)")
        #expect(report.findings.map(\.level) == [.confidential], "\(hidden)")
        #expect(report.findings.first?.placement == .mailBodyFirstLines)
    }

    @Test func partlyHiddenDeclassificationWithdrawsNoStamp() {
        // A reader sees "." alone; the unit's text is "GIẢI MẬT .".
        let units = mail("<p><b>MẬT</b></p><p><span style=\"display:none\">GIẢI MẬT</span> .</p>").units
        #expect(units[1].style.contains(.partlyHidden) && !units[1].style.contains(.hidden))
        let report = stampedThen("<p><span style=\"display:none\">GIẢI MẬT</span> .</p>")
        #expect(report.declassification == nil)
        #expect(report.findings.map(\.level) == [.confidential])
    }

    @Test func shownDeclassificationStillDowngrades() {
        for shown in [
            "<p><b>GIẢI MẬT</b></p>", "<p style=\"display:block;visibility:visible;font-size:14pt\">GIẢI MẬT</p>",
            "<div style=\"visibility:hidden\"><p style=\"visibility:visible\">GIẢI MẬT</p></div>",
            "<div style=\"font-size:0\"><span style=\"font-size:12pt\">GIẢI MẬT</span></div>",
        ] {
            let report = stampedThen(shown)
            #expect(report.declassification?.matched == "GIẢI MẬT", "\(shown)")
            #expect(report.findings.isEmpty, "\(shown)")
            #expect(report.downgraded.map(\.level) == [.confidential], "\(shown)")
        }
    }

    @Test func aHiddenStampStillCounts() {
        // Hidden text is read: a stamp a style hides is erring toward catching.
        let result = mail("<p style=\"display:none\"><b>TỐI MẬT</b></p><p>Kính gửi</p>")
        #expect(result.units.first?.style == [.bold, .hidden])
        #expect(SecrecyMatcher.match(result.units).findings.map(\.placement) == [.mailBodyFirstLines])
    }

    // MARK: Tables in a mail body

    @Test(arguments: ["gmail-register", "outlook-register"])
    func aRegisterTableInTheFirstLinesIsNoStamp(name: String) throws {
        let result = mail(try fixture(name))
        #expect(result.isComplete)
        let cells = result.units.filter { $0.text == "MẬT" }
        #expect(cells.count == 2)
        #expect(cells.allSatisfy { $0.index == nil && $0.container == .mailBody })
        let report = SecrecyMatcher.match(result.units)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map(\.level) == [.confidential, .confidential])
        // The lines around the table are numbered as if it were not there.
        let first = try #require(result.units.first { $0.container == .mailBody })
        #expect(first.index == 0)
        let after = try #require(result.units.first { $0.text == "Trân trọng," })
        #expect(after.index == (name == "gmail-register" ? 2 : 1))
        // Numbered as before, the first MẬT cell is among the first lines: the fix is what makes it data.
        #expect(SecrecyMatcher.match(renumbered(result.units)).findings.map(\.placement) == [.mailBodyFirstLines])
    }

    @Test func aOneCellBoxKeepsItsIndexAndIsAStamp() {
        for box in [
            "<table border=\"1\"><tr><td><b>MẬT</b></td></tr></table>",
            "<table style=\"border-collapse:collapse\"><tbody><tr><td style=\"border:3px double #c00000;padding:4px\"><b>MẬT</b></td></tr></tbody></table>",
        ] {
            let result = mail(box + "<p>Kính gửi: các đơn vị</p><p>Nội dung thư.</p>")
            #expect(result.units.first == TextUnit("MẬT", container: .mailBody, style: [.bold, .bordered], index: 0), "\(box)")
            let report = SecrecyMatcher.match(result.units)
            #expect(report.findings.map(\.placement) == [.mailBodyFirstLines], "\(box)")
            #expect(report.findings.first?.strength == .strong)
        }
        let plain = SecrecyMatcher.match(mail("<p>MẬT</p><p>Kính gửi: các đơn vị</p>").units)
        #expect(plain.findings.map(\.placement) == [.mailBodyFirstLines])
    }

    @Test func columnsInAnyRowMakeTheWholeTableData() {
        // A title row of one cell, then rows of four: every unit of the table is data, and so is a
        // box drawn inside one of its cells.
        let register =
            "<table border=1><tr><td colspan=4><b>MẬT</b></td></tr>"
            + "<tr><td>1</td><td>12/STTTT-VP</td><td><table border=1><tr><td>MẬT</td></tr></table></td><td>Văn phòng</td></tr>"
        let closed = mail(register + "</table><p>Kính gửi</p>")
        #expect(closed.units.filter { $0.text == "MẬT" }.allSatisfy { $0.index == nil })
        #expect(closed.units.last?.index == 0)
        #expect(SecrecyMatcher.match(closed.units).findings.isEmpty)
        // A table never closed ends with the input, the same.
        let unclosed = mail(register)
        #expect(unclosed.units.allSatisfy { $0.index == nil })
        // A one-column layout table around the body: its lines keep their indices; the register inside it is data.
        let layout = mail(
            "<table width=\"100%\"><tr><td><p><b>TỐI MẬT</b></p><table><tr><td>Độ mật</td><td>MẬT</td></tr></table>"
                + "<p>Kính gửi</p></td></tr></table>"
        )
        #expect(layout.units.map(\.index) == [0, nil, nil, 1])
        #expect(SecrecyMatcher.match(layout.units).findings.map(\.level) == [.secret])
    }

    @Test func tablesNestedPastTheTrackedDepthFinish() {
        let deep = String(repeating: "<table><tr><td>", count: 5_000) + "MẬT" + String(repeating: "<td>x", count: 3)
        let result = mail(deep)
        #expect(result.units.contains { $0.text == "MẬT" })
    }
}
