internal import CLZMA

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists a 7z archive from its (possibly LZMA-packed) header.
///
/// An AES coder in the folder that packs the header means the file list is hidden (`-mhe=on`);
/// an AES coder in a data folder marks that folder's files "7zAES".
///
/// - SeeAlso: 7-Zip `DOC/7zFormat.txt`.
enum SevenZipReader {
    static let signature: [UInt8] = [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]

    static let aesMethod: UInt64 = 0x06F1_0701
    static let lzmaMethod: UInt64 = 0x03_0101
    static let lzma2Method: UInt64 = 0x21
    static let copyMethod: UInt64 = 0x00

    static func list(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits) -> ArchiveListing? {
        guard bytes.count >= 32, bytes.matches(signature, at: 0),
            let nextOffset = bytes.le(UInt64.self, at: 12),
            let nextSize = bytes.le(UInt64.self, at: 20)
        else { return nil }
        if nextSize == 0 { return ArchiveListing(format: .sevenZip) }  // an archive with nothing in it
        let available = UInt64(bytes.count - 32)
        guard nextOffset <= available, nextSize <= available - nextOffset else { return nil }
        let start = 32 + Int(nextOffset)
        let header = UnsafeRawBufferPointer(rebasing: bytes[start..<start + Int(nextSize)])
        return listHeader(header, archive: bytes, depth: 0, limits: limits)
    }

    /// Parses a plain header, or unpacks an encoded one and parses the plain header it must hold
    /// (7-Zip itself accepts one level).
    private static func listHeader(
        _ header: UnsafeRawBufferPointer,
        archive: UnsafeRawBufferPointer,
        depth: Int,
        limits: ArchiveLimits
    ) -> ArchiveListing? {
        var listing = ArchiveListing(format: .sevenZip)
        var parser = SevenZipParser(header, limits: limits)
        do throws(SevenZipParser.Stop) {
            switch try parser.number() {
            case SevenZipParser.ID.header:
                try parser.header(into: &listing)
                return listing
            case SevenZipParser.ID.encodedHeader where depth == 0:
                let streams = try parser.streamsInfo()
                guard let folder = streams.folders.first else { throw .damaged }
                if folder.isEncrypted {
                    listing.headersEncrypted = true
                    listing.headerEncryption = "7zAES"
                    return listing
                }
                guard let decoded = unpackHeader(folder, streams, archive: archive, limits: limits) else {
                    throw .unsupported
                }
                let inner = decoded.withUnsafeBytes {
                    listHeader($0, archive: archive, depth: depth + 1, limits: limits)
                }
                return inner ?? ArchiveListing(format: .sevenZip, truncated: true)
            default:
                throw .damaged
            }
        } catch {
            // Nothing readable at the top: not a usable archive. Deeper down, say what was found.
            if error == .damaged && depth == 0 && listing.members.isEmpty { return nil }
            listing.truncated = true
            return listing
        }
    }

    /// Inflates the packed header: a single Copy, LZMA or LZMA2 coder, capped at `maxHeaderBytes`.
    private static func unpackHeader(
        _ folder: SevenZipParser.Folder,
        _ streams: SevenZipParser.StreamsInfo,
        archive: UnsafeRawBufferPointer,
        limits: ArchiveLimits
    ) -> [UInt8]? {
        guard folder.coders.count == 1, let coder = folder.coders.first,
            let packSize = streams.packSizes.first,
            let unpackSize = folder.unpackSize
        else { return nil }
        let available = UInt64(archive.count - 32)
        guard streams.packPosition <= available, packSize <= available - streams.packPosition else { return nil }
        let start = 32 + Int(streams.packPosition)
        let packed = UnsafeRawBufferPointer(rebasing: archive[start..<start + Int(packSize)])
        let outputSize = Int(min(unpackSize, UInt64(max(limits.maxHeaderBytes, 0))))
        switch coder.method {
        case copyMethod:
            return Array(packed.prefix(outputSize))
        case lzmaMethod, lzma2Method:
            return LZMARawDecoder.decode(
                lzma2: coder.method == lzma2Method,
                properties: coder.properties,
                input: packed,
                outputSize: outputSize
            )
        default:
            return nil
        }
    }
}

/// liblzma's raw decoder for the LZMA and LZMA2 streams 7z stores without a container.
enum LZMARawDecoder {
    /// `LZMA_FILTER_LZMA1` and `LZMA_FILTER_LZMA2`; the C macros are not imported.
    private static let lzma1Filter: UInt64 = 0x4000_0000_0000_0001
    private static let lzma2Filter: UInt64 = 0x21
    private static let filterTerminator: UInt64 = .max  // LZMA_VLI_UNKNOWN

