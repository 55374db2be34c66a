// The fuzzing entries for ThuGate's own archive header readers (zip, 7z, RAR 4 and 5: the file
// lists and encryption flags the rules read). Scripts/fuzz builds this target with
// `-sanitize=fuzzer,address -DFUZZING` (the readers use raw buffer pointers, whose bounds
// AddressSanitizer checks; the Archives target links no libclamav, so ASan works); built
// normally it replays files through the same code for the regression tests.
import Archives
import FuzzSupport

enum ArchiveFuzzTarget: String, FuzzTarget {
    case zip
    case sevenZip = "7z"
    case rar

    /// The input with this format's signature in front unless it already has it, so the
    /// fuzzer spends its time inside the reader rather than learning the magic bytes.
    func framed(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let format = ArchiveReader.format(of: input)
        switch self {
        case .zip:
            return format == .zip ? Array(input) : [0x50, 0x4B, 0x03, 0x04] + input
        case .sevenZip:
            return format == .sevenZip ? Array(input) : [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C] + input
        case .rar:
            if format == .rar4 || format == .rar5 { return Array(input) }
            // The first byte picks the version, so both readers are reached.
            return input.first.map { $0 & 1 == 0 } ?? true
                ? [0x52, 0x61, 0x72, 0x21, 0x1A, 0x07, 0x01, 0x00] + input
                : [0x52, 0x61, 0x72, 0x21, 0x1A, 0x07, 0x00] + input
        }
    }

    /// Lists the archive with the gateway's limits and with tight ones (so the limit paths run
    /// too). Properties: the listing is of the format the signature says, never more members
    /// than the limit, and the same on a second read; the document checks do not crash.
    func run(_ input: UnsafeRawBufferPointer) {
        let bytes = framed(input)
        var tight = ArchiveLimits()
        tight.maxMembers = 8
        tight.maxHeaderBytes = 4096
        for limits in [ArchiveLimits(), tight] {
            bytes.withUnsafeBytes { raw in
                let listing = ArchiveReader.list(raw, limits: limits)
                if let listing {
                    precondition(listing.format == ArchiveReader.format(of: raw), "listed as another format")
                    precondition(listing.members.count <= limits.maxMembers, "more members than the limit")
                    precondition(listing.isEncrypted == (listing.headersEncrypted || listing.members.contains { $0.encryption != nil }))
                }
                precondition(ArchiveReader.list(raw, limits: limits) == listing, "a second read differs")
            }
        }
        _ = ArchiveReader.isEncryptedPDF(input)
        _ = ArchiveReader.encryptedOfficeDocument(input)
    }
}
