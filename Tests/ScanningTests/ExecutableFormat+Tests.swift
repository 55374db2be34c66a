import Foundation
import FuzzSupport
import MIMECore
import Policy
import SecrecyMarks
import TestFixtures
import Testing

@testable import Scanning

/// The header checks on real programs built here (MinGW-w64 PE, gcc ELF, clang Mach-O), on
/// headers cut or bent by hand, and on random data.
@Suite struct ExecutableFormatTests {
    /// Real programs, compiled once: a missing compiler (Scripts/setup installs them) fails.
    static let programs: Result<[String: [UInt8]], any Error> = Result {
        try ToolFixture.withDirectory { directory in
            try ToolFixture.write(
                "#include <windows.h>\nint main(void) { MessageBoxA(0, \"a\", \"b\", 0); return 0; }\n",
                "w.c",
                in: directory
            )
            try ToolFixture.write("__declspec(dllexport) int f(int a) { return a + 1; }\n", "d.c", in: directory)
            try ToolFixture.write("#include <stdio.h>\nint main(void) { puts(\"x\"); return 0; }\n", "l.c", in: directory)
            try ToolFixture.write("int f(int a) { return a + 1; }\n", "s.c", in: directory)
            let builds: [(String, [String])] = [
                ("pe64.exe", ["x86_64-w64-mingw32-gcc", "-o", "pe64.exe", "w.c"]),
                ("pe32.exe", ["i686-w64-mingw32-gcc", "-o", "pe32.exe", "w.c"]),
                ("pe64.dll", ["x86_64-w64-mingw32-gcc", "-shared", "-o", "pe64.dll", "d.c"]),
                ("pe32.dll", ["i686-w64-mingw32-gcc", "-shared", "-o", "pe32.dll", "d.c"]),
                ("elf", ["gcc", "-o", "elf", "l.c"]),
                ("elf-static", ["gcc", "-static", "-o", "elf-static", "l.c"]),
                ("elf.so", ["gcc", "-shared", "-fPIC", "-o", "elf.so", "s.c"]),
                ("elf.o", ["gcc", "-c", "-o", "elf.o", "s.c"]),
                // The Swift toolchain's clang writes Mach-O objects (MH_OBJECT); no Apple linker here.
                ("macho-x86_64.o", ["clang", "-target", "x86_64-apple-macos11", "-c", "-o", "macho-x86_64.o", "s.c"]),
                ("macho-arm64.o", ["clang", "-target", "arm64-apple-macos11", "-c", "-o", "macho-arm64.o", "s.c"]),
            ]
            var built: [String: [UInt8]] = [:]
            for (name, command) in builds {
                try ToolFixture.run("/usr/bin/env", command, in: directory)
                built[name] = try ToolFixture.bytes(name, in: directory)
            }
            return built
        }
    }

    static func program(_ name: String) throws -> [UInt8] {
        try #require(try programs.get()[name], "no program \(name)")
    }

    static func identify(_ bytes: [UInt8]) -> ExecutableFormat? { bytes.withUnsafeBytes(ExecutableFormat.identify) }

    static func checked(_ type: String?, _ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { ExecutableFormat.checkedType(type, of: $0) }
    }

    /// A universal file wrapping `slices` as lipo lays it out (slices aligned to 2^12).
    static func universal(_ slices: [(cpu: UInt32, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        func be(_ value: UInt32) { out += withUnsafeBytes(of: value.bigEndian, Array.init) }
        be(0xCAFE_BABE)
        be(UInt32(slices.count))
        var offset = 4096
        var placed: [Int] = []
        for slice in slices {
            placed.append(offset)
            be(slice.cpu)
            be(3)
            be(UInt32(offset))
            be(UInt32(slice.bytes.count))
            be(12)
            offset += (slice.bytes.count + 4095) / 4096 * 4096
        }
        for (slice, at) in zip(slices, placed) {
            out += [UInt8](repeating: 0, count: at - out.count)
            out += slice.bytes
        }
        return out
    }

    /// A plain DOS EXE header: 2 pages (1000 bytes), a 4-paragraph header, 1 relocation.
    static func dosHeader(
        lastPage: UInt16 = 1000 - 512,
        pages: UInt16 = 2,
        relocations: UInt16 = 1,
        paragraphs: UInt16 = 4,
        relocationTable: UInt16 = 0x1C
    ) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 1000)
        header[0] = 0x4D
        header[1] = 0x5A
        for (offset, value) in [
            (2, lastPage), (4, pages), (6, relocations), (8, paragraphs), (0x0A, 0x10), (0x0C, 0xFFFF),
            (0x18, relocationTable),
        ] {
            header[offset] = UInt8(value & 0xFF)
            header[offset + 1] = UInt8(value >> 8)
        }
        return header
    }

