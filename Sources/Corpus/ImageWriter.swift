/// PNG images (ISO/IEC 15948, RFC 2083): a signature, IHDR, one zlib IDAT and IEND, each chunk
/// with its CRC. Grey scans of a page: white paper, lines of dark "text", scanner noise, so every
/// image is different bytes.
enum ImageWriter {
    /// A scanned page of `width` × `height` grey pixels. `noise` is the share of pixels the
    /// scanner speckles; a large `noise` makes an image that does not compress (the large and
    /// oversize attachments).
    static func scannedPage(width: Int, height: Int, noise: Double, random: inout CorpusRandom, level: Int32 = 6) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * height)
        let margin = width / 10
        for row in 0..<height {
            raw.append(0)  // filter type None
            let inText = (row / 6) % 3 != 2 && row > height / 12 && row < height - height / 12
            var line = [UInt8](repeating: 0xF4, count: width)
            if inText {
                var column = margin
                while column < width - margin {
                    let word = random.int(3...14)
                    for x in column..<min(width - margin, column + word) { line[x] = UInt8(random.int(0x20...0x60)) }
                    column += word + random.int(2...5)
                }
            }
            if noise >= 1 {
                // Fast path for the big images: random bytes, scanner "grain".
                line = random.bytes(width)
            } else if noise > 0 {
                for x in 0..<width where random.chance(noise) { line[x] = UInt8(random.int(0x80...0xFF)) }
            }
            raw += line
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, 0, 0, 0, 0]  // 8-bit greyscale, deflate, adaptive filtering, no interlace
        out += chunk("IHDR", header)
        // A textual chunk like a scanner's: the software that made it.
        out += chunk("tEXt", Array("Software\0ThuGate corpus scanner".utf8))
        out += chunk("IDAT", Deflate.compress(raw, level: level, zlibWrapped: true))
        out += chunk("IEND", [])
        return out
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(Deflate.crc32(typed))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
