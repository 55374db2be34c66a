/// Lists a ZIP archive from its central directory, falling back to local headers.
///
/// - SeeAlso: PKWARE APPNOTE.TXT 6.3.10, §4.3.7 (local header), §4.3.12 (central directory),
///   §4.3.14–16 (ZIP64 end of central directory), §4.5.3 (ZIP64 extra); WinZip AE-x (extra 0x9901).
enum ZipReader {
    static let localHeaderSignature: UInt32 = 0x0403_4B50
    static let centralHeaderSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let spanningSignature: UInt32 = 0x0807_4B50

    static func list(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits) -> ArchiveListing? {
        if let listing = listCentralDirectory(bytes, limits: limits) { return listing }
        return listLocalHeaders(bytes, limits: limits)
    }

    // MARK: Central directory

    private struct Directory {
        var offset: UInt64
        var size: UInt64
        var entries: UInt64
    }

    /// Tries each end-of-central-directory candidate from the end (the comment may hide a fake one).
    private static func listCentralDirectory(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits) -> ArchiveListing? {
        guard bytes.count >= 22 else { return nil }
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var candidate = bytes.count - 22
        var tried = 0
        while candidate >= lowest, tried < 16 {
            defer { candidate -= 1 }
            guard bytes.le(UInt32.self, at: candidate) == endSignature else { continue }
            tried += 1
            guard let directory = directory(endAt: candidate, in: bytes),
                let listing = walkCentralDirectory(bytes, directory, endAt: candidate, limits: limits)
            else { continue }
            return listing
        }
        return nil
    }

    private static func directory(endAt end: Int, in bytes: UnsafeRawBufferPointer) -> Directory? {
        guard let entries = bytes.le(UInt16.self, at: end + 10),
            let size = bytes.le(UInt32.self, at: end + 12),
            let offset = bytes.le(UInt32.self, at: end + 16),
            let commentLength = bytes.le(UInt16.self, at: end + 20),
            end + 22 + Int(commentLength) <= bytes.count
        else { return nil }
        var directory = Directory(offset: UInt64(offset), size: UInt64(size), entries: UInt64(entries))
        // ZIP64: the locator sits right before the classic record and points at the ZIP64 record.
        if end >= 20, bytes.le(UInt32.self, at: end - 20) == zip64LocatorSignature,
            let recordOffset = bytes.le(UInt64.self, at: end - 12)
        {
            var record: Int? = nil
            if recordOffset <= UInt64(bytes.count), bytes.le(UInt32.self, at: Int(recordOffset)) == zip64EndSignature {
                record = Int(recordOffset)
            } else if end >= 20 + 56, bytes.le(UInt32.self, at: end - 20 - 56) == zip64EndSignature {
                // Prepended data (self-extractor): the record usually ends right at the locator.
                record = end - 20 - 56
            }
            if let record,
                let entries64 = bytes.le(UInt64.self, at: record + 32),
                let size64 = bytes.le(UInt64.self, at: record + 40),
                let offset64 = bytes.le(UInt64.self, at: record + 48)
            {
                directory = Directory(offset: offset64, size: size64, entries: entries64)
            }
        }
        return directory
    }

    private static func walkCentralDirectory(
        _ bytes: UnsafeRawBufferPointer,
        _ directory: Directory,
        endAt end: Int,
        limits: ArchiveLimits
    ) -> ArchiveListing? {
        var start: Int
        if directory.offset <= UInt64(bytes.count),
            bytes.le(UInt32.self, at: Int(directory.offset)) == centralHeaderSignature
                || (directory.entries == 0 && directory.offset == UInt64(end))
        {
            start = Int(directory.offset)
        } else if directory.size <= UInt64(end), bytes.le(UInt32.self, at: end - Int(directory.size)) == centralHeaderSignature {
            // Prepended data shifts every offset; the directory still ends where the end record starts.
            start = end - Int(directory.size)
        } else if directory.entries == 0 {
            return ArchiveListing(format: .zip)
        } else {
            return nil
        }

        var listing = ArchiveListing(format: .zip)
        var cursor = ArchiveCursor(bytes, offset: start)
        // The declared count is only a hint (it wraps past 65535 without ZIP64): walk the signatures.
        while bytes.le(UInt32.self, at: cursor.offset) == centralHeaderSignature {
            guard listing.members.count < limits.maxMembers else {
                listing.truncated = true
                return listing
            }
            guard let member = centralEntry(&cursor) else {
                listing.truncated = true
                break
            }
            listing.members.append(member)
        }
        if UInt64(listing.members.count) < directory.entries { listing.truncated = true }
        if listing.members.isEmpty && directory.entries > 0 { return nil }
        return listing
    }

    /// One central directory file header (46 fixed bytes, then name, extra, comment).
    private static func centralEntry(_ cursor: inout ArchiveCursor) -> ArchiveMember? {
        guard cursor.u32() == centralHeaderSignature,
            cursor.skip(4),  // version made by, version needed
            let flags = cursor.u16(),
            let method = cursor.u16(),
            cursor.skip(8),  // time, date, CRC-32
            let compressed = cursor.u32(),
            let uncompressed = cursor.u32(),
            let nameLength = cursor.u16(),
            let extraLength = cursor.u16(),
            let commentLength = cursor.u16(),
            cursor.skip(12),  // disk start, internal attributes, external attributes, local header offset
            let name = cursor.take(nameLength),
            let extra = cursor.take(extraLength),
            cursor.skip(commentLength)
        else { return nil }
        return member(flags: flags, method: method, compressed: compressed, uncompressed: uncompressed, name: name, extra: extra)
    }

