import Foundation
import TestFixtures
import Testing

@testable import Archives

extension ArchiveTests {
    @Suite("EncryptedDocuments")
    struct EncryptedDocumentsTests {
        static func pdf(trailer: String, body: String = "") -> [UInt8] {
            Array(
                """
                %PDF-1.7
                1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
                2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj
                \(body)
                xref
                0 3
                0000000000 65535 f 
                trailer
                \(trailer)
                startxref
                100
                %%EOF

                """.utf8
            )
        }

        @Test func encryptedPDF() {
            #expect(ArchiveReader.isEncryptedPDF(Self.pdf(trailer: "<< /Size 6 /Root 1 0 R /Encrypt 5 0 R /ID [<00><00>] >>")))
            #expect(ArchiveReader.isEncryptedPDF(Self.pdf(trailer: "<</Size 6/Root 1 0 R/Encrypt<</Filter/Standard/V 2>>>>")))
        }

        @Test func plainPDF() {
            #expect(!ArchiveReader.isEncryptedPDF(Self.pdf(trailer: "<< /Size 3 /Root 1 0 R >>")))
            #expect(!ArchiveReader.isEncryptedPDF(Self.pdf(trailer: "<< /Size 3 /Root 1 0 R /EncryptedNote 1 >>")))
            #expect(!ArchiveReader.isEncryptedPDF(Array("/Encrypt 5 0 R, but no PDF header".utf8)))
        }

        @Test func encryptionInAnXRefStreamInTheMiddleOfALargeFile() {
            // A 300 KB PDF whose xref stream dictionary sits at `startxref`, away from both ends.
            var bytes = Array("%PDF-1.5\n".utf8)
            bytes += [UInt8](repeating: 0x20, count: 100_000)
            let xref = bytes.count
            bytes += Array("9 0 obj << /Type /XRef /Size 10 /Root 1 0 R /Encrypt 8 0 R /W [1 2 1] >> stream\n".utf8)
            bytes += [UInt8](repeating: 0x20, count: 200_000)
            bytes += Array("endstream endobj\nstartxref\n\(xref)\n%%EOF\n".utf8)
            #expect(ArchiveReader.isEncryptedPDF(bytes))
            let plain = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "/Encrypt 8 0 R", with: "").utf8)
            #expect(!ArchiveReader.isEncryptedPDF(plain))
        }

        /// A minimal OLE2 file: the header sector, then one directory sector with `names`.
        static func compoundFile(_ names: [String]) -> [UInt8] {
            var bytes: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
            bytes += [UInt8](repeating: 0, count: 512 - bytes.count)
            for name in ["Root Entry"] + names {
                var entry = [UInt8](repeating: 0, count: 128)
                let units = Array(name.utf16) + [0]
                for (i, unit) in units.enumerated() {
                    entry[2 * i] = UInt8(unit & 0xFF)
                    entry[2 * i + 1] = UInt8(unit >> 8)
                }
                entry[64] = UInt8(units.count * 2)
                entry[66] = name == "Root Entry" ? 5 : 2
                bytes += entry
            }
            return bytes
        }

        @Test func encryptedOOXML() {
            #expect(ArchiveReader.encryptedOfficeDocument(Self.compoundFile(["EncryptionInfo", "EncryptedPackage"])))
        }

        @Test func plainOfficeFiles() throws {
            #expect(!ArchiveReader.encryptedOfficeDocument(Self.compoundFile(["WordDocument", "1Table"])))
            let docx = try ArchiveFixture.archive(
                ArchiveFixture.zipTool,
                ["-q", "-r", "d.docx", "[Content_Types].xml", "word"],
                output: "d.docx",
                files: [("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document>EncryptedPackage</w:document>")]
            )
            #expect(!ArchiveReader.encryptedOfficeDocument(docx))
            // The name as text inside some stream, not a directory entry, does not count.
            var text = Self.compoundFile(["WordDocument"])
            text += [0x41] + Array("EncryptedPackage".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }) + [0, 0]
            text += [UInt8](repeating: 0, count: 256)
            #expect(!ArchiveReader.encryptedOfficeDocument(text))
        }
    }
}
