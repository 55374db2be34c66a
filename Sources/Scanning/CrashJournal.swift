internal import CClamAV
import Foundation
import NIOConcurrencyHelpers
public import Policy

#if canImport(Glibc)
import Glibc
#endif

extension Finding.RuleID {
    /// A message that crashed the content scanner before: held, not scanned again.
    public static let scanCrash = Finding.RuleID(rawValue: "scan-crash")
}

/// Why the crash journal cannot be used: the path and what failed.
public struct CrashJournalError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Keeps a crash from becoming a crash loop.
///
/// libclamav parses hostile formats in-process; a message that makes it fault kills the
/// gateway, and the sender's retries would kill it again. Before a message is scanned its
/// SHA-256 (of the bytes as the client sent them) is written to a slot of the journal, and the
/// slot is cleared after the scan. The write is a `pwrite` into the page cache, no `fsync`: a
/// process crash keeps the page cache, so the hash survives it; only a power cut loses it, and
/// then the message did not crash us. A few microseconds per message.
///
/// On start, every hash still in a slot belongs to a message that was being scanned when the
/// process died. It is moved to the list of crashed messages (`<journal>.crashed`, one hex hash
/// a line, fsynced; an operator deletes a line to let that message be scanned again), and such
/// a message is held in quarantine with a `scan-crash` finding instead of being scanned.
///
/// File layout: slots of 64 bytes, one per scan in flight (as many as scan threads, more on
/// demand); a used slot starts with `TGJ1` and the 32-byte digest, a free one with zeros.
public final class CrashJournal: Sendable {
    public typealias Digest = [UInt8]

    public let path: String
    /// Hashes of the messages that crashed the scanner, newest last.
    public let crashed: Set<String>
    /// The hashes found in the journal at this start (messages that crashed the last run).
    public let foundAtStart: [String]
    private let fd: CInt
    private let slots: NIOLockedValueBox<(free: [Int], next: Int)>

    static let slotSize = 64
    static let magic: [UInt8] = Array("TGJ1".utf8)
    /// The crashed list keeps the newest entries only: it is read whole at every start.
    static let maxCrashed = 10_000

    public var crashedListPath: String { path + ".crashed" }

    /// Opens (or creates) the journal at `path`, moves the hashes left in it to the crashed
    /// list, and empties it.
    public init(path: String) throws(CrashJournalError) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CrashJournalError(description: "crash journal \(path): \(String(cString: strerror(errno)))") }
        var left: [String] = []
        var size = stat()
        if fstat(fd, &size) == 0, size.st_size > 0 {
            var bytes = [UInt8](repeating: 0, count: Int(size.st_size))
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            // The last slot ends where its entry ends (entries are written, not the padding).
            var offset = 0
            while got > 0, offset + Self.magic.count + 32 <= got {
                let slot = bytes[offset..<(offset + Self.magic.count + 32)]
                if slot.starts(with: Self.magic) {
                    left.append(Self.hex(slot.dropFirst(Self.magic.count)))
                }
                offset += Self.slotSize
            }
        }
        var list = Self.readList(path + ".crashed")
        let fresh = left.filter { !list.contains($0) }
        if !fresh.isEmpty {
            list += fresh
            if list.count > Self.maxCrashed { list.removeFirst(list.count - Self.maxCrashed) }
            do {
                try Self.writeList(list, to: path + ".crashed")
            } catch {
                close(fd)
                throw error
            }
        }
        // Only once the hashes are safe in the list is the journal emptied.
        guard ftruncate(fd, 0) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw CrashJournalError(description: "crash journal \(path): \(reason)")
        }
        self.fd = fd
        self.crashed = Set(list)
        self.foundAtStart = left
        self.slots = NIOLockedValueBox((free: [], next: 0))
    }

    deinit {
        close(fd)
    }

    /// SHA-256 of the message as the client sent it (libclamav's own, with a fixed result
    /// across runs, unlike Swift's randomly seeded `Hasher`).
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        _ = out.withUnsafeMutableBufferPointer { buffer in
            cl_sha256(bytes.baseAddress ?? UnsafeRawPointer(buffer.baseAddress!), bytes.count, buffer.baseAddress, &length)
        }
        return out
    }

    /// Lower-case hex, as `sha256sum` prints it. Runs for every message (``hasCrashed(_:)``):
    /// a table lookup, not one formatted string per byte.
    public static func hex<S: Sequence>(_ digest: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func hasCrashed(_ digest: Digest) -> Bool {
        crashed.contains(Self.hex(digest))
    }

    /// Runs `body` (the scan) with `digest` in a journal slot.
    public func whileScanning<R, E: Error>(_ digest: Digest, _ body: () throws(E) -> R) throws(E) -> R {
        let slot = slots.withLockedValue { state -> Int in
            if let free = state.free.popLast() { return free }
            state.next += 1
            return state.next - 1
        }
        let offset = off_t(slot * Self.slotSize)
        let entry = Self.magic + digest
        // Best effort: a journal that cannot be written must not stop mail; the scan goes on.
        _ = entry.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
        defer {
            let zero = [UInt8](repeating: 0, count: Self.magic.count)
            _ = zero.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
            slots.withLockedValue { $0.free.append(slot) }
        }
        return try body()
    }

    static func readList(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }
    }

    /// Written to a new file, fsynced and renamed over the old one: a crash while writing
    /// leaves the old list.
    static func writeList(_ list: [String], to path: String) throws(CrashJournalError) {
        let temporary = path + ".new"
        let text = list.map { $0 + "\n" }.joined()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CrashJournalError(description: "crash list \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            throw CrashJournalError(description: "crash list \(path): \(String(cString: strerror(errno)))")
        }
    }
}
