import Foundation
import FuzzSupport
import SecrecyMarks
import Testing
import VietText

/// The stamp positions a test puts a level in, as an extractor would report them.
private let strongPositions: [(name: String, unit: @Sendable (String) -> TextUnit)] = [
    ("page 1 upper left", { TextUnit($0, container: .documentBody, page: 1, region: .topLeft, index: 30) }),
    ("letterhead left cell", { TextUnit($0, container: .tableCell, page: 1, region: .letterheadLeft, index: 40) }),
    ("text box on page 1", { TextUnit($0, container: .textBox, page: 1, style: [.bold, .red], index: 50) }),
    ("frame, no page known", { TextUnit($0, container: .textBox) }),
    ("bordered paragraph on page 1", { TextUnit($0, container: .documentBody, page: 1, style: [.bordered], index: 60) }),
    ("page header on page 3", { TextUnit($0, container: .pageHeader, page: 3) }),
    ("top-right circulation area", { TextUnit($0, container: .pdfLine, page: 1, region: .topRight, index: 70) }),
    ("third paragraph of the body", { TextUnit($0, container: .documentBody, index: 3) }),
    ("PDF line near the top of page 1", { TextUnit($0, container: .pdfLine, page: 1, region: .other, index: 4) }),
    ("mail body first line", { TextUnit($0, container: .mailBody, index: 0) }),
    ("Subject that is the level", { TextUnit($0, container: .subject) }),
]

private let levels: [(text: String, level: SecrecyLevel)] = [
    ("TUYỆT MẬT", .topSecret), ("TỐI MẬT", .secret), ("MẬT", .confidential),
]

private let trapWords = [
    "mật khẩu", "bảo mật", "bí mật kinh doanh", "bí mật nhà nước", "thân mật", "mật thiết", "mật độ",
    "mật ong", "mật mã", "dấu mật", "tài liệu mật", "giải mật", "bí mật", "mật báo", "cơ mật", "mật vụ",
]

private func report(_ units: TextUnit...) -> SecrecyReport { SecrecyMatcher.match(units) }

@Suite struct SecrecyMatcherTests {
    @Test(arguments: 0..<strongPositions.count)
    func everyLevelInEveryStampPositionIsStrong(position: Int) {
        let (name, make) = strongPositions[position]
        for (text, level) in levels {
            for written in [text, "[\(text)]", "\(text).", "Độ mật: \(text)", "\(text)  HỎA TỐC"] {
                let found = SecrecyMatcher.match([make(written)])
                #expect(found.findings.count == 1, "\(written) in \(name)")
                #expect(found.findings.first?.level == level, "\(written) in \(name)")
                #expect(found.findings.first?.strength == .strong)
                #expect(found.isDowngraded == false)
            }
        }
    }

    /// Lines are split on every newline Unicode names (LF, VT, FF, CR, CR LF, NEL, U+2028,
    /// U+2029), as `Character.isNewline` splits them: a stamp on a line of its own after any of
    /// them is found, and the line number (the unit's index plus the line) places it.
    @Test(arguments: ["\n", "\r\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}", "\n\n\r\n"])
    func everyNewlineSplitsLines(separator: String) {
        let text = "CÔNG VĂN\(separator)MẬT\(separator)V/v báo cáo \u{2027} mật khẩu"
        let found = report(TextUnit(text, container: .mailBody, index: 0))
        #expect(found.findings.map(\.level) == [.confidential], "separator \(separator.unicodeScalars.map { $0.value })")
        #expect(found.findings.first?.matched == "MẬT")
        // Past the mail body's first lines the same stamp is no longer in a stamp position.
        let late = report(
            TextUnit(
                Array(repeating: "Nội dung", count: 40).joined(separator: separator) + separator + "MẬT",
                container: .mailBody,
                index: 0
            )
        )
        #expect(late.findings.isEmpty)
        #expect(late.weak.map(\.level) == [.confidential])
    }

