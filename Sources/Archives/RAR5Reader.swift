/// Lists a RAR 5.0 archive from its headers.
///
/// - SeeAlso: RAR 5.0 archive format (rarlab.com/technote.htm): general header layout, header types
///   1 main, 2 file, 3 service, 4 archive encryption, 5 end; file extra record 0x01 (encryption).
enum RAR5Reader {
    static let signature: [UInt8] = [0x52, 0x61, 0x72, 0x21, 0x1A, 0x07, 0x01, 0x00]

    private enum HeaderType {
        static let main: UInt64 = 1
        static let file: UInt64 = 2
        static let service: UInt64 = 3
        static let encryption: UInt64 = 4
        static let end: UInt64 = 5
    }

    private enum HeaderFlag {
        static let extraArea: UInt64 = 0x0001
        static let dataArea: UInt64 = 0x0002
    }

    private enum FileFlag {
        static let directory: UInt64 = 0x0001
        static let modificationTime: UInt64 = 0x0002
        static let crc: UInt64 = 0x0004
        static let unknownSize: UInt64 = 0x0008
    }

    /// The technote caps a header (after the CRC and size fields) at 2 MB.
    private static let maxHeaderSize: UInt64 = 2 << 20

    static func list(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits) -> ArchiveListing? {
        guard bytes.matches(signature, at: 0) else { return nil }
        var listing = ArchiveListing(format: .rar5)
        var cursor = ArchiveCursor(bytes, offset: signature.count)
        var sawHeader = false
        while true {
            guard cursor.skip(4),  // header CRC-32
                let headerSize = cursor.vint(), headerSize > 0, headerSize <= maxHeaderSize,
                let body = cursor.take(headerSize)
            else {
                listing.truncated = true
                break
            }
            var header = ArchiveCursor(body)
            guard let type = header.vint(), let flags = header.vint() else {
                listing.truncated = true
                break
            }
            sawHeader = true
            var extraSize: UInt64 = 0
            var dataSize: UInt64 = 0
            if flags & HeaderFlag.extraArea != 0 {
                guard let value = header.vint() else {
                    listing.truncated = true
                    break
                }
                extraSize = value
            }
            if flags & HeaderFlag.dataArea != 0 {
                guard let value = header.vint() else {
                    listing.truncated = true
                    break
                }
                dataSize = value
            }

            switch type {
            case HeaderType.encryption:
                // All later headers are AES-256 encrypted: the file list is hidden.
                listing.headersEncrypted = true
                listing.headerEncryption = "RAR 5 AES-256"
                return listing
            case HeaderType.file:
                guard listing.members.count < limits.maxMembers else {
                    listing.truncated = true
                    return listing
                }
                guard extraSize <= UInt64(body.count),
                    var member = fileHeader(&header, extra: UnsafeRawBufferPointer(rebasing: body[(body.count - Int(extraSize))...]))
                else {
                    listing.truncated = true
                    return listing
                }
                if flags & HeaderFlag.dataArea != 0 { member.compressedSize = dataSize }
                listing.members.append(member)
            case HeaderType.end:
                return listing
            default:
                break  // main archive header, service headers (comments, ACLs, streams, recovery)
            }
            guard cursor.skip(dataSize) else {
                listing.truncated = true
                break
            }
        }
        return sawHeader ? listing : nil
    }

    /// File header fields after the general ones; `extra` is the header's trailing extra area.
    private static func fileHeader(_ header: inout ArchiveCursor, extra: UnsafeRawBufferPointer) -> ArchiveMember? {
        guard let fileFlags = header.vint(),
            let unpackedSize = header.vint(),
            header.vint() != nil  // attributes
        else { return nil }
        if fileFlags & FileFlag.modificationTime != 0 { guard header.skip(4) else { return nil } }
        if fileFlags & FileFlag.crc != 0 { guard header.skip(4) else { return nil } }
        guard header.vint() != nil,  // compression information
            header.vint() != nil,  // host OS
            let nameLength = header.vint(),
            let name = header.take(nameLength)
        else { return nil }

        var encryption: String? = nil
        var records = ArchiveCursor(extra)
        while let size = records.vint(), size > 0, let record = records.take(size) {
            var fields = ArchiveCursor(record)
            guard let type = fields.vint() else { break }
            if type == 0x01 {
                // File encryption record: version 0 is AES-256 (the only one defined).
                let version = fields.vint() ?? 0
                encryption = version == 0 ? "RAR 5 AES-256" : "RAR 5 encryption v\(version)"
            }
        }
        let isDirectory = fileFlags & FileFlag.directory != 0
        return ArchiveMember(
            name: ArchiveText.utf8(name),
            size: fileFlags & FileFlag.unknownSize != 0 ? nil : (isDirectory ? 0 : unpackedSize),
            compressedSize: nil,
            isDirectory: isDirectory,
            encryption: encryption
        )
    }
}

extension ArchiveCursor {
    /// RAR 5 variable-length integer: 7 bits a byte, low bits first, high bit set on all but the last.
    mutating func vint() -> UInt64? {
        var value: UInt64 = 0
        for i in 0..<10 {
            guard let byte = u8() else { return nil }
            value |= UInt64(byte & 0x7F) << (7 * UInt64(i))
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}