    /// Decodes up to `outputSize` bytes; `nil` when the stream is damaged before that.
    static func decode(lzma2: Bool, properties: [UInt8], input: UnsafeRawBufferPointer, outputSize: Int) -> [UInt8]? {
        guard outputSize > 0 else { return [] }
        guard let inputBase = input.baseAddress else { return nil }
        var filter = lzma_filter()
        filter.id = lzma2 ? lzma2Filter : lzma1Filter
        let status = properties.withUnsafeBufferPointer {
            lzma_properties_decode(&filter, nil, $0.baseAddress, $0.count)
        }
        guard status == LZMA_OK, let options = filter.options else { return nil }
        defer { free(options) }
        // The dictionary is allocated up front from a declared size: never larger than the output.
        let lzmaOptions = options.assumingMemoryBound(to: lzma_options_lzma.self)
        let dictionaryCap = UInt32(clamping: max(outputSize, 4096))
        lzmaOptions.pointee.dict_size = min(lzmaOptions.pointee.dict_size, dictionaryCap)

        var filters = [filter, lzma_filter(id: filterTerminator, options: nil)]
        var stream = CLZMA_streamInit()
        guard lzma_raw_decoder(&stream, &filters) == LZMA_OK else { return nil }
        defer { lzma_end(&stream) }

        var output = [UInt8](repeating: 0, count: outputSize)
        let produced = output.withUnsafeMutableBufferPointer { out -> Int? in
            stream.next_in = inputBase.assumingMemoryBound(to: UInt8.self)
            stream.avail_in = input.count
            stream.next_out = out.baseAddress
            stream.avail_out = out.count
            while stream.avail_out > 0 {
                let action = stream.avail_in == 0 ? LZMA_FINISH : LZMA_RUN
                let result = lzma_code(&stream, action)
                if result == LZMA_STREAM_END { break }
                guard result == LZMA_OK else { return nil }
                if stream.avail_in == 0 && action == LZMA_FINISH { return nil }
            }
            return out.count - stream.avail_out
        }
        guard let produced else { return nil }
        return produced == outputSize ? output : Array(output.prefix(produced))
    }
}

/// A reader of 7z property records; every count is checked against the bytes that remain.
struct SevenZipParser {
    enum Stop: Error, Equatable {
        case damaged
        case unsupported
        case tooMany
    }

    enum ID {
        static let end: UInt64 = 0x00
        static let header: UInt64 = 0x01
        static let archiveProperties: UInt64 = 0x02
        static let additionalStreamsInfo: UInt64 = 0x03
        static let mainStreamsInfo: UInt64 = 0x04
        static let filesInfo: UInt64 = 0x05
        static let packInfo: UInt64 = 0x06
        static let unpackInfo: UInt64 = 0x07
        static let subStreamsInfo: UInt64 = 0x08
        static let size: UInt64 = 0x09
        static let crc: UInt64 = 0x0A
        static let folder: UInt64 = 0x0B
        static let codersUnpackSize: UInt64 = 0x0C
        static let numUnpackStream: UInt64 = 0x0D
        static let emptyStream: UInt64 = 0x0E
        static let emptyFile: UInt64 = 0x0F
        static let name: UInt64 = 0x11
        static let winAttributes: UInt64 = 0x15
        static let encodedHeader: UInt64 = 0x17
    }

    struct Coder {
        var method: UInt64
        var inStreams: Int
        var outStreams: Int
        /// Kept only when short (LZMA 5 bytes, LZMA2 1 byte); other coders' properties are skipped.
        var properties: [UInt8]
    }

    struct Folder {
        var coders: [Coder] = []
        var boundOutStreams: Set<Int> = []
        var packedStreamCount = 1
        var outStreamCount = 0
        var unpackSizes: [UInt64] = []
        var hasCRC = false
        var substreams: UInt64 = 1
        var isEncrypted: Bool { coders.contains { $0.method == SevenZipReader.aesMethod } }
        /// The size of the one out stream no bind pair consumes.
        var unpackSize: UInt64? {
            let main = (0..<outStreamCount).last { !boundOutStreams.contains($0) }
            return main.flatMap { $0 < unpackSizes.count ? unpackSizes[$0] : nil }
        }
    }

