/// Password protection in documents that are not archives: PDF and OOXML (docx/xlsx/pptx).
extension ArchiveReader {
    private static let window = 64 << 10

    /// Whether a PDF names an encryption dictionary (`/Encrypt`) in its trailer or cross-reference stream.
    ///
    /// Looks at the first and last 64 KB (linearized files keep the first-page trailer at the front)
    /// and at the 64 KB from each `startxref` offset found in the tail (cross-reference stream dictionaries).
    ///
    /// - SeeAlso: ISO 32000-1 §7.5.5 (trailer), §7.5.8 (cross-reference streams), §7.6 (encryption).
    public static func isEncryptedPDF(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let header = Array("%PDF-".utf8)
        guard bytes.firstOffset(of: header, in: 0..<min(bytes.count, 1024)) != nil else { return false }
        let tail = max(0, bytes.count - window)
        if hasEncryptToken(bytes, in: 0..<min(bytes.count, window)) { return true }
        if hasEncryptToken(bytes, in: tail..<bytes.count) { return true }
        for offset in startXRefOffsets(bytes, in: tail..<bytes.count) where offset < bytes.count {
            if hasEncryptToken(bytes, in: offset..<min(bytes.count, offset + window)) { return true }
        }
        return false
    }

    public static func isEncryptedPDF(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isEncryptedPDF($0) }
    }

    /// Whether an OLE2 compound file holds an `EncryptedPackage` stream: a password-protected
    /// OOXML document (ECMA-376 Agile or Standard encryption inside [MS-OFFCRYPTO]).
    ///
    /// Looks for the UTF-16LE name where a 128-byte directory entry could start, with the entry's
    /// name-length field (34 bytes: 16 characters and the NUL) to confirm it.
    ///
    /// - SeeAlso: [MS-CFB] §2.6 (directory entries); [MS-OFFCRYPTO] §2.3.4.
    public static func encryptedOfficeDocument(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let oleSignature: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
        guard bytes.matches(oleSignature, at: 0) else { return false }
        let name: [UInt8] = "EncryptedPackage".utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] } + [0, 0]
        var entry = 512  // directory sectors start after the 512-byte header; entries are 128-aligned
        while entry + 128 <= bytes.count {
            if bytes.matches(name, at: entry), bytes.le(UInt16.self, at: entry + 64) == UInt16(name.count) {
                return true
            }
            entry += 128
        }
        return false
    }

    public static func encryptedOfficeDocument(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { encryptedOfficeDocument($0) }
    }

    /// `/Encrypt` as a whole name token (not `/EncryptMetadata`), followed by a reference or a dictionary.
    private static func hasEncryptToken(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> Bool {
        let token = Array("/Encrypt".utf8)
        var start = range.lowerBound
        while let found = bytes.firstOffset(of: token, in: start..<range.upperBound) {
            let after = found + token.count
            if after >= bytes.count || isDelimiterOrSpace(bytes[after]) { return true }
            start = found + 1
        }
        return false
    }

    /// PDF white-space and delimiter characters end a name token.
    private static func isDelimiterOrSpace(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x00, 0x09, 0x0A, 0x0C, 0x0D, 0x20: true
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "/"), UInt8(ascii: "%"):
            true
        default: false
        }
    }

    /// The byte offsets after each `startxref` keyword in `range` (at most a few).
    private static func startXRefOffsets(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> [Int] {
        let keyword = Array("startxref".utf8)
        var offsets: [Int] = []
        var start = range.lowerBound
        while offsets.count < 8, let found = bytes.firstOffset(of: keyword, in: start..<range.upperBound) {
            var i = found + keyword.count
            while i < bytes.count, isDelimiterOrSpace(bytes[i]), bytes[i] != UInt8(ascii: "%") { i += 1 }
            var value = 0
            var digits = 0
            while i < bytes.count, digits < 15, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
                value = value * 10 + Int(bytes[i] - UInt8(ascii: "0"))
                digits += 1
                i += 1
            }
            if digits > 0 { offsets.append(value) }
            start = found + 1
        }
        return offsets
    }
}
