/// A minimal but well-formed Windows executable (PE32, i386 console program): the MZ header and
/// DOS stub, the PE signature, COFF header, the PE32 optional header with its 16 data
/// directories, and one .text section whose code returns 0. What the executable rule must find by
/// real type whatever the name says.
///
/// - SeeAlso: Microsoft PE Format (learn.microsoft.com/windows/win32/debug/pe-format).
enum ExecutableWriter {
    static func pe32(timestamp: UInt32, filler: [UInt8]) -> [UInt8] {
        var file = ByteWriter()
        // DOS header (64 bytes).
        file.bytes(Array("MZ".utf8))
        for value: UInt16 in [0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0] { file.u16(value) }
        file.pad(to: 0x3C)
        file.u32(0x80)  // e_lfanew
        // The DOS stub: prints the usual sentence and exits.
        file.bytes([0x0E, 0x1F, 0xBA, 0x0E, 0x00, 0xB4, 0x09, 0xCD, 0x21, 0xB8, 0x01, 0x4C, 0xCD, 0x21])
        file.bytes(Array("This program cannot be run in DOS mode.\r\r\n$".utf8))
        file.pad(to: 0x80)
        // PE signature and COFF file header.
        file.bytes(Array("PE".utf8) + [0, 0])
        file.u16(0x014C)  // i386
        file.u16(1)  // one section
        file.u32(timestamp)
        file.u32(0)
        file.u32(0)
        file.u16(0xE0)  // size of the PE32 optional header
        file.u16(0x0102)  // executable image, 32-bit machine
        // Optional header, standard fields.
        file.u16(0x010B)  // PE32
        file.u8(14)
        file.u8(0)
        file.u32(0x200)  // size of code
        file.u32(0)
        file.u32(0)
        file.u32(0x1000)  // entry point
        file.u32(0x1000)  // base of code
        file.u32(0x2000)  // base of data
        // Windows-specific fields.
        file.u32(0x0040_0000)  // image base
        file.u32(0x1000)  // section alignment
        file.u32(0x200)  // file alignment
        file.u16(6)
        file.u16(0)
        file.u16(0)
        file.u16(0)
        file.u16(6)
        file.u16(0)
        file.u32(0)
        file.u32(0x2000)  // size of image
        file.u32(0x200)  // size of headers
        file.u32(0)  // checksum
        file.u16(3)  // console subsystem
        file.u16(0x0100)  // NX compatible
        file.u32(0x10_0000)
        file.u32(0x1000)
        file.u32(0x10_0000)
        file.u32(0x1000)
        file.u32(0)
        file.u32(16)  // data directories
        file.zeros(16 * 8)
        // Section table: .text.
        file.bytes(Array(".text".utf8) + [0, 0, 0])
        file.u32(0x200)  // virtual size
        file.u32(0x1000)  // virtual address
        file.u32(0x200)  // size of raw data
        file.u32(0x200)  // pointer to raw data
        file.u32(0)
        file.u32(0)
        file.u16(0)
        file.u16(0)
        file.u32(0x6000_0020)  // code, execute, read
        file.pad(to: 0x200)
        // xor eax, eax; ret — then this program's own data.
        file.bytes([0x31, 0xC0, 0xC3])
        file.bytes(Array(filler.prefix(0x200 - 3)))
        file.pad(to: 0x400)
        return file.output
    }
}
