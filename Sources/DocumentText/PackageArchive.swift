import Foundation
import ZIPFoundation

/// The zip container of an OOXML or ODF document, read in memory through ZIPFoundation with the
/// bounds of `ExtractionLimits` checked on the bytes that really come out of the inflater (an
/// entry's declared sizes are not trusted): entries looked at, inflated bytes for the whole
/// package, and the ratio of one entry's output to its compressed size past 1 MiB. A bound
/// reached stops the read with a `zip-bomb: …` problem.
///
/// - SeeAlso: PKWARE, APPNOTE.TXT: .ZIP File Format Specification 6.3.10; ECMA-376 Part 2 (Open
///   Packaging Conventions); OASIS OpenDocument 1.3 Part 2 (Packages).
final class PackageArchive {
    private let archive: Archive
    let limits: ExtractionLimits
    /// Entries by path, the first `maxEntries` of the central directory (a duplicated name keeps its first entry).
    private(set) var entries: [String: Entry] = [:]
    /// Entry paths in central-directory order.
    private(set) var paths: [String] = []
    private(set) var inflated = 0
    /// Problems met reading the package, in order.
    var problems: [String] = []
    /// Set when a zip bound was reached: nothing more is read.
    private(set) var exhausted = false

    /// Signals the consumer's stop to ZIPFoundation.
    private struct Stop: Error {}

    init?(_ bytes: Data, limits: ExtractionLimits) {
        // ZIPFoundation 0.9.20 leaks its in-memory file (and the copy of the input) when it finds no end
        // record, and looks for one with a 4-byte read at every offset: such input never reaches it.
        guard PackageArchive.hasEndRecord(bytes), let archive = try? Archive(data: bytes, accessMode: .read) else {
            return nil
        }
        self.archive = archive
        self.limits = limits
        var count = 0
        // Iterating reads only the central directory.
        for entry in archive {
            count += 1
            if count > limits.maxEntries {
                problems.append("zip-bomb: more than \(limits.maxEntries) entries")
                break
            }
            if entries[entry.path] == nil {
                entries[entry.path] = entry
                paths.append(entry.path)
            }
        }
    }

    /// Whether ZIPFoundation will find an end of central directory record: the last "PK\u{5}\u{6}" at
    /// least 22 bytes before the end (searched as it searches, from the end), with its comment inside
    /// the input. Its own search gives up at the first signature whose record does not fit.
    static func hasEndRecord(_ bytes: Data) -> Bool {
        bytes.withUnsafeBytes { buffer in
            guard buffer.count >= 22 else { return false }
            var position = buffer.count - 22
            while position >= 0 {
                if buffer[position] == 0x50, buffer[position + 1] == 0x4B, buffer[position + 2] == 5, buffer[position + 3] == 6 {
                    let comment = Int(buffer[position + 20]) | Int(buffer[position + 21]) << 8
                    return position + 22 + comment <= buffer.count
                }
                position -= 1
            }
            return false
        }
    }

    /// How a `stream` ended.
    enum Outcome {
        case complete
        /// The consumer returned false.
        case stoppedByReader
        /// Missing, damaged (a problem recorded), or a bound reached (a problem recorded).
        case failed
    }

    /// Streams the inflated bytes of `path` to `consume` in chunks; `consume` returns false to stop early.
    @discardableResult
    func stream(_ path: String, _ consume: (UnsafeRawBufferPointer) -> Bool) -> Outcome {
        guard !exhausted, let entry = entries[path], entry.type == .file else { return .failed }
        let compressed = max(1, Int(clamping: entry.compressedSize))
        var output = 0
        var stoppedByReader = false
        do {
            _ = try archive.extract(entry, bufferSize: 64 << 10, skipCRC32: false) { chunk in
                output += chunk.count
                inflated += chunk.count
                if inflated > limits.maxInflatedBytes {
                    problems.append("zip-bomb: more than \(limits.maxInflatedBytes) bytes inflated (at \(path))")
                    exhausted = true
                    throw Stop()
                }
                if output > 1 << 20, output / compressed > limits.maxRatio {
                    problems.append("zip-bomb: \(path) inflates more than \(limits.maxRatio) times its size")
                    exhausted = true
                    throw Stop()
                }
                let goOn = chunk.withUnsafeBytes { consume($0) }
                if !goOn {
                    stoppedByReader = true
                    throw Stop()
                }
            }
        } catch is Stop {
            return stoppedByReader ? .stoppedByReader : .failed
        } catch {
            problems.append("zip-error: \(path): \(error)")
            return .failed
        }
        return .complete
    }

    /// The whole inflated entry, for small parts (relationships, content types, the ODF mimetype);
    /// nil past `cap` bytes or when it cannot be read.
    func data(_ path: String, cap: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var tooLong = false
        let outcome = stream(path) { chunk in
            if bytes.count + chunk.count > cap {
                tooLong = true
                return false
            }
            bytes += chunk
            return true
        }
        return outcome == .complete && !tooLong ? bytes : nil
    }

    /// Parses `path` with `handler`, the inflated bytes fed to expat as they come. Returns false
    /// when the part is missing; a parse or zip problem is recorded.
    @discardableResult
    func parse(_ path: String, with handler: some XMLEventHandler, stopWhen shouldStop: () -> Bool = { false }) -> Bool {
        guard entries[path] != nil, !exhausted else { return false }
        guard let stream = XMLStream(part: path, handler: handler, maxDepth: limits.maxXMLDepth) else {
            problems.append("xml-error: \(path): parser not created")
            return true
        }
        let outcome = self.stream(path) { chunk in
            stream.feed(chunk, final: false) && !shouldStop()
        }
        if outcome == .complete, !stream.stopped { stream.feed(UnsafeRawBufferPointer(start: nil, count: 0), final: true) }
        if let problem = stream.problem { problems.append(problem) }
        return true
    }
}
