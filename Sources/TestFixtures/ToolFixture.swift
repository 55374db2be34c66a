public import Foundation

/// A scratch directory and the real tools tests make their fixtures with (zip, 7z, gcc,
/// MinGW-w64, clang): shared by the test targets, so each does not carry its own copy.
public enum ToolFixture {
    public struct ToolFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// A fresh directory, removed when `body` returns.
    public static func withDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("thugate-fixture-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// Writes `contents` to `path` inside `directory`, making the folders on the way.
    public static func write(_ contents: String, _ path: String, in directory: URL) throws {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try Data(contents.utf8).write(to: url)
    }

    /// Runs `tool` in `directory`; a non-zero exit throws (a missing tool fails, it does not skip).
    public static func run(_ tool: String, _ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailed(description: "\(tool) \(arguments) exited \(process.terminationStatus)")
        }
    }

    public static func bytes(_ path: String, in directory: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(path)))
    }
}
