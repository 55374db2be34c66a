import Foundation
import Testing

@testable import MIMECore

/// Inputs on which the fuzzer (Scripts/fuzz-mime) once found a crash, replayed through what the
/// fuzz entry does: parse, decode every part, addresses, uuencode, and the editor's properties.
@Suite struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix("crash-") }.sorted()
    }

    @Test func thereAreKeptCrashers() {
        #expect(!Self.inputs.isEmpty)
    }

    @Test(arguments: inputs)
    func replays(name: String) throws {
        let input = Array(try Data(contentsOf: Self.directory.appendingPathComponent(name)))
        let message = MIMEParser.parse(input)
        for part in message.parts {
            #expect(part.bodyRange.upperBound <= input.count)
            _ = message.decodedBody(of: part)
            _ = message.addresses("From", of: part)
            _ = message.uuencodedFiles(in: part)
        }
        var editor = MessageEditor(message)
        #expect(editor.serialized() == input)
        try editor.addHeader("X-ThuGate-Test", "value")
        #expect(editor.serialized().count > input.count)
    }

    /// The first crasher, minimal: base64 whose length is a multiple of 8 ended the block loop
    /// exactly at the end of the input, and the next read went one byte past it.
    @Test func base64EndingOnABlockBoundary() {
        let body = Array("QUJDREVGR0hJSktM".utf8)  // 16 alphabet characters, no line break
        #expect(body.withUnsafeBytes { Base64.decodeTolerant($0).bytes } == Array("ABCDEFGHIJKL".utf8))
    }
}
