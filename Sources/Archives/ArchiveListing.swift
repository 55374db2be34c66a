/// Limits on what an archive header reader will read or allocate for one attachment.
///
/// Every size in an archive header is attacker-controlled; these caps bound the work.
public struct ArchiveLimits: Sendable, Equatable {
    /// Members listed before the listing stops with `truncated`.
    public var maxMembers = 10_000
    /// Largest decoded 7z header (an LZMA-packed header is inflated to at most this).
    public var maxHeaderBytes = 16 << 20

    public init() {}
}

/// One entry of an archive's file list, read from headers only.
public struct ArchiveMember: Sendable, Equatable {
    /// The name as stored; lossy UTF-8 / CP437 decoding.
    public var name: String
    /// Uncompressed size, when known.
    public var size: UInt64?
    public var compressedSize: UInt64?
    public var isDirectory: Bool
    /// `nil` when not encrypted; else e.g. "ZipCrypto", "WinZip AES-256", "7zAES", "RAR 3.x AES", "RAR 5 AES-256".
    public var encryption: String?

    public init(
        name: String,
        size: UInt64? = nil,
        compressedSize: UInt64? = nil,
        isDirectory: Bool = false,
        encryption: String? = nil
    ) {
        self.name = name
        self.size = size
        self.compressedSize = compressedSize
        self.isDirectory = isDirectory
        self.encryption = encryption
    }
}

/// What an archive's headers say: its members and whether anything is password protected.
public struct ArchiveListing: Sendable, Equatable {
    public enum Format: String, Sendable {
        case zip
        case sevenZip = "7z"
        case rar4 = "rar"
        case rar5 = "rar5"
    }

    public var format: Format
    /// The file list itself is hidden (7z `-mhe=on`, RAR `-hp`).
    public var headersEncrypted: Bool
    /// e.g. "7zAES", "RAR 3.x AES", "RAR 5 AES-256".
    public var headerEncryption: String?
    public var members: [ArchiveMember]
    /// Stopped at `ArchiveLimits.maxMembers` or at damaged data.
    public var truncated: Bool

    public var isEncrypted: Bool { headersEncrypted || members.contains { $0.encryption != nil } }

    public init(
        format: Format,
        headersEncrypted: Bool = false,
        headerEncryption: String? = nil,
        members: [ArchiveMember] = [],
        truncated: Bool = false
    ) {
        self.format = format
        self.headersEncrypted = headersEncrypted
        self.headerEncryption = headerEncryption
        self.members = members
        self.truncated = truncated
    }
}

/// Reads archive headers (no extraction) to list members and detect password protection.
///
/// Inputs are untrusted: every read is bounds-checked and no allocation follows a declared size
/// beyond `ArchiveLimits`.
public enum ArchiveReader {
    /// The format from the leading signature bytes.
    public static func format(of bytes: UnsafeRawBufferPointer) -> ArchiveListing.Format? {
        func starts(with signature: [UInt8]) -> Bool {
            bytes.count >= signature.count && zip(bytes, signature).allSatisfy { $0 == $1 }
        }
        if starts(with: [0x50, 0x4B, 0x03, 0x04]) || starts(with: [0x50, 0x4B, 0x05, 0x06])
            || starts(with: [0x50, 0x4B, 0x07, 0x08])
        {
            return .zip
        }
        if starts(with: SevenZipReader.signature) { return .sevenZip }
        if starts(with: RAR5Reader.signature) { return .rar5 }
        if starts(with: RAR4Reader.signature) { return .rar4 }
        return nil
    }

    /// The listing, or `nil` when `bytes` are not a recognised archive or too damaged to read any header.
    public static func list(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits = .init()) -> ArchiveListing? {
        switch format(of: bytes) {
        case .zip: ZipReader.list(bytes, limits: limits)
        case .sevenZip: SevenZipReader.list(bytes, limits: limits)
        case .rar4: RAR4Reader.list(bytes, limits: limits)
        case .rar5: RAR5Reader.list(bytes, limits: limits)
        case nil: nil
        }
    }

    /// `format(of:)` over `[UInt8]`.
    public static func format(of bytes: [UInt8]) -> ArchiveListing.Format? {
        bytes.withUnsafeBytes { format(of: $0) }
    }

    /// `list(_:limits:)` over `[UInt8]`.
    public static func list(_ bytes: [UInt8], limits: ArchiveLimits = .init()) -> ArchiveListing? {
        bytes.withUnsafeBytes { list($0, limits: limits) }
    }
}
