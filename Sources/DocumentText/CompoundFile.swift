/// A compound file (OLE2 structured storage) read per [MS-CFB]: the header, the DIFAT, the FAT,
/// the mini FAT and mini stream, and the directory as a flat array. Hostile input: every sector
/// chain is walked with loop detection and a length cap, every offset is checked against the
/// file, declared stream sizes are checked against what the chains hold, and nothing recurses
/// (the directory's red-black tree is walked with an explicit stack).
///
/// - SeeAlso: [MS-CFB] Compound File Binary File Format, sections 2.2 (header), 2.3 (sectors
///   and chains), 2.5 (DIFAT), 2.6 (directory).
struct CompoundFile {
    /// A directory entry ([MS-CFB] 2.6.1).
    struct Entry {
        enum Kind: UInt8 {
            case unallocated = 0
            case storage = 1
            case stream = 2
            case root = 5
        }

        var name: String
        var kind: Kind
        var left: UInt32
        var right: UInt32
        var child: UInt32
        var start: UInt32
        var size: UInt64
    }

    static let signature: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
    static let endOfChain: UInt32 = 0xFFFF_FFFE
    static let freeSector: UInt32 = 0xFFFF_FFFF
    static let maxRegularSector: UInt32 = 0xFFFF_FFFA
    static let noStream: UInt32 = 0xFFFF_FFFF

    let bytes: [UInt8]
    let limits: ExtractionLimits
    private(set) var sectorSize = 512
    private(set) var miniSectorSize = 64
    private(set) var miniStreamCutoff: UInt64 = 4096
    private(set) var majorVersion = 3
    private(set) var fat: [UInt32] = []
    private(set) var miniFat: [UInt32] = []
    private(set) var entries: [Entry] = []
    private(set) var miniStream: [UInt8] = []
    /// Problems met, `cfb-…: …`, in the order met.
    private(set) var problems: [String] = []

    /// Sectors the file holds after its header (a chain can name no other).
    var sectorCount: Int { max(0, (bytes.count - sectorSize + sectorSize - 1) / sectorSize) }

