/// An executable format recognised by its own header structure, not by a few leading bytes.
///
/// libmagic types a buffer from short patterns: it calls anything starting with a near jump or
/// `mov ax` "DOS executable (COM)", about 1 in 300 random or compressed blobs. A COM program has
/// no header at all, so ThuGate judges `.com`/`.pif` by name (as the regulation names `*.com`)
/// and every other executable family by a header that is consistent with itself and with the
/// file: the MZ family (PE, NE, LE, LX, plain DOS), ELF, and Mach-O (thin and universal).
///
/// Pure and bounded: every read is checked against the buffer, nothing is allocated.
///
/// - SeeAlso: Microsoft PE/COFF specification, "MS-DOS Stub" and "Signature"
///   (`e_lfanew` at 0x3C → `PE\0\0`); the MS-DOS EXE header (`e_cblp`, `e_cp`, `e_cparhdr`,
///   `e_crlc`, `e_lfarlc`); the NE and LE/LX header layouts; System V ABI `e_ident`;
///   `<mach-o/loader.h>` and `<mach-o/fat.h>`.
public enum ExecutableFormat: String, Sendable, Equatable, CaseIterable {
    /// Windows NT portable executable (exe, dll, .NET assembly, scr, cpl, sys, EFI).
    case pe
    /// 16-bit Windows / OS/2 1.x "new executable".
    case ne
    /// Linear executable: Windows VxD, DOS extenders.
    case le
    /// OS/2 2.x linear executable.
    case lx
    /// A plain MS-DOS program: an MZ header whose fields describe a loadable image.
    case dos
    case elf
    case machO
    /// A Mach-O universal ("fat") file: slices for several architectures.
    case machOUniversal

    /// The MIME type ThuGate records when the structure finds a program that libmagic did not name.
    public var mimeType: String {
        switch self {
        case .pe: "application/vnd.microsoft.portable-executable"
        case .ne: "application/x-ms-ne-executable"
        case .le, .lx, .dos: "application/x-dosexec"
        case .elf: "application/x-executable"
        case .machO, .machOUniversal: "application/x-mach-binary"
        }
    }

    /// The format `bytes` has by structure, or nil.
    public static func identify(_ bytes: UnsafeRawBufferPointer) -> ExecutableFormat? {
        let b = Bytes(bytes)
        if let format = mzFormat(b) { return format }
        if isELF(b) { return .elf }
        if isMachO(b, at: 0, end: b.count) { return .machO }
        if isUniversalMachO(b) { return .machOUniversal }
        return nil
    }

    /// The real type to record for `bytes`, given libmagic's guess: libmagic's type, unless it
    /// names a header-bearing executable the structure does not show (then
    /// `application/octet-stream`), or misses one the structure does show (then ``mimeType``).
    /// ELF objects and core dumps keep libmagic's non-executable type.
    public static func checkedType(_ libmagicType: String?, of bytes: UnsafeRawBufferPointer) -> String? {
        let format = identify(bytes)
        guard let claimed = libmagicType.flatMap({ claims[$0] }) else {
            if let format, format != .elf || elfFileType(Bytes(bytes)).map({ $0 == 2 || $0 == 3 }) == true {
                return format.mimeType
            }
            return libmagicType
        }
        guard let format else { return "application/octet-stream" }
        return claimed.contains(format) ? libmagicType : format.mimeType
    }

    /// libmagic's executable types and the structures that back each.
    static let claims: [String: Set<ExecutableFormat>] = {
        let mz: Set<ExecutableFormat> = [.pe, .ne, .le, .lx, .dos]
        let elf: Set<ExecutableFormat> = [.elf]
        let mach: Set<ExecutableFormat> = [.machO, .machOUniversal]
        return [
            "application/x-dosexec": mz, "application/vnd.microsoft.portable-executable": mz,
            "application/x-msdownload": mz, "application/x-ms-ne-executable": mz,
            "application/x-executable": elf, "application/x-sharedlib": elf, "application/x-pie-executable": elf,
            "application/x-elf": elf, "application/x-mach-binary": mach,
        ]
    }()

    // MARK: - MZ family