    struct StreamsInfo {
        var packPosition: UInt64 = 0
        /// The first few pack sizes (enough for `limits.maxMembers` files); the rest are skipped.
        var packSizes: [UInt64] = []
        var folders: [Folder] = []
        /// Sizes of the first substreams, in order; at most `maxMembers + 1` kept.
        var substreamSizes: [UInt64] = []
    }

    /// A bit vector left in the header bytes, most significant bit first.
    struct Bits {
        var bytes: UnsafeRawBufferPointer
        var count: UInt64
        subscript(_ index: UInt64) -> Bool {
            guard index < count else { return false }
            return bytes[Int(index / 8)] & (0x80 >> UInt8(index % 8)) != 0
        }
        var setCount: UInt64 {
            var total: UInt64 = 0
            let fullBytes = Int(count / 8)
            for i in 0..<fullBytes { total += UInt64(bytes[i].nonzeroBitCount) }
            for i in UInt64(fullBytes * 8)..<count where self[i] { total += 1 }
            return total
        }
    }

    private var cursor: ArchiveCursor
    private let limits: ArchiveLimits
    private var keep: Int { max(limits.maxMembers, 0) + 1 }

    init(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits) {
        self.cursor = ArchiveCursor(bytes)
        self.limits = limits
    }

    // MARK: Primitives

    mutating func byte() throws(Stop) -> UInt8 {
        guard let value = cursor.u8() else { throw .damaged }
        return value
    }

    /// 7z "UINT64": the leading one bits of the first byte count the little-endian bytes that follow.
    mutating func number() throws(Stop) -> UInt64 {
        let first = try byte()
        var mask: UInt8 = 0x80
        var value: UInt64 = 0
        for i in 0..<8 {
            if first & mask == 0 {
                let high = UInt64(first & (mask &- 1))
                return value | (high << (8 * UInt64(i)))
            }
            value |= UInt64(try byte()) << (8 * UInt64(i))
            mask >>= 1
        }
        return value
    }

    /// A count that must fit in `limit` (and so in memory) before anything is sized by it.
    mutating func count(atMost limit: Int, else stop: Stop = .damaged) throws(Stop) -> Int {
        let value = try number()
        guard value <= UInt64(max(limit, 0)) else { throw stop }
        return Int(value)
    }

    mutating func skipData() throws(Stop) {
        let size = try number()
        guard cursor.skip(size) else { throw .damaged }
    }

    mutating func bits(_ count: UInt64) throws(Stop) -> Bits {
        let byteCount = count / 8 + (count % 8 == 0 ? 0 : 1)
        guard let data = cursor.take(byteCount) else { throw .damaged }
        return Bits(bytes: data, count: count)
    }

    /// `AllAreDefined` byte, optional bit vector, then a CRC-32 per defined item; returns the defined set.
    mutating func digests(_ count: UInt64) throws(Stop) -> Bits? {
        let allDefined = try byte()
        var defined: UInt64 = count
        var vector: Bits? = nil
        if allDefined == 0 {
            let bits = try bits(count)
            defined = bits.setCount
            vector = bits
        }
        guard defined <= UInt64(cursor.remaining) / 4, cursor.skip(defined * 4) else { throw .damaged }
        return vector
    }

    // MARK: Header

    mutating func header(into listing: inout ArchiveListing) throws(Stop) {
        var id = try number()
        if id == ID.archiveProperties {
            while try number() != ID.end { try skipData() }
            id = try number()
        }
        if id == ID.additionalStreamsInfo {
            _ = try streamsInfo()
            id = try number()
        }
        var streams = StreamsInfo()
        if id == ID.mainStreamsInfo {
            streams = try streamsInfo()
            id = try number()
        }
        if id == ID.filesInfo {
            try filesInfo(streams, into: &listing)
            id = try number()
        } else if !streams.folders.isEmpty {
            throw .damaged  // data without a file list
        }
        guard id == ID.end else { throw .damaged }
    }

    mutating func streamsInfo() throws(Stop) -> StreamsInfo {
        var info = StreamsInfo()
        var id = try number()
        if id == ID.packInfo {
            try packInfo(into: &info)
            id = try number()
        }
        if id == ID.unpackInfo {
            try unpackInfo(into: &info)
            id = try number()
        }
        if id == ID.subStreamsInfo {
            try subStreamsInfo(into: &info)
            id = try number()
        } else {
            for folder in info.folders where info.substreamSizes.count < keep {
                info.substreamSizes.append(folder.unpackSize ?? 0)
            }
        }
        guard id == ID.end else { throw .damaged }
        return info
    }