    @Test func unaccentedCountsOnlyInAStrongPosition() {
        let strong = report(TextUnit("TOI MAT", container: .textBox, page: 1))
        #expect(strong.findings.map(\.level) == [.secret])
        #expect(strong.findings.first?.unaccented == true)
        let elsewhere = report(TextUnit("TOI MAT", container: .documentBody, page: 4, index: 200))
        #expect(elsewhere.findings.isEmpty && elsewhere.weak.isEmpty)
        #expect(report(TextUnit("Re: [TUYET MAT] bao cao", container: .subject)).findings.map(\.level) == [.topSecret])
    }

    @Test func aLevelAloneOutsideAStampPositionIsWeak() {
        let found = report(
            TextUnit("MẬT", container: .tableCell, page: 5, region: .other, index: 120),
            TextUnit("Nội dung", container: .documentBody, page: 5, index: 121),
            TextUnit("TỐI MẬT", container: .pageFooter, page: 1),
            TextUnit("Nội dung", container: .documentBody, page: 5, index: 122),
            TextUnit("MẬT", container: .documentBody, page: 2, index: 3)
        )
        #expect(found.findings.isEmpty)
        #expect(found.weak.map(\.level) == [.confidential, .secret, .confidential])
        #expect(found.weak.allSatisfy { $0.placement == .elsewhere && $0.strength == .weak })
    }

    @Test func subjectTags() {
        for subject in [
            "MẬT - Kế hoạch diễn tập", "[TỐI MẬT] Báo cáo quý", "Re: Fwd: TUYỆT MẬT: phương án",
            "Fwd: Kế hoạch (MẬT)", "RE: [ TỐI  MẬT ] báo cáo", "TL: MẬT | công văn 12",
        ] {
            let found = report(TextUnit(subject, container: .subject))
            #expect(found.findings.count == 1, "\(subject)")
            #expect(found.findings.first?.placement == .subjectTag, "\(subject)")
        }
        #expect(report(TextUnit("[TỐI MẬT] x", container: .subject)).findings.first?.level == .secret)
        for subject in [
            "MẬT KHẨU của bạn sắp hết hạn", "Bảo mật thông tin", "Quy định về TÀI LIỆU MẬT",
            "Thư mời [Hội nghị] bảo mật", "Mật ong rừng", "Re: Đổi mật khẩu", "GIẢI MẬT - tài liệu",
            "MẬT ĐỘ dân số", "[BẢO MẬT] lưu ý",
        ] {
            #expect(report(TextUnit(subject, container: .subject)).findings.isEmpty, "\(subject)")
        }
    }

    @Test(arguments: trapWords)
    func trapWordsNeverMatch(word: String) {
        let capitals = word.uppercased()
        let sentence = "Cán bộ phải tuân thủ quy định về \(word) khi sử dụng thư điện tử công vụ."
        for text in [word, capitals, sentence, sentence.uppercased(), "\(capitals):", "[\(capitals)]"] {
            for make in strongPositions.map(\.unit) + [
                { TextUnit($0, container: .documentBody, page: 3, index: 90) },
                { TextUnit($0, container: .mailBody, index: 40) },
                { TextUnit($0, container: .subject) },
                { TextUnit($0, container: .attachmentName) },
            ] {
                let found = SecrecyMatcher.match([make(text)])
                #expect(found.findings.isEmpty && found.weak.isEmpty && found.downgraded.isEmpty, "\(text)")
            }
        }
    }

    @Test func bareLowercaseMatIsNothing() {
        for make in strongPositions.map(\.unit) where make("x").container != .subject {
            #expect(SecrecyMatcher.match([make("mật")]).findings.isEmpty)
            #expect(SecrecyMatcher.match([make("tối mật")]).findings.isEmpty)
        }
    }

    @Test func listsQuotationsAndNotSecretFields() {
        for text in [
            "Tuyệt mật, Tối mật và Mật", "TUYỆT MẬT, TỐI MẬT VÀ MẬT", "“MẬT”", "\"TỐI MẬT\"",
            "Độ mật: Thường", "ĐỘ MẬT: THƯỜNG", "Độ mật: Mật, Tối mật, Tuyệt mật",
            "Trường “Độ mật: Mật” ghi theo quy định", "Độ mật: Mật khẩu được cấp", "YÊU CẦU VỀ ĐỘ MẬT: MẬT KHẨU PHẢI ĐỔI", "HỎA TỐC",
            "THƯỢNG KHẨN",
            "KHẨN", "Tài liệu thu hồi", "Chỉ người có tên mới được bóc bì", "Bản số: 03",
        ] {
            for make in strongPositions.map(\.unit) {
                let found = SecrecyMatcher.match([make(text)])
                #expect(found.findings.isEmpty && found.weak.isEmpty, "\(text)")
            }
        }
    }

