import Foundation
import MIMECore
import Policy
import Testing

@testable import Scanning

/// The libclamav and libmagic wrappers on their own, with the project's test signatures.
@Suite struct ContentScannerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    static func settings() -> ClamAVSettings {
        var settings = ClamAVSettings()
        settings.databaseDirectory = root.appendingPathComponent("Config/signatures").path
        settings.temporaryDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-tests").path
        return settings
    }

    static func parse(_ text: String) -> ParsedMessage {
        MIMEParser.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }

    @Test func engineLoadsTheTestSignatures() throws {
        let engine = try ClamAVEngine(settings: Self.settings())
        #expect(engine.signatureCount == 1)
        let outcome = try Array(("hello " + Self.eicar).utf8).withUnsafeBytes { try engine.scan($0, name: "t") { _ in } }
        #expect(outcome == .virus("ThuGate.Test.EICAR.UNOFFICIAL"))
        let clean = try Array("hello".utf8).withUnsafeBytes { try engine.scan($0, name: "t") { _ in } }
        #expect(clean == .clean)
    }

    @Test func emptyOrMissingDatabaseIsAnError() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-empty-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        var settings = Self.settings()
        settings.databaseDirectory = empty.path
        #expect(throws: ClamAVError.self) { try ClamAVEngine(settings: settings) }
        settings.databaseDirectory = empty.appendingPathComponent("missing").path
        #expect(throws: ClamAVError.self) { try ClamAVEngine(settings: settings) }
    }

    @Test func reloadKeepsTheOldEngineOnABrokenDatabase() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-sigs-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: Self.root.appendingPathComponent("Config/signatures/thugate-test.ndb"),
            to: directory.appendingPathComponent("a.ndb")
        )
        var settings = Self.settings()
        settings.databaseDirectory = directory.path
        let store = try EngineStore(settings: settings)
        let first = store.engine
        try "broken line\n".write(to: directory.appendingPathComponent("b.ndb"), atomically: true, encoding: .utf8)
        #expect(throws: ClamAVError.self) { try store.reload() }
        #expect(store.engine === first)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("b.ndb"))
        try store.reload()
        #expect(store.engine !== first)
        // The old engine lives while a scan holds it.
        #expect(try Array(Self.eicar.utf8).withUnsafeBytes { try first.scan($0, name: "old") { _ in } } != .clean)
    }

    @Test func magicTellsRealTypes() throws {
        let cookie = try MagicCookie()
        let elf = try Data(contentsOf: URL(fileURLWithPath: "/bin/true"))
        #expect(
            ["application/x-sharedlib", "application/x-pie-executable", "application/x-executable"]
                .contains(elf.withUnsafeBytes { cookie.mimeType($0) })
        )
        #expect(Array("%PDF-1.4\n%\u{e2}\u{e3}\n".utf8).withUnsafeBytes { cookie.mimeType($0) } == "application/pdf")
        #expect([UInt8]().withUnsafeBytes { cookie.mimeType($0) } == "application/x-empty")
    }

    @Test func textBodiesSkipLibmagicUnlessTheyLookBinary() {
        #expect(!Array("Kính gửi các đơn vị,\r\nhello\r\n".utf8).withUnsafeBytes(ContentScanner.mayBeBinary))
        #expect(Array("MZ\u{90}\0\u{3}".utf8).withUnsafeBytes(ContentScanner.mayBeBinary))
        #expect(([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1] as [UInt8]).withUnsafeBytes(ContentScanner.mayBeBinary))
    }

    /// Streams taken out of a document: a PDF's content stream is plain text and not typed again;
    /// what could be a document or message of its own, or anything binary, is.
    @Test func onlyPlainStreamTextSkipsLibmagic() {
        func plain(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes(ContentScanner.isPlainStreamText) }
        #expect(plain("q 0.1 0 0 0.1 0 0 cm\nBT /F1 12 Tf 72 712 Td (Ke hoach) Tj ET\nQ\n"))
        #expect(plain("/GS1 gs\n0 0 0 rg\n"))
        for other in [
            "{\\rtf1\\ansi TỐI MẬT}", "  <html><body>x</body></html>", "\u{FEFF}<?xml version=\"1.0\"?><a/>",
            "From: a@b.vn\r\nSubject: x\r\n\r\nbody", "Received: from x\r\n", "%!PS-Adobe-3.0\n", "#!/bin/sh\necho\n",
            "%PDF-1.7\n", "MZ\u{90}\u{0}",
        ] {
            #expect(!plain(other), "\(other)")
        }
        #expect(!([0x50, 0x4B, 3, 4, 20, 0] as [UInt8]).withUnsafeBytes(ContentScanner.isPlainStreamText))
        #expect(!(Array("text".utf8) + [0x00, 0x01]).withUnsafeBytes(ContentScanner.isPlainStreamText))
    }

    /// PDF syntax inside a document: content streams with raw glyph codes, dictionaries, inline
    /// images; anything that starts as another format is not taken for it.
    @Test func pdfSyntaxIsToldFromOtherFormats() {
        func syntax(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes(ContentScanner.isPDFSyntax) }
        func syntax(_ text: String) -> Bool { syntax(Array(text.utf8)) }
        let glyphs: [UInt8] = [0x00, 0x12, 0x00, 0x5C, 0x29, 0x00, 0x28, 0x0A, 0xFF, 0x29]  // "\)" escaped, "(" and ")" balanced
        #expect(syntax(Array("2 J\n0.57 w\nBT /F1 10.00 Tf ET\nBT 31.18 803.46 Td (".utf8) + glyphs + Array(") Tj ET\n".utf8)))
        #expect(syntax("/Span <</MCID 0 >>BDC q 0 0 0 rg [(A) -12.5 <0041 00 42>] TJ EMC Q T* 1 0 0 1 0 0 cm /Im1 Do"))
        #expect(syntax("\n<<\n/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources 5 0 R /Group << /S /Transparency >>\n>>\n"))
        #expect(syntax(Array("q BI /W 2 /H 2 /BPC 8 /CS /G ID ".utf8) + [0x00, 0xFF, 0x4D, 0x5A] + Array(" EI Q".utf8)))
        #expect(syntax("0.5 g % a comment\n10 10 m 20 20 l S"))
        // Cut by the prefix inside a keyword or a string: what was read is judged.
        #expect(syntax(Array(repeating: Array("1 0 0 1 20 30 cm ".utf8), count: 70).flatMap { $0 } + Array("Tj".utf8)))
        for other in [
            "MZ\u{90}\u{0}\u{3}", "%PDF-1.7\n", "%!PS-Adobe-3.0\n", "{\\rtf1\\ansi x}", "<html><body>x</body></html>",
            "<?xml version=\"1.0\"?><a/>", "From: a@b.vn\r\nSubject: x\r\n", "#!/bin/sh\necho x\n", "hello world",
            "q Q exec", "{ 360 mul sin }", "", "   ", "BT (x) Tj ET >", "PK\u{3}\u{4}\u{14}\u{0}",
        ] {
            #expect(!syntax(other), "\(other)")
        }
        #expect(!syntax([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]))
        #expect(!syntax([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]))
        // Formats typed by bytes past the start, led by PDF tokens.
        let lead = Array("q Q ".utf8) + [UInt8](repeating: 0x20, count: 1100)
        var tar = lead
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        #expect(!syntax(tar))
        var iso = [UInt8](repeating: 0x20, count: 0x8001 + 5)
        iso.replaceSubrange(0..<2, with: Array("q ".utf8))
        iso.replaceSubrange(0x8001..<0x8006, with: Array("CD001".utf8))
        #expect(!syntax(iso))
        #expect(!syntax("070707000001000002100644000000000000000001000000000000000000000000600000000000 q"))
        #expect(syntax("070708000001000002100644000000000000000001000000000000000000000000600000000000 q"))
        // `ID` outside an inline image, a string open at the end of the prefix, a control byte in a comment.
        #expect(!syntax(Array("q ID ".utf8) + [0x00, 0x00]))
        #expect(!syntax(Array("q (".utf8) + [UInt8](repeating: 0, count: 100)))
        #expect(syntax(Array("q (".utf8) + [UInt8](repeating: 0, count: 1100) + Array(") Tj".utf8)))
        #expect(!syntax(Array("q % x".utf8) + [0x00, 0x01] + Array("\n Q".utf8)))
        // A tar header: a file name that reads as tokens, then NUL padding.
        #expect(!syntax(Array("q Q BT ET".utf8) + [UInt8](repeating: 0, count: 91) + Array("0000644\u{0}".utf8)))
        #expect(Array("BT (a) Tj ET".utf8).withUnsafeBytes(ContentScanner.streamType) == "text/plain")
        #expect(
            (Array("BT (".utf8) + [0x01] + Array(") Tj ET".utf8)).withUnsafeBytes(ContentScanner.streamType) == "application/octet-stream"
        )
        #expect(Array("MZ\u{90}\u{0}".utf8).withUnsafeBytes(ContentScanner.streamType) == nil)
    }

    @Test func textIsSniffedFromItsFirstKilobytes() throws {
        let text = Array("Kính gửi các đơn vị,\r\n\t\u{1B}[1m".utf8)
        #expect(text.withUnsafeBytes { ContentScanner.looksLikeText($0[...]) })
        #expect(!Array("PK\u{3}\u{4}".utf8).withUnsafeBytes { ContentScanner.looksLikeText($0[...]) })
        #expect(!([0xFF, 0xFE, 0x4B, 0x00] as [UInt8]).withUnsafeBytes { ContentScanner.looksLikeText($0[...]) })
        #expect(!Array("abc\u{7F}".utf8).withUnsafeBytes { ContentScanner.looksLikeText($0[...]) })
        // Attachments far longer than the text prefix keep the types libmagic gives the whole file.
        let line = "Sở Thông tin và Truyền thông đề nghị các đơn vị triển khai kế hoạch năm 2026.\n"
        let long = String(repeating: line, count: 600)
        let attachments: [(name: String, body: String, type: String)] = [
            ("a.txt", long, "text/plain"),
            ("b.dat", "<!DOCTYPE html>\n<html><body><p>\n" + long + "</p></body></html>\n", "text/html"),
            ("c.dat", "#!/bin/sh\n" + String(repeating: "echo \"\(line.dropLast())\"\n", count: 600), "text/x-shellscript"),
            ("d.dat", "Return-Path: <a@b.vn>\nFrom: a@b.vn\nSubject: x\n\n" + long, "message/rfc822"),
        ]
        var message = "From: a@b.vn\nContent-Type: multipart/mixed; boundary=X\n\n"
        for attachment in attachments {
            message += "--X\nContent-Type: application/octet-stream; name=\"\(attachment.name)\"\n"
            let encoded = Data(attachment.body.utf8).base64EncodedString(options: .lineLength76Characters)
            message += "Content-Transfer-Encoding: base64\n\n\(encoded)\n"
        }
        message += "--X--\n"
        let scanner = ContentScanner(engines: try EngineStore(settings: Self.settings()))
        let report = try scanner.scan(Self.parse(message))
        for attachment in attachments {
            #expect(attachment.body.utf8.count > 4 * ContentScanner.textSniffLength)
            let object = report.objects.first { $0.name == attachment.name && $0.containers.isEmpty }
            #expect(object?.mimeType == attachment.type, "\(attachment.name)")
        }
    }

    @Test func scannerReportsVirusAndObjectsPerPart() throws {
        let scanner = ContentScanner(engines: try EngineStore(settings: Self.settings()))
        let message = Self.parse(
            """
            From: a@b.vn
            Content-Type: multipart/mixed; boundary=X

            --X
            Content-Type: text/plain

            Hello
            --X
            Content-Type: application/octet-stream; name="setup.exe"
            Content-Transfer-Encoding: base64

            \(Data("MZ this is fake".utf8).base64EncodedString())
            --X
            Content-Type: text/plain; name="t.txt"

            \(Self.eicar)
            --X--

            """
        )
        let report = try scanner.scan(message)
        #expect(report.viruses == [.init(part: "3", signature: "ThuGate.Test.EICAR.UNOFFICIAL")])
        #expect(report.objects.map(\.part) == ["1", "2", "3"])
        #expect(report.objects[0].mimeType == nil)  // a plain text body: not sent to libmagic
        #expect(report.objects[1].name == "setup.exe")
        let findings = ExecutableRule().evaluate(RuleInput(envelope: nil, message: message, content: report))
        #expect(findings.map(\.part) == ["2"])
    }

    /// One numbering everywhere (issue 9 item 12): the body of a single-part message is part
    /// "1" in the content report, as in `thugate scan`'s parts list and the normalizer.
    @Test func singlePartBodyIsPart1() throws {
        let scanner = ContentScanner(engines: try EngineStore(settings: Self.settings()))
        let message = Self.parse(
            """
            From: a@b.vn
            Content-Type: text/plain

            \(Self.eicar)

            """
        )
        let report = try scanner.scan(message)
        #expect(report.viruses.map(\.part) == ["1"])
        #expect(report.objects.map(\.part) == ["1"])
        #expect(message.partNumber(of: message.parts[0]) == "1")
    }
}