    private mutating func packInfo(into info: inout StreamsInfo) throws(Stop) {
        info.packPosition = try number()
        let streams = try number()
        var id = try number()
        while id != ID.end {
            switch id {
            case ID.size:
                var index: UInt64 = 0
                while index < streams {
                    let size = try number()
                    if info.packSizes.count < keep + 64 { info.packSizes.append(size) }
                    index += 1
                }
            case ID.crc:
                _ = try digests(streams)
            default:
                try skipData()
            }
            id = try number()
        }
    }

    private mutating func unpackInfo(into info: inout StreamsInfo) throws(Stop) {
        guard try number() == ID.folder else { throw .damaged }
        let folderCount = try count(atMost: limits.maxMembers, else: .tooMany)
        guard try byte() == 0 else { throw .unsupported }  // folders stored in another stream
        for _ in 0..<folderCount { info.folders.append(try folder()) }

        var id = try number()
        while id != ID.codersUnpackSize {
            guard id != ID.end else { throw .damaged }
            try skipData()
            id = try number()
        }
        for f in info.folders.indices {
            for _ in 0..<info.folders[f].outStreamCount { info.folders[f].unpackSizes.append(try number()) }
        }
        id = try number()
        while id != ID.end {
            if id == ID.crc {
                let defined = try digests(UInt64(folderCount))
                for f in info.folders.indices { info.folders[f].hasCRC = defined?[UInt64(f)] ?? true }
            } else {
                try skipData()
            }
            id = try number()
        }
    }

    private mutating func folder() throws(Stop) -> Folder {
        var folder = Folder()
        let coderCount = try count(atMost: 64)
        guard coderCount > 0 else { throw .damaged }
        var inTotal = 0
        for _ in 0..<coderCount {
            let flags = try byte()
            let idSize = Int(flags & 0x0F)
            guard idSize <= 8, flags & 0x80 == 0, let id = cursor.take(idSize) else { throw .unsupported }
            let method = id.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            var coder = Coder(method: method, inStreams: 1, outStreams: 1, properties: [])
            if flags & 0x10 != 0 {
                coder.inStreams = try count(atMost: 64)
                coder.outStreams = try count(atMost: 64)
            }
            if flags & 0x20 != 0 {
                let size = try number()
                guard let properties = cursor.take(size) else { throw .damaged }
                if properties.count <= 16 { coder.properties = Array(properties) }
            }
            inTotal += coder.inStreams
            folder.outStreamCount += coder.outStreams
            folder.coders.append(coder)
        }
        guard inTotal <= 64, folder.outStreamCount >= 1, folder.outStreamCount <= 64 else { throw .damaged }
        let bindPairs = folder.outStreamCount - 1
        for _ in 0..<bindPairs {
            _ = try count(atMost: inTotal - 1)
            folder.boundOutStreams.insert(try count(atMost: folder.outStreamCount - 1))
        }
        guard inTotal >= bindPairs + 1 else { throw .damaged }
        folder.packedStreamCount = inTotal - bindPairs
        if folder.packedStreamCount > 1 {
            for _ in 0..<folder.packedStreamCount { _ = try count(atMost: inTotal - 1) }
        }
        return folder
    }

    private mutating func subStreamsInfo(into info: inout StreamsInfo) throws(Stop) {
        var id = try number()
        while id != ID.size && id != ID.crc && id != ID.end {
            if id == ID.numUnpackStream {
                for f in info.folders.indices { info.folders[f].substreams = try number() }
            } else {
                try skipData()
            }
            id = try number()
        }
        // Sizes: each folder lists all but its last substream; the last is what remains.
        for folder in info.folders {
            guard folder.substreams > 0 else { continue }
            let total = folder.unpackSize ?? 0
            var sum: UInt64 = 0
            if id == ID.size {
                var index: UInt64 = 1
                while index < folder.substreams {
                    let size = try number()
                    if info.substreamSizes.count < keep { info.substreamSizes.append(size) }
                    sum = sum &+ size
                    index += 1
                }
            } else if folder.substreams > 1 {
                throw .damaged
            }
            if info.substreamSizes.count < keep { info.substreamSizes.append(total >= sum ? total - sum : 0) }
        }
        if id == ID.size { id = try number() }

        while id != ID.end {
            if id == ID.crc {
                // One digest per substream, except a folder of one whose folder CRC already covers it.
                var digestCount: UInt64 = 0
                for folder in info.folders where !(folder.substreams == 1 && folder.hasCRC) {
                    let (sum, overflow) = digestCount.addingReportingOverflow(folder.substreams)
                    guard !overflow else { throw .damaged }
                    digestCount = sum
                }
                _ = try digests(digestCount)
            } else {
                try skipData()
            }
            id = try number()
        }
    }

