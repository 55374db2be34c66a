import CZlib

/// The zip container of an OOXML or ODF document, read in memory by a small bounded reader of
/// the central directory, with entries inflated by zlib as raw deflate streams. The bounds of
/// `ExtractionLimits` are checked on the bytes that really come out of the inflater (an entry's
/// declared sizes are not trusted): entries looked at, inflated bytes for the whole package, and
/// the ratio of one entry's output to its compressed size past 1 MiB. A bound reached stops the
/// read with a `zip-bomb: …` problem; a damaged entry is `zip-error: PATH: …`, an encrypted one
/// `encrypted: PATH`.
///
/// Why not ZIPFoundation: 0.9.20's in-memory archive traps (a range with lowerBound > upperBound
/// in `MemoryFile.readData`) when a central directory offset points past the end of the data,
/// and leaks the archive's copy of the input when it finds no end record; Scripts/fuzz ooxml
/// found both (Tests/DocumentTextTests/FuzzRegressions/ooxml-*). Every offset here is checked
/// against the input before it is read.
///
/// - SeeAlso: PKWARE, APPNOTE.TXT: .ZIP File Format Specification 6.3.10 (§4.3.7 local header,
///   §4.3.12 central directory header, §4.3.14–16 ZIP64 and end records, §4.5.3 ZIP64 extra
///   field); RFC 1951 (DEFLATE); ECMA-376 Part 2 (Open Packaging Conventions); OASIS OpenDocument
///   1.3 Part 2 (Packages).
final class PackageArchive {
    struct Entry {
        var path: String
        var method: UInt16
        var flags: UInt16
        var crc: UInt32
        var compressedSize: UInt64
        var localHeaderOffset: UInt64
        var isDirectory: Bool { path.hasSuffix("/") }
    }

    private let bytes: [UInt8]
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
    /// The relationships read so far, by source part (`RelationshipsReader.of`).
    var relationships: [String: [(id: String, type: String, target: String)]] = [:]
    /// Element and attribute names, resolved once for all the parts.
    private let names = XMLNameResolver()
    /// The inflater's output, 64 KiB, allocated for the first deflated entry and kept for the next.
    private var inflateBuffer: UnsafeMutableRawBufferPointer?

    deinit { inflateBuffer?.deallocate() }

    /// Nil when `bytes` has no readable end record and central directory (not a zip).
    init?(_ bytes: [UInt8], limits: ExtractionLimits) {
        self.bytes = bytes
        self.limits = limits
        // One more than the bound, to tell "exactly at it" from "past it".
        guard let listing = bytes.withUnsafeBytes({ PackageArchive.listing($0, limit: limits.maxEntries + 1) }) else { return nil }
        for entry in listing.entries.prefix(limits.maxEntries) where entries[entry.path] == nil {
            entries[entry.path] = entry
            paths.append(entry.path)
        }
        if listing.entries.count > limits.maxEntries {
            problems.append("zip-bomb: more than \(limits.maxEntries) entries")
        } else if !listing.complete {
            problems.append("zip-error: central directory damaged after \(listing.entries.count) entries")
        }
    }

    // MARK: - Central directory