/// Issue 9 item 2: what the scanner reports for content outside every part, and encrypted data.
@Suite struct ContentScannerCoverageTests {
    static let eicar = ContentScannerTests.eicar

    @Test func textOutsideEveryPartIsScanned() throws {
        let scanner = ContentScanner(engines: try EngineStore(settings: ContentScannerTests.settings()))
        // Part numbers as everywhere: a multipart root is "0", a body that is the only leaf "1".
        let shapes = [
            ("Content-Type: multipart/mixed; boundary=b\n\n\(Self.eicar)\n--b\n\nhi\n--b--\n", "0"),
            ("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b--\n\(Self.eicar)\n", "0"),
            ("Content-Type: multipart/mixed; boundary=nothere\n\nno delimiter\n\(Self.eicar)\n", "1"),
            ("Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGk=\n-- \n\(Self.eicar)\n", "1"),
        ]
        for (shape, part) in shapes {
            let report = try scanner.scan(ContentScannerTests.parse(shape))
            #expect(report.viruses.map(\.part) == [part], "\(shape)")
        }
    }

    /// Header sections are scanned too (one libclamav scan for all of them), without an object
    /// of their own in the report.
    @Test func headerSectionsAreScanned() throws {
        let scanner = ContentScanner(engines: try EngineStore(settings: ContentScannerTests.settings()))
        let message = ContentScannerTests.parse(
            "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nX-Note: \(Self.eicar)\n\nhi\n--b--\n"
        )
        let report = try scanner.scan(message)
        #expect(report.viruses.map(\.part) == ["0"])
        #expect(report.objects.map(\.part) == ["1"])
    }

