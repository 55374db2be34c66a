import Foundation
import FuzzSupport
import TestFixtures
import Testing

@testable import Archives

/// Real archives built at test time with the system tools, and RAR bytes built by hand.
typealias ArchiveFixture = ToolFixture

extension ToolFixture {
    static let zipTool = "/usr/bin/zip"
    static let sevenZipTool = "/usr/bin/7z"

    /// Writes `files` (path → contents), runs `tool` with `arguments`, returns the archive's bytes.
    static func archive(
        _ tool: String,
        _ arguments: [String],
        output: String,
        files: [(String, String)]
    ) throws -> [UInt8] {
        try withDirectory { directory in
            for (path, contents) in files { try write(contents, path, in: directory) }
            try run(tool, arguments, in: directory)
            return try bytes(output, in: directory)
        }
    }

    static func list(_ bytes: [UInt8], limits: ArchiveLimits = .init()) -> ArchiveListing? {
        ArchiveReader.list(bytes, limits: limits)
    }

    static func member(_ listing: ArchiveListing?, _ name: String) -> ArchiveMember? {
        listing?.members.first { $0.name == name }
    }
}

/// CRC-32 (IEEE, reflected) for hand-built RAR headers.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// A RAR 5 variable-length integer.
    mutating func appendVInt(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        append(UInt8(value))
    }

    func writingLE<T: FixedWidthInteger>(_ value: T, at offset: Int) -> [UInt8] {
        var copy = self
        Swift.withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { copy[offset + i] = byte }
        }
        return copy
    }

    /// The offset of the last occurrence of `pattern`.
    func lastOffset(of pattern: [UInt8]) -> Int? {
        guard count >= pattern.count else { return nil }
        return stride(from: count - pattern.count, through: 0, by: -1).first {
            Array(self[$0..<$0 + pattern.count]) == pattern
        }
    }
}

/// Hand-built RAR 4.x archives (no RAR tool in Debian main), per unrar's technote.txt.
enum RAR4Builder {
    struct File {
        var name: [UInt8]
        var data: [UInt8] = []
        var flags: UInt16 = 0
        var attributes: UInt32 = 0x20
    }

    static func block(type: UInt8, flags: UInt16, fields: [UInt8]) -> [UInt8] {
        var body: [UInt8] = [type]
        body.appendLE(flags)
        body.appendLE(UInt16(7 + fields.count))
        body += fields
        var block: [UInt8] = []
        block.appendLE(UInt16(truncatingIfNeeded: crc32(body)))
        return block + body
    }

    static func archive(mainFlags: UInt16 = 0, files: [File], end: Bool = true) -> [UInt8] {
        var bytes = RAR4Reader.signature
        bytes += block(type: 0x73, flags: mainFlags, fields: [UInt8](repeating: 0, count: 6))
        for file in files {
            var fields: [UInt8] = []
            fields.appendLE(UInt32(file.data.count))  // PACK_SIZE
            fields.appendLE(UInt32(file.data.count))  // UNP_SIZE
            fields.append(2)  // HOST_OS: Win32
            fields.appendLE(crc32(file.data))
            fields.appendLE(UInt32(0x5A21_0000))  // FTIME
            fields.append(29)  // UNP_VER
            fields.append(0x30)  // METHOD: store
            fields.appendLE(UInt16(file.name.count))
            fields.appendLE(file.attributes)
            fields += file.name
            bytes += block(type: 0x74, flags: 0x8000 | file.flags, fields: fields)
            bytes += file.data
        }
        if end { bytes += block(type: 0x7B, flags: 0x4000, fields: []) }
        return bytes
    }

    /// `LHD_UNICODE` name: "ascii\0" then RAR's encoding with every character as a full 16-bit unit.
    static func unicodeName(ascii: String, _ name: String) -> [UInt8] {
        var field = Array(ascii.utf8) + [0]
        field.append(0)  // high byte (unused by full units)
        let units = Array(name.utf16)
        for (i, unit) in units.enumerated() {
            if i % 4 == 0 { field.append(0xAA) }  // four "2 = full unit" flag pairs
            field.appendLE(unit)
        }
        return field
    }
}

/// Hand-built RAR 5.0 archives, per rarlab.com/technote.htm.
enum RAR5Builder {
    struct File {
        var name: String
        var data: [UInt8] = []
        var isDirectory = false
        var encrypted = false
    }

    static func header(type: UInt64, flags: UInt64, fields: [UInt8], extra: [UInt8] = [], dataSize: UInt64? = nil) -> [UInt8] {
        var body: [UInt8] = []
        body.appendVInt(type)
        body.appendVInt(flags | (extra.isEmpty ? 0 : 1) | (dataSize == nil ? 0 : 2))
        if !extra.isEmpty { body.appendVInt(UInt64(extra.count)) }
        if let dataSize { body.appendVInt(dataSize) }
        body += fields + extra
        var sized: [UInt8] = []
        sized.appendVInt(UInt64(body.count))
        sized += body
        var header: [UInt8] = []
        header.appendLE(crc32(sized))
        return header + sized
    }

    static func archive(files: [File], encryptedHeaders: Bool = false) -> [UInt8] {
        var bytes = RAR5Reader.signature
        if encryptedHeaders {
            var fields: [UInt8] = []
            fields.appendVInt(0)  // encryption version: AES-256
            fields.appendVInt(0)  // flags
            fields.append(15)  // KDF count
            fields += [UInt8](repeating: 0x5A, count: 16)  // salt
            bytes += header(type: 4, flags: 0, fields: fields)
            // What follows is ciphertext: a 16-byte IV and encrypted headers.
            bytes += [UInt8](repeating: 0xC3, count: 64)
            return bytes
        }
        bytes += header(type: 1, flags: 0, fields: [0])  // main: archive flags 0
        for file in files {
            var fields: [UInt8] = []
            fields.appendVInt(file.isDirectory ? 0x0001 | 0x0004 : 0x0004)  // file flags: dir, CRC present
            fields.appendVInt(UInt64(file.data.count))
            fields.appendVInt(file.isDirectory ? 0x10 : 0x20)  // attributes
            fields.appendLE(crc32(file.data))
            fields.appendVInt(0)  // compression: version 0, store
            fields.appendVInt(0)  // host OS: Windows
            fields.appendVInt(UInt64(file.name.utf8.count))
            fields += Array(file.name.utf8)
            var extra: [UInt8] = []
            if file.encrypted {
                var record: [UInt8] = []
                record.appendVInt(0x01)  // file encryption
                record.appendVInt(0)  // version: AES-256
                record.appendVInt(0x0001)  // password check present
                record.append(15)  // KDF count
                record += [UInt8](repeating: 0x11, count: 16)  // salt
                record += [UInt8](repeating: 0x22, count: 16)  // IV
                record += [UInt8](repeating: 0x33, count: 12)  // check value
                extra.appendVInt(UInt64(record.count))
                extra += record
            }
            bytes += header(type: 2, flags: 0, fields: fields, extra: extra, dataSize: UInt64(file.data.count))
            bytes += file.data
        }
        bytes += header(type: 5, flags: 0, fields: [0])  // end: end-of-archive flags
        return bytes
    }
}

/// Parent of the archive-header suites (so `--filter Archive` selects them all).
@Suite("Archives")
enum ArchiveTests {}
