import ArgumentParser
import Configuration
import Foundation
import GatewayServer
import Inspection
import Policy
import Quarantine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension QuarantineCommand {
    struct ImportMaildir: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-maildir",
            abstract: "Import the Maildir quarantine of earlier versions into the store, once.",
            discussion: """
                Every file in DIR/new and DIR/cur is held with the envelope and findings its X-ThuGate fields \
                name, and the original bytes after them, unchanged (the fields and the Received line the old \
                quarantine put above the message are left out). A file already imported (same name, or same \
                sha256) is skipped, so running it again imports nothing twice. A file not in the old format is \
                named and skipped; the others are imported. Exit 65 when some file was skipped as bad.
                """
        )

        @OptionGroup var config: ConfigOptions
        @Argument(help: "The old quarantine directory (the [quarantine] directory of earlier versions, e.g. var/quarantine).")
        var directory: String

        func run() async throws {
            let config = try config.load()
            let root = ConfigPaths.resolve(directory, against: FileManager.default.currentDirectoryPath)
            let folders = ["new", "cur"].filter {
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(root)/\($0)", isDirectory: &isDirectory) && isDirectory.boolValue
            }
            guard !folders.isEmpty else {
                printError("thugate: \(root) is not a Maildir (no new/ or cur/)")
                throw ExitCode(66)
            }
            let store = try await QuarantineCommand.run {
                try StoreAccess.open(config, auditLogger: QuarantineCommand.auditLogger)
            }
            var files: [String] = []
            for folder in folders {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(folder)")) ?? []
                files += names.filter { !$0.hasPrefix(".") }.sorted().map { "\(root)/\(folder)/\($0)" }
            }
            var imported = 0
            var again = 0
            var bad = 0
            var lastProgress = Date()
            for (index, path) in files.enumerated() {
                do {
                    if try await Self.importFile(path, into: store, config: config) != nil {
                        // Each file is named in its audit row (`import`, "from maildir:NAME").
                        imported += 1
                    } else {
                        again += 1
                    }
                } catch let error as QuarantineError where error.kind == .busy || error.kind == .unavailable {
                    throw QuarantineCommand.fail(error)
                } catch {
                    bad += 1
                    printError("thugate: \(HoldRequest.stripped(path)): \(error); skipped")
                }
                if Date().timeIntervalSince(lastProgress) >= 1 {
                    printError("thugate: import: \(index + 1) of \(files.count) files")
                    lastProgress = Date()
                }
            }
            let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/tmp")) ?? []).count
            var summary = "thugate: \(files.count) files in \(root): \(imported) imported, \(again) imported before, \(bad) skipped as bad"
            if leftovers > 0 { summary += "; \(leftovers) unfinished files in tmp/ not looked at" }
            printError(summary)
            if bad > 0 { throw ExitCode(65) }
        }

        struct Bad: Error, CustomStringConvertible {
            var description: String
        }

        /// Holds one file; nil when it was imported before.
        static func importFile(_ path: String, into store: any GatewayStore, config: GatewayConfig) async throws -> HeldMessage? {
            let file = try LegacyFile(path: path)
            let prefix = try file.read(at: 0, count: LegacyQuarantineFile.maxHeaderBytes)
            let legacy: LegacyQuarantineFile
            do {
                legacy = try LegacyQuarantineFile.parse(prefix)
            } catch {
                throw Bad(description: error.description)
            }
            for warning in legacy.warnings { printError("thugate: \(HoldRequest.stripped(path)): \(warning)") }
            let name = (path as NSString).lastPathComponent
            // Moved to cur/ by a mail reader, the name gains ":2,FLAGS"; the unique part is before it.
            let unique = name.split(separator: ":", maxSplits: 1).first.map(String.init) ?? name
            let nameSeconds = unique.split(separator: ".").first.flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) }
            let receivedAt = legacy.receivedAt ?? nameSeconds ?? file.modified
            let queueFromName = unique.split(separator: "_", maxSplits: 1).dropFirst().first?.split(separator: ".").first.map(String.init)
            let original = Array(prefix.dropFirst(legacy.headerLength).prefix(256 * 1024))
            let fields = StoreQuarantine.headerFields(original)
            let lifecycle = config.quarantine.lifecycle
            let rules = legacy.findings.map(\.rule)
            // The file does not say which finding decided the hold: the first one whose rule holds mail now.
            let deciding = rules.first { config.policy[Finding.RuleID(rawValue: $0)] == .quarantine } ?? rules.first
            let decided = lifecycle.classify(decidingRule: deciding, findingRules: rules, at: receivedAt)
            let request = HoldRequest(
                queueID: legacy.queueID ?? queueFromName ?? unique,
                node: legacy.node ?? config.server.hostname,
                receivedAt: receivedAt,
                clientAddress: legacy.clientAddress ?? "",
                helo: legacy.helo ?? "",
                sender: legacy.sender,
                recipients: legacy.recipients,
                headerFrom: fields.from,
                subject: fields.subject,
                messageID: fields.messageID,
                findings: legacy.findings,
                category: decided.category,
                expiresAt: decided.expiresAt,
                legalHold: decided.legalHold
            )
            let content = FileContent(file: file, offset: legacy.headerLength)
            return try await store.importHeld(request, content: content, source: "maildir:\(unique)", sourceSHA256: try file.sha256())
        }
    }
}

/// One file of the old quarantine, read by offset (never whole in memory).
final class LegacyFile: Sendable {
    let fd: CInt
    let size: Int
    let modified: Date

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw QuarantineCommand.ImportMaildir.Bad(description: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw QuarantineCommand.ImportMaildir.Bad(description: "not a regular file")
        }
        size = Int(info.st_size)
        modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
    }

    deinit { close(fd) }

    func read(at offset: Int, count: Int) throws -> [UInt8] {
        let want = max(0, min(count, size - offset))
        var bytes = [UInt8](repeating: 0, count: want)
        var done = 0
        while done < want {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, want - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw QuarantineCommand.ImportMaildir.Bad(description: "read: \(String(cString: strerror(errno)))") }
            done += n
        }
        return bytes
    }

    func sha256() throws -> String {
        var hasher = SHA256()
        var offset = 0
        while offset < size {
            let chunk = try read(at: offset, count: 1 << 20)
            hasher.update(chunk)
            offset += chunk.count
        }
        return hasher.finalize().hex
    }
}

/// The original message in an old quarantine file: the bytes after the fields the old sink added.
struct FileContent: HeldContent {
    let file: LegacyFile
    let offset: Int

    var size: Int { file.size - offset }

    func forEachChunk(maxLength: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var at = offset
        while at < file.size {
            let chunk = try file.read(at: at, count: maxLength)
            try chunk.withUnsafeBytes { try body($0) }
            at += chunk.count
        }
    }
}