    @Test func encryptedFormatsAreKnownByStructureOnly() throws {
        // The first bytes of `openssl cms -encrypt -outform DER` and of `gpg --encrypt` output.
        let cms: [UInt8] = [
            0x30, 0x82, 0x01, 0xC4, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03, 0xA0, 0x82, 0x01, 0xB5, 0x30, 0x82,
            0x01, 0xB1,
        ]
        // A session key packet (its body cut to the bytes checked), then an encrypted data packet.
        let pkesk: [UInt8] =
            [0x84, 0x0C, 0x03, 0xAD, 0xB2, 0xAB, 0x8F, 0x32, 0x74, 0xBB, 0x26, 0x01, 0x0C, 0x00]
            + [0xD2, 0x10] + [UInt8](repeating: 0x55, count: 16)
        let skesk: [UInt8] =
            [0x8C, 0x0D, 0x04, 0x09, 0x03, 0x02, 0x2B, 0x70, 0x6A, 0xEF, 0x00, 0x1D, 0x7A, 0x52, 0xFF]
            + [0xD2, 0x10] + [UInt8](repeating: 0x55, count: 16)
        #expect(cms.withUnsafeBytes(ContentScanner.encryptedFormat) == "CMS enveloped data (S/MIME)")
        #expect(pkesk.withUnsafeBytes(ContentScanner.encryptedFormat) == "OpenPGP encrypted data (public key)")
        #expect(skesk.withUnsafeBytes(ContentScanner.encryptedFormat) == "OpenPGP encrypted data (passphrase)")
        // Random data is not encrypted mail: none of 100,000 blobs.
        var rng = SystemRandomNumberGenerator()
        let words = (0..<(100_000 * 512 / 8)).map { _ in rng.next() }
        var hits = 0
        words.withUnsafeBytes { random in
            for n in 0..<100_000 {
                let blob = UnsafeRawBufferPointer(rebasing: random[(n * 512)..<(n * 512 + 512)])
                if ContentScanner.encryptedFormat(blob) != nil { hits += 1 }
            }
        }
        #expect(hits == 0)
        #expect(Array("text\r\n-----BEGIN PGP MESSAGE-----\r\n".utf8).withUnsafeBytes(ContentScanner.hasPGPArmor))
        #expect(!Array("quoted: > -----BEGIN PGP MESSAGE-----\r\n".utf8).withUnsafeBytes(ContentScanner.hasPGPArmor))
    }
}

/// Member names as libclamav passes them: stored names kept, its temporary files dropped.
@Suite struct StoredNameTests {
    @Test(
        arguments: [
            ("docs/eicar.com", "docs/eicar.com"),
            ("eicar.com", "eicar.com"),
            ("/dev/shm/thugate/clamav-0123456789abcdef0123456789abcdef0123456789abcdef.tmp/setup.exe", "setup.exe"),
            ("var/tmp/clamav-0123456789abcdef0123456789abcdef0123456789abcdef.tmp/setup.exe.0a1b2c3d4e", "setup.exe"),
            ("/tmp/x/clamav-0123456789abcdef0123456789abcdef0123456789abcdef.tmp", nil),
            ("4d5f109dc1c0609112df3a2e6f747fea_1", nil),
            ("", nil),
            ("a//b/", "a/b"),
            ("/etc/passwd", "etc/passwd"),
        ] as [(String, String?)]
    )
    func storedName(raw: String, expected: String?) {
        #expect(ContentScanner.storedName(raw) == expected)
    }

    @Test func nilStaysNil() {
        #expect(ContentScanner.storedName(nil) == nil)
    }
}
