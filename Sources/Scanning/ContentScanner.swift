import Foundation
import MIMECore
import NIOConcurrencyHelpers
public import Policy

/// Content inspection could not be done: the message must not pass unseen (451 4.7.0).
public struct ScanError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The compiled libclamav engine in use, and its replacement on reload.
///
/// A scan takes a strong reference to the current engine for its duration; reload compiles a
/// new engine beside it and swaps it in, and the old one is freed (``ClamAVEngine/deinit``) when
/// the last scan holding it ends. With the full public database both engines are briefly in
/// memory (about 1.2 GB each).
public final class EngineStore: Sendable {
    private let current: NIOLockedValueBox<ClamAVEngine>
    private let settings: ClamAVSettings

    /// Loads the engine; fails when no signatures can be loaded (ThuGate then refuses to start).
    public init(settings: ClamAVSettings) throws(ClamAVError) {
        let engine = try ClamAVEngine(settings: settings)
        self.current = NIOLockedValueBox(engine)
        self.settings = settings
    }

    public var engine: ClamAVEngine { current.withLockedValue { $0 } }

    /// Builds a new engine from the same database directory and swaps it in. On error the old
    /// engine stays in use and the error is returned to be logged.
    @discardableResult
    public func reload() throws(ClamAVError) -> ClamAVEngine {
        let engine = try ClamAVEngine(settings: settings)
        current.withLockedValue { $0 = engine }
        return engine
    }
}

/// libmagic cookies, one per thread that is scanning: a scan borrows one and gives it back.
final class MagicPool: Sendable {
    private let free = NIOLockedValueBox<[MagicCookie]>([])

    func withCookie<R>(_ body: (MagicCookie) throws -> R) throws -> R {
        let cookie = try free.withLockedValue { $0.popLast() } ?? MagicCookie()
        defer { free.withLockedValue { $0.append(cookie) } }
        return try body(cookie)
    }
}

/// Limits on what an archive may declare before it gets an `archive-limit` finding.
public struct ScanLimits: Sendable, Equatable {
    public var archive = ArchiveLimits()
    /// An archive whose members add up to more than this, and more than `maxRatio` times its own
    /// size, is a zip bomb.
    public var maxExpandedBytes = 1 << 30
    public var maxRatio = 100
    public init() {}
}

/// Runs libclamav, libmagic and the archive-header readers over every part of a parsed
/// message, and gathers what they found into a ``ContentReport`` for the rules.
///
/// Blocking and CPU-bound: callers run it on a thread pool, never on an event loop. The
/// engine is shared; libmagic cookies are per thread.
public final class ContentScanner: Sendable {
    public let engines: EngineStore
    public let limits: ScanLimits
    private var archiveLimits: ArchiveLimits { limits.archive }
    private let magic = MagicPool()
    /// How much of a part libmagic looks at: types are decided by the first bytes, and
    /// libmagic's text rules cost ~4.5 ms per 64 KB.
    static let sniffLength = 64 * 1024

    public init(engines: EngineStore, limits: ScanLimits = ScanLimits()) {
        self.engines = engines
        self.limits = limits
    }

    public func scan(_ message: ParsedMessage) throws(ScanError) -> ContentReport {
        let engine = engines.engine
        var report = ContentReport()
        do {
            try magic.withCookie { cookie in
                try scanParts(of: message, engine: engine, cookie: cookie, into: &report, outer: nil, depth: 0)
            }
        } catch let error as ScanError {
            throw error
        } catch {
            throw ScanError("\(error)")
        }
        return report
    }

    /// A message attached as a plain file (`fwd.eml` sent as application/octet-stream), which the
    /// MIME parser does not open: libmagic calls it message/rfc822 and it is parsed and scanned
    /// like an attached message/rfc822 part, up to this depth.
    static let maxAttachedMessageDepth = 3

    /// Scans every leaf of `message`. Inside a message found in an attachment, `outer` is the
    /// attachment's part and name: findings point at that part, and names are prefixed.
    private func scanParts(of message: ParsedMessage, engine: ClamAVEngine, cookie: MagicCookie, into report: inout ContentReport,
                           outer: (part: String, name: String)?, depth: Int) throws {
        for part in message.parts where part.children.isEmpty && !(part.isMessage && part.decodedSize == 0) {
            let body = message.decodedBody(of: part).bytes
            let path = outer?.part ?? part.path
            let name = outer.map { "\($0.name)/\(part.filename ?? "part \(part.path.isEmpty ? "1" : part.path)")" } ?? part.filename
            let isTextBody = Self.isTextBody(part)
            try body.withUnsafeBytes { bytes in
                try scanObject(bytes, part: path, name: name, isTextBody: isTextBody, engine: engine, cookie: cookie, into: &report)
            }
            if !isTextBody, depth < Self.maxAttachedMessageDepth,
               report.objects.last(where: { $0.part == path && $0.containers.isEmpty })?.mimeType == "message/rfc822" {
                let inner = MIMEParser.parse(body, limits: message.limits)
                try scanParts(of: inner, engine: engine, cookie: cookie, into: &report,
                              outer: (path, name ?? "part \(path.isEmpty ? "1" : path)"), depth: depth + 1)
            }
            for file in message.uuencodedFiles(in: part) {
                try file.content.withUnsafeBytes { bytes in
                    try scanObject(bytes, part: path, name: outer.map { "\($0.name)/\(file.name)" } ?? file.name, isTextBody: false,
                                   engine: engine, cookie: cookie, into: &report)
                }
            }
        }
    }

