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
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("Config/signatures/thugate-test.ndb"),
                                         to: directory.appendingPathComponent("a.ndb"))
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
        #expect(["application/x-sharedlib", "application/x-pie-executable", "application/x-executable"]
            .contains(elf.withUnsafeBytes { cookie.mimeType($0) }))
        #expect(Array("%PDF-1.4\n%\u{e2}\u{e3}\n".utf8).withUnsafeBytes { cookie.mimeType($0) } == "application/pdf")
        #expect([UInt8]().withUnsafeBytes { cookie.mimeType($0) } == "application/x-empty")
    }

    @Test func textBodiesSkipLibmagicUnlessTheyLookBinary() {
        #expect(!Array("Kính gửi các đơn vị,\r\nhello\r\n".utf8).withUnsafeBytes(ContentScanner.mayBeBinary))
        #expect(Array("MZ\u{90}\0\u{3}".utf8).withUnsafeBytes(ContentScanner.mayBeBinary))
        #expect(([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1] as [UInt8]).withUnsafeBytes(ContentScanner.mayBeBinary))
    }

    @Test func scannerReportsVirusAndObjectsPerPart() throws {
        let scanner = ContentScanner(engines: try EngineStore(settings: Self.settings()))
        let message = Self.parse("""
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

        """)
        let report = try scanner.scan(message)
        #expect(report.viruses == [.init(part: "3", signature: "ThuGate.Test.EICAR.UNOFFICIAL")])
        #expect(report.objects.map(\.part) == ["1", "2", "3"])
        #expect(report.objects[0].mimeType == nil)  // a plain text body: not sent to libmagic
        #expect(report.objects[1].name == "setup.exe")
        let findings = ExecutableRule().evaluate(InspectedMessage(envelope: nil, message: message, content: report))
        #expect(findings.map(\.part) == ["2"])
    }
}

/// Member names as libclamav passes them: stored names kept, its temporary files dropped.
@Suite struct StoredNameTests {
    @Test(arguments: [
        ("docs/eicar.com", "docs/eicar.com"),
        ("eicar.com", "eicar.com"),
        ("/dev/shm/thugate/clamav-0123456789abcdef0123456789abcdef0123456789abcdef.tmp/setup.exe", "setup.exe"),
        ("var/tmp/clamav-0123456789abcdef0123456789abcdef0123456789abcdef.tmp/setup.exe.0a1b2c3d4e", "setup.exe"),
        ("/tmp/x/clamav-0123456789abcdef0123456789abcdef0123456789abcdef.tmp", nil),
        ("4d5f109dc1c0609112df3a2e6f747fea_1", nil),
        ("", nil),
        ("a//b/", "a/b"),
        ("/etc/passwd", "etc/passwd"),
    ] as [(String, String?)])
    func storedName(raw: String, expected: String?) {
        #expect(ContentScanner.storedName(raw) == expected)
    }

    @Test func nilStaysNil() {
        #expect(ContentScanner.storedName(nil) == nil)
    }
}