    static func isCompoundFile(_ bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: signature) }

    /// Reads the structure of `bytes`; nil (with `problems` said through `failure`) when it is not a
    /// compound file at all or its header is unusable.
    init?(_ bytes: [UInt8], limits: ExtractionLimits, failure: inout [String]) {
        self.bytes = bytes
        self.limits = limits
        guard bytes.count >= 512, bytes.starts(with: CompoundFile.signature) else {
            failure.append(
                bytes.starts(with: CompoundFile.signature)
                    ? "cfb-truncated: shorter than its header" : "cfb-not-compound: no [MS-CFB] signature"
            )
            return nil
        }
        majorVersion = Int(u16(0x1A) ?? 0)
        let shift = Int(u16(0x1E) ?? 0)
        let miniShift = Int(u16(0x20) ?? 0)
        // Version 3 has 512-byte sectors, version 4 4096-byte ones; other shifts are read if sane.
        guard (7...16).contains(shift), (2...shift).contains(miniShift) else {
            failure.append("cfb-bad-header: sector shift \(shift), mini sector shift \(miniShift)")
            return nil
        }
        sectorSize = 1 << shift
        miniSectorSize = 1 << miniShift
        if !(majorVersion == 3 && shift == 9) && !(majorVersion == 4 && shift == 12) {
            problems.append("cfb-bad-header: version \(majorVersion) with \(sectorSize)-byte sectors (read anyway)")
        }
        miniStreamCutoff = UInt64(u32(0x38) ?? 4096)
        readFAT()
        readDirectory()
        readMiniStructures()
        failure = []
    }

    // MARK: Little-endian reads, nil past the end.

    func u16(_ offset: Int) -> UInt16? { CompoundFile.u16(bytes, offset) }
    func u32(_ offset: Int) -> UInt32? { CompoundFile.u32(bytes, offset) }

    static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32? {
        guard offset >= 0, offset <= bytes.count - 4 else { return nil }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    mutating func problem(_ text: String) {
        ExtractedText.add(text, to: &problems)
    }

    /// Byte offset of sector `sector`, nil when it lies (partly) past the end of the file.
    func sectorOffset(_ sector: UInt32) -> Int? {
        guard sector <= CompoundFile.maxRegularSector else { return nil }
        let offset = (Int(sector) + 1) * sectorSize
        guard offset < bytes.count else { return nil }
        return offset
    }

    // MARK: DIFAT and FAT

    private mutating func readFAT() {
        let fatSectorsDeclared = Int(u32(0x2C) ?? 0)
        var fatSectors: [UInt32] = []
        for index in 0..<109 {
            guard let sector = u32(0x4C + 4 * index), sector <= CompoundFile.maxRegularSector else { continue }
            fatSectors.append(sector)
        }
        // The DIFAT chain: each sector lists FAT sectors and ends with the next DIFAT sector.
        var next = u32(0x44) ?? CompoundFile.endOfChain
        var seen = Set<UInt32>()
        let perSector = sectorSize / 4 - 1
        while next <= CompoundFile.maxRegularSector {
            guard seen.insert(next).inserted else {
                problem("cfb-loop: the DIFAT chain returns to sector \(next)")
                break
            }
            guard seen.count <= min(limits.maxSectors, sectorCount + 1), let offset = sectorOffset(next) else {
                problem("cfb-bad-sector: DIFAT sector \(next) past the end of the file")
                break
            }
            for index in 0..<perSector {
                guard let sector = u32(offset + 4 * index), sector <= CompoundFile.maxRegularSector else { continue }
                fatSectors.append(sector)
            }
            next = u32(offset + 4 * perSector) ?? CompoundFile.endOfChain
        }
        if fatSectors.count > fatSectorsDeclared, fatSectorsDeclared > 0 {
            // Entries past the declared count are stale; keep the declared ones.
            fatSectors.removeLast(fatSectors.count - fatSectorsDeclared)
        }
        // A FAT covers at most the sectors of the file: more FAT sectors than that is a lie.
        let maxFatSectors = sectorCount / (sectorSize / 4) + 1
        if fatSectors.count > maxFatSectors {
            problem("cfb-bad-header: \(fatSectors.count) FAT sectors for a file of \(sectorCount) sectors")
            fatSectors.removeLast(fatSectors.count - maxFatSectors)
        }
        var usedFatSectors = Set<UInt32>()
        fat.reserveCapacity(fatSectors.count * sectorSize / 4)
        for sector in fatSectors {
            guard usedFatSectors.insert(sector).inserted else {
                problem("cfb-loop: FAT sector \(sector) listed twice")
                continue
            }
            guard let offset = sectorOffset(sector), offset + sectorSize <= bytes.count else {
                problem("cfb-truncated: FAT sector \(sector) past the end of the file")
                continue
            }
            for index in 0..<(sectorSize / 4) { fat.append(u32(offset + 4 * index) ?? CompoundFile.freeSector) }
        }
    }

    /// The sectors of the chain starting at `start` in `table` (the FAT or the mini FAT), stopped at
    /// a loop, a sector outside the table, or `maxSectors`.
    mutating func chain(from start: UInt32, in table: [UInt32], what: String, bound: Int) -> [UInt32] {
        var sectors: [UInt32] = []
        var seen = [Bool](repeating: false, count: table.count)
        var sector = start
        let cap = min(limits.maxSectors, bound)
        while sector != CompoundFile.endOfChain {
            guard Int(sector) < table.count, sector <= CompoundFile.maxRegularSector else {
                if sector != CompoundFile.freeSector || !sectors.isEmpty {
                    problem("cfb-bad-sector: the chain of \(what) names sector \(sector), outside the file")
                }
                break
            }
            guard !seen[Int(sector)] else {
                problem("cfb-loop: the chain of \(what) returns to sector \(sector)")
                break
            }
            guard sectors.count < cap else {
                problem("cfb-too-long: the chain of \(what) is longer than \(cap) sectors")
                break
            }
            seen[Int(sector)] = true
            sectors.append(sector)
            sector = table[Int(sector)]
        }
        return sectors
    }

    /// The bytes of a chain of regular sectors, at most `size` of them.
    mutating func read(chainFrom start: UInt32, size: UInt64, what: String) -> [UInt8] {
        let needed = Int(min(size, UInt64(bytes.count)))
        let sectors = chain(from: start, in: fat, what: what, bound: needed / sectorSize + 1)
        var out: [UInt8] = []
        out.reserveCapacity(min(needed, sectors.count * sectorSize))
        for sector in sectors where out.count < needed {
            guard let offset = sectorOffset(sector) else {
                problem("cfb-truncated: sector \(sector) of \(what) past the end of the file")
                break
            }
            let wanted = min(sectorSize, needed - out.count)
            let available = min(wanted, bytes.count - offset)
            out.append(contentsOf: bytes[offset..<(offset + available)])
            if available < wanted {
                problem("cfb-truncated: \(what) runs past the end of the file")
                break
            }
        }
        return out
    }

    // MARK: Directory

    private mutating func readDirectory() {
        let first = u32(0x30) ?? CompoundFile.endOfChain
        let raw = read(chainFrom: first, size: UInt64(bytes.count), what: "the directory")
        let count = raw.count / 128
        entries.reserveCapacity(count)
        for index in 0..<count {
            let base = index * 128
            let nameLength = Int(CompoundFile.u16(raw, base + 0x40) ?? 0)
            var units: [UInt16] = []
            // The name's length counts its terminating NUL, in bytes; at most 32 UTF-16 units.
            for position in 0..<min(32, max(0, nameLength / 2 - 1)) {
                units.append(CompoundFile.u16(raw, base + 2 * position) ?? 0)
            }
            let kind = Entry.Kind(rawValue: raw[base + 0x42]) ?? .unallocated
            var size = UInt64(CompoundFile.u32(raw, base + 0x78) ?? 0)
            // Version 3 files may leave junk in the size's high half ([MS-CFB] 2.6.3).
            if majorVersion != 3 { size |= UInt64(CompoundFile.u32(raw, base + 0x7C) ?? 0) << 32 }
            entries.append(
                Entry(
                    name: String(decoding: units, as: UTF16.self),
                    kind: kind,
                    left: CompoundFile.u32(raw, base + 0x44) ?? CompoundFile.noStream,
                    right: CompoundFile.u32(raw, base + 0x48) ?? CompoundFile.noStream,
                    child: CompoundFile.u32(raw, base + 0x4C) ?? CompoundFile.noStream,
                    start: CompoundFile.u32(raw, base + 0x74) ?? CompoundFile.endOfChain,
                    size: size
                )
            )
        }
        if entries.first?.kind != .root { problem("cfb-bad-directory: the first directory entry is not the root") }
    }

    private mutating func readMiniStructures() {
        let first = u32(0x3C) ?? CompoundFile.endOfChain
        let count = UInt64(u32(0x40) ?? 0)
        if first <= CompoundFile.maxRegularSector {
            let raw = read(chainFrom: first, size: max(count, 1) * UInt64(sectorSize), what: "the mini FAT")
            miniFat = (0..<(raw.count / 4)).map { CompoundFile.u32(raw, 4 * $0) ?? CompoundFile.freeSector }
        }
        guard let root = entries.first, root.kind == .root, root.start <= CompoundFile.maxRegularSector else { return }
        var size = root.size
        if size > UInt64(bytes.count) {
            problem("cfb-stream-size: the mini stream declares \(size) bytes in a file of \(bytes.count)")
            size = UInt64(bytes.count)
        }
        miniStream = read(chainFrom: root.start, size: size, what: "the mini stream")
    }

    /// The indices of the entries directly under the root storage, by walking its tree without recursion.
    func rootChildren() -> [Int] {
        guard let root = entries.first else { return [] }
        var found: [Int] = []
        var stack: [UInt32] = [root.child]
        var seen = [Bool](repeating: false, count: entries.count)
        while let id = stack.popLast() {
            guard Int(id) < entries.count, !seen[Int(id)] else { continue }
            seen[Int(id)] = true
            let entry = entries[Int(id)]
            found.append(Int(id))
            stack.append(entry.left)
            stack.append(entry.right)
        }
        return found
    }

    /// The entry of the stream named `name` (case-insensitive) directly under the root.
    func streamEntry(named name: String) -> Int? {
        let wanted = name.uppercased()
        return rootChildren().first { entries[$0].kind == .stream && entries[$0].name.uppercased() == wanted }
    }

    func hasStream(named name: String) -> Bool { streamEntry(named: name) != nil }

    /// The bytes of the stream named `name` under the root, or nil when there is none. A stream
    /// shorter than its declared size comes back as far as it goes, with a problem.
    mutating func stream(named name: String) -> [UInt8]? {
        guard let index = streamEntry(named: name) else { return nil }
        let entry = entries[index]
        var size = entry.size
        if size > UInt64(bytes.count) {
            problem("cfb-stream-size: stream \(entry.name) declares \(size) bytes in a file of \(bytes.count)")
            size = UInt64(bytes.count)
        }
        let data: [UInt8]
        if size < miniStreamCutoff {
            data = readMini(from: entry.start, size: Int(size), what: "stream \(entry.name)")
        } else {
            data = read(chainFrom: entry.start, size: size, what: "stream \(entry.name)")
        }
        if data.count < Int(size) {
            problem("cfb-short-stream: stream \(entry.name) holds \(data.count) of its \(size) bytes")
        }
        return data
    }

    private mutating func readMini(from start: UInt32, size: Int, what: String) -> [UInt8] {
        let sectors = chain(from: start, in: miniFat, what: what, bound: size / miniSectorSize + 1)
        var out: [UInt8] = []
        out.reserveCapacity(size)
        for sector in sectors where out.count < size {
            let offset = Int(sector) * miniSectorSize
            guard offset < miniStream.count else {
                problem("cfb-bad-sector: mini sector \(sector) of \(what) past the mini stream")
                break
            }
            out.append(contentsOf: miniStream[offset..<min(offset + miniSectorSize, miniStream.count, offset + size - out.count)])
        }
        return out
    }
}
