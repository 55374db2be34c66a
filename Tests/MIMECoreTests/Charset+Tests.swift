import Foundation
import Testing
@testable import MIMECore

@Suite struct CharsetTests {
    /// Python's own codec tables, as an independent reference: the code point of each byte
    /// 0x80–0xFF, or -1 where the codec leaves it undefined.
    private func pythonTable(_ codec: String) throws -> [Int] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sys
            out = []
            for b in range(0x80, 0x100):
                try: out.append(ord(bytes([b]).decode('\(codec)')))
                except UnicodeDecodeError: out.append(-1)
            print(' '.join(map(str, out)))
            """]
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
                #expect(decoded.map { Array($0.unicodeScalars).map(\.value) } == [UInt32(expected)],
                        "byte 0x\(String(0x80 + offset, radix: 16))")
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
