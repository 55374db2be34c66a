// thugate-secrecybench REGULATIONS_DIR [DOCUMENTS_DIR]
//
// Speed of SecrecyMatcher: the regulations' paragraphs as document body units (no finding
// expected), and small stamped documents (letterhead, stamp, body) in Unicode, NFD and .VnTimeH.
// Prints Markdown: µs per unit and findings per run. Then the mail-text readers (DocumentText's
// HTMLText, PlainText, CSVText) on the same paragraphs shaped as Gmail, Outlook and Thunderbird
// write them: µs per KB read, alone and with the matcher.
// With DOCUMENTS_DIR, also the legacy Office reader (OLE2Text) on each .doc / .xls there: µs per
// document read, and read + matched. Prints Markdown. Build with -c release.
import DocumentText
import Foundation
import SecrecyMarks

guard (2...3).contains(CommandLine.arguments.count) else {
    FileHandle.standardError.write(Data("usage: thugate-secrecybench REGULATIONS_DIR [DOCUMENTS_DIR]\n".utf8))
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

// MARK: - Mail text readers

func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
}
let outlookHead =
    "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><head><style><!--\np.MsoNormal, li.MsoNormal, div.MsoNormal\n"
    + "\t{margin:0cm;font-size:11.0pt;font-family:\"Calibri\",sans-serif;}\nspan.Dumat\n\t{text-transform:uppercase;color:#C00000;}\n"
    + "--></style></head><body lang=VI><div class=WordSection1>"
let htmlCases: [(String, String)] = [
    (
        "Gmail: <div> lines, a gmail_quote of the same",
        "<div dir=\"ltr\"><div><b><font color=\"#ff0000\">MẬT</font></b></div>"
            + paragraphs.map { "<div>\(escaped($0))</div><div><br></div>" }.joined()
            + "</div><div class=\"gmail_quote\"><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex\">"
            + paragraphs.prefix(200).map { "<div>\(escaped($0))</div>" }.joined() + "</blockquote></div>"
    ),
    (
        "Outlook: MsoNormal paragraphs, class rules, <o:p>",
        outlookHead + "<p class=MsoNormal><span class=Dumat>tối mật<o:p></o:p></span></p>"
            + paragraphs.map { "<p class=MsoNormal><span style='font-size:12.0pt'>\(escaped($0))<o:p></o:p></span></p>" }.joined()
            + "<p class=MsoNormal><o:p>&nbsp;</o:p></p></div></body></html>"
    ),
    (
        "Thunderbird: <p> with entities (&#7853; for every ậ)",
        "<html><head><meta charset=\"UTF-8\"></head><body><p><b>M&#7852;T</b></p>"
            + paragraphs.map { "<p>\(escaped($0).replacingOccurrences(of: "ậ", with: "&#7853;"))<br>\n</p>\n" }.joined() + "</body></html>"
    ),
]
let plainText = "MẬT\n\n" + paragraphs.joined(separator: "\n\n")
let csvText =
    "STT;Độ mật;Trích yếu\n"
    + paragraphs.enumerated().map { "\($0);Mật;\"\($1.replacingOccurrences(of: "\"", with: "\"\""))\"" }.joined(separator: "\n")

func perKB(_ bytes: Int, _ work: () -> Void) -> Double {
    let rounds = max(1, (64 << 20) / max(bytes, 1))
    let elapsed = clock.measure { for _ in 0..<rounds { work() } }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return seconds * 1e6 / (Double(rounds) * Double(bytes) / 1024)
}

print("")
print("| mail text | KB | units | findings | µs per KB read | µs per KB read and matched |")
print("|---|---:|---:|---:|---:|---:|")
var rows: [(String, Int, () -> [TextUnit])] = htmlCases.map { name, html in
    (name, html.utf8.count, { HTMLText.units(html, container: .mailBody).units })
}
rows.append(("text/plain: one line a paragraph", plainText.utf8.count, { PlainText.units(plainText, container: .mailBody).units }))
rows.append(("CSV register, `;` separated", csvText.utf8.count, { CSVText.units(csvText).units }))
for (name, bytes, read) in rows {
    let units = read()
    let findings = SecrecyMatcher.match(units).findings.count
    let alone = perKB(bytes) { _ = read() }
    let matched = perKB(bytes) { _ = SecrecyMatcher.match(read()) }
    let kb = String(format: "%.0f", Double(bytes) / 1024)
    print("| \(name) | \(kb) | \(units.count) | \(findings) | \(String(format: "%.1f", alone)) | \(String(format: "%.1f", matched)) |")
}

// MARK: - Hostile HTML: one read each, bounded by the limits

let hostile: [(String, String)] = [
    ("10 MiB of `<`", String(repeating: "<", count: 10 << 20)),
    ("1,000,000 nested `<div>`", String(repeating: "<div>", count: 1_000_000) + "MẬT" + String(repeating: "</div>", count: 1_000_000)),
    ("`<!--` × 1,000,000, unterminated", String(repeating: "<!--", count: 1_000_000)),
    ("`<p a=\"` × 1,000,000, unterminated", String(repeating: "<p a=\"", count: 1_000_000)),
    ("`&amp` × 2,000,000 (bare references)", String(repeating: "&amp", count: 2_000_000)),
    ("`</div>` × 2,000,000 (nothing open)", String(repeating: "</div>", count: 2_000_000)),
]
print("")
print("| hostile HTML | MiB | ms | units | problems |")
print("|---|---:|---:|---:|---|")
for (name, html) in hostile {
    var result = ExtractedText()
    let elapsed = clock.measure { result = HTMLText.units(html, container: .mailBody) }
    let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
    let mib = String(format: "%.1f", Double(html.utf8.count) / Double(1 << 20))
    let problems = result.problems.map { String($0.prefix(while: { $0 != ":" })) }.joined(separator: ", ")
    print("| \(name) | \(mib) | \(String(format: "%.0f", milliseconds)) | \(result.units.count) | \(problems) |")
}

if CommandLine.arguments.count == 3 {
    let folder = URL(fileURLWithPath: CommandLine.arguments[2])
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".doc") || $0.hasSuffix(".xls") }.sorted()
    print("")
    print("| document | KiB | units | findings | µs per document read | µs read + matched | µs per unit read |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in files {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(name)) else { continue }
        let bytes = Array(data)
        // About 50 MB read per row, at least 20 rounds.
        let rounds = max(20, 50_000_000 / max(bytes.count, 1))
        var units = 0
        let read = clock.measure {
            for _ in 0..<rounds { units = OLE2Text.units(bytes).units.count }
        }
        var findings = 0
        let matched = clock.measure {
            for _ in 0..<rounds { findings = SecrecyMatcher.match(OLE2Text.units(bytes).units).findings.count }
        }
        func micros(_ duration: Duration) -> Double {
            (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) * 1e6 / Double(rounds)
        }
        let perUnit = micros(read) / Double(max(units, 1))
        print(
            "| \(name) | \(bytes.count / 1024) | \(units) | \(findings) | \(String(format: "%.0f", micros(read))) | "
                + "\(String(format: "%.0f", micros(matched))) | \(String(format: "%.2f", perUnit)) |"
        )
    }
}
