import Foundation

/// A bounds-checked little-endian reader over untrusted archive bytes.
///
/// Every read returns `nil` instead of trapping when the data runs out; sizes taken from the
/// input are checked against what remains before anything is sliced.
struct ArchiveCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = min(max(offset, 0), bytes.count)
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    mutating func u8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16? {
        guard let value = bytes.le(UInt16.self, at: offset) else { return nil }
        offset += 2
        return value
    }

    mutating func u32() -> UInt32? {
        guard let value = bytes.le(UInt32.self, at: offset) else { return nil }
        offset += 4
        return value
    }

    mutating func u64() -> UInt64? {
        guard let value = bytes.le(UInt64.self, at: offset) else { return nil }
        offset += 8
        return value
    }

    /// Takes `count` bytes, or `nil` when fewer remain.
    mutating func take<N: BinaryInteger>(_ count: N) -> UnsafeRawBufferPointer? {
        guard count >= 0, UInt64(count) <= UInt64(remaining) else { return nil }
        let n = Int(count)
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    /// Skips `count` bytes; `false` (and the cursor at the end) when fewer remain.
    @discardableResult
    mutating func skip<N: BinaryInteger>(_ count: N) -> Bool {
        guard count >= 0, UInt64(count) <= UInt64(remaining) else {
            offset = bytes.count
            return false
        }
        offset += Int(count)
        return true
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset`, or `nil` when it does not fit.
    func le<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
        guard offset >= 0, offset <= count - MemoryLayout<T>.size else { return nil }
        return T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Whether `pattern` occurs at `offset`.
    func matches(_ pattern: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset <= count - pattern.count else { return false }
        for (i, byte) in pattern.enumerated() where self[offset + i] != byte { return false }
        return true
    }

    /// The first offset in `range` where `pattern` occurs.
    func firstOffset(of pattern: [UInt8], in range: Range<Int>) -> Int? {
        guard let first = pattern.first else { return nil }
        let lower = Swift.max(range.lowerBound, 0)
        let upper = Swift.min(range.upperBound, count) - pattern.count
        guard lower <= upper else { return nil }
        var i = lower
        while i <= upper {
            if self[i] == first, matches(pattern, at: i) { return i }
            i += 1
        }
        return nil
    }
}

/// Lossy text decoding for stored member names (Scanning names libclamav's layers with it too).
package enum ArchiveText {
    static func utf8(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func utf16LE(_ units: [UInt16]) -> String {
        String(decoding: units, as: UTF16.self)
    }

    /// IBM code page 437, the ZIP default when general purpose bit 11 is clear.
    static func cp437(_ bytes: UnsafeRawBufferPointer) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            if byte < 0x80 {
                scalars.append(Unicode.Scalar(byte))
            } else {
                scalars.append(cp437High[Int(byte) - 0x80])
            }
        }
        return String(scalars)
    }

    static let cp437High: [Unicode.Scalar] = Array(
        ("ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐"
            + "└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{00A0}")
            .unicodeScalars
    )
}

extension ArchiveText {
    /// UTF-8 when the bytes are valid UTF-8, else CP437 (DOS-era archivers' OEM code page).
    package static func utf8OrCP437(_ bytes: UnsafeRawBufferPointer) -> String {
        isValidUTF8(bytes) ? utf8(bytes) : cp437(bytes)
    }

    /// A member name libclamav reports, as the archive stored it: zip names without the UTF-8
    /// flag are CP437 (APPNOTE 4.4.4, appendix D), and so is what DOS and Windows tools wrote in
    /// other formats; valid UTF-8 is UTF-8. Never U+FFFD for bytes a name really holds.
    package static func memberName(_ cString: UnsafePointer<CChar>) -> String {
        utf8OrCP437(UnsafeRawBufferPointer(start: UnsafeRawPointer(cString), count: Int(strlen(cString))))
    }
}
