import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file the command line makes for someone (`quarantine export`, `report -o`): created new, never
/// over an existing one (exit 73), mode 0600 whatever the umask (held mail and reports name
/// senders and recipients), written whole and fsynced, removed again when that fails (exit 74).
struct NewFile: ~Copyable {
    let path: String
    private let fd: CInt

    /// Creates `path`; one line and exit 73 when it exists, 74 for any other failure.
    init(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let exists = errno == EEXIST
            printError("thugate: cannot create \(path): \(String(cString: strerror(errno)))")
            throw ExitCode(exists ? 73 : 74)
        }
        // The umask may only take bits away; say 0600 exactly.
        fchmod(fd, 0o600)
        self.path = path
        self.fd = fd
    }

    /// Writes `bytes` and fsyncs; on failure the file is removed (one line, exit 74).
    consuming func write(_ bytes: [UInt8]) throws {
        guard writeAll(fd, bytes), fsync(fd) == 0 else {
            printError("thugate: cannot write \(path): \(String(cString: strerror(errno)))")
            unlink(path)
            throw ExitCode(74)
        }
    }

    /// Removes the file, unwritten (what it was for did not happen).
    consuming func discard() {
        unlink(path)
    }

    deinit { close(fd) }
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
func writeAll(_ fd: CInt, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return true }
        var done = 0
        while done < raw.count {
            let n = write(fd, base + done, raw.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }
}
