/// Lists a RAR 1.5–4.x archive from its block headers.
///
/// - SeeAlso: RAR 4.x technical note (unrar `technote.txt`): MAIN_HEAD 0x73 (`MHD_PASSWORD` 0x0080),
///   FILE_HEAD 0x74 (`LHD_PASSWORD` 0x0004, `LHD_LARGE` 0x0100, `LHD_UNICODE` 0x0200), ENDARC 0x7B.
enum RAR4Reader {
    static let signature: [UInt8] = [0x52, 0x61, 0x72, 0x21, 0x1A, 0x07, 0x00]

    private enum BlockType {
        static let main: UInt8 = 0x73
        static let file: UInt8 = 0x74
        static let end: UInt8 = 0x7B
    }

    private enum Flag {
        static let hasAddSize: UInt16 = 0x8000
        static let mainPassword: UInt16 = 0x0080
        static let filePassword: UInt16 = 0x0004
        static let fileLarge: UInt16 = 0x0100
        static let fileUnicode: UInt16 = 0x0200
        static let directoryMask: UInt16 = 0x00E0
    }

    static func list(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits) -> ArchiveListing? {
        guard bytes.matches(signature, at: 0) else { return nil }
        var listing = ArchiveListing(format: .rar4)
        var offset = signature.count
        var sawHeader = false
        while offset < bytes.count {
            guard let type = bytes.le(UInt8.self, at: offset + 2),
                let flags = bytes.le(UInt16.self, at: offset + 3),
                let headSize = bytes.le(UInt16.self, at: offset + 5),
                headSize >= 7, offset + Int(headSize) <= bytes.count
            else {
                listing.truncated = true
                break
            }
            let block = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(headSize)])
            var addSize: UInt64 = 0
            if flags & Flag.hasAddSize != 0, let low = block.le(UInt32.self, at: 7) { addSize = UInt64(low) }
            sawHeader = true

            switch type {
            case BlockType.main:
                if flags & Flag.mainPassword != 0 {
                    // Every block after this one is encrypted: the file list is unreadable.
                    listing.headersEncrypted = true
                    listing.headerEncryption = "RAR 3.x AES"
                    return listing
                }
            case BlockType.file:
                guard listing.members.count < limits.maxMembers else {
                    listing.truncated = true
                    return listing
                }
                guard let member = fileHeader(block, flags: flags) else {
                    listing.truncated = true
                    return listing
                }
                if flags & Flag.fileLarge != 0, let high = block.le(UInt32.self, at: 32) {
                    addSize |= UInt64(high) << 32
                }
                listing.members.append(member)
            case BlockType.end:
                return listing
            default:
                break  // comments, subblocks, recovery records, service headers (0x7A): skipped by size
            }

            let (next, overflow) = UInt64(offset).addingReportingOverflow(UInt64(headSize) &+ addSize)
            guard !overflow, next <= UInt64(bytes.count) else {
                listing.truncated = true
                break
            }
            offset = Int(next)
        }
        // Without an end block a volume may simply continue elsewhere; say the list may be partial.
        if offset >= bytes.count, !listing.truncated { listing.truncated = true }
        return sawHeader ? listing : nil
    }

    /// FILE_HEAD fields after the 7-byte block header.
    private static func fileHeader(_ block: UnsafeRawBufferPointer, flags: UInt16) -> ArchiveMember? {
        var cursor = ArchiveCursor(block, offset: 7)
        guard let packSize = cursor.u32(),
            let unpackSize = cursor.u32(),
            cursor.skip(1 + 4 + 4 + 1 + 1),  // host OS, file CRC, time, unpack version, method
            let nameSize = cursor.u16(),
            cursor.skip(4)  // attributes
        else { return nil }
        var packed = UInt64(packSize)
        var size = UInt64(unpackSize)
        if flags & Flag.fileLarge != 0 {
            guard let highPack = cursor.u32(), let highUnpack = cursor.u32() else { return nil }
            packed |= UInt64(highPack) << 32
            size |= UInt64(highUnpack) << 32
        }
        guard let rawName = cursor.take(nameSize) else { return nil }
        let name = flags & Flag.fileUnicode != 0 ? unicodeName(rawName) : ArchiveText.utf8OrCP437(rawName)
        let isDirectory = flags & Flag.directoryMask == Flag.directoryMask
        return ArchiveMember(
            name: name,
            size: isDirectory ? 0 : size,
            compressedSize: packed,
            isDirectory: isDirectory,
            encryption: flags & Flag.filePassword != 0 ? "RAR 3.x AES" : nil
        )
    }

    /// `LHD_UNICODE` names: "ascii\0encoded" in RAR's compact UTF-16 scheme, or plain UTF-8 without a NUL.
    ///
    /// - SeeAlso: unrar `unicode.cpp`, `DecodeFileName`.
    static func unicodeName(_ raw: UnsafeRawBufferPointer) -> String {
        guard let zero = raw.firstIndex(of: 0) else { return ArchiveText.utf8(raw) }
        let ascii = UnsafeRawBufferPointer(rebasing: raw[..<zero])
        let encoded = UnsafeRawBufferPointer(rebasing: raw[(zero + 1)...])
        func plain(_ i: Int) -> UInt16 { i < raw.count ? UInt16(raw[i]) : 0 }

        let maxLength = 2048
        var units: [UInt16] = []
        var position = 0
        guard !encoded.isEmpty else { return ArchiveText.utf8OrCP437(ascii) }
        let highByte = UInt16(encoded[position]) << 8
        position += 1
        var flags: UInt8 = 0
        var flagBits = 0
        while position < encoded.count, units.count < maxLength {
            if flagBits == 0 {
                flags = encoded[position]
                position += 1
                flagBits = 8
            }
            switch flags >> 6 {
            case 0:
                guard position < encoded.count else { break }
                units.append(UInt16(encoded[position]))
                position += 1
            case 1:
                guard position < encoded.count else { break }
                units.append(UInt16(encoded[position]) | highByte)
                position += 1
            case 2:
                guard position + 1 < encoded.count else {
                    position = encoded.count
                    break
                }
                units.append(UInt16(encoded[position]) | UInt16(encoded[position + 1]) << 8)
                position += 2
            default:
                guard position < encoded.count else { break }
                let length = encoded[position]
                position += 1
                if length & 0x80 != 0 {
                    guard position < encoded.count else { break }
                    let correction = encoded[position]
                    position += 1
                    for _ in 0..<(Int(length & 0x7F) + 2) where units.count < maxLength {
                        let byte = UInt8(truncatingIfNeeded: plain(units.count)) &+ correction
                        units.append(UInt16(byte) | highByte)
                    }
                } else {
                    for _ in 0..<(Int(length) + 2) where units.count < maxLength {
                        units.append(plain(units.count))
                    }
                }
            }
            flags <<= 2
            flagBits -= 2
        }
        if let end = units.firstIndex(of: 0) { units.removeSubrange(end...) }
        return units.isEmpty ? ArchiveText.utf8OrCP437(ascii) : ArchiveText.utf16LE(units)
    }
}
