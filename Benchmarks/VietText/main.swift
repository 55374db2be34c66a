// thugate-vietbench FIXTURES_DIR
// thugate-vietbench --western CORPUS.tsv   (Benchmarks/western_corpus.py writes it)
//
// Detection accuracy of VietText over the labelled fixtures encoded into every encoding (and the
// short subjects on their own), false conversions of the negatives, and throughput of
// toUnicode and detect on ~10 MB. Prints Markdown. Benchmarks/viet_detect.py runs it.
import Foundation
import VietText

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "--western" {
    westernFalseConversions(arguments[2])
    exit(0)
}
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: thugate-vietbench FIXTURES_DIR | --western CORPUS.tsv\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: arguments[1])

/// Unbuffered, so a long run shows its rows as they come.
func out(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
func read(_ path: String) -> String { (try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)) ?? "" }
func files(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path)) ?? [])
        .filter { $0.hasSuffix(".txt") }.sorted().map { "\(dir)/\($0)" }
}

/// Legacy bytes as real producers write them: TCVN3 has no toned capitals in its lowercase
/// font, so (like Unikey) those letters take their lowercase codes.
func encode(_ text: String, _ encoding: VietEncoding) -> [UInt8]? {
    if let bytes = VietConverter.fromUnicode(text, to: encoding) { return bytes }
    guard encoding == .tcvn3 else { return nil }
    var out: [UInt8] = []
    for ch in text {
        if let b = VietConverter.fromUnicode(String(ch), to: .tcvn3) {
            out += b
            continue
        }
        guard let b = VietConverter.fromUnicode(String(ch).lowercased(), to: .tcvn3) else { return nil }
        out += b
    }
    return out
}

func family(_ e: VietEncoding) -> VietEncoding { e == .tcvn3Upper ? .tcvn3 : e }

let paragraphs = files("vi").flatMap { read($0).components(separatedBy: "\n\n") }
    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
let headings = read("vi/tieu-de.txt").split(separator: "\n").map(String.init)
let subjects = read("subjects.txt").split(separator: "\n").map(String.init)