    // MARK: Files

    private mutating func filesInfo(_ streams: StreamsInfo, into listing: inout ArchiveListing) throws(Stop) {
        let fileCount = try number()
        let listed = Int(min(fileCount, UInt64(max(limits.maxMembers, 0))))
        if fileCount > UInt64(listed) { listing.truncated = true }

        var emptyStreams: Bits? = nil
        var emptyStreamCount: UInt64 = 0
        var emptyFiles: Bits? = nil
        var names: [String] = []
        var attributes: [UInt32?] = []

        while true {
            let type = try number()
            if type == ID.end { break }
            let size = try number()
            guard let data = cursor.take(size) else { throw .damaged }
            var property = SevenZipParser(data, limits: limits)
            switch type {
            case ID.emptyStream:
                let bits = try property.bits(fileCount)
                emptyStreams = bits
                emptyStreamCount = bits.setCount
            case ID.emptyFile:
                emptyFiles = try property.bits(emptyStreamCount)
            case ID.name:
                guard try property.byte() == 0 else { break }  // names in another stream: unsupported
                names = property.names(listed)
            case ID.winAttributes:
                attributes = try property.attributes(fileCount, listed: listed)
            default:
                break  // times, anti items, start positions, kDummy padding
            }
        }

        // Map files with data, in order, onto folders' substreams.
        var folderIndex = 0
        var packIndex = 0  // the first pack stream of `folderIndex`
        var usedInFolder: UInt64 = 0
        var substream = 0
        var emptyIndex: UInt64 = 0
        for i in 0..<listed {
            let index = UInt64(i)
            var member = ArchiveMember(name: i < names.count ? names[i] : "")
            let attribute = i < attributes.count ? attributes[i] : nil
            if emptyStreams?[index] == true {
                member.isDirectory = !(emptyFiles?[emptyIndex] ?? false)
                member.size = 0
                emptyIndex += 1
            } else {
                while folderIndex < streams.folders.count, usedInFolder >= streams.folders[folderIndex].substreams {
                    packIndex += streams.folders[folderIndex].packedStreamCount
                    folderIndex += 1
                    usedInFolder = 0
                }
                guard folderIndex < streams.folders.count else {
                    listing.truncated = true  // more files with data than streams
                    break
                }
                let folder = streams.folders[folderIndex]
                member.size = substream < streams.substreamSizes.count ? streams.substreamSizes[substream] : nil
                if folder.isEncrypted { member.encryption = "7zAES" }
                if folder.substreams == 1, folder.packedStreamCount == 1 {
                    member.compressedSize = packIndex < streams.packSizes.count ? streams.packSizes[packIndex] : nil
                }
                usedInFolder += 1
                substream += 1
            }
            if let attribute {
                // FILE_ATTRIBUTE_DIRECTORY, or a Unix S_IFDIR mode in the high half (0x8000 extension).
                let unixDirectory = attribute & 0x8000 != 0 && (attribute >> 16) & 0xF000 == 0x4000
                if attribute & 0x10 != 0 || unixDirectory { member.isDirectory = true }
            }
            listing.members.append(member)
        }
    }

    /// NUL-terminated UTF-16LE names for the first `listed` files.
    private mutating func names(_ listed: Int) -> [String] {
        var names: [String] = []
        var units: [UInt16] = []
        while names.count < listed, let unit = cursor.u16() {
            if unit == 0 {
                names.append(ArchiveText.utf16LE(units))
                units.removeAll(keepingCapacity: true)
            } else if units.count < 4096 {
                units.append(unit)
            }
        }
        return names
    }

    private mutating func attributes(_ fileCount: UInt64, listed: Int) throws(Stop) -> [UInt32?] {
        let allDefined = try byte()
        let defined: Bits? = allDefined == 0 ? try bits(fileCount) : nil
        guard try byte() == 0 else { return [] }  // external
        var result: [UInt32?] = []
        for i in 0..<listed {
            if defined?[UInt64(i)] ?? true {
                guard let value = cursor.u32() else { break }
                result.append(value)
            } else {
                result.append(nil)
            }
        }
        return result
    }
}
