import Foundation
import MIMECore
import Policy
import Testing
import VietText

@testable import Transforms

/// The normalizer's edits: what a milter front end would send back to the MTA. Replaying them the
/// way an MTA does (message header fields by name and index, then the new body) must give exactly
/// the message the proxy writes.
@Suite struct TCVNNormalizerEditsTests {
    static func tcvn3(_ s: String) -> [UInt8] { VietConverter.fromUnicode(s, to: .tcvn3)! }
    static let text = TCVNNormalizerTests.text

    /// An MTA applying a milter's replies: header edits by name and index, the body whole.
    static func replay(_ message: ParsedMessage, header edits: [MessageEdit], body: [UInt8]?) -> [UInt8] {
        let bytes = message.bytes.asArray
        let section = message.parts[0].header
        var fields = section.fields.map { (name: $0.name, bytes: Array(bytes[$0.range])) }
        var inserted: [[UInt8]] = []
        for edit in edits {
            switch edit.kind {
            case .insertHeader: inserted.insert(edit.bytes, at: 0)
            case .addHeader(let name, _): fields.append((name, edit.bytes))
            case .changeHeader(let name, let index, _):
                fields[fields.indices.filter { fields[$0].name.lowercased() == name.lowercased() }[index - 1]].bytes = edit.bytes
            case .replaceBody: Issue.record("a body edit among the header edits")
            }
        }
        let first = section.fields.first?.range.lowerBound ?? section.range.lowerBound
        let last = section.fields.last?.range.upperBound ?? section.range.lowerBound
        return inserted.flatMap { $0 } + bytes[section.range.lowerBound..<first] + fields.flatMap(\.bytes) + bytes[last..<section.bodyStart]
            + (body ?? Array(bytes[section.bodyStart...]))
    }

    /// Messages the normalizer rewrites: a single-part body, a Subject and display name, an
    /// attachment name and a body inside a multipart, an attached message's Subject.
    static let converted: [(name: String, raw: [UInt8])] = [
        (
            "body",
            Array(
                "From: a@quangninh.gov.vn\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                    .utf8
            )
                + tcvn3(text) + Array("\r\n".utf8)
        ),
        (
            "headers",
            Array("From: ".utf8) + tcvn3("Nguyễn Văn Thành") + Array(" <thanh@quangninh.gov.vn>\r\nSubject: ".utf8)
                + tcvn3("Báo cáo tình hình") + Array("\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nok\r\n".utf8)
        ),
        (
            "multipart",
            Array("Subject: ".utf8) + tcvn3("Báo cáo tình hình")
                + Array(
                    "\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n".utf8
                )
                + tcvn3(text)
                + Array("\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=iso-8859-1''".utf8)
                + Array(tcvn3("báo cáo.docx").map { String(format: "%%%02X", $0) }.joined().utf8)
                + Array("\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n".utf8)
        ),
        (
            "attached message",
            Array(
                "Subject: fwd\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: ".utf8
            )
                + tcvn3("Báo cáo tình hình") + Array("\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n".utf8) + tcvn3(text)
                + Array("\r\n--b--\r\n".utf8)
        ),
    ]

    @Test(arguments: converted.indices)
    func editsReplayedAsAMilterGiveTheRewrittenMessage(_ index: Int) throws {
        let (name, raw) = Self.converted[index]
        let message = MIMEParser.parse(raw)
        let result = TCVNNormalizer().transform(message)
        let rewritten = try #require(result.rewritten(message), "\(name)")
        #expect(result.edits.applied(to: message.bytes) == rewritten, "\(name)")
        // The first edit is always X-ThuGate-Normalized on top of the message.
        #expect(
            result.edits.edits.first?.kind == .insertHeader(name: "X-ThuGate-Normalized", value: EncodedWords.encode(result.summary ?? ""))
        )
        let (header, body) = result.edits.milterEdits(of: message)
        #expect(Self.replay(message, header: header, body: body) == rewritten, "\(name)")
    }

    @Test func aSinglePartBodyIsTheContentFieldsAndTheBody() throws {
        let message = MIMEParser.parse(Self.converted[0].raw)
        let (header, body) = TCVNNormalizer().transform(message).edits.milterEdits(of: message)
        #expect(
            header.map(\.kind) == [
                .insertHeader(name: "X-ThuGate-Normalized", value: EncodedWords.encode("tcvn3→utf-8 (part 1)")),
                .changeHeader(name: "Content-Type", index: 1, value: "text/plain; charset=utf-8"),
                // Vietnamese text is mostly 8-bit: base64.
                .changeHeader(name: "Content-Transfer-Encoding", index: 1, value: "base64"),
            ]
        )
        #expect(try #require(body) == TransferEncoder.base64(Array((Self.text + "\r\n").utf8)))
    }

    @Test func headersOnlyLeaveTheBodyToTheMTA() {
        let message = MIMEParser.parse(Self.converted[1].raw)
        let result = TCVNNormalizer().transform(message)
        let (header, body) = result.edits.milterEdits(of: message)
        #expect(body == nil)
        #expect(header.map(\.part) == ["", "", ""])
        #expect(
            header.dropFirst().map { if case .changeHeader(let name, let index, _) = $0.kind { "\(name) \(index)" } else { "" } }
                == ["From 1", "Subject 1"]
        )
    }

    @Test func partsInsideTheBodyAreEditedThere() {
        let message = MIMEParser.parse(Self.converted[2].raw)
        let edits = TCVNNormalizer().transform(message).edits.edits
        #expect(edits.map(\.part) == ["", "", "1", "1", "1", "2"])
        #expect(edits.filter { $0.part == "1" }.map(\.kind).last == .replaceBody)
        #expect(edits.last.map { if case .changeHeader("Content-Disposition", 1, _) = $0.kind { true } else { false } } == true)
    }

    @Test func nothingToConvertIsNoEdit() {
        let message = MIMEParser.parse(Array("Subject: hello\r\nContent-Type: text/plain\r\n\r\nplain English\r\n".utf8))
        let result = TCVNNormalizer().transform(message)
        #expect(result.edits.isEmpty && result.rewritten(message) == nil && result.summary == nil)
        #expect(TCVNNormalizer().name == "tcvn-6909")
    }
}