    static func u16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func u32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(u16(bytes, at)) | UInt32(u16(bytes, at + 2)) << 16
    }
    static func u64(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        UInt64(u32(bytes, at)) | UInt64(u32(bytes, at + 4)) << 32
    }

    /// The central directory's offset and entry count, from the end record (ZIP64's when the end
    /// record says so), searched from the end within the last 64 KiB + 22 bytes (the longest comment).
    static func centralDirectory(_ bytes: UnsafeRawBufferPointer) -> (offset: Int, count: Int)? {
        guard bytes.count >= 22 else { return nil }
        var position = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        while position >= lowest {
            if bytes[position] == 0x50, bytes[position + 1] == 0x4B, bytes[position + 2] == 5, bytes[position + 3] == 6 { break }
            position -= 1
        }
        guard position >= lowest else { return nil }
        var count = UInt64(u16(bytes, position + 10))
        var offset = UInt64(u32(bytes, position + 16))
        // ZIP64: the locator 20 bytes before the end record points at the ZIP64 end record.
        if count == 0xFFFF || offset == 0xFFFF_FFFF, position >= 20, u32(bytes, position - 20) == 0x0706_4B50 {
            let record = u64(bytes, position - 20 + 8)
            if bytes.count >= 56, record <= UInt64(bytes.count - 56), u32(bytes, Int(record)) == 0x0606_4B50 {
                count = u64(bytes, Int(record) + 32)
                offset = u64(bytes, Int(record) + 48)
            }
        }
        guard offset <= UInt64(bytes.count) else { return nil }
        return (Int(offset), Int(min(count, UInt64(Int32.max))))
    }

    /// The central directory header at `at`, and where the next one starts; nil past the input.
    static func centralEntry(_ bytes: UnsafeRawBufferPointer, at: Int) -> (Entry, Int)? {
        guard at >= 0, at <= bytes.count - 46, u32(bytes, at) == 0x0201_4B50 else { return nil }
        let nameLength = Int(u16(bytes, at + 28))
        let extraLength = Int(u16(bytes, at + 30))
        let commentLength = Int(u16(bytes, at + 32))
        let next = at + 46 + nameLength + extraLength + commentLength
        guard next <= bytes.count else { return nil }
        let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
        var compressedSize = UInt64(u32(bytes, at + 20))
        let uncompressedSize = UInt64(u32(bytes, at + 24))
        var offset = UInt64(u32(bytes, at + 42))
        // ZIP64 extended information (0x0001): the 64-bit values, in order, of the fields that are 0xFFFFFFFF.
        var extra = at + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let id = u16(bytes, extra)
            let size = Int(u16(bytes, extra + 2))
            let body = extra + 4
            guard body + size <= extraEnd else { break }
            if id == 0x0001 {
                var field = body
                if uncompressedSize == 0xFFFF_FFFF, field + 8 <= body + size { field += 8 }
                if compressedSize == 0xFFFF_FFFF, field + 8 <= body + size {
                    compressedSize = u64(bytes, field)
                    field += 8
                }
                if offset == 0xFFFF_FFFF, field + 8 <= body + size { offset = u64(bytes, field) }
            }
            extra = body + size
        }
        let entry = Entry(
            path: name,
            method: u16(bytes, at + 10),
            flags: u16(bytes, at + 8),
            crc: u32(bytes, at + 16),
            compressedSize: compressedSize,
            localHeaderOffset: offset
        )
        return (entry, next)
    }

    /// The range of an entry's compressed data, after its local header; nil when it lies outside the input.
    static func dataRange(_ entry: Entry, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        guard bytes.count >= 30, entry.localHeaderOffset <= UInt64(bytes.count - 30) else { return nil }
        let header = Int(entry.localHeaderOffset)
        guard u32(bytes, header) == 0x0403_4B50 else { return nil }
        let start = header + 30 + Int(u16(bytes, header + 26)) + Int(u16(bytes, header + 28))
        guard start <= bytes.count, entry.compressedSize <= UInt64(bytes.count - start) else { return nil }
        return start..<(start + Int(entry.compressedSize))
    }

    /// The entries of the central directory of `bytes` (up to `limit`), in order; nil when it is not a zip.
    static func listing(_ bytes: UnsafeRawBufferPointer, limit: Int) -> (entries: [Entry], complete: Bool)? {
        guard let directory = centralDirectory(bytes) else { return nil }
        var entries: [Entry] = []
        var cursor = directory.offset
        while entries.count < directory.count {
            guard entries.count < limit else { return (entries, false) }
            guard let (entry, next) = centralEntry(bytes, at: cursor) else { return (entries, false) }
            entries.append(entry)
            cursor = next
        }
        return (entries, true)
    }

    // MARK: - Reading entries

    /// How a `stream` ended.
    enum Outcome {
        case complete
        /// The consumer returned false.
        case stoppedByReader
        /// Missing, damaged (a problem recorded), or a bound reached (a problem recorded).
        case failed
    }

    /// Streams the inflated bytes of `path` to `consume` in chunks of up to 64 KiB; `consume`
    /// returns false to stop early.
    @discardableResult
    func stream(_ path: String, _ consume: (UnsafeRawBufferPointer) -> Bool) -> Outcome {
        guard !exhausted, let entry = entries[path], !entry.isDirectory else { return .failed }
        if entry.flags & 1 != 0 {
            problems.append("encrypted: \(path) is encrypted")
            return .failed
        }
        guard let range = bytes.withUnsafeBytes({ PackageArchive.dataRange(entry, in: $0) }) else {
            problems.append("zip-error: \(path): data outside the archive")
            return .failed
        }
        let compressed = max(1, range.count)
        var output = 0
        var crc = crc32(0, nil, 0)
        var outcome = Outcome.complete
        /// Counts a chunk of real output against the bounds, then hands it on; false stops the read.
        func take(_ chunk: UnsafeRawBufferPointer) -> Bool {
            output += chunk.count
            inflated += chunk.count
            if inflated > limits.maxInflatedBytes {
                problems.append("zip-bomb: more than \(limits.maxInflatedBytes) bytes inflated (at \(path))")
                exhausted = true
                outcome = .failed
                return false
            }
            if output > 1 << 20, output / compressed > limits.maxRatio {
                problems.append("zip-bomb: \(path) inflates more than \(limits.maxRatio) times its size")
                exhausted = true
                outcome = .failed
                return false
            }
            if let base = chunk.baseAddress {
                crc = crc32(crc, base.assumingMemoryBound(to: Bytef.self), uInt(chunk.count))
            }
            guard consume(chunk) else {
                outcome = .stoppedByReader
                return false
            }
            return true
        }
        bytes.withUnsafeBytes { input in
            let data = UnsafeRawBufferPointer(rebasing: input[range])
            switch entry.method {
            case 0:
                var offset = 0
                while offset < data.count {
                    let end = min(data.count, offset + (64 << 10))
                    guard take(UnsafeRawBufferPointer(rebasing: data[offset..<end])) else { return }
                    offset = end
                }
            case 8:
                if let problem = inflate(data, take) {
                    problems.append("zip-error: \(path): \(problem)")
                    outcome = .failed
                }
            default:
                problems.append("zip-error: \(path): compression method \(entry.method) not read")
                outcome = .failed
            }
        }
        if outcome == .complete, UInt32(truncatingIfNeeded: crc) != entry.crc {
            problems.append("zip-error: \(path): CRC-32 mismatch")
        }
        return outcome
    }

    /// Inflates a raw deflate stream in 64 KiB chunks of output; an error message, or nil when the
    /// stream ended or `take` stopped it.
    private func inflate(_ data: UnsafeRawBufferPointer, _ take: (UnsafeRawBufferPointer) -> Bool) -> String? {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return "inflater not initialised"
        }
        defer { inflateEnd(&stream) }
        guard let base = data.baseAddress, data.count > 0 else { return "empty deflate stream" }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(data.count)
        // Taken while in use, so that a nested read (none today) would get its own.
        let out = inflateBuffer.take() ?? UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { if inflateBuffer == nil { inflateBuffer = out } else { out.deallocate() } }
        guard let outBase = out.baseAddress else { return "no buffer" }
        while true {
            stream.next_out = outBase.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            let produced = out.count - Int(stream.avail_out)
            if produced > 0, !take(UnsafeRawBufferPointer(start: outBase, count: produced)) { return nil }
            switch status {
            case Z_STREAM_END: return nil
            case Z_OK: continue
            case Z_BUF_ERROR where produced > 0: continue
            case Z_BUF_ERROR: return "deflate stream truncated"
            default: return stream.msg.map { String(cString: $0) } ?? "inflate error \(status)"
            }
        }
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
        guard let stream = XMLStream(part: path, handler: handler, maxDepth: limits.maxXMLDepth, names: names) else {
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
