public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Encodes message bytes for the DATA phase of an outgoing transaction: redoes dot-stuffing,
/// writes only CRLF line endings (a stray bare CR or LF becomes CRLF, so ThuGate never sends a
/// bare LF upstream), and ends with `<CRLF>.<CRLF>`.
///
/// - SeeAlso: RFC 5321 4.5.2.
public struct DotStuffer: Sendable {
    private var atLineStart = true
    private var pendingCR = false

    public init() {}

    public mutating func encode(_ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        var runStart = 0
        var i = 0
        let count = bytes.count
        while i < count {
            if !pendingCR && !atLineStart, let base = bytes.baseAddress {
                // Fast path: skip to the next CR or LF; nothing else needs a look.
                let lfOffset = memchr(base + i, 10, count - i).map { UnsafeRawPointer($0) - base } ?? count
                i = memchr(base + i, 13, lfOffset - i).map { UnsafeRawPointer($0) - base } ?? lfOffset
                if i == count { break }
            }
            let byte = bytes[i]
            if pendingCR {
                pendingCR = false
                if byte == 10 {
                    atLineStart = true
                    i += 1
                    continue
                }
                // Bare CR: complete it.
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
                out.writeInteger(UInt8(10))
                runStart = i
                atLineStart = true
                continue
            }
            if atLineStart && byte == UInt8(ascii: ".") {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
                out.writeInteger(UInt8(ascii: "."))
                runStart = i
            }
            atLineStart = false
            if byte == 13 {
                pendingCR = true
            } else if byte == 10 {
                // Bare LF: write CR before it.
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
                out.writeInteger(UInt8(13))
                runStart = i
                atLineStart = true
            }
            i += 1
        }
        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<count]))
    }

    public mutating func encode(_ buffer: ByteBuffer, into out: inout ByteBuffer) {
        buffer.withUnsafeReadableBytes { encode($0, into: &out) }
    }

    /// Closes the last line if needed and writes the end-of-data marker.
    public mutating func finish(into out: inout ByteBuffer) {
        if pendingCR {
            out.writeInteger(UInt8(10))
        } else if !atLineStart {
            out.writeStaticString("\r\n")
        }
        out.writeStaticString(".\r\n")
        atLineStart = true
        pendingCR = false
    }
}
