import Archives
import Benchmark
import DocumentText
import Foundation
import MIMECore
import SecrecyMarks
import VietText

/// The content path's pure stages, one benchmark each, on inputs made by real writers (the
/// fixtures of Tests/DocumentTextTests, archives made with zip) or built here the way mail
/// software writes them: the MIME parse and body decoding of a ~112 KB message, the legacy
/// Vietnamese detector and converter, the archive reader, the OOXML text extractor and the
/// secrecy matcher. Wall clock, instructions and allocations per call, so that a regression shows
/// commit to commit (`benchmark baseline check`).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .instructions, .mallocCountTotal, .throughput],
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    let medium = Inputs.mediumMessage()
    Benchmark("MIME parse, 112 KB message") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(MIMEParser.parse(medium)) }
    }
    let parsed = MIMEParser.parse(medium)
    Benchmark("MIME decode every body, 112 KB message") { benchmark in
        for _ in benchmark.scaledIterations {
            for part in parsed.parts where part.children.isEmpty { blackHole(parsed.decodedBody(of: part)) }
        }
    }

    let legacy = Inputs.tcvn3Letter()
    Benchmark("Vietnamese detect, 8 KB TCVN3 letter") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(VietDetector.detect(legacy)) }
    }
    Benchmark("TCVN3 → Unicode NFC, 8 KB letter") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(VietConverter.toUnicode(legacy, from: .tcvn3)) }
    }

    if let zip = Inputs.zipOfTwentyMembers() {
        Benchmark("zip listing, 20 members") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(ArchiveReader.list(zip)) }
        }
    }

    let docx = Inputs.fixture("packages/python-docx-header.docx")
    Benchmark("OOXML text, python-docx letter with a header") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(OOXMLText.units(docx, format: .docx)) }
    }
    let units = OOXMLText.units(docx, format: .docx).units
    Benchmark("secrecy matcher, the same letter's text") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(SecrecyMatcher.match(units)) }
    }

    let xlsx = Inputs.fixture("packages/openpyxl-register.xlsx")
    Benchmark("OOXML text, openpyxl register workbook") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(OOXMLText.units(xlsx, format: .xlsx)) }
    }
    let odt = Inputs.fixture("packages/libreoffice-letterhead.odt")
    Benchmark("ODF text, LibreOffice letterhead") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(ODFText.units(odt, format: .odt)) }
    }
}

/// The inputs, made once before the benchmarks run.
enum Inputs {
    /// The repository's root, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../..").standardizedFileURL

    static func fixture(_ name: String) -> [UInt8] {
        let url = root.appendingPathComponent("Tests/DocumentTextTests/Fixtures/\(name)")
        guard let data = FileManager.default.contents(atPath: url.path) else { fatalError("missing fixture \(url.path)") }
        return [UInt8](data)
    }

    /// A letter with a base64 zip (a 59 KB text and a 29 KB binary) and a 29 KB PDF, as the
    /// issue's medium message: the bytes differ on every line, as real attachments do.
    static func mediumMessage() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        func base64(_ count: Int) -> String {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        }
        let text = String(repeating: "Kính gửi các đơn vị trực thuộc, Sở Thông tin và Truyền thông đề nghị báo cáo.\r\n", count: 40)
        var message = """
            From: Van thu <vanthu@quangninh.gov.vn>\r
            To: lanhdao@quangninh.gov.vn\r
            Subject: =?UTF-8?B?Q8O0bmcgdsSDbiBz4buRIDEyMy9VQk5ELVZQ?=\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            \(text)\r
            --b1\r
            Content-Type: application/zip; name="ho-so.zip"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(base64(88_000))\r
            --b1\r
            Content-Type: application/pdf; name="cong-van.pdf"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(base64(29_000))\r
            --b1--\r

            """
        message = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return Array(message.utf8)
    }

    /// 8 KB of a letter in TCVN3, as .VnTime documents carry it.
    static func tcvn3Letter() -> [UInt8] {
        let sentence = "Ủy ban nhân dân tỉnh Quảng Ninh đề nghị các sở, ban, ngành rà soát hồ sơ và báo cáo trước ngày 15. "
        let text = String(repeating: sentence, count: 80)
        return VietConverter.fromUnicode(text, to: .tcvn3) ?? Array(text.utf8)
    }

    /// A zip made by Info-ZIP's `zip` of 20 small text members; nil when `zip` is not installed.
    static func zipOfTwentyMembers() -> [UInt8]? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-micro-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var names: [String] = []
        for i in 0..<20 {
            let name = "bao-cao-\(i).txt"
            FileManager.default.createFile(
                atPath: directory.appendingPathComponent(name).path,
                contents: Data(repeating: UInt8(65 + i), count: 4096)
            )
            names.append(name)
        }
        let zip = Process()
        zip.executableURL = URL(fileURLWithPath: "/usr/bin/zip")
        zip.arguments = ["-q", "ho-so.zip"] + names
        zip.currentDirectoryURL = directory
        guard (try? zip.run()) != nil else { return nil }
        zip.waitUntilExit()
        return FileManager.default.contents(atPath: directory.appendingPathComponent("ho-so.zip").path).map { [UInt8]($0) }
    }
}