    // MARK: Local headers

    /// Walks local file headers from the start when the central directory is missing or damaged.
    private static func listLocalHeaders(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits) -> ArchiveListing? {
        var cursor = ArchiveCursor(bytes)
        if bytes.le(UInt32.self, at: 0) == spanningSignature { cursor.skip(4) }
        var listing = ArchiveListing(format: .zip)
        while bytes.le(UInt32.self, at: cursor.offset) == localHeaderSignature {
            guard listing.members.count < limits.maxMembers else {
                listing.truncated = true
                return listing
            }
            guard cursor.skip(4),
                cursor.skip(2),  // version needed
                let flags = cursor.u16(),
                let method = cursor.u16(),
                cursor.skip(8),  // time, date, CRC-32
                let compressed = cursor.u32(),
                let uncompressed = cursor.u32(),
                let nameLength = cursor.u16(),
                let extraLength = cursor.u16(),
                let name = cursor.take(nameLength),
                let extra = cursor.take(extraLength)
            else {
                listing.truncated = true
                break
            }
            var member = member(flags: flags, method: method, compressed: compressed, uncompressed: uncompressed, name: name, extra: extra)
            // Bit 3: sizes follow the data in a descriptor, so the next header cannot be found.
            if flags & 0x0008 != 0 && (member.compressedSize ?? 0) == 0 {
                member.size = nil
                member.compressedSize = nil
                listing.members.append(member)
                listing.truncated = true
                return listing
            }
            listing.members.append(member)
            guard let packed = member.compressedSize, cursor.skip(packed) else {
                listing.truncated = true
                break
            }
            if flags & 0x0008 != 0 {
                // Optional descriptor signature, CRC-32, then 4- or 8-byte sizes.
                if bytes.le(UInt32.self, at: cursor.offset) == spanningSignature { cursor.skip(4) }
                cursor.skip(member.compressedSize.map { $0 > 0xFFFF_FFFE } ?? false ? 20 : 12)
            }
        }
        if listing.members.isEmpty {
            // "PK\x05\x06" alone is a valid empty archive; anything else unreadable is not.
            return bytes.le(UInt32.self, at: 0) == endSignature ? listing : nil
        }
        if !cursor.isAtEnd, bytes.le(UInt32.self, at: cursor.offset) != centralHeaderSignature {
            listing.truncated = true
        } else if cursor.isAtEnd {
            listing.truncated = true  // no central directory at all
        }
        return listing
    }

    // MARK: Fields shared by both headers

    private static func member(
        flags: UInt16,
        method: UInt16,
        compressed: UInt32,
        uncompressed: UInt32,
        name rawName: UnsafeRawBufferPointer,
        extra: UnsafeRawBufferPointer
    ) -> ArchiveMember {
        var size = UInt64(uncompressed)
        var packed = UInt64(compressed)
        var aesStrength: UInt8? = nil
        var unicodeName: String? = nil
        var records = ArchiveCursor(extra)
        while let id = records.u16(), let length = records.u16(), let data = records.take(length) {
            switch id {
            case 0x0001:
                // ZIP64 extended information: only the fields whose 32-bit value is saturated, in order.
                var fields = ArchiveCursor(data)
                if uncompressed == 0xFFFF_FFFF, let value = fields.u64() { size = value }
                if compressed == 0xFFFF_FFFF, let value = fields.u64() { packed = value }
            case 0x9901:
                // WinZip AES: vendor version 2, vendor id "AE" 2, strength 1, actual method 2.
                aesStrength = data.count >= 5 ? data[4] : 0
            case 0x7075:
                // Info-ZIP Unicode Path: version 1, CRC-32 of the stored name 4, UTF-8 name.
                if data.count > 5, data[0] == 1 {
                    unicodeName = ArchiveText.utf8(UnsafeRawBufferPointer(rebasing: data[5...]))
                }
            default:
                break
            }
        }

        let name: String
        if flags & 0x0800 != 0 {
            name = ArchiveText.utf8(rawName)
        } else if let unicodeName {
            name = unicodeName
        } else if ArchiveText.isValidUTF8(rawName) {
            // Many tools store UTF-8 without setting bit 11; valid non-ASCII UTF-8 is rarely CP437 text.
            name = ArchiveText.utf8(rawName)
        } else {
            name = ArchiveText.cp437(rawName)
        }

        var encryption: String? = nil
        if flags & 0x0001 != 0 || method == 99 || aesStrength != nil {
            if method == 99 || aesStrength != nil {
                switch aesStrength {
                case 1: encryption = "WinZip AES-128"
                case 2: encryption = "WinZip AES-192"
                case 3: encryption = "WinZip AES-256"
                default: encryption = "WinZip AES"
                }
            } else if flags & 0x0040 != 0 {
                encryption = "PKWARE strong encryption"
            } else {
                encryption = "ZipCrypto"
            }
        }
        return ArchiveMember(
            name: name,
            size: size,
            compressedSize: packed,
            isDirectory: name.hasSuffix("/") || name.hasSuffix("\\"),
            encryption: encryption
        )
    }
}
