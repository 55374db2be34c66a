// thugate-secrecybench REGULATIONS_DIR [PACKAGES_DIR]
//
// Speed of SecrecyMatcher: the regulations' paragraphs as document body units (no finding
// expected), and small stamped documents (letterhead, stamp, body) in Unicode, NFD and .VnTimeH.
// With PACKAGES_DIR (Tests/DocumentTextTests/Fixtures/packages), also the OOXML / ODF readers on
// each package there: µs per document and per XML part of it, units, findings.
// Prints Markdown: µs per unit and findings per run. Build with -c release.
import DocumentText
import Foundation
import SecrecyMarks

guard (2...3).contains(CommandLine.arguments.count) else {
    FileHandle.standardError.write(Data("usage: thugate-secrecybench REGULATIONS_DIR [PACKAGES_DIR]\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: CommandLine.arguments[1])
let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
let paragraphs = names.flatMap { name in
    ((try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? "")
        .split(whereSeparator: \.isNewline).map(String.init)
}
let regulationUnits = paragraphs.enumerated().map { TextUnit($1, container: .documentBody, page: $0 < 40 ? 1 : 2, index: $0) }

func stamped(_ stamp: String, font: String? = nil) -> [TextUnit] {
    [
        TextUnit("UBND TỈNH QUẢNG NINH", container: .tableCell, page: 1, region: .letterheadLeft, index: 0),
        TextUnit("Số: 15/UBND-VP", container: .tableCell, page: 1, region: .letterheadLeft, index: 1),
        TextUnit("V/v bảo mật hệ thống thư điện tử", container: .tableCell, page: 1, region: .letterheadLeft, index: 2),
        TextUnit(stamp, container: .textBox, page: 1, style: [.bold, .red, .bordered], fontName: font),
        TextUnit("HỎA TỐC", container: .textBox, page: 1, style: [.bold, .bordered]),
    ] + paragraphs.prefix(40).enumerated().map { TextUnit($1, container: .documentBody, page: 1, index: $0 + 3) }
}
let cases: [(String, [TextUnit])] = [
    ("regulations 000–004, paragraphs as body units", regulationUnits),
    ("stamped letter, Unicode", stamped("TỐI MẬT")),
    ("stamped letter, NFD", stamped("TỐI MẬT".decomposedStringWithCanonicalMapping)),
    ("stamped letter, .VnTimeH bytes", stamped("t\u{E8}i m\u{CB}t", font: ".VnTimeH")),
    ("stamped letter, letter-spaced", stamped("T Ố I  M Ậ T")),
]
print("| input | units | findings | µs per unit |")
print("|---|---:|---:|---:|")
let clock = ContinuousClock()
for (name, units) in cases {
    var findings = 0
    let rounds = max(1, 200_000 / max(units.count, 1))
    let elapsed = clock.measure {
        for _ in 0..<rounds { findings = SecrecyMatcher.match(units).findings.count }
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let perUnit = seconds * 1e6 / Double(rounds * units.count)
    print("| \(name) | \(units.count) | \(findings) | \(String(format: "%.2f", perUnit)) |")
}

guard CommandLine.arguments.count == 3 else { exit(0) }
let packages = URL(fileURLWithPath: CommandLine.arguments[2])
let packageNames = ((try? FileManager.default.contentsOfDirectory(atPath: packages.path)) ?? []).sorted()
print("")
print("| package | XML parts | units | findings | problems | µs per document | µs per part |")
print("|---|---:|---:|---:|---|---:|---:|")
for name in packageNames {
    guard let bytes = try? Array(Data(contentsOf: packages.appendingPathComponent(name))),
        let format = bytes.withUnsafeBytes({ DocumentFormat.of(mimeType: "application/zip", bytes: $0) })
    else { continue }
    // The XML parts in the central directory (a zip's names are in its file headers): what a reader may parse.
    let parts = max(1, countXMLParts(bytes))
    let read = {
        [.odt, .ods, .odp].contains(format) ? ODFText.units(bytes, format: format) : OOXMLText.units(bytes, format: format)
    }
    var result = read()
    let rounds = max(1, 300_000 / max(bytes.count, 1))
    let elapsed = clock.measure {
        for _ in 0..<rounds { result = read() }
    }
    let findings = SecrecyMatcher.match(result.units).findings.count
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let perDocument = seconds * 1e6 / Double(rounds)
    let problems = result.problems.map { String($0.prefix(while: { $0 != ":" })) }.joined(separator: ", ")
    print(
        "| \(name) | \(parts) | \(result.units.count) | \(findings) | \(problems) | \(String(format: "%.0f", perDocument)) | "
            + "\(String(format: "%.0f", perDocument / Double(parts))) |"
    )
}

/// Central-directory file headers (PK\u{1}\u{2}) whose name ends in ".xml" or ".rels".
func countXMLParts(_ bytes: [UInt8]) -> Int {
    var count = 0
    var offset = 0
    while offset + 46 <= bytes.count {
        if bytes[offset] == 0x50, bytes[offset + 1] == 0x4B, bytes[offset + 2] == 1, bytes[offset + 3] == 2 {
            let length = Int(bytes[offset + 28]) | Int(bytes[offset + 29]) << 8
            if offset + 46 + length <= bytes.count {
                let name = String(decoding: bytes[(offset + 46)..<(offset + 46 + length)], as: UTF8.self)
                if name.hasSuffix(".xml") || name.hasSuffix(".rels") { count += 1 }
            }
            offset += 46 + length
        } else {
            offset += 1
        }
    }
    return count
}
