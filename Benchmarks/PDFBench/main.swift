// thugate-pdfbench [--memory-bomb FILE] [--ocr SCANNED_PDF] PDF...
//
// Cost of reading PDFs through the helper pool (PDFHelperPool, thugate-pdftext beside this
// executable): a helper's start (spawn to "ready"), ms per PDF and per page on each file, the
// helpers' memory (VmRSS idle and after the reads, VmHWM), two helpers in parallel against one,
// and what a helper that dies costs (kill, reap, start its replacement). Prints Markdown. Build
// with -c release (both products).
import DocumentText
import Foundation
import Scanning
import SecrecyMarks

var arguments = Array(CommandLine.arguments.dropFirst())
var bombPath: String?
var scannedPath: String?
while arguments.count >= 2, arguments[0].hasPrefix("--") {
    switch arguments[0] {
    case "--memory-bomb": bombPath = arguments[1]
    case "--ocr": scannedPath = arguments[1]
    default: break
    }
    arguments.removeFirst(2)
}
guard !arguments.isEmpty else {
    FileHandle.standardError.write(Data("usage: thugate-pdfbench [--memory-bomb FILE] PDF...\n".utf8))
    exit(2)
}
let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
func status(_ pid: Int32, _ field: String) -> String {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
    return line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
}
func pool(_ helpers: Int, memoryMB: Int = 512, ocr: Bool = false) -> PDFHelperPool {
    var settings = PDFHelperSettings()
    settings.helpers = helpers
    settings.memoryMB = memoryMB
    settings.ocr = ocr
    do { return try PDFHelperPool(settings: settings) } catch {
        FileHandle.standardError.write(Data("thugate-pdfbench: \(error)\n".utf8))
        exit(1)
    }
}

// Start cost: a pool of one helper, started and stopped.
let starts = 30
let startTime = clock.measure {
    for _ in 0..<starts { pool(1).shutdown() }
}
let startMilliseconds = String(format: "%.2f", seconds(startTime) * 1000 / Double(starts))
print("helper start (posix_spawn to its ready frame, then kill and reap): \(startMilliseconds) ms, mean of \(starts)")
print("")

let readers = pool(1)
let pid = readers.idleHelperPIDs[0]
print("idle helper: VmRSS \(status(pid, "VmRSS")), VmSize \(status(pid, "VmSize"))")
print("")
print("| PDF | bytes | pages | units | findings | ms per PDF | ms per page |")
print("|---|---:|---:|---:|---:|---:|---:|")
let limits = ExtractionLimits()
var files: [(String, [UInt8])] = []
for path in arguments {
    guard let data = FileManager.default.contents(atPath: path) else { continue }
    let bytes = Array(data)
    files.append((path, bytes))
    var text = ExtractedText()
    for _ in 0..<3 { text = bytes.withUnsafeBytes { readers.read($0, limits: limits) } }
    var rounds = 0
    let elapsed = clock.measure {
        let start = clock.now
        while rounds < 5 || clock.now - start < .seconds(1) {
            text = bytes.withUnsafeBytes { readers.read($0, limits: limits) }
            rounds += 1
        }
    }
    let pages = text.units.compactMap(\.page).max() ?? 0
    let perPDF = seconds(elapsed) * 1000 / Double(rounds)
    let findings = SecrecyMatcher.match(text.units).findings.count
    let name = URL(fileURLWithPath: path).lastPathComponent + (text.isComplete ? "" : " (\(text.problems.first ?? ""))")
    print(
        "| \(name) | \(bytes.count) | \(pages) | \(text.units.count) | \(findings) | \(String(format: "%.2f", perPDF)) | \(String(format: "%.2f", perPDF / Double(max(pages, 1)))) |"
    )
}
print("")
print("helper after the reads: VmRSS \(status(pid, "VmRSS")), VmHWM \(status(pid, "VmHWM"))")
readers.shutdown()

// Two helpers, two threads, against one thread: the largest file.
if let (name, bytes) = files.max(by: { $0.1.count < $1.1.count }) {
    let both = pool(2)
    for threads in [1, 2] {
        let count = 40
        let elapsed = clock.measure {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                for _ in 0..<(count / threads) { _ = bytes.withUnsafeBytes { both.read($0, limits: limits) } }
            }
        }
        print(
            "\(URL(fileURLWithPath: name).lastPathComponent), 2 helpers, \(threads) thread(s): \(String(format: "%.1f", Double(count) / seconds(elapsed))) PDFs/s"
        )
    }
    both.shutdown()
}

// A PDF that kills its helper: the result's problem, and the time to it with the replacement.
if let bombPath, let data = FileManager.default.contents(atPath: bombPath) {
    let bytes = Array(data)
    let dying = pool(1, memoryMB: 512)
    var text = ExtractedText()
    let elapsed = clock.measure { text = bytes.withUnsafeBytes { dying.read($0, limits: limits) } }
    print("")
    print(
        "\(URL(fileURLWithPath: bombPath).lastPathComponent) at 512 MiB: \(String(format: "%.0f", seconds(elapsed) * 1000)) ms to \"\(text.problems.first ?? "")\", replacement started: \(dying.idleHelperPIDs.count == 1)"
    )
    dying.shutdown()
}

// OCR of a scanned first page (tesseract -l vie on its top third at 300 dpi), against the same PDF without OCR.
if let scannedPath, let data = FileManager.default.contents(atPath: scannedPath) {
    let bytes = Array(data)
    print("")
    for ocr in [false, true] {
        let reader = pool(1, ocr: ocr)
        var text = ExtractedText()
        let rounds = 5
        _ = bytes.withUnsafeBytes { reader.read($0, limits: limits) }
        let elapsed = clock.measure {
            for _ in 0..<rounds { text = bytes.withUnsafeBytes { reader.read($0, limits: limits) } }
        }
        let findings = SecrecyMatcher.match(text.units).findings.map(\.level.vietnamese)
        let peak = status(reader.idleHelperPIDs.first ?? 0, "VmHWM")
        print(
            "\(URL(fileURLWithPath: scannedPath).lastPathComponent), OCR \(ocr ? "on" : "off"): \(String(format: "%.0f", seconds(elapsed) * 1000 / Double(rounds))) ms per PDF, \(text.units.count) lines, findings \(findings), helper VmHWM \(peak)"
        )
        reader.shutdown()
    }
}