    static func put32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<4 { bytes[offset + i] = UInt8((value >> (8 * UInt32(i))) & 0xFF) }
    }

    static func put16(_ value: UInt16, at offset: Int, in bytes: inout [UInt8]) {
        bytes[offset] = UInt8(value & 0xFF)
        bytes[offset + 1] = UInt8(value >> 8)
    }

    @Test(arguments: ["pe64.exe", "pe32.exe", "pe64.dll", "pe32.dll"])
    func realWindowsProgramsArePE(name: String) throws {
        let bytes = try Self.program(name)
        #expect(Self.identify(bytes) == .pe)
        #expect(Self.checked("application/vnd.microsoft.portable-executable", bytes) == "application/vnd.microsoft.portable-executable")
        // libmagic missed it: the structure still names it.
        #expect(Self.checked("application/octet-stream", bytes) == "application/vnd.microsoft.portable-executable")
        // Its DOS stub alone (NT headers cut off) is still a DOS program.
        #expect(Self.identify(Array(bytes.prefix(0x80))) == .dos)
    }

    @Test(arguments: ["elf", "elf-static", "elf.so"])
    func realLinuxProgramsAreELF(name: String) throws {
        let bytes = try Self.program(name)
        #expect(Self.identify(bytes) == .elf)
        for type in ["application/x-pie-executable", "application/x-executable", "application/x-sharedlib"] {
            #expect(Self.checked(type, bytes) == type)
        }
    }

    @Test func systemProgramsAreFound() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "/bin/true")))
        #expect(Self.identify(bytes) == .elf)
    }

    @Test func elfObjectKeepsItsNonExecutableType() throws {
        let object = try Self.program("elf.o")
        #expect(Self.identify(object) == .elf)
        #expect(Self.checked("application/x-object", object) == "application/x-object")
    }

    @Test(arguments: ["macho-x86_64.o", "macho-arm64.o"])
    func realMachOIsFound(name: String) throws {
        let bytes = try Self.program(name)
        #expect(Self.identify(bytes) == .machO)
        #expect(Self.checked("application/x-mach-binary", bytes) == "application/x-mach-binary")
    }

    @Test func universalMachOIsFound() throws {
        let fat = Self.universal([
            (0x0100_0007, try Self.program("macho-x86_64.o")),
            (0x0100_000C, try Self.program("macho-arm64.o")),
        ])
        #expect(Self.identify(fat) == .machOUniversal)
        #expect(Self.checked("application/x-mach-binary", fat) == "application/x-mach-binary")
        // The loader takes the slice for its CPU: a junk or cut slice beside a real one hides nothing.
        var bent = fat
        bent[4096] = 0
        #expect(Self.identify(bent) == .machOUniversal)
        #expect(Self.identify(Array(fat.dropLast(16))) == .machOUniversal)
        // No slice that is Mach-O, or none inside the file: not a universal file.
        bent[8192] = 0
        #expect(Self.identify(bent) == nil)
        #expect(Self.identify(Array(fat.prefix(4200))) == nil)
        var many = fat
        Self.put32(UInt32(45).bigEndian, at: 4, in: &many)
        #expect(Self.identify(many) == nil, "45 architectures is a Java class version")
    }

    @Test func javaClassIsNotUniversalMachO() {
        // CAFEBABE, minor 0, major 52 (Java 8): the same magic, a version where the count would be.
        let header: [UInt8] = [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52] + [UInt8](repeating: 0x11, count: 200)
        #expect(Self.identify(header) == nil)
        #expect(Self.checked("application/x-java-applet", header) == "application/x-java-applet")
    }

    @Test func bareDOSProgramIsAnExecutable() {
        #expect(Self.identify(Self.dosHeader()) == .dos)
        #expect(Self.checked("application/x-dosexec", Self.dosHeader()) == "application/x-dosexec")
        // "ZM" is loaded by MS-DOS too.
        var zm = Self.dosHeader()
        zm.swapAt(0, 1)
        #expect(Self.identify(zm) == .dos)
    }

    @Test func inconsistentDOSHeadersAreNotExecutables() {
        let bad: [(String, [UInt8])] = [
            ("last page count past a page", Self.dosHeader(lastPage: 600)),
            ("no pages", Self.dosHeader(pages: 0)),
            ("header under 28 bytes", Self.dosHeader(paragraphs: 1)),
            ("header past the file", Self.dosHeader(pages: 200, paragraphs: 100)),
            ("header past the image", Self.dosHeader(lastPage: 100, pages: 1, paragraphs: 8)),
            ("relocations past the header", Self.dosHeader(relocations: 20)),
            ("relocation table inside the formatted header", Self.dosHeader(relocationTable: 0x10)),
            ("MZ and zeros", [0x4D, 0x5A] + [UInt8](repeating: 0, count: 510)),
        ]
        for (why, bytes) in bad {
            #expect(Self.identify(bytes) == nil, "\(why)")
            #expect(Self.checked("application/x-dosexec", bytes) == "application/octet-stream", "\(why)")
        }
    }

    @Test func truncatedHeadersAreNotExecutables() throws {
        #expect(Self.identify([]) == nil)
        #expect(Self.identify([0x4D]) == nil)
        #expect(Self.identify([0x4D, 0x5A]) == nil)
        #expect(Self.identify(Array(Self.dosHeader().prefix(27))) == nil)
        #expect(Self.identify(Array(Self.dosHeader().prefix(64))) == .dos)
        // Every prefix of real programs is safe to look at; past its headers each is found.
        for name in ["pe64.exe", "pe32.dll", "elf", "macho-arm64.o"] {
            let bytes = try Self.program(name)
            for length in 0...min(bytes.count, 1024) {
                _ = Self.identify(Array(bytes.prefix(length)))
            }
        }
        let elf = try Self.program("elf")
        #expect(Self.identify(Array(elf.prefix(63))) == nil)
        #expect(Self.identify(Array(elf.prefix(64))) == .elf)
        let macho = try Self.program("macho-x86_64.o")
        #expect(Self.identify(Array(macho.prefix(31))) == nil)
    }

    @Test func lfanewOutOfRangeFallsBackToTheDOSHeader() throws {
        var pe = try Self.program("pe64.exe")
        let lfanew = Int(pe[0x3C]) | Int(pe[0x3D]) << 8
        for bad: UInt32 in [0, 2, UInt32(pe.count - 3), UInt32(pe.count), 0xFFFF_FFFF, 0x8000_0000] {
            Self.put32(bad, at: 0x3C, in: &pe)
            #expect(Self.identify(pe) == .dos, "e_lfanew \(bad)")
        }
        // With the DOS fields cleared as some linkers leave them, only a valid PE header counts.
        var stubless = try Self.program("pe64.exe")
        for i in 2..<0x3C { stubless[i] = 0 }
        #expect(Self.identify(stubless) == .pe)
        stubless[lfanew + 24] = 0x99
        #expect(Self.identify(stubless) == nil, "optional header magic is not PE32/PE32+")
        stubless[lfanew + 24] = 0x0B
        stubless[lfanew + 1] = 0x46
        #expect(Self.identify(stubless) == nil, "PF\\0\\0 is no signature")
    }

    @Test func newExecutableHeaders() {
        func with(_ signature: String, _ fill: (inout [UInt8], Int) -> Void) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: 0x400)
            bytes[0] = 0x4D
            bytes[1] = 0x5A
            Self.put32(0x80, at: 0x3C, in: &bytes)
            bytes.replaceSubrange(0x80..<0x82, with: Array(signature.utf8))
            fill(&bytes, 0x80)
            return bytes
        }
        let ne = with("NE") { bytes, at in
            for (offset, value) in [(0x22, 0x40), (0x24, 0x60), (0x26, 0x60), (0x28, 0x70), (0x2A, 0x78)] {
                Self.put16(UInt16(value), at: at + offset, in: &bytes)
            }
            bytes[at + 0x36] = 2  // Windows
        }
        #expect(Self.identify(ne) == .ne)
        var unordered = ne
        Self.put16(0x10, at: 0x80 + 0x26, in: &unordered)
        #expect(Self.identify(unordered) == nil)
        var foreign = ne
        foreign[0x80 + 0x36] = 0x77
        #expect(Self.identify(foreign) == nil)

        for (signature, format) in [("LE", ExecutableFormat.le), ("LX", .lx)] {
            let linear = with(signature) { bytes, at in
                Self.put16(2, at: at + 8, in: &bytes)  // 80386
                Self.put16(1, at: at + 0x0A, in: &bytes)  // OS/2
            }
            #expect(Self.identify(linear) == format)
            var level = linear
            level[0x80 + 4] = 1
            #expect(Self.identify(level) == nil)
        }
    }

    @Test func elfNeedsASaneIdentOrWhatLinuxChecks() throws {
        // Random data behind the magic: the identification bytes are not ELF's.
        var rng = SplitMix64(state: 3)
        for (index, value) in [(4, 0 as UInt8), (4, 3), (5, 0), (5, 3), (6, 0), (6, 2)] {
            var blob = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1] + (0..<500).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            blob[index] = value
            blob[16] = 0x77  // and no executable e_type
            #expect(Self.identify(blob) == nil, "e_ident[\(index)] = \(value)")
            #expect(Self.checked("application/x-pie-executable", blob) == "application/octet-stream")
        }
        // A real program whose e_ident was bent still runs on Linux, which checks e_type and
        // e_phentsize but neither class nor version: still found.
        for name in ["elf", "elf-static", "elf.so"] {
            var bent = try Self.program(name)
            bent[4] = 0
            bent[5] = 0
            bent[6] = 0
            #expect(Self.identify(bent) == .elf, "\(name)")
            var object = bent
            object[16] = 1  // ET_REL: nothing to run
            #expect(Self.identify(object) == nil)
            var header = bent
            header[54] = 0x40  // e_phentsize 64, not a 64-bit program header
            #expect(Self.identify(header) == nil)
        }
        #expect(Self.identify(Array(try Self.program("elf").prefix(51))) == nil)
    }

    @Test func machOHeaderMustBeSane() throws {
        let macho = try Self.program("macho-arm64.o")
        for (field, value) in [(1, 0x0100_00FF as UInt32), (3, 0), (3, 13), (4, 0), (5, 0xFFFF_FFF0)] {
            var bent = macho
            Self.put32(value, at: 4 * field, in: &bent)
            #expect(Self.identify(bent) == nil, "header field \(field) = \(value)")
        }
    }

    @Test func comGuessesOnRandomDataAreNotExecutables() {
        // Leading bytes libmagic reads as a COM start instruction (jmp, jmp short, mov ax, mov seg).
        var rng = SplitMix64(state: 6909)
        for first: UInt8 in [0xE9, 0xEB, 0xB8, 0x8C, 0x81] {
            let bytes = [first] + (0..<4000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(Self.identify(bytes) == nil)
            #expect(Self.checked("application/x-dosexec", bytes) == "application/octet-stream")
        }
        // Random blobs starting with every executable magic are still not executables.
        for magic: [UInt8] in [
            [0x4D, 0x5A], [0x5A, 0x4D], [0x7F, 0x45, 0x4C, 0x46], [0xCF, 0xFA, 0xED, 0xFE],
            [0xFE, 0xED, 0xFA, 0xCE], [0xCA, 0xFE, 0xBA, 0xBE],
        ] {
            var found = 0
            for _ in 0..<500 {
                let size = 64 + Int(rng.next() % 4096)
                let bytes = magic + (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if Self.identify(bytes) != nil { found += 1 }
            }
            #expect(found == 0, "\(magic)")
        }
    }

    @Test func scannerJudgesCOMByNameOnly() throws {
        let scanner = ContentScanner(engines: try EngineStore(settings: ContentScannerTests.settings()))
        var rng = SplitMix64(state: 1)
        // A jmp near and noise: what libmagic calls "DOS executable (COM)".
        let com = [0xE9, 0x10, 0x01] + (0..<2000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let pe = try Self.program("pe32.exe")
        let message = ContentScannerTests.parse(
            """
            From: a@b.vn
            Content-Type: multipart/mixed; boundary=X

            --X
            Content-Type: application/octet-stream; name="so-lieu.bin"
            Content-Transfer-Encoding: base64

            \(Data(com).base64EncodedString(options: .lineLength76Characters))
            --X
            Content-Type: application/octet-stream; name="chay.com"
            Content-Transfer-Encoding: base64

            \(Data(com).base64EncodedString(options: .lineLength76Characters))
            --X
            Content-Type: application/octet-stream; name="anh.jpg"
            Content-Transfer-Encoding: base64

            \(Data(pe).base64EncodedString(options: .lineLength76Characters))
            --X--

            """
        )
        let report = try scanner.scan(message)
        #expect(
            report.objects.map(\.mimeType) == [
                "application/octet-stream", "application/octet-stream",
                "application/vnd.microsoft.portable-executable",
            ]
        )
        let findings = ExecutableRule().evaluate(RuleInput(envelope: nil, message: message, content: report))
        #expect(findings.map(\.detail) == ["chay.com is *.com", "anh.jpg is application/vnd.microsoft.portable-executable"])
    }

    /// A PDF the helper reads, with a page whose content stream holds glyph codes as raw bytes
    /// (as fpdf2 and other writers of Type 0 fonts put them) and a program attached as an embedded
    /// file: the content stream is PDF syntax and not sent to libmagic, the program still is,
    /// and the executable rule names it inside the PDF.
    @Test func programEmbeddedInAReadPDFIsFoundBesideItsContentStreams() throws {
        let pe = try Self.program("pe64.exe")
        let content =
            Array("q 0.57 w\nBT /F1 14 Tf 31.18 803.46 Td (TOI MAT) Tj ET\nBT /F1 10 Tf 31.18 700 Td (".utf8)
            + [0x00, 0x01, 0x00, 0x5C, 0x28, 0x00, 0x02, 0x0A, 0x00, 0x03] + Array(") Tj ET\nQ\n".utf8)
        var pdf = Array("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        func object(_ body: [UInt8]) {
            offsets.append(pdf.count)
            pdf += Array("\(offsets.count) 0 obj\n".utf8) + body + Array("\nendobj\n".utf8)
        }
        func stream(_ dictionary: String, _ bytes: [UInt8]) -> [UInt8] {
            Array("<< \(dictionary) /Length \(bytes.count) >>\nstream\n".utf8) + bytes + Array("\nendstream".utf8)
        }
        object(Array("<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(setup.exe) 5 0 R] >> >> >>".utf8))
        object(Array("<< /Type /Pages /Kids [3 0 R] /Count 1 >>".utf8))
        object(
            Array(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
                    .utf8
            )
        )
        object(stream("", content))
        object(Array("<< /Type /Filespec /F (setup.exe) /UF (setup.exe) /EF << /F 6 0 R >> >>".utf8))
        object(stream("/Type /EmbeddedFile /Subtype /application#2Fx-msdownload", pe))
        let xref = pdf.count
        pdf += Array("xref\n0 \(offsets.count + 1)\n0000000000 65535 f \n".utf8)
        for offset in offsets { pdf += Array((String(repeating: "0", count: 10 - String(offset).count) + "\(offset) 00000 n \n").utf8) }
        pdf += Array("trailer\n<< /Size \(offsets.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        #expect(content.withUnsafeBytes(ContentScanner.isPDFSyntax))
        #expect(!pe.withUnsafeBytes(ContentScanner.isPDFSyntax))

        var settings = PDFHelperSettings()
        settings.helpers = 1
        let pool = try PDFHelperPool(settings: settings)
        defer { pool.shutdown() }
        let scanner = ContentScanner(engines: try EngineStore(settings: ContentScannerTests.settings()), pdfReader: pool)
        let message = ContentScannerTests.parse(
            """
            From: a@b.vn
            Content-Type: multipart/mixed; boundary=X

            --X
            Content-Type: application/pdf; name="cong-van.pdf"
            Content-Transfer-Encoding: base64

            \(Data(pdf).base64EncodedString(options: .lineLength76Characters))
            --X--

            """
        )
        let report = try scanner.scan(message)
        // The PDF was read as a document: the helper gave its page's text to the secrecy check.
        let read = try #require(report.secrecy.first { $0.name == "cong-van.pdf" }, "\(report.secrecy)")
        #expect(read.report.findings.map(\.level) == [.secret], "\(read)")
        let inside = report.objects.filter { $0.containers == ["cong-van.pdf"] }
        #expect(inside.contains { $0.mimeType == "application/vnd.microsoft.portable-executable" }, "\(inside.map(\.mimeType))")
        // libclamav hands the stream on with the end of line before `endstream`.
        #expect(
            inside.contains { (content.count...content.count + 2).contains($0.size) && $0.mimeType == "application/octet-stream" },
            "\(inside.map { ($0.size, $0.mimeType) })"
        )
        let findings = ExecutableRule().evaluate(RuleInput(envelope: nil, message: message, content: report))
        #expect(findings.contains { $0.detail.contains("portable-executable") }, "\(findings.map(\.detail))")
    }
}
