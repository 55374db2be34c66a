import Foundation
import Testing

@testable import MIMECore

@Suite struct CharsetTests {
    /// Charsets Foundation on Linux lacks, decoded through iconv (issue 9 item 8): the MIME
    /// label, Python's codec for it, and a text in the languages that write it.
    static let iconvCharsets: [(label: String, codec: String, text: String)] = [
        ("iso-8859-15", "iso-8859-15", "Prix : 12 € - œuvre, Šárka, Žofie"),
        ("koi8-r", "koi8-r", "Привет, мир! Съешь же ещё этих мягких французских булок."),
        ("koi8-u", "koi8-u", "Ґанок, їжак, єнот, іній - українська мова"),
        ("x-mac-cyrillic", "mac-cyrillic", "Здравствуйте, коллеги"),
        ("gb2312", "gb2312", "关于召开年度工作会议的通知"),
        ("gbk", "gbk", "关于召开年度工作会议的通知，請準時參加"),
        ("gb18030", "gb18030", "关于召开会议的通知 𠀀"),
        ("big5", "big5", "關於召開年度工作會議的通知"),
        ("euc-kr", "euc-kr", "회의 소집 안내: 참석 부탁드립니다"),
        ("ks_c_5601-1987", "cp949", "회의 소집 안내 똠방각하"),
        ("utf-7", "utf-7", "Hi Mom -☺-! A≢Α. 日本語"),
        ("shift_jis", "shift_jis", "会議のお知らせ：出席してください"),
        ("iso-2022-jp", "iso-2022-jp", "会議のお知らせ、よろしくお願いします"),
        ("euc-jp", "euc-jp", "会議のお知らせ"),
        ("windows-1251", "cp1251", "Уважаемые коллеги"),
        ("windows-1250", "cp1250", "Vážení kolegové, zdvořile žádáme"),
        ("windows-1253", "cp1253", "Αγαπητοί συνάδελφοι"),
        ("windows-1255", "cp1255", "שלום עולם"),
        ("windows-1256", "cp1256", "مرحبا بالعالم"),
        ("iso-8859-2", "iso-8859-2", "Zażółć gęślą jaźń"),
        ("iso-8859-5", "iso-8859-5", "Привет"),
        ("iso-8859-7", "iso-8859-7", "Καλημέρα"),
        ("tis-620", "tis-620", "สวัสดีครับ"),
    ]

    /// Python encodes each text; Charset decodes the bytes as Python's codec does.
    @Test func iconvCharsetsMatchPython() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let table = Self.iconvCharsets.map {
            "(\"\($0.codec)\", \"\($0.text.unicodeScalars.map { String(format: "\\U%08x", $0.value) }.joined())\")"
        }
        process.arguments = [
            "python3", "-c",
            """
            for codec, text in [\(table.joined(separator: ", "))]:
                data = text.encode(codec)
                assert data.decode(codec) == text
                print(data.hex())
            """,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = out.split(separator: "\n")
        try #require(lines.count == Self.iconvCharsets.count)
        for (sample, hex) in zip(Self.iconvCharsets, lines) {
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            #expect(Charset.isSupported(label: sample.label), "\(sample.label)")
            #expect(Charset.decode(bytes, label: sample.label) == sample.text, "\(sample.label)")
            #expect(Charset.decode(bytes, label: sample.label.uppercased()) == sample.text, "\(sample.label)")
        }
    }

