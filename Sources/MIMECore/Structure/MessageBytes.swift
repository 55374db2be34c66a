#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a message being parsed: an array, or a read-only memory map of a spool file,
/// so a 35 MB message is parsed in the page cache instead of copied into the heap.
///
/// `@unchecked Sendable`: the bytes never change after init and the mapping lives until deinit.
public final class MessageBytes: @unchecked Sendable {
    private let array: [UInt8]?
    private let mapped: UnsafeRawBufferPointer?

    public let count: Int

    public init(_ bytes: [UInt8]) {
        array = bytes
        mapped = nil
        count = bytes.count
    }

    /// Maps `count` bytes of the open file `fd` read-only. The descriptor may be closed afterwards.
    public init?(mapping fd: CInt, count: Int) {
        guard count > 0 else {
            self.array = []
            self.mapped = nil
            self.count = 0
            return
        }
        guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else { return nil }
        array = nil
        mapped = UnsafeRawBufferPointer(start: address, count: count)
        self.count = count
    }

    deinit {
        if let mapped, let base = mapped.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), mapped.count) }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let mapped { return try body(mapped) }
        return try array!.withUnsafeBytes(body)
    }

    public subscript(range: Range<Int>) -> ArraySlice<UInt8> {
        withUnsafeBytes { ArraySlice($0[range]) }
    }

    /// A copy as an array (tests, small messages).
    public var asArray: [UInt8] { withUnsafeBytes { Array($0) } }
}