    static func isTextBody(_ part: MIMEPart) -> Bool {
        part.mediaType.hasPrefix("text/") && part.filename == nil && part.disposition?.value != "attachment"
    }

    private func scanObject(_ bytes: UnsafeRawBufferPointer, part: String, name: String?, isTextBody: Bool,
                            engine: ClamAVEngine, cookie: MagicCookie, into report: inout ContentReport) throws {
        let containerName = name ?? "part \(part.isEmpty ? "1" : part)"
        var sawTop = false
        var topIsMessage = false
        var layerError: Error? = nil
        let outcome = try engine.scan(bytes, name: containerName) { layer in
            guard !layer.normalized else { return }
            if layer.depth == 0 {
                guard !sawTop else { return }
                sawTop = true
                let type = realType(layer.bytes ?? bytes, isTextBody: isTextBody, cookie)
                topIsMessage = type == "message/rfc822"
                report.objects.append(.init(part: part, name: name, size: bytes.count, mimeType: type, clamavType: layer.type))
                inspectContainer(layer.bytes ?? bytes, mimeType: type, part: part, name: containerName, into: &report)
            } else {
                // A message attached as a file is parsed by ThuGate itself (scanParts), with the
                // names as the sender wrote them; libclamav's mail parser rewrites them
                // (`hoa-don.exe` becomes `hoa_don.exe`). Its verdict still counts.
                guard !topIsMessage else { return }
                guard let data = layer.bytes else {
                    layerError = ScanError("libclamav gave no bytes for \(layer.name ?? "a member") in part \(part)")
                    return
                }
                let type = sniff(data, cookie)
                // Named by archive path only: layers libclamav decompressed (the tar in a .gz)
                // have no name of their own, and it names some by the temporary file it wrote.
                let containers = [containerName] + layer.ancestors.dropFirst().compactMap { Self.storedName($0) }
                let memberName = Self.storedName(layer.name)
                let object = ContentReport.Object(part: part, name: memberName, containers: containers, size: layer.size,
                                                  mimeType: type, clamavType: layer.type)
                // The archive's own listing named this member already: keep one object, typed.
                let path = containers.joined(separator: "/")
                if let listed = report.objects.firstIndex(where: {
                    $0.part == part && $0.mimeType == nil && $0.encryption == nil && $0.containers.joined(separator: "/") == path
                        && ($0.name == memberName || $0.name.map { String($0.split(separator: "/").last ?? "") } == memberName)
                }) {
                    report.objects[listed] = object
                } else {
                    report.objects.append(object)
                }
                if memberName == "[Content_Types].xml", Self.declaresMacros(data) {
                    Self.noteMacros(part: part, container: path, detail: "macro-enabled content type in [Content_Types].xml",
                                    into: &report)
                }
                inspectContainer(data, mimeType: type, part: part,
                                 name: (containers + [memberName ?? "(member)"]).joined(separator: "/"), into: &report)
            }
        }
        if let layerError { throw layerError }
        if case .virus(let signature) = outcome {
            try record(signature: signature, part: part, name: containerName, into: &report)
            // A file past libclamav's size limits is not handed to the callback: the limit is
            // the finding.
            if signature.hasPrefix("Heuristics.Limits.") { return }
        }
        if !sawTop {
            // libclamav calls back for every layer it scans. When it cannot set up a scan (its
            // temporary directory is missing or full) it logs an error and answers CL_CLEAN
            // without scanning: that must not pass as clean.
            // libclamav skips files of 5 bytes or less (cli_magic_scan: "file too small").
            guard bytes.count > 5 else {
                let type = realType(bytes, isTextBody: isTextBody, cookie)
                report.objects.append(.init(part: part, name: name, size: bytes.count, mimeType: type))
                return
            }
            throw ScanError("libclamav did not scan part \(part.isEmpty ? "1" : part) (\(containerName)); see its error in the log")
        }
    }