    @Test func fieldAnywhere() {
        let found = report(
            TextUnit("Số: 12/UBND-VP   Độ mật: Tối mật   Độ khẩn: Thường", container: .documentBody, page: 2, index: 400)
        )
        #expect(found.findings.map(\.level) == [.secret])
        #expect(found.findings.first?.placement == .field)
        #expect(found.findings.first?.matched == "Độ mật: Tối mật")
        #expect(report(TextUnit("ĐỘ MẬT: MẬT ĐỘ KHẨN: KHẨN", container: .documentBody, index: 99)).findings.count == 1)
        // In document properties or a classification header a label tool wrote it: evidence only.
        let label = report(TextUnit("Độ mật: Tuyệt mật", container: .metadata))
        #expect(label.findings.isEmpty && label.weak.map(\.level) == [.topSecret])
    }

    @Test func urgencyOnlyDocument() {
        let found = SecrecyMatcher.match([
            TextUnit("UBND TỈNH QUẢNG NINH", container: .tableCell, page: 1, region: .letterheadLeft, index: 0),
            TextUnit("Số: 15/UBND-VP", container: .tableCell, page: 1, region: .letterheadLeft, index: 1),
            TextUnit("V/v bảo mật hệ thống thư điện tử", container: .tableCell, page: 1, region: .letterheadLeft, index: 2),
            TextUnit("HỎA TỐC", container: .textBox, page: 1, style: [.bold, .bordered]),
            TextUnit("THƯỢNG KHẨN", container: .documentBody, page: 1, region: .topLeft, index: 3),
        ])
        #expect(found.findings.isEmpty && found.weak.isEmpty)
    }

    @Test func declassifiedDocumentIsDowngraded() {
        let found = SecrecyMatcher.match([
            TextUnit("Số: 15/UBND-VP", container: .documentBody, page: 1, index: 0),
            TextUnit("TỐI MẬT", container: .textBox, page: 1, style: [.bordered, .red]),
            TextUnit("GIẢI MẬT", container: .textBox, page: 1, style: [.bordered, .red]),
            TextUnit("Nội dung về giải mật tài liệu.", container: .documentBody, page: 1, index: 40),
        ])
        #expect(found.findings.isEmpty)
        #expect(found.downgraded.map(\.level) == [.secret])
        #expect(found.isDowngraded)
        #expect(found.declassification?.matched == "GIẢI MẬT")
        // "giải mật" in running text does not downgrade.
        let running = SecrecyMatcher.match([
            TextUnit("TỐI MẬT", container: .textBox, page: 1),
            TextUnit("Thủ tục giải mật được thực hiện theo luật.", container: .documentBody, page: 2, index: 40),
        ])
        #expect(running.findings.map(\.level) == [.secret] && running.declassification == nil)
    }

