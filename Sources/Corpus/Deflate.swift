import CZlib

/// zlib's deflate and checksums, for the zip, OOXML and PNG writers.
enum Deflate {
    /// Raw deflate (RFC 1951, no zlib header) as zip entries carry it; `zlibWrapped` adds the
    /// RFC 1950 header and Adler-32 that PNG's IDAT wants.
    static func compress(_ input: [UInt8], level: Int32 = 6, zlibWrapped: Bool = false) -> [UInt8] {
        var stream = z_stream()
        let windowBits = zlibWrapped ? MAX_WBITS : -MAX_WBITS
        guard
            deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        var input = input
        let written: Int = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                // The bound holds the whole output: one call finishes the stream.
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return -1 }
                return target.count - Int(stream.avail_out)
            }
        }
        guard written >= 0 else { return [] }
        output.removeLast(output.count - written)
        return output
    }

    static func crc32(_ bytes: [UInt8], start: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(CZlib.crc32(uLong(start), buffer.baseAddress, uInt(buffer.count)))
        }
    }
}