/// `same`: another verdict, but the delivered text is exactly the expected one (the bytes read
/// the same in both encodings, or as Windows-1252).
struct Tally {
    var right = 0
    var same = 0
    var total = 0
    var cell: String {
        guard total > 0 else { return "–" }
        return String(format: "%d/%d (%.1f%%)", right, total, 100 * Double(right) / Double(total))
            + (same > 0 ? ", +\(same) same text" : "")
    }
}
func bytesEqual(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

func judge(_ samples: [String], _ encoding: VietEncoding) -> Tally {
    var t = Tally()
    for text in samples {
        guard let bytes = encoding == .tcvn3Upper ? VietConverter.fromUnicode(text, to: .tcvn3Upper) : encode(text, encoding)
        else { continue }
        t.total += 1
        let d = VietDetector.detect(bytes)
        let expectedText = VietConverter.toUnicode(bytes, from: encoding)
        let ok: Bool
        switch (d.kind, encoding) {
        case (.unicode, .unicode): ok = bytesEqual(d.text, text)
        case (.legacy(let got), _): ok = family(got) == family(encoding) && bytesEqual(d.text, expectedText)
        default: ok = false
        }
        if ok {
            t.right += 1
        } else if bytesEqual(d.text, expectedText) {
            t.same += 1
        } else if ProcessInfo.processInfo.environment["VIETBENCH_VERBOSE"] != nil {
            print("MISS \(encoding.rawValue): \(text.prefix(60)) → \(d.kind) \(d.text.prefix(60))")
        }
    }
    return t
}

out("## Detection accuracy (labelled fixtures encoded into each encoding)\n")
out("| encoding | paragraphs + headings | short subjects (3 words) |")
out("|---|---|---|")
for encoding in VietEncoding.allCases {
    let long = judge(paragraphs + headings, encoding)
    let short = judge(subjects + (encoding == .tcvn3Upper ? subjects.map { $0.uppercased() } : []), encoding)
    out("| \(encoding.displayName) (`\(encoding.rawValue)`) | \(long.cell) | \(short.cell) |")
}

// Negatives: genuine text in its own charset. A false conversion is a legacy verdict or a text
// that differs from the genuine decoding.
out("\n## Negatives (must never be converted)\n")
out("| set | samples | false conversions |")
out("|---|---|---|")
var negativeSets: [(String, [([UInt8], String, String?)])] = []
func lines(_ path: String) -> [String] {
    read(path).split(separator: "\n").map(String.init) + [read(path)]
}
func latin(_ s: String, _ enc: String.Encoding) -> [UInt8]? { s.data(using: enc).map { [UInt8]($0) } }
negativeSets.append(("English, ASCII", lines("negative/english.txt").map { (Array($0.utf8), $0, nil) }))
negativeSets.append(
    (
        "French, ISO-8859-1 (labelled)",
        lines("negative/french.txt").compactMap { s in
            latin(s.replacingOccurrences(of: "œ", with: "oe").replacingOccurrences(of: "…", with: "..."), .isoLatin1)
                .map { ($0, s.replacingOccurrences(of: "œ", with: "oe").replacingOccurrences(of: "…", with: "..."), "iso-8859-1") }
        }
    )
)
negativeSets.append(
    (
        "French, Windows-1252 (unlabelled)",
        lines("negative/french.txt").compactMap { s in
            latin(s, .windowsCP1252).map { ($0, s, nil) }
        }
    )
)
negativeSets.append(
    (
        "German, ISO-8859-1 (unlabelled)",
        lines("negative/german.txt").compactMap { s in
            latin(s, .isoLatin1).map { ($0, s, nil) }
        }
    )
)
negativeSets.append(
    (
        "Windows-1252 curly quotes",
        lines("negative/curly.txt").compactMap { s in
            latin(s, .windowsCP1252).map { ($0, s, "windows-1252") }
        }
    )
)
negativeSets.append(("French, UTF-8", lines("negative/french.txt").map { (Array($0.utf8), $0, "utf-8") }))
negativeSets.append(("Vietnamese, UTF-8 (NFC)", (lines("negative/vietnamese-utf8.txt") + paragraphs).map { (Array($0.utf8), $0, nil) }))
var totalFalse = 0
for (name, samples) in negativeSets {
    var bad = 0
    for (bytes, genuine, label) in samples {
        let d = VietDetector.detect(bytes, declaredCharset: label)
        if case .legacy = d.kind { bad += 1 } else if !bytesEqual(d.text, genuine) { bad += 1 }
    }
    totalFalse += bad
    out("| \(name) | \(samples.count) | \(bad) |")
}
out("| **total** | | **\(totalFalse)** |")

// Throughput on ~10 MB.
if ProcessInfo.processInfo.environment["VIETBENCH_NO_SPEED"] != nil { exit(0) }
out("\n## Throughput (~10 MB, one core)\n")
out("| encoding | toUnicode MB/s | detect MB/s |")
out("|---|---|---|")
let block = paragraphs.joined(separator: "\n\n") + "\n\n"
let repeats = 10_000_000 / block.utf8.count + 1
/// ~10 MB: the fixtures encoded once, repeated.
func corpus(_ encoding: VietEncoding) -> [UInt8]? {
    guard let bytes = encode(block, encoding) else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * repeats)
    for _ in 0..<repeats { out += bytes }
    return out
}
func rate(_ bytes: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    var best = Duration.seconds(1000)
    for _ in 0..<3 {
        let t = clock.measure(body)
        if t < best { best = t }
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    return Double(bytes) / 1e6 / seconds
}
for encoding in VietEncoding.allCases where encoding != .tcvn3Upper {
    guard let bytes = corpus(encoding) else { continue }
    var sink = 0
    let convert = rate(bytes.count) { sink &+= VietConverter.toUnicode(bytes, from: encoding).utf8.count }
    let detect = rate(bytes.count) { sink &+= VietDetector.detect(bytes).text.utf8.count }
    out(String(format: "| %@ | %.0f | %.0f |", encoding.displayName, convert, detect) + (sink == 42 ? " " : ""))
}
let english = Array(
    String(repeating: read("negative/english.txt"), count: 10_000_000 / max(1, read("negative/english.txt").utf8.count)).utf8
)
var sink = 0
let asciiRate = rate(english.count) { sink &+= VietDetector.detect(english).text.utf8.count }
out(String(format: "| ASCII English (early exit) | – | %.0f |", asciiRate))

/// Windows-1252, its five holes as Latin-1's C1 controls.
func windows1252(_ bytes: Data) -> String {
    String(
        String.UnicodeScalarView(
            bytes.map { b in
                (b >= 0x80 && b < 0xA0 ? String(data: Data([b]), encoding: .windowsCP1252)?.unicodeScalars.first : nil) ?? Unicode.Scalar(b)
            }
        )
    )
}

/// False conversions over a corpus of genuine Western text (`set TAB charset TAB label TAB
/// base64`): a legacy verdict, or a delivered text other than the bytes read in their charset.
func westernFalseConversions(_ path: String) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
        exit(1)
    }
    let verbose = ProcessInfo.processInfo.environment["VIETBENCH_VERBOSE"] != nil
    var tally: [String: (samples: Int, bytes: Int, falses: Int, utf8: Int)] = [:]
    var pending = Data()
    func handleLine(_ line: Data) {
        let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
        guard fields.count == 4, let bytes = Data(base64Encoded: Data(fields[3])) else { return }
        let set = String(decoding: fields[0], as: UTF8.self)
        let charset = String(decoding: fields[1], as: UTF8.self)
        let label = String(decoding: fields[2], as: UTF8.self)
        let genuine = String(data: bytes, encoding: charset == "iso-8859-1" ? .isoLatin1 : .windowsCP1252) ?? ""
        let d = VietDetector.detect(bytes, declaredCharset: label == "-" ? nil : label)
        var wrong = false
        var t = tally[set] ?? (0, 0, 0, 0)
        if case .legacy = d.kind {
            wrong = true
        } else if !bytesEqual(d.text, genuine) && !(charset == "iso-8859-1" && bytesEqual(d.text, windows1252(bytes))) {
            // (Latin-1's C1 controls 0x80–0x9F read as Windows-1252, as mail readers do, is the same text.)
            // Unlabelled bytes that are valid UTF-8 are read as UTF-8: no conversion, but counted.
            if label == "-" && d.encodingName == "utf-8" { t.utf8 += 1 } else { wrong = true }
        }
        t.samples += 1
        t.bytes += bytes.count
        if wrong {
            t.falses += 1
            if verbose {
                print("FALSE \(set) \(d.encodingName): \(genuine.prefix(80).debugDescription) → \(d.text.prefix(80).debugDescription)")
            }
        }
        tally[set] = t
    }
    while true {
        let chunk = handle.readData(ofLength: 1 << 20)
        if chunk.isEmpty { break }
        pending.append(chunk)
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: 0x0A) {
            handleLine(pending[start..<newline])
            start = newline + 1
        }
        pending = pending[start...]
    }
    if !pending.isEmpty { handleLine(pending) }
    out("| set | samples | MB | false conversions | unlabelled, valid UTF-8 by chance |")
    out("|---|---|---|---|---|")
    var samples = 0
    var bytes = 0
    var falses = 0
    var utf8 = 0
    for (set, t) in tally.sorted(by: { $0.key < $1.key }) {
        out(String(format: "| %@ | %d | %.1f | %d | %d |", set, t.samples, Double(t.bytes) / 1e6, t.falses, t.utf8))
        samples += t.samples
        bytes += t.bytes
        falses += t.falses
        utf8 += t.utf8
    }
    out(String(format: "| **total** | %d | %.1f | **%d** | %d |", samples, Double(bytes) / 1e6, falses, utf8))
}