    /// TCVN3 bytes made with glibc iconv: `printf 'tối mật' | iconv -f UTF-8 -t TCVN5712-1`
    /// (VN1's 0xA0–0xFF range is TCVN3), read as Windows-1252 as a Word file shows them.
    @Test func tcvn3UpperFontBytesFromIconv() {
        let toiMat: [UInt8] = [0x74, 0xE8, 0x69, 0x20, 0x6D, 0xCB, 0x74]
        let tuyetMat: [UInt8] = [0x74, 0x75, 0x79, 0xD6, 0x74, 0x20, 0x6D, 0xCB, 0x74]
        let giaiMat: [UInt8] = [0x67, 0x69, 0xB6, 0x69, 0x20, 0x6D, 0xCB, 0x74]
        let asShown = { (bytes: [UInt8]) in String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })) }
        let found = report(TextUnit(asShown(toiMat), container: .textBox, page: 1, fontName: ".VnTimeH"))
        #expect(found.findings.map(\.level) == [.secret])
        #expect(found.findings.first?.decoder == .tcvn3Upper)
        #expect(found.findings.first?.matched == "TỐI MẬT")
        #expect(report(TextUnit(asShown(tuyetMat), container: .pageHeader, fontName: ".VnTimeH")).findings.map(\.level) == [.topSecret])
        // In the lowercase .VnTime font the same bytes read "tối mật": lowercase, not a stamp.
        #expect(report(TextUnit(asShown(toiMat), container: .textBox, page: 1, fontName: ".VnTime")).findings.isEmpty)
        // Unless the style shows it in capitals.
        let styled = report(TextUnit(asShown(toiMat), container: .textBox, page: 1, style: [.allCaps], fontName: ".VnTime"))
        #expect(styled.findings.first?.decoder == .tcvn3 && styled.findings.first?.level == .secret)
        // A Unicode font of the same family is not converted.
        #expect(report(TextUnit(asShown(toiMat), container: .textBox, page: 1, fontName: "UVnTime")).findings.isEmpty)
        let declassified = SecrecyMatcher.match([
            TextUnit(asShown(toiMat), container: .textBox, page: 1, fontName: ".VnTimeH"),
            TextUnit(asShown(giaiMat), container: .textBox, page: 1, fontName: ".VnTimeH"),
        ])
        #expect(declassified.findings.isEmpty && declassified.downgraded.count == 1)
    }

    /// VNI-Windows: base letter then mark byte ("MAÄT" = "MẬT", "TOÁI" = "TỐI").
    @Test func vniFont() {
        // The literals are VietText's VNI encoding, read as Windows-1252.
        let latin1 = { (text: String) in
            String(String.UnicodeScalarView((VietConverter.fromUnicode(text, to: .vni) ?? []).map { Unicode.Scalar($0) }))
        }
        #expect(latin1("TỐI MẬT") == "TOÁI MAÄT" && latin1("mật khẩu") == "maät khaåu")
        let found = report(TextUnit("TOÁI MAÄT", container: .documentBody, page: 1, region: .topLeft, fontName: "VNI-Times"))
        #expect(found.findings.map(\.level) == [.secret])
        #expect(found.findings.first?.decoder == .vni)
        #expect(report(TextUnit("TUYEÄT MAÄT", container: .pageHeader, fontName: "VNI-Helve")).findings.map(\.level) == [.topSecret])
        #expect(report(TextUnit("maät khaåu", container: .pageHeader, fontName: "VNI-Times")).findings.isEmpty)
    }

    @Test func letterSpacedStamps() {
        for text in ["T Ố I  M Ậ T", "T Ố I M Ậ T", "M  Ậ  T", "T U Y Ệ T   M Ậ T"] {
            let found = report(TextUnit(text, container: .textBox, page: 1))
            #expect(found.findings.count == 1, "\(text)")
        }
        #expect(report(TextUnit("T Ố I  M Ậ T", container: .textBox, page: 1)).findings.first?.matched == "TỐI MẬT")
        #expect(report(TextUnit("M Ậ T  K H Ẩ U", container: .textBox, page: 1)).findings.isEmpty)
    }

    @Test func decomposedAndInvisibleCharacters() {
        let nfd = "TỐI MẬT".decomposedStringWithCanonicalMapping
        let found = report(TextUnit(nfd, container: .pageHeader))
        #expect(found.findings.map(\.level) == [.secret])
        #expect(found.findings.first?.decoder == .nfd)
        for text in ["M\u{200B}Ậ\u{200D}T", "\u{FEFF}MẬ\u{00AD}T", "TỐI\u{00A0}\u{2060}MẬT", "T\u{200C}ỐI MẬT\u{200E}"] {
            #expect(report(TextUnit(text, container: .textBox, page: 1)).findings.count == 1, "\(text.unicodeScalars.map(\.value))")
        }
    }

    @Test func contextIsBoundedAndOriginalKept() {
        let long = String(repeating: "Nội dung dài ", count: 20)
        let found = report(TextUnit("\(long)Độ mật: Mật \(long)", container: .documentBody, index: 500))
        let finding = try? #require(found.findings.first)
        #expect(finding?.context.count ?? 0 <= "Độ mật: Mật".count + 80)
        #expect(finding?.context.contains("Độ mật: Mật") == true)
        #expect(finding?.original.hasPrefix("Nội dung") == true)
    }

    @Test func styleCapitalsApply() {
        #expect(report(TextUnit("Mật", container: .textBox, page: 1, style: [.allCaps])).findings.map(\.level) == [.confidential])
        #expect(report(TextUnit("Mật", container: .textBox, page: 1)).findings.isEmpty)
    }

    /// The regulations name the levels and the words in running text: fed paragraph by paragraph
    /// as a document's body, with page 1's first paragraphs where a stamp would stand, they give
    /// nothing at all.
    @Test(arguments: [
        "000_a4c0bafda1720758", "001_e5e29c1cec42d4ce", "002_58ec2d924e9f11bd", "003_3f822d1dd59cf204", "004_652f8054843b441d",
    ])
    func regulationsGiveNoFinding(name: String) throws {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Regulations"))
        let text = try String(contentsOf: url, encoding: .utf8)
        let paragraphs = text.split(whereSeparator: \.isNewline).map(String.init)
        #expect(paragraphs.count > 30)
        let units = paragraphs.enumerated().map { TextUnit($1, container: .documentBody, page: $0 < 40 ? 1 : 2, index: $0) }
        let found = SecrecyMatcher.match(units)
        #expect(found.findings.isEmpty && found.weak.isEmpty && found.downgraded.isEmpty, "\(found.findings.map(\.context))")
        let mail = paragraphs.enumerated().map { TextUnit($1, container: .mailBody, index: $0) }
        #expect(SecrecyMatcher.match(mail).findings.isEmpty)
    }

    /// A list of the levels as a regulation writes it, in capitals and on lines of its own.
    @Test func aRegulationsListOfLevels() {
        let found = SecrecyMatcher.match([
            TextUnit("Điều 8. Phân loại bí mật nhà nước", container: .documentBody, index: 0),
            TextUnit("Bí mật nhà nước được phân loại theo 03 độ mật: Tuyệt mật, Tối mật và Mật.", container: .documentBody, index: 1),
            TextUnit("Độ mật: Tuyệt mật, Tối mật, Mật", container: .documentBody, index: 2),
        ])
        #expect(found.findings.isEmpty && found.weak.isEmpty)
    }

    /// The levels as list items, on lines or units of their own in capitals, where a stamp
    /// could stand: a list, not a stamp. The same level twice (a text box read twice) stays.
    @Test func levelsAsListItemsAreNotStamps() {
        let items = SecrecyMatcher.match([
            TextUnit("Các độ mật gồm:", container: .documentBody, index: 1),
            TextUnit("- TUYỆT MẬT;", container: .documentBody, index: 2),
            TextUnit("- TỐI MẬT;", container: .documentBody, index: 3),
            TextUnit("- MẬT.", container: .documentBody, index: 4),
        ])
        #expect(items.findings.isEmpty && items.weak.isEmpty)
        let box = report(TextUnit("TUYỆT MẬT\nTỐI MẬT\nMẬT", container: .textBox, page: 1))
        #expect(box.findings.isEmpty)
        let twice = SecrecyMatcher.match([
            TextUnit("MẬT", container: .textBox, page: 1),
            TextUnit("MẬT", container: .textBox, page: 1),
        ])
        #expect(twice.findings.map(\.level) == [.confidential, .confidential])
        // Separated by other text, two stamps of two documents glued together both count.
        let apart = SecrecyMatcher.match([
            TextUnit("MẬT", container: .pageHeader, page: 1),
            TextUnit("Nội dung", container: .documentBody, index: 5),
            TextUnit("TỐI MẬT", container: .pageHeader, page: 2),
        ])
        #expect(apart.findings.map(\.level) == [.confidential, .secret])
        // Two places one after the other (a header's stamp, then a text box's): two stamps.
        let places = SecrecyMatcher.match([
            TextUnit("TUYỆT MẬT", container: .pageHeader, page: 1),
            TextUnit("TỐI MẬT", container: .textBox, page: 1),
        ])
        #expect(places.findings.map(\.level) == [.topSecret, .secret])
    }

    /// A register of documents exported to a spreadsheet: an "Độ mật" column whose cells say
    /// MẬT, bordered like every cell. Data, not a stamp: weak at most.
    @Test func registerExportInASpreadsheet() {
        var cells: [TextUnit] = []
        for (row, values) in [
            ["STT", "Số, ký hiệu", "Độ mật", "Trích yếu"], ["1", "15/UBND-VP", "MẬT", "V/v kế hoạch"],
            ["2", "16/UBND-VP", "Thường", "V/v họp"], ["3", "17/UBND-VP", "TỐI MẬT", "V/v diễn tập"],
        ].enumerated() {
            for (column, value) in values.enumerated() {
                cells.append(TextUnit(value, container: .sheetCell, page: 1, style: [.bordered], index: row * 4 + column))
            }
        }
        let found = SecrecyMatcher.match(cells)
        #expect(found.findings.isEmpty)
        #expect(found.weak.map(\.level) == [.confidential, .secret])
        // A sheet's page header is a page header.
        #expect(report(TextUnit("MẬT", container: .pageHeader)).findings.count == 1)
        // CSV lines of the same register.
        let csv = ["STT;Số, ký hiệu;Độ mật;Trích yếu", "1;15/UBND-VP;Mật;V/v kế hoạch", "3;17/UBND-VP;TỐI MẬT;V/v diễn tập"]
        let lines = SecrecyMatcher.match(csv.enumerated().map { TextUnit($1, container: .sheetCell, index: $0) })
        #expect(lines.findings.isEmpty && lines.weak.isEmpty)
    }

    @Test func quotedMailLinesAreNotTheMailsFirstLines() {
        let quoted = SecrecyMatcher.match([
            TextUnit("Đồng ý.", container: .mailBody, index: 0),
            TextUnit("> MẬT", container: .mailBody, index: 2),
        ])
        #expect(quoted.findings.isEmpty && quoted.weak.map(\.level) == [.confidential])
        let own = SecrecyMatcher.match([TextUnit("Kính gửi anh,\nMẬT\nNội dung", container: .mailBody, index: 0)])
        #expect(own.findings.map(\.placement) == [.mailBodyFirstLines])
        let late = SecrecyMatcher.match([TextUnit("MẬT", container: .mailBody, index: 30)])
        #expect(late.findings.isEmpty && late.weak.count == 1)
    }

    /// Random Unicode (Vietnamese letters, marks, invisible characters, brackets, level words)
    /// never crashes, and a unit far past the cap costs no more than the cap.
    @Test func fuzzRandomUnits() {
        var random = SplitMix64(state: 0x1212_2026)
        let alphabet: [String] = [
            "M", "Ậ", "T", "Ố", "I", "U", "Y", "Ệ", " ", "  ", "\u{200B}", "\u{0323}", "\u{0302}", "[", "]", ":",
            "Độ mật", "MẬT", "GIẢI", "\n", "“", "a", "đ", "\u{FEFF}", "😀", "\u{202E}", "-", "HỎA TỐC", "\u{0301}",
        ]
        let containers = TextUnit.Container.allCases
        let regions: [TextUnit.Region?] = [nil] + TextUnit.Region.allCases.map { $0 }
        let fonts: [String?] = [nil, ".VnTimeH", ".VnTime", "VNI-Times", "UVnTime", "Times New Roman"]
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int(random.next() % 60) {
                if random.next() % 4 == 0 {
                    text.unicodeScalars.append(Unicode.Scalar(UInt32(random.next() % 0xD7FF)) ?? "x")
                } else {
                    text += alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            let unit = TextUnit(
                text,
                container: containers[Int(random.next() % UInt64(containers.count))],
                page: Int(random.next() % 3),
                region: regions[Int(random.next() % UInt64(regions.count))],
                style: TextUnit.Style(rawValue: UInt8(random.next() % 16)),
                fontName: fonts[Int(random.next() % UInt64(fonts.count))],
                index: Int(random.next() % 20)
            )
            let found = SecrecyMatcher.match([unit])
            for finding in found.findings + found.weak + found.downgraded {
                #expect(finding.context.count <= finding.matched.count + 80)
            }
        }
        // A huge unit is cut at the cap: the matcher looks at 4 KiB of it, not 4 MiB.
        // (Its speed is in Benchmarks/RESULTS.md, not asserted here.) A stamp past the cap is not
        // seen, which shows the cap is applied; one before it is.
        let huge = String(repeating: "bảo mật mật khẩu M\u{200B}Ậ T ", count: 200_000)
        let report = SecrecyMatcher.match([TextUnit(huge, container: .textBox, page: 1)])
        #expect(report.findings.isEmpty && report.weak.isEmpty)
        let padding = String(repeating: "x", count: 8192)
        #expect(SecrecyMatcher.match([TextUnit(padding + "\nMẬT", container: .textBox, page: 1)]).findings.isEmpty)
        #expect(SecrecyMatcher.match([TextUnit("MẬT\n" + padding, container: .textBox, page: 1)]).findings.count == 1)
    }
}

