import Archives
import Dispatch
import Foundation
import Inspection
import MIMECore
import Scanning

/// Per-stage throughput of content inspection (libmagic, libclamav, archive headers) on sample
/// files, and the whole pipeline (parse, scan, rules) on a directory of messages.
/// `Benchmarks/content_scan.py` makes the samples with the real tools and runs this.
///
/// Usage: thugate-scanbench SIGNATURES SAMPLES_DIR CORPUS_DIR [SECONDS_PER_STAGE]
@main
enum ScanBench {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count >= 4 else {
            FileHandle.standardError.write(Data("usage: thugate-scanbench SIGNATURES SAMPLES CORPUS [SECONDS]\n".utf8))
            exit(64)
        }
        let seconds = args.count > 4 ? Double(args[4]) ?? 2 : 2
        var settings = ClamAVSettings()
        settings.databaseDirectory = args[1]
        settings.temporaryDirectory = "/dev/shm/thugate-scanbench"
        let engine = try ClamAVEngine(settings: settings)
        let samples = try FileManager.default.contentsOfDirectory(atPath: args[2]).sorted()

        print(
            "| sample | size | libmagic (8 KB of text, 64 KB of the rest) | libclamav, 1 thread | libclamav, 2 threads | archive headers |"
        )
        print("|---|---|---|---|---|---|")
        for name in samples {
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: args[2] + "/" + name)))
            let magic = try Stage.magic(data, seconds: seconds)
            let clam1 = try Stage.clamav(engine, data, threads: 1, seconds: seconds)
            let clam2 = try Stage.clamav(engine, data, threads: 2, seconds: seconds)
            let listing = data.withUnsafeBytes { ArchiveReader.format(of: $0) } == nil ? "–" : Stage.listing(data, seconds: seconds)
            print("| \(name) | \(Stage.size(data.count)) | \(magic) | \(clam1) | \(clam2) | \(listing) |")
        }

        // The whole pipeline, as `thugate scan` and the proxy run it.
        var inspection = InspectionSettings()
        inspection.scan.clamav = settings
        let inspector = try MessageInspector(settings: inspection)
        let files = try FileManager.default.contentsOfDirectory(atPath: args[3]).filter { $0.hasSuffix(".eml") }.sorted()
        let messages = try files.map { MessageBytes([UInt8](try Data(contentsOf: URL(fileURLWithPath: args[3] + "/" + $0)))) }
        let bytes = messages.reduce(0) { $0 + $1.count }
        print("\n| whole pipeline on \(messages.count) messages (\(Stage.size(bytes))) | messages/s | MB/s |")
        print("|---|---|---|")
        for threads in [1, 2] {
            let (count, elapsed) = try Stage.repeatFor(seconds: seconds, threads: threads) { i in
                _ = try inspector.inspectBlocking(messages[i % messages.count], envelope: nil)
            }
            let perSecond = Double(count) / elapsed
            print(
                "| parse + libclamav + libmagic + headers + rules, \(threads) thread\(threads == 1 ? "" : "s") | \(Int(perSecond)) | \(String(format: "%.1f", perSecond * Double(bytes) / Double(messages.count) / 1e6)) |"
            )
        }

        // The crash journal `serve` keeps: SHA-256 of the message and two pwrites around its scan.
        let journalPath = NSTemporaryDirectory() + "/thugate-scanbench-journal-\(getpid())"
        defer {
            try? FileManager.default.removeItem(atPath: journalPath)
            try? FileManager.default.removeItem(atPath: journalPath + ".crashed")
        }
        let journal = try CrashJournal(path: journalPath)
        print("\n| crash journal (\(journalPath)) | µs per message, 1 thread | µs per message, 2 threads |")
        print("|---|---|---|")
        for size in [2 * 1024, 128 * 1024, 1 << 20, 20 << 20] {
            let message = [UInt8](repeating: 0x61, count: size)
            var cells: [String] = []
            for threads in [1, 2] {
                let (count, elapsed) = try Stage.repeatFor(seconds: seconds, threads: threads) { _ in
                    let digest = message.withUnsafeBytes(CrashJournal.digest)
                    journal.whileScanning(digest) {}
                }
                cells.append(String(format: "%.1f", elapsed / Double(count) * 1e6 * Double(threads)))
            }
            print("| \(Stage.size(size)) message | \(cells[0]) | \(cells[1]) |")
        }
        inspection.scan.crashJournal = journalPath + "-pipeline"
        let journaled = try MessageInspector(settings: inspection, useCrashJournal: true)
        for threads in [1, 2] {
            let (count, elapsed) = try Stage.repeatFor(seconds: seconds, threads: threads) { i in
                _ = try journaled.inspectBlocking(messages[i % messages.count], envelope: nil)
            }
            print(
                "| whole pipeline with the journal, \(threads) thread\(threads == 1 ? "" : "s") | \(Int(Double(count) / elapsed)) messages/s | |"
            )
        }
    }
}

enum Stage {
    static func magic(_ data: [UInt8], seconds: Double) throws -> String {
        let cookie = try MagicCookie()
        let (count, elapsed) = try repeatFor(seconds: seconds, threads: 1) { _ in
            _ = data.withUnsafeBytes { cookie.mimeType(ContentScanner.sniffedPrefix($0)) }
        }
        let type = data.withUnsafeBytes { cookie.mimeType(ContentScanner.sniffedPrefix($0)) } ?? "?"
        return String(format: "%.0f µs (%@)", elapsed / Double(count) * 1e6, type)
    }

    static func clamav(_ engine: ClamAVEngine, _ data: [UInt8], threads: Int, seconds: Double) throws -> String {
        let (count, elapsed) = try repeatFor(seconds: seconds, threads: threads) { _ in
            _ = try data.withUnsafeBytes { try engine.scan($0, name: "sample") { _ in } }
        }
        let perSecond = Double(count) / elapsed
        return String(format: "%.1f MB/s, %.0f scans/s", perSecond * Double(data.count) / 1e6, perSecond)
    }

    static func listing(_ data: [UInt8], seconds: Double) -> String {
        let (count, elapsed) = try! repeatFor(seconds: seconds, threads: 1) { _ in _ = ArchiveReader.list(data) }
        let listing = ArchiveReader.list(data)
        return String(
            format: "%.0f/s (%d members%@)",
            Double(count) / elapsed,
            listing?.members.count ?? 0,
            listing?.isEncrypted == true ? ", encrypted" : ""
        )
    }

    /// Runs `body` on `threads` threads until `seconds` pass; returns the calls and the time taken.
    static func repeatFor(seconds: Double, threads: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws -> (Int, Double) {
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        nonisolated(unsafe) let shared = counts
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var i = t
            repeat {
                try? body(i)
                i += threads
                shared[t] += 1
            } while DispatchTime.now().uptimeNanoseconds < deadline
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (counts.reduce(0, +), elapsed)
    }

    static func size(_ n: Int) -> String {
        n < 1 << 20 ? String(format: "%.1f KB", Double(n) / 1024) : String(format: "%.1f MB", Double(n) / 1_048_576)
    }
}