    /// Hostile bytes in every iconv charset: no crash, and text no larger than the bound.
    @Test func iconvRandomBytes() {
        var state: UInt64 = 2047
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for round in 0..<3000 {
            let label = Self.iconvCharsets[round % Self.iconvCharsets.count].label
            let bytes = (0..<Int(next() % 64)).map { _ in UInt8(truncatingIfNeeded: next()) }
            if let text = Charset.decode(bytes, label: label) { #expect(text.utf8.count <= bytes.count * 4 + 16) }
        }
    }

    @Test func bodiesInIconvCharsetsAreText() {
        let raw: [UInt8] = Array(
            "Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: base64\r\n\r\n8NLJ18XUIQ==\r\n".utf8
        )
        let message = MIMEParser.parse(raw)
        #expect(message.decodedText(of: message.parts[0]) == "Привет!")
        let unknown = MIMEParser.parse(Array("Content-Type: text/plain; charset=x-nothing\r\n\r\nabc\r\n".utf8))
        #expect(unknown.decodedText(of: unknown.parts[0]) == nil)
    }

    @Test func iconvRejectsInvalidBytesAndUnknownNames() {
        #expect(Charset.decode([0xB9, 0xD8, 0xFF], label: "gb2312") == nil)  // 0xFF starts no GBK character
        #expect(Charset.decode([0xB9], label: "gb2312") == nil)  // incomplete at the end
        #expect(!Charset.isSupported(label: "x-no-such-charset"))
        #expect(!Charset.isSupported(label: "utf-8//TRANSLIT"))
        #expect(!Charset.isSupported(label: ""))
        #expect(Charset.decode(Array("abc".utf8), label: "x-no-such-charset") == nil)
        // Encoded words in those charsets read too.
        #expect(EncodedWords.decode("=?koi8-r?B?8NLJ18XU?= =?gb2312?B?zajWqg==?=") == "Привет通知")
    }

    /// Python's own codec tables, as an independent reference: the code point of each byte
    /// 0x80–0xFF, or -1 where the codec leaves it undefined.
    private func pythonTable(_ codec: String) throws -> [Int] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import sys
            out = []
            for b in range(0x80, 0x100):
                try: out.append(ord(bytes([b]).decode('\(codec)')))
                except UnicodeDecodeError: out.append(-1)
            print(' '.join(map(str, out)))
            """,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
    }

    @Test(arguments: [(Charset.windows1252, "cp1252"), (.windows1258, "cp1258"), (.iso8859_1, "latin-1")])
    func highBytesMatchPython(charset: Charset, codec: String) throws {
        let reference = try pythonTable(codec)
        #expect(reference.count == 128)
        for (offset, expected) in reference.enumerated() {
            let decoded = charset.decode([UInt8(0x80 + offset)])
            if expected < 0 {
                #expect(decoded == nil, "byte 0x\(String(0x80 + offset, radix: 16)) should be undefined")
            } else {
                #expect(
                    decoded.map { Array($0.unicodeScalars).map(\.value) } == [UInt32(expected)],
                    "byte 0x\(String(0x80 + offset, radix: 16))"
                )
            }
        }
    }

    @Test func labelsAndStrictness() {
        #expect(Charset(label: " CP1258 ") == .windows1258)
        #expect(Charset(label: "x-unknown") == nil)
        #expect(Charset.utf8.decode([0xC3, 0x28]) == nil)
        #expect(Charset.usASCII.decode([0x41, 0x80]) == nil)
        #expect(lenientText([0x63, 0x61, 0x66, 0xE9]) == "café")
    }

    @Test func transferDecoders() {
        let qp = Array("a=3Db=\r\nc =\nd\t \r\ne=ZZ".utf8)
        let decoded = qp.withUnsafeBytes { QuotedPrintable.decode($0) }
        #expect(String(decoding: decoded.bytes, as: UTF8.self) == "a=bc d\r\ne=ZZ")
        #expect(!decoded.clean)
        let b64 = Array("SGVsbG8g\r\nV29y bGQ=\r\n".utf8)
        let b = b64.withUnsafeBytes { Base64.decodeTolerant($0) }
        #expect(String(decoding: b.bytes, as: UTF8.self) == "Hello World")
        #expect(b.clean)
        #expect(b64.withUnsafeBytes { Base64.isClean($0) })
        #expect(!Array("QUJD*".utf8).withUnsafeBytes { Base64.isClean($0) })
        #expect(!qp.withUnsafeBytes { QuotedPrintable.isClean($0) })
        #expect(Array("a=3D=\r\nb".utf8).withUnsafeBytes { QuotedPrintable.isClean($0) })
        #expect(Base64.decodeStrict(Array("QUJD".utf8)) == Array("ABC".utf8))
        #expect(Base64.decodeStrict(Array("QU JD".utf8)) == nil)
    }
}