    /// libclamav's heuristics name their finding `Heuristics.*`: encryption and limits are
    /// ThuGate's own rules (with details from the headers); anything else is a virus.
    private func record(signature: String, part: String, name: String, into report: inout ContentReport) throws(ScanError) {
        if signature.hasPrefix("Heuristics.Encrypted.") {
            let kind = String(signature.dropFirst("Heuristics.Encrypted.".count))
            if ["PDF", "Office", "Doc", "OLE2"].contains(where: { kind.hasPrefix($0) }) {
                if !report.encryptedDocuments.contains(where: { $0.part == part }) {
                    report.encryptedDocuments.append(.init(part: part, detail: "\(name): encrypted document (\(signature))"))
                }
            } else if !report.encryptedArchives.contains(where: { $0.part == part }) {
                report.encryptedArchives.append(.init(part: part, name: name, format: kind.lowercased(), headersEncrypted: false,
                                                      encryptedMembers: [], method: signature))
            }
        } else if signature.hasPrefix("Heuristics.OLE2.ContainsMacros") {
            // A macro is not a virus: the office-macro rule decides (libclamav names the outermost
            // file it was scanning; the package structure names OOXML members more precisely).
            Self.noteMacros(part: part, container: name, detail: "Office macros (\(signature))", into: &report)
        } else if signature.hasPrefix("Heuristics.Limits.Exceeded.MaxScanTime") {
            // Out of time says nothing about the message: defer it (451), do not bounce it.
            throw ScanError("libclamav ran out of scan time on \(name) (\(signature))")
        } else if signature.hasPrefix("Heuristics.Limits.Exceeded") {
            report.limitsExceeded.append(.init(part: part, detail: "\(name): \(signature)"))
        } else {
            report.viruses.append(.init(part: part, signature: signature))
        }
    }

    /// Reads archive headers (encryption, members libclamav cannot extract) and document
    /// encryption markers.
    private func inspectContainer(_ bytes: UnsafeRawBufferPointer, mimeType: String?, part: String, name: String,
                                  into report: inout ContentReport) {
        if ArchiveReader.format(of: bytes) != nil, let listing = ArchiveReader.list(bytes, limits: archiveLimits) {
            if listing.isEncrypted {
                let encrypted = listing.members.filter { $0.encryption != nil }
                let method = listing.headerEncryption ?? encrypted.first?.encryption ?? "encrypted"
                report.encryptedArchives.append(.init(part: part, name: name, format: listing.format.rawValue,
                                                      headersEncrypted: listing.headersEncrypted,
                                                      encryptedMembers: encrypted.map(\.name), method: method))
            }
            // Every member is judged by name, also those libclamav cannot open (encrypted, or
            // packed with a method it lacks); the ones it extracts are typed by the callback.
            for member in listing.members where !member.isDirectory {
                report.objects.append(.init(part: part, name: member.name, containers: [name],
                                            size: Int(clamping: member.size ?? 0), encryption: member.encryption))
                // An OOXML package keeps its VBA project as a part of its own (ECMA-376, [MS-OFFMACRO2]).
                if listing.format == .zip, member.name.split(separator: "/").last?.lowercased() == "vbaproject.bin" {
                    Self.noteMacros(part: part, container: name, detail: "VBA project \(member.name)", into: &report)
                }
            }
            if listing.truncated && listing.members.count >= archiveLimits.maxMembers {
                report.limitsExceeded.append(.init(part: part, detail: "\(name): more than \(archiveLimits.maxMembers) members"))
            }
            let expanded = listing.members.reduce(UInt64(0)) { $0 &+ ($1.size ?? 0) }
            if expanded > UInt64(limits.maxExpandedBytes) && expanded / UInt64(max(bytes.count, 1)) > UInt64(limits.maxRatio) {
                report.limitsExceeded.append(.init(part: part, detail: "\(name): expands to \(expanded) bytes from \(bytes.count)"))
            }
        }
        if mimeType == "application/pdf", ArchiveReader.isEncryptedPDF(bytes) {
            // /Encrypt: a password, or only permission restrictions (printing, copying).
            report.encryptedDocuments.append(.init(part: part, detail: "\(name): encrypted PDF"))
        } else if ArchiveReader.encryptedOfficeDocument(bytes) {
            report.encryptedDocuments.append(.init(part: part, detail: "\(name): password-protected Office document"))
        }
        if Self.hasVBAStorage(bytes) {
            Self.noteMacros(part: part, container: name, detail: "VBA project (OLE2 _VBA_PROJECT)", into: &report)
        }
    }

    /// The libmagic type of a part; nil for a text body that starts as plain text (see
    /// ``mayBeBinary(_:)``).
    private func realType(_ bytes: UnsafeRawBufferPointer, isTextBody: Bool, _ cookie: MagicCookie) -> String? {
        isTextBody && !Self.mayBeBinary(bytes) ? nil : sniff(bytes, cookie)
    }

    private func sniff(_ bytes: UnsafeRawBufferPointer, _ cookie: MagicCookie) -> String? {
        cookie.mimeType(UnsafeRawBufferPointer(rebasing: bytes.prefix(Self.sniffLength)))
    }