@Suite struct QuotedStyleTests {
    @Test func aQuotedUnitIsNeverAStampPosition() {
        let quoted = [
            TextUnit("TỐI MẬT", container: .mailBody, style: [.quoted], index: 0),
            TextUnit("Kính gửi", container: .mailBody, index: 1),
            TextUnit("Độ mật: Mật", container: .mailBody, style: [.quoted], index: 2),
            TextUnit("Kính gửi", container: .mailBody, index: 3),
            TextUnit("MẬT", container: .documentBody, page: 1, region: .topLeft, style: [.bold, .quoted], index: 4),
            TextUnit("TOI MAT", container: .mailBody, style: [.quoted], index: 5),
        ]
        let report = SecrecyMatcher.match(quoted)
        #expect(report.findings.isEmpty)
        #expect(report.weak.map(\.level) == [.secret, .confidential, .confidential])
        #expect(report.weak.allSatisfy { $0.placement == .elsewhere })
        // Not quoted, the same units are stamps.
        let own = quoted.map { TextUnit($0.text, container: $0.container, page: $0.page, region: $0.region, index: $0.index) }
        #expect(SecrecyMatcher.match([own[0]]).findings.map(\.placement) == [.mailBodyFirstLines])
        #expect(SecrecyMatcher.match([own[2]]).findings.map(\.placement) == [.field])
        #expect(SecrecyMatcher.match([own[5]]).findings.map(\.placement) == [.mailBodyFirstLines])
    }

