import Foundation
import Testing

@testable import MIMECore

/// Every message in Corpus/ parses, with the structure its author wrote it to have.
@Suite struct CorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus")

    private func load(_ name: String) throws -> ParsedMessage {
        MIMEParser.parse(Array(try Data(contentsOf: Self.corpus.appendingPathComponent(name))))
    }

    @Test func everyCorpusMessageParsesWithinItsBytes() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { $0.hasSuffix(".eml") }
        #expect(names.count >= 6)
        for name in names {
            let message = try load(name)
            for part in message.parts {
                #expect(
                    part.range.upperBound <= message.bytes.count && part.bodyRange.lowerBound >= part.range.lowerBound,
                    "\(name) \(part.path)"
                )
            }
            // Nothing hidden from the scanner (issue 9 item 2).
            #expect(message.uncoveredRanges().isEmpty, "\(name)")
        }
    }

    @Test func attachmentNamesAndTexts() throws {
        let m = try load("mixed-attachment.eml")
        #expect(m.parts.map(\.path) == ["", "1", "1.1", "1.2", "2"])
        let pdf = m.parts[4]
        #expect(pdf.filename == "Báo cáo tháng 11.pdf")
        #expect(m.decodedBody(of: pdf).bytes.prefix(8) == Array("%PDF-1.4".utf8)[...])
        #expect(m.decodedBody(of: pdf).bytes.count == 9 + 256 * 8)
        let legacy = m.decodedBody(of: m.parts[2]).bytes
        #expect(Charset.windows1258.decode(legacy) == "Ba\u{0309}o ca\u{0301}o tha\u{0301}ng 11\r\n")
        #expect(m.defects.isEmpty)
    }

    @Test func brokenMessageCarriesItsDefects() throws {
        let m = try load("broken-no-final-boundary.eml")
        let kinds = m.defects.map(\.defect.kind)
        #expect(kinds.contains(.missingFinalBoundary))
        #expect(kinds.contains(.textAfterBase64))
        #expect(m.lenientBase64Body(of: m.parts[1]) == Array("Hello world".utf8))
        #expect(kinds.contains(.invalidQuotedPrintable))
        #expect(m.parts[2].filename == "data.bin")
    }

    @Test func forwardedAndDigest() throws {
        let f = try load("forwarded-rfc822.eml")
        #expect(f.parts.map(\.path) == ["", "1", "2", "2", "2.1"])
        #expect(f.headerValue("Subject", of: f.parts[3]) == "Giay moi hop")
        let d = try load("digest.eml")
        #expect(d.parts.filter(\.isMessage).count == 2)
    }
}
