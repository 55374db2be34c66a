/// A zip archive writer (PKWARE APPNOTE 6.3.10): stored or deflated entries, UTF-8 names, and
/// optionally traditional PKWARE encryption ("ZipCrypto"), which is what `zip -e` and most
/// Windows tools write for a password-protected archive.
///
/// - SeeAlso: PKWARE APPNOTE.TXT 4.3 (structure), 6.1 (traditional encryption).
struct ZipWriter {
    enum Method: UInt16 {
        case stored = 0
        case deflated = 8
    }

    private var body: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0
    /// DOS time and date of every entry (the message's date: deterministic).
    var dosTime: UInt16
    var dosDate: UInt16

    init(year: Int, month: Int, day: Int, hour: Int = 9, minute: Int = 0) {
        dosTime = UInt16(hour << 11 | minute << 5)
        dosDate = UInt16((year - 1980) << 9 | month << 5 | day)
    }

    /// Adds one file. With a `password`, the entry is encrypted with ZipCrypto; `salt` gives the
    /// 11 random bytes of its encryption header.
    mutating func add(_ name: String, _ data: [UInt8], method: Method = .deflated, password: String? = nil, salt: [UInt8] = []) {
        let crc = Deflate.crc32(data)
        var payload = method == .deflated ? Deflate.compress(data) : data
        var flags: UInt16 = 1 << 11  // names in UTF-8
        if let password {
            flags |= 1
            var cipher = ZipCrypto(password: Array(password.utf8))
            var header = Array(salt.prefix(11)) + [UInt8](repeating: 0x5A, count: max(0, 11 - salt.count))
            // The last header byte is the CRC's high byte: what a reader checks the password against.
            header.append(UInt8(crc >> 24))
            payload = cipher.encrypt(header) + cipher.encrypt(payload)
        }
        let nameBytes = Array(name.utf8)
        let offset = body.count
        var local = ByteWriter()
        local.u32(0x0403_4B50)
        local.u16(20)
        local.u16(flags)
        local.u16(method.rawValue)
        local.u16(dosTime)
        local.u16(dosDate)
        local.u32(crc)
        local.u32(UInt32(payload.count))
        local.u32(UInt32(data.count))
        local.u16(UInt16(nameBytes.count))
        local.u16(0)
        local.bytes(nameBytes)
        body += local.output
        body += payload

        var entry = ByteWriter()
        entry.u32(0x0201_4B50)
        entry.u16(0x0314)  // made by: Unix, APPNOTE 2.0
        entry.u16(20)
        entry.u16(flags)
        entry.u16(method.rawValue)
        entry.u16(dosTime)
        entry.u16(dosDate)
        entry.u32(crc)
        entry.u32(UInt32(payload.count))
        entry.u32(UInt32(data.count))
        entry.u16(UInt16(nameBytes.count))
        entry.u16(0)
        entry.u16(0)
        entry.u16(0)
        entry.u16(0)
        entry.u32(0o100644 << 16)  // a regular file, rw-r--r--
        entry.u32(UInt32(offset))
        entry.bytes(nameBytes)
        central += entry.output
        count += 1
    }

    /// The archive: entries, central directory, end record.
    func finished() -> [UInt8] {
        var end = ByteWriter()
        end.u32(0x0605_4B50)
        end.u16(0)
        end.u16(0)
        end.u16(UInt16(count))
        end.u16(UInt16(count))
        end.u32(UInt32(central.count))
        end.u32(UInt32(body.count))
        end.u16(0)
        return body + central + end.output
    }
}

/// Traditional PKWARE encryption: three keys stirred by CRC-32 and a linear congruence.
///
/// - SeeAlso: PKWARE APPNOTE.TXT 6.1.
struct ZipCrypto {
    private var keys: (UInt32, UInt32, UInt32) = (0x1234_5678, 0x2345_6789, 0x3456_7890)

    init(password: [UInt8]) {
        for byte in password { update(byte) }
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    private static func crc(_ crc: UInt32, _ byte: UInt8) -> UInt32 {
        table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
    }

    private mutating func update(_ byte: UInt8) {
        keys.0 = Self.crc(keys.0, byte)
        keys.1 = (keys.1 &+ (keys.0 & 0xFF)) &* 134_775_813 &+ 1
        keys.2 = Self.crc(keys.2, UInt8(keys.1 >> 24))
    }

    mutating func encrypt(_ plain: [UInt8]) -> [UInt8] {
        plain.map { byte in
            let temp = (keys.2 | 2) & 0xFFFF
            let stream = UInt8(truncatingIfNeeded: (temp &* (temp ^ 1)) >> 8)
            update(byte)
            return byte ^ stream
        }
    }
}

/// Little-endian integers into a byte array (zip, PE, PNG's big-endian chunks have their own).
struct ByteWriter {
    var output: [UInt8] = []

    mutating func u8(_ value: UInt8) { output.append(value) }
    mutating func u16(_ value: UInt16) { output += [UInt8(value & 0xFF), UInt8(value >> 8)] }
    mutating func u32(_ value: UInt32) {
        output += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }
    mutating func bytes(_ value: [UInt8]) { output += value }
    mutating func zeros(_ count: Int) { output += [UInt8](repeating: 0, count: count) }
    mutating func pad(to size: Int) { if output.count < size { zeros(size - output.count) } }
}
