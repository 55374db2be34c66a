public import MIMECore
public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A message as it arrives in DATA: in memory up to a threshold, then in an unlinked spool file,
/// so a 50 MB message costs a file, not 50 MB of RAM per session. The file has no name once
/// created, so a crash leaves nothing behind (the client, not having had 250, sends again).
public final class MessageBuffer {
    public private(set) var size = 0
    private var memory: ByteBuffer
    private var fd: CInt = -1
    private let threshold: Int
    private let spoolDirectory: String

    public init(threshold: Int, spoolDirectory: String, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.threshold = threshold
        self.spoolDirectory = spoolDirectory
        self.memory = allocator.buffer(capacity: min(threshold, 16 * 1024))
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    public var isSpooled: Bool { fd >= 0 }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        size += bytes.count
        if fd < 0 && memory.readableBytes + bytes.count <= threshold {
            memory.writeBytes(bytes)
            return
        }
        if fd < 0 {
            try openSpoolFile()
            try memory.withUnsafeReadableBytes { try writeAll(fd, $0) }
            // The memory part is no longer needed: give it back now, not when the message ends.
            memory = ByteBuffer()
        }
        try writeAll(fd, bytes)
    }

    /// The message for the parser: a copy when it is in memory (at most memory_threshold), a
    /// read-only map of the spool file otherwise.
    public func messageBytes() throws -> MessageBytes {
        guard fd >= 0 else { return MessageBytes(Array(memory.readableBytesView)) }
        guard let mapped = MessageBytes(mapping: fd, count: size) else { throw SpoolError(operation: "mmap", errno: errno) }
        return mapped
    }

    /// Calls `body` with the message in chunks of at most `chunkSize` bytes, in order.
    public func forEachChunk(
        chunkSize: Int = 64 * 1024,
        allocator: ByteBufferAllocator,
        _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        var offset = 0
        while offset < size {
            let chunk = try chunk(at: offset, maxLength: chunkSize, allocator: allocator)
            offset += chunk.readableBytes
            try await body(chunk)
        }
    }

    /// The same, for a thread that may block (a thread pool, not an event loop).
    public func forEachChunkBlocking(chunkSize: Int = 64 * 1024, allocator: ByteBufferAllocator, _ body: (ByteBuffer) throws -> Void) throws
    {
        var offset = 0
        while offset < size {
            let chunk = try chunk(at: offset, maxLength: chunkSize, allocator: allocator)
            offset += chunk.readableBytes
            try body(chunk)
        }
    }

    /// The first `maxLength` bytes (all of a shorter message), for reading its header section.
    public func prefix(maxLength: Int) throws -> [UInt8] {
        guard size > 0 else { return [] }
        return Array(try chunk(at: 0, maxLength: maxLength, allocator: ByteBufferAllocator()).readableBytesView)
    }

    private func chunk(at offset: Int, maxLength: Int, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let want = min(maxLength, size - offset)
        if fd < 0 { return memory.getSlice(at: memory.readerIndex + offset, length: want)! }
        var chunk = allocator.buffer(capacity: want)
        try chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw -> Int in
            let n = pread(fd, raw.baseAddress, want, off_t(offset))
            guard n > 0 else { throw SpoolError(operation: "read", errno: n == 0 ? EIO : errno) }
            return n
        }
        return chunk
    }

    private func openSpoolFile() throws {
        var template = Array("\(spoolDirectory)/thugate.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SpoolError(operation: "create in \(spoolDirectory)", errno: errno) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        unlink(path)
        self.fd = fd
    }
}

public struct SpoolError: Error, CustomStringConvertible {
    public var operation: String
    public var errno: CInt
    public var description: String { "spool \(operation): \(String(cString: strerror(errno)))" }
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
        let n = write(fd, base + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            throw SpoolError(operation: "write", errno: errno)
        }
        done += n
    }
}
