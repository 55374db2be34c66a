import Foundation
import Testing

@testable import MIMECore

@Suite struct MessageEditorTests {
    private func corpusMessages() throws -> [(String, [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: CorpusTests.corpus.path).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { ($0, Array(try Data(contentsOf: CorpusTests.corpus.appendingPathComponent($0)))) }
    }

    @Test func noEditsGiveTheSameBytesForEveryCorpusMessage() throws {
        for (name, bytes) in try corpusMessages() {
            #expect(MessageEditor(MIMEParser.parse(bytes)).serialized() == bytes, "\(name)")
        }
    }

    @Test func addedHeaderGoesOnTopAndNothingElseChanges() throws {
        for (_, bytes) in try corpusMessages() {
            var editor = MessageEditor(MIMEParser.parse(bytes))
            try editor.addHeader("X-ThuGate-Normalized", "tcvn3→utf-8 (part 1.1)\r\nInjected: no")
            let out = editor.serialized()
            let added = Array("X-ThuGate-Normalized: tcvn3→utf-8 (part 1.1)  Injected: no\r\n".utf8)
            #expect(Array(out.prefix(added.count)) == added)
            #expect(Array(out.dropFirst(added.count)) == bytes)
        }
    }

    @Test func replacingATextPartKeepsEveryOtherByte() throws {
        let bytes = Array(try Data(contentsOf: CorpusTests.corpus.appendingPathComponent("mixed-attachment.eml")))
        let message = MIMEParser.parse(bytes)
        let legacy = message.parts[2]
        #expect(legacy.charset == "windows-1258")
        let text =
            Array("Báo cáo tháng 11 — bản chính thức, dòng rất dài ".utf8) + Array(repeating: UInt8(ascii: "x"), count: 300) + [
                13, 10, 46, 13, 10,
            ]
        var editor = MessageEditor(message)
        try editor.replaceContent(of: legacy, with: text, charset: "utf-8")
        let out = editor.serialized()

        let reparsed = MIMEParser.parse(out)
        #expect(reparsed.parts.map(\.path) == message.parts.map(\.path))
        #expect(reparsed.decodedBody(of: reparsed.parts[2]).bytes == text)
        #expect(reparsed.parts[2].charset == "utf-8")
        #expect(reparsed.parts[2].transferEncoding == "quoted-printable")
        #expect(reparsed.defects.isEmpty)
        // Everything before the part, and every other part's content, is unchanged.
        #expect(Array(out.prefix(legacy.range.lowerBound)) == Array(bytes.prefix(legacy.range.lowerBound)))
        for index in [3, 4] {
            #expect(reparsed.decodedBody(of: reparsed.parts[index]).bytes == message.decodedBody(of: message.parts[index]).bytes)
        }
        let tailLength = bytes.count - legacy.range.upperBound
        #expect(Array(out.suffix(tailLength)) == Array(bytes.suffix(tailLength)))
        // Output lines are CRLF and short.
        var lineLength = 0
        for (i, b) in out.enumerated() {
            if b == 10 {
                #expect(i > 0 && out[i - 1] == 13)
                lineLength = 0
            } else {
                lineLength += 1
                #expect(lineLength <= 998)
            }
        }
    }

    @Test func binaryContentGoesBase64AndOverlapsAreRefused() throws {
        let message = MIMEParser.parse(Array("Content-Type: application/octet-stream\r\n\r\nold\r\n".utf8))
        var editor = MessageEditor(message)
        let data = (0..<1000).map { UInt8($0 % 256) }
        try editor.replaceContent(of: message.parts[0], with: data)
        let reparsed = MIMEParser.parse(editor.serialized())
        #expect(reparsed.parts[0].transferEncoding == "base64")
        #expect(reparsed.decodedBody(of: reparsed.parts[0]).bytes == data)
        #expect(throws: MessageEditor.EditError.self) { try editor.replaceContent(of: message.parts[0], with: [1]) }
    }

    @Test(arguments: [
        "plain ascii text without newline",
        "trailing space \r\nand tab\t\r\n",
        ".leading dot\r\n=equals= and ünïcödé\r\n",
        String(repeating: "é", count: 200),
    ])
    func quotedPrintableRoundTrips(text: String) {
        let encoded = TransferEncoder.quotedPrintable(Array(text.utf8))
        #expect(encoded.withUnsafeBytes { QuotedPrintable.isClean($0) })
        #expect(encoded.withUnsafeBytes { QuotedPrintable.decode($0).bytes } == Array(text.utf8))
        for line in encoded.split(separator: 10) { #expect(line.count <= 77) }
    }
}