    static func mzFormat(_ b: Bytes) -> ExecutableFormat? {
        guard b.count >= 2 else { return nil }
        let mz = b[0] == 0x4D && b[1] == 0x5A
        // MS-DOS also loads a header spelled "ZM"; Windows does not, so that is DOS only.
        guard mz || (b[0] == 0x5A && b[1] == 0x4D) else { return nil }
        if mz, let lfanew = b.u32le(0x3C).map(Int.init), lfanew >= 4, lfanew <= b.count - 4 {
            if b.matches([0x50, 0x45, 0, 0], at: lfanew), isPEHeader(b, at: lfanew) { return .pe }
            if b.matches([0x4E, 0x45], at: lfanew), isNEHeader(b, at: lfanew) { return .ne }
            if b.matches([0x4C, 0x45], at: lfanew), isLinearHeader(b, at: lfanew) { return .le }
            if b.matches([0x4C, 0x58], at: lfanew), isLinearHeader(b, at: lfanew) { return .lx }
        }
        // Without a valid new-executable header the file is judged by its DOS header alone, as
        // MS-DOS loads it (a PE whose NT headers are cut off still has its DOS stub).
        return isDOSHeader(b) ? .dos : nil
    }

    /// `PE\0\0`, the 20-byte COFF file header, and an optional-header magic the loader accepts:
    /// 0x10B (PE32), 0x20B (PE32+), 0x107 (ROM image).
    static func isPEHeader(_ b: Bytes, at offset: Int) -> Bool {
        guard let magic = b.u16le(offset + 24) else { return false }
        return magic == 0x10B || magic == 0x20B || magic == 0x107
    }

    /// The 64-byte NE header: a known target OS, and its tables (segment, resource, resident
    /// names, module references, imported names) in the order linkers write them, inside the file.
    static func isNEHeader(_ b: Bytes, at offset: Int) -> Bool {
        guard offset + 0x40 <= b.count, let os = b.u8(offset + 0x36), os <= 5 else { return false }
        let tables = [0x22, 0x24, 0x26, 0x28, 0x2A].compactMap { b.u16le(offset + $0).map(Int.init) }
        guard tables.count == 5, tables[0] >= 0x40, zip(tables, tables.dropFirst()).allSatisfy({ $0 <= $1 }) else { return false }
        return offset + tables[4] <= b.count
    }

    /// The LE/LX header: byte and word order 0 or 1, format level 0, a known CPU and OS.
    static func isLinearHeader(_ b: Bytes, at offset: Int) -> Bool {
        guard let byteOrder = b.u8(offset + 2), let wordOrder = b.u8(offset + 3), byteOrder <= 1, wordOrder <= 1,
            let level = b.u32le(offset + 4), level == 0,
            let cpu = b.u16le(offset + 8), let os = b.u16le(offset + 0x0A)
        else { return false }
        return [1, 2, 3, 0x20, 0x21, 0x40, 0x41].contains(cpu) && os <= 4
    }

    /// An MS-DOS EXE header that describes a loadable image: the last-page count below a page,
    /// at least one page, a header of at least the 28 formatted bytes that lies inside both the
    /// file and the image, and a relocation table inside the header.
    static func isDOSHeader(_ b: Bytes) -> Bool {
        guard let lastPage = b.u16le(2).map(Int.init), let pages = b.u16le(4).map(Int.init),
            let relocations = b.u16le(6).map(Int.init), let paragraphs = b.u16le(8).map(Int.init),
            let relocationTable = b.u16le(0x18).map(Int.init)
        else { return false }
        guard lastPage < 512, pages >= 1, paragraphs >= 2 else { return false }
        let header = paragraphs * 16
        let image = pages * 512 - (lastPage == 0 ? 0 : 512 - lastPage)
        guard header <= b.count, header <= image else { return false }
        return relocations == 0 || (relocationTable >= 0x1C && relocationTable + 4 * relocations <= header)
    }

    // MARK: - ELF

    /// `\x7FELF` and the whole ELF header, and either a sane `e_ident` (class 32/64-bit, data
    /// little/big-endian, version 1: what every linker writes) or, for a file whose `e_ident` was
    /// bent, what Linux itself requires to run it: `e_type` executable or shared object and
    /// `e_phentsize` the size of a program header (Linux checks neither class nor version).
    static func isELF(_ b: Bytes) -> Bool {
        guard b.matches([0x7F, 0x45, 0x4C, 0x46], at: 0), b.count >= 52, let elfClass = b.u8(4), let data = b.u8(5),
            let version = b.u8(6)
        else { return false }
        if (1...2).contains(elfClass), (1...2).contains(data), version == 1 {
            return b.count >= (elfClass == 1 ? 52 : 64)
        }
        func either(_ offset: Int) -> [UInt16] { b.u16le(offset).map { [$0, $0.byteSwapped] } ?? [] }
        guard either(16).contains(where: { $0 == 2 || $0 == 3 }) else { return false }
        return either(42).contains(32) || (b.count >= 64 && either(54).contains(56))
    }

    /// `e_type`: 1 relocatable object, 2 executable, 3 shared object or PIE, 4 core dump.
    static func elfFileType(_ b: Bytes) -> UInt16? {
        guard isELF(b), let raw = b.u16le(16) else { return nil }
        return b[5] == 2 ? raw.byteSwapped : raw
    }