    @Test func aQuotedDeclassificationDowngradesNothing() {
        let report = SecrecyMatcher.match([
            TextUnit("MẬT", container: .mailBody, index: 0),
            TextUnit("GIẢI MẬT", container: .mailBody, style: [.quoted], index: 1),
        ])
        #expect(report.declassification == nil)
        #expect(report.findings.map(\.level) == [.confidential])
    }
}

extension SecrecyMatcherTests {
    @Test func aHiddenDeclassificationDowngradesNothingAndAHiddenStampCounts() {
        for style: TextUnit.Style in [.hidden, .partlyHidden, [.hidden, .bordered]] {
            let report = SecrecyMatcher.match([
                TextUnit("MẬT", container: .documentBody, page: 1, style: [.bordered], index: 0),
                TextUnit("GIẢI MẬT", container: .textBox, page: 1, style: style),
            ])
            #expect(report.declassification == nil)
            #expect(report.findings.map(\.level) == [.confidential])
        }
        let hiddenStamp = SecrecyMatcher.match([TextUnit("TỐI MẬT", container: .textBox, page: 1, style: .hidden)])
        #expect(hiddenStamp.findings.map(\.placement) == [.textBox])
        let shown = SecrecyMatcher.match([
            TextUnit("MẬT", container: .documentBody, page: 1, style: [.bordered], index: 0),
            TextUnit("GIẢI MẬT", container: .textBox, page: 1, style: [.bordered]),
        ])
        #expect(shown.isDowngraded)
    }
}
