import Atomics
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A Maildir (`tmp/`, `new/`, `cur/`) that messages are written into, durably: a message is
/// there only once its file is fsynced, renamed into `new/` and the directory entry is fsynced
/// too. Both the `maildir:` upstream and the quarantine write through it.
///
/// Files hold the message exactly as received, with its CRLF line endings, after the headers
/// ThuGate adds.
/// - SeeAlso: https://cr.yp.to/proto/maildir.html
final class Maildir: Sendable {
    let directory: String
    private let hostname: String
    private let counter = ManagedAtomic<UInt64>(0)

    init(directory: String, hostname: String) throws {
        self.directory = directory
        self.hostname = hostname.replacingAll("/", with: "\\057").replacingAll(":", with: "\\072")
        for sub in ["", "/tmp", "/new", "/cur"] {
            try Self.makeDirectory(directory + sub)
        }
    }

    /// `mkdir -p`.
    static func makeDirectory(_ path: String) throws {
        var components: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            components.append(part)
            let prefix = components.joined(separator: "/")
            if prefix.isEmpty { continue }
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                throw SpoolError(operation: "mkdir \(prefix)", errno: errno)
            }
        }
    }

    /// `time.Mmicro Pprocess Qcounter.host`, unique per delivery.
    func uniqueName(queueID: String) -> String {
        var now = timeval()
        gettimeofday(&now, nil)
        let n = counter.wrappingIncrementThenLoad(ordering: .relaxed)
        return "\(now.tv_sec).M\(now.tv_usec)P\(getpid())Q\(n)_\(queueID).\(hostname)"
    }

    /// Writes, fsyncs and renames the message into `new/`, on the blocking thread pool: fsync
    /// takes milliseconds and must not hold up the event loop's other sessions. Returns the path.
    func write(header: String, message: MessageBuffer, queueID: String) async throws -> String {
        // The session owns `message` and waits here: no other thread touches it meanwhile.
        let borrowed = UncheckedSendable(message)
        return try await NIOThreadPool.singleton.runIfActive {
            try self.writeBlocking(header: header, message: borrowed.value, queueID: queueID)
        }
    }

    private func writeBlocking(header: String, message: MessageBuffer, queueID: String) throws -> String {
        let name = uniqueName(queueID: queueID)
        let tmpPath = "\(directory)/tmp/\(name)"
        let newPath = "\(directory)/new/\(name)"
        let fd = open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SpoolError(operation: "create \(tmpPath)", errno: errno) }
        var renamed = false
        defer {
            if !renamed { unlink(tmpPath) }
        }
        do {
            defer { close(fd) }
            try Array(header.utf8).withUnsafeBytes { try writeAll(fd, $0) }
            try message.forEachChunkBlocking(allocator: ByteBufferAllocator()) { chunk in
                try chunk.withUnsafeReadableBytes { try writeAll(fd, $0) }
            }
            guard fsync(fd) == 0 else { throw SpoolError(operation: "fsync \(tmpPath)", errno: errno) }
        }
        guard rename(tmpPath, newPath) == 0 else { throw SpoolError(operation: "rename to \(newPath)", errno: errno) }
        renamed = true
        let dirFD = open("\(directory)/new", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw SpoolError(operation: "open \(directory)/new", errno: errno) }
        defer { close(dirFD) }
        guard fsync(dirFD) == 0 else { throw SpoolError(operation: "fsync \(directory)/new", errno: errno) }
        return newPath
    }
}

/// Hands a value to another thread when the owner provably waits for it (see the call site).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
