import Foundation

/// The running gateway's process ID in a file, for `thugate reload` and init scripts. Written
/// at start (replacing a stale one), removed at a clean exit.
public struct PIDFile: Sendable {
    public let path: String

    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try MaildirUpstream.makeDirectory(directory) }
        try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
