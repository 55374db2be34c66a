import Archives
import DocumentText
import Foundation
import SecrecyMarks
import Testing

@testable import Corpus

/// Each document the corpus writes opens with ThuGate's own readers (DocumentText, Archives).
@Suite struct DocumentsTests {
    func builder(_ index: Int = 3, _ kind: MessageKind = .congvan) -> MessageBuilder {
        MessageBuilder(seed: 42, index: index, kind: kind)
    }

    let topic = VietnameseText.subjects[2]

    @Test func wordDocumentsReadWithTheirHeader() {
        var plain = builder()
        let person = plain.person(in: plain.agency, province: plain.province)
        let document = plain.wordDocument(topic, from: person)
        let text = OOXMLText.units(document, format: .docx)
        #expect(text.isComplete, "\(text.problems)")
        #expect(text.units.contains { $0.text.contains("Độc lập - Tự do - Hạnh phúc") && $0.container == .tableCell })
        #expect(text.units.contains { $0.text.contains(plain.documentID) && $0.container == .documentBody })
        #expect(text.units.contains { $0.text == plain.agency.name && $0.container == .pageHeader })
        var stamped = builder()
        let secret = stamped.wordDocument(topic, from: person, stamp: "TỐI MẬT")
        #expect(OOXMLText.units(secret, format: .docx).units.contains { $0.text == "TỐI MẬT" && $0.container == .pageHeader })
        #expect(!text.units.contains { $0.text.contains("MẬT") })
    }

    @Test func workbooksReadCellByCell() {
        var made = builder()
        let person = made.person(in: made.agency, province: made.province)
        let text = OOXMLText.units(made.workbook(from: person), format: .xlsx)
        #expect(text.isComplete, "\(text.problems)")
        #expect(text.units.contains { $0.text == "STT" && $0.container == .sheetCell })
        #expect(text.units.contains { $0.text == made.documentID })
    }

    @Test func zipsListAndTheEncryptedOnesSayZipCrypto() throws {
        var zip = ZipWriter(year: 2026, month: 3, day: 2)
        zip.add("một.txt", Array("xin chào".utf8))
        zip.add("hai.docx", Array(repeating: 65, count: 5000), password: "abc", salt: Array(0..<11))
        let listing = try #require(ArchiveReader.list(zip.finished()))
        #expect(listing.format == .zip)
        #expect(listing.members.map(\.name) == ["một.txt", "hai.docx"])
        #expect(listing.members[0].encryption == nil && listing.members[0].size == 9)
        #expect(listing.members[1].encryption == "ZipCrypto" && listing.members[1].size == 5000)
    }

    /// The PDF's cross-reference table points at each object exactly, and its stream lengths are right.
    @Test func pdfsHaveAnExactCrossReferenceTable() throws {
        var made = builder()
        let person = made.person(in: made.agency, province: made.province)
        let pdf = made.pdfDocument(topic, from: person)
        let text = String(decoding: pdf, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-1.4\n"))
        #expect(text.hasSuffix("%%EOF\n"))
        let startxref = try #require(text.range(of: "startxref\n", options: .backwards))
        let xref = try #require(Int(text[startxref.upperBound...].prefix { $0.isNumber }))
        #expect(Array(pdf[xref..<xref + 4]) == Array("xref".utf8))
        let table = String(decoding: pdf[xref...], as: UTF8.self).split(separator: "\n")
        let count = try #require(Int(table[1].split(separator: " ")[1]))
        for object in 1..<count {
            let offset = try #require(Int(table[2 + object].prefix(10)))
            #expect(Array(pdf[offset..<offset + "\(object) 0 obj".utf8.count]) == Array("\(object) 0 obj".utf8), "object \(object)")
        }
    }

    @Test func imagesAndProgramsHaveTheirSignatures() {
        var made = builder()
        let png = made.scannedImage()
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png.suffix(8).prefix(4)) == Array("IEND".utf8))
        let program = ExecutableWriter.pe32(timestamp: 1, filler: [1, 2, 3])
        #expect(Array(program.prefix(2)) == Array("MZ".utf8) && program.count == 0x400)
        #expect(Array(program[0x80..<0x84]) == [0x50, 0x45, 0, 0])
    }
}