    // MARK: - Mach-O

    /// A thin Mach-O header (32 or 64-bit, either byte order) at `offset`: a known CPU family,
    /// a file type of `<mach-o/loader.h>` (MH_OBJECT … MH_FILESET), at least one load command,
    /// and the load commands inside `end`.
    static func isMachO(_ b: Bytes, at offset: Int, end: Int) -> Bool {
        guard let magic = b.u32le(offset) else { return false }
        let header: Int
        let swap: Bool
        switch magic {
        case 0xFEED_FACE: (header, swap) = (28, false)
        case 0xFEED_FACF: (header, swap) = (32, false)
        case 0xCEFA_EDFE: (header, swap) = (28, true)
        case 0xCFFA_EDFE: (header, swap) = (32, true)
        default: return false
        }
        func field(_ index: Int) -> UInt32? { b.u32le(offset + 4 * index).map { swap ? $0.byteSwapped : $0 } }
        guard offset + header <= end, let cpu = field(1), let fileType = field(3), let commands = field(4),
            let commandBytes = field(5)
        else { return false }
        // CPU_TYPE_*: VAX 1, MC680x0 6, x86 7, MC98000 10, HPPA 11, ARM 12, MC88000 13, SPARC 14,
        // i860 15, PowerPC 18; the high byte holds only the ABI flags (64-bit, 64_32).
        guard [1, 6, 7, 10, 11, 12, 13, 14, 15, 18].contains(cpu & 0x00FF_FFFF), cpu >> 24 <= 2 else { return false }
        guard (1...12).contains(fileType), commands >= 1, UInt64(commandBytes) >= 8 * UInt64(commands) else { return false }
        return UInt64(offset + header) + UInt64(commandBytes) <= UInt64(end)
    }

    /// A universal file (`FAT_MAGIC`, or `FAT_MAGIC_64`), big-endian: 1 to 44 architectures (a Java
    /// class file, which shares the magic, has its version there: 45 or more), with a slice inside
    /// the file that is a thin Mach-O or an `ar` archive (a universal static library). The loader
    /// takes the slice for its CPU, so one is enough: a junk slice beside it hides nothing.
    static func isUniversalMachO(_ b: Bytes) -> Bool {
        guard let magic = b.u32be(0), magic == 0xCAFE_BABE || magic == 0xCAFE_BABF, let count = b.u32be(4),
            (1...44).contains(count)
        else { return false }
        let wide = magic == 0xCAFE_BABF
        let entry = wide ? 32 : 20
        let table = 8 + Int(count) * entry
        guard table <= b.count else { return false }
        return (0..<Int(count)).contains { index in
            let at = 8 + index * entry
            let start: UInt64?
            let size: UInt64?
            if wide {
                start = b.u64be(at + 8)
                size = b.u64be(at + 16)
            } else {
                start = b.u32be(at + 8).map(UInt64.init)
                size = b.u32be(at + 12).map(UInt64.init)
            }
            guard let start, let size, start >= UInt64(table), size <= UInt64(b.count), start <= UInt64(b.count) - size
            else { return false }
            let slice = Int(start)
            return b.matches(Array("!<arch>\n".utf8), at: slice) || isMachO(b, at: slice, end: slice + Int(size))
        }
    }

    // MARK: - Bounds-checked reads

    struct Bytes {
        let raw: UnsafeRawBufferPointer
        init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }
        var count: Int { raw.count }
        subscript(_ index: Int) -> UInt8 { raw[index] }

        func u8(_ offset: Int) -> UInt8? { offset >= 0 && offset < raw.count ? raw[offset] : nil }

        func u16le(_ offset: Int) -> UInt16? {
            guard offset >= 0, offset <= raw.count - 2 else { return nil }
            return UInt16(raw[offset]) | UInt16(raw[offset + 1]) << 8
        }

        func u32le(_ offset: Int) -> UInt32? {
            guard offset >= 0, offset <= raw.count - 4 else { return nil }
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[offset + $1]) << (8 * $1) }
        }

        func u32be(_ offset: Int) -> UInt32? { u32le(offset)?.byteSwapped }

        func u64be(_ offset: Int) -> UInt64? {
            guard let high = u32be(offset), let low = u32be(offset + 4) else { return nil }
            return UInt64(high) << 32 | UInt64(low)
        }

        func matches(_ pattern: [UInt8], at offset: Int) -> Bool {
            guard offset >= 0, offset <= raw.count - pattern.count else { return false }
            return pattern.indices.allSatisfy { raw[offset + $0] == pattern[$0] }
        }
    }
}