    /// Whether a text body could be something else in disguise: libmagic's text rules are its
    /// slowest, and every executable, archive or document format it knows starts with a
    /// binary signature, so a body that starts as plain text is not sent to it.
    static func mayBeBinary(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let head = bytes.prefix(512)
        if head.starts(with: [0x4D, 0x5A]) || head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) || head.starts(with: Array("#!".utf8))
            || head.starts(with: Array("%PDF".utf8)) || head.starts(with: [0x50, 0x4B]) {
            return true
        }
        return head.contains { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) }
    }

    /// The name a layer was stored under in its archive, or nil when it has none: libclamav
    /// passes no name for what it decompressed (the tar inside a .gz) and, for some formats, the
    /// path of the temporary file it wrote (`<tmpdir>/clamav-<hex>.tmp/<name>` or
    /// `…/clamav-<hex>.tmp`, `<name>.<hex>`, an OLE2 stream's `<md5>_<n>`): those say nothing
    /// about the message.
    static func storedName(_ raw: String?) -> String? {
        guard let raw else { return nil }
        var components = raw.split(separator: "/").map(String.init)
        if let temporary = components.lastIndex(where: isTemporaryName) {
            components.removeSubrange(...temporary)
            // cli_genfname: "<stored name>.<10 hex digits>" in libclamav's temporary directory.
            if let last = components.last, let dot = last.lastIndex(of: "."),
               last.distance(from: dot, to: last.endIndex) == 11, last[last.index(after: dot)...].allSatisfy(\.isHexDigit) {
                components[components.count - 1] = String(last[..<dot])
            }
        }
        components.removeAll { $0.isEmpty || $0 == "." }
        // OLE2 streams are written as "<md5 of the stream name>_<n>" (ole2_extract.c).
        if let last = components.last, let underscore = last.firstIndex(of: "_"),
           last.distance(from: last.startIndex, to: underscore) == 32, last[..<underscore].allSatisfy(\.isHexDigit),
           !last[last.index(after: underscore)...].isEmpty, last[last.index(after: underscore)...].allSatisfy(\.isNumber) {
            return nil
        }
        return components.isEmpty ? nil : components.joined(separator: "/")
    }

    /// `clamav-<hex>.tmp`: a file or directory libclamav made (cli_genfname).
    private static func isTemporaryName(_ component: String) -> Bool {
        guard component.hasPrefix("clamav-"), component.hasSuffix(".tmp") else { return false }
        let hex = component.dropFirst("clamav-".count).dropLast(".tmp".count)
        return hex.count >= 16 && hex.allSatisfy(\.isHexDigit)
    }

    /// An OLE2 compound file (.doc, .xls, .ppt, a vbaProject.bin) whose directory names a VBA
    /// project: every VBA storage holds a `_VBA_PROJECT` stream ([MS-OVBA] 2.2.1; in Excel files
    /// the storage itself is `_VBA_PROJECT_CUR`). Directory entry names are UTF-16LE ([MS-CFB] 2.6.1).
    /// Names the document itself, also inside archives, where libclamav's heuristic names only
    /// the outermost file.
    static func hasVBAStorage(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let ole2: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]
        guard bytes.count > 512, bytes.starts(with: ole2) else { return false }
        let name = Array("_VBA_PROJECT".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let haystack = UnsafeRawBufferPointer(rebasing: bytes.prefix(64 << 20))
        guard let first = name.first else { return false }
        var index = haystack.startIndex
        while let found = haystack[index...].firstIndex(of: first) {
            guard found + name.count <= haystack.endIndex else { return false }
            if haystack[found..<(found + name.count)].elementsEqual(name) { return true }
            index = found + 1
        }
        return false
    }

    /// `[Content_Types].xml` declaring a macro-enabled main part or a VBA project
    /// (`application/vnd.ms-excel.sheet.macroEnabled.main+xml`, `application/vnd.ms-office.vbaProject`).
    static func declaresMacros(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let text = String(decoding: bytes.prefix(1 << 20), as: UTF8.self).lowercased()
        return text.contains("macroenabled") || text.contains("application/vnd.ms-office.vbaproject")
    }

    /// One macro note per document: libclamav, the listing, the content types and the OLE2
    /// directory may all see it, and a vbaProject.bin inside an .xlsm is the same macros.
    private static func noteMacros(part: String, container: String, detail: String, into report: inout ContentReport) {
        let known = report.macros.filter { $0.part == part }.map { String($0.detail.prefix(while: { $0 != ":" })) }
        guard !known.contains(where: { $0 == container || container.hasPrefix($0 + "/") || $0.hasPrefix(container + "/") })
        else { return }
        report.macros.append(.init(part: part, detail: "\(container): \(detail)"))
    }
}
