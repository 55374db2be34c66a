public import Archives
public import DocumentText
import Foundation
public import MIMECore
import NIOConcurrencyHelpers
public import Policy
import SecrecyMarks

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
    /// Bounds on reading documents' text for the secrecy matcher.
    public var secrecy = SecrecyLimits()
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
    private let secrecy: SecrecyReader
    /// Reads PDFs' text in helper processes; nil: PDFs are "not fully checked" for secrecy stamps.
    public var pdfReader: (any PDFTextReading)? { secrecy.pdf }
    /// How much of a part libmagic looks at: types are decided by the first bytes, and
    /// libmagic's text rules cost ~4.5 ms per 64 KB.
    static let sniffLength = 64 * 1024
    /// How much of text libmagic looks at: its text rules (regular expressions, run on text
    /// only) read at most 8 KB from where they start (libmagic's `regex_max`), and the time they
    /// take grows with what they are handed. Past 8 KB only whole-file checks (JSON, a
    /// JavaScript guess) change their answer, and then to a `text/` type that is read as text.
    static let textSniffLength = 8 * 1024

    public init(engines: EngineStore, limits: ScanLimits = ScanLimits(), pdfReader: (any PDFTextReading)? = nil) {
        self.engines = engines
        self.limits = limits
        self.secrecy = SecrecyReader(pdf: pdfReader)
    }

    public func scan(_ message: ParsedMessage) throws(ScanError) -> ContentReport {
        let engine = engines.engine
        var report = ContentReport()
        let budget = SecrecyBudget(limits: limits.secrecy)
        do {
            try magic.withCookie { cookie in
                try scanHeaderSections(of: message, engine: engine, cookie: cookie, into: &report)
                try scanParts(of: message, engine: engine, cookie: cookie, budget: budget, into: &report, outer: nil, depth: 0)
            }
        } catch let error as ScanError {
            throw error
        } catch {
            throw ScanError("\(error)")
        }
        return report
    }

    /// Every header section (the message's and each part's), one after the other, as one text
    /// object: with the bodies and segments that makes every byte of the message reach
    /// libclamav, for one scan more per message. Named `(header sections)` in the root part.
    private func scanHeaderSections(
        of message: ParsedMessage,
        engine: ClamAVEngine,
        cookie: MagicCookie,
        into report: inout ContentReport
    ) throws {
        var headers: [UInt8] = []
        message.bytes.withUnsafeBytes { bytes in
            for part in message.parts where part.bodyRange.lowerBound > part.range.lowerBound {
                headers.append(contentsOf: bytes[part.range.lowerBound..<part.bodyRange.lowerBound])
            }
        }
        guard headers.count > 5, let root = message.parts.first else { return }
        let part = message.partNumber(of: root)
        var scanned = false
        // Headers are no attachment: no object of their own, only what libclamav finds.
        let outcome = try headers.withUnsafeBytes { bytes in
            try engine.scan(bytes, name: "(header sections)") { layer in if layer.depth == 0 { scanned = true } }
        }
        // As for parts: libclamav answers clean without scanning when it cannot set up a scan.
        guard scanned else { throw ScanError("libclamav did not scan the header sections; see its error in the log") }
        if case .virus(let signature) = outcome {
            try record(signature: signature, part: part, name: "(header sections)", into: &report)
        }
    }

    /// A message attached as a plain file (`fwd.eml` sent as application/octet-stream), which the
    /// MIME parser does not open: libmagic calls it message/rfc822 and it is parsed and scanned
    /// like an attached message/rfc822 part, up to this depth.
    static let maxAttachedMessageDepth = 3

    /// Scans every leaf of `message` and every segment outside the leaves (preamble, epilogue,
    /// text after base64, parts past a limit), so every byte of every body is seen: decoded for
    /// a leaf, as text for the rest (``ParsedMessage/uncoveredRanges()``). What readers may read
    /// in another way is scanned that way too: the last of duplicated Content-* fields, the fields
    /// after a line without colon in a header section, base64
    /// with its junk skipped, MIME parts inside a segment or an unsplit multipart. Inside a
    /// message found in an attachment, `outer` is the attachment's part and name: findings
    /// point at that part, and names are prefixed.
    private func scanParts(
        of message: ParsedMessage,
        engine: ClamAVEngine,
        cookie: MagicCookie,
        budget: SecrecyBudget,
        into report: inout ContentReport,
        outer: (part: String, name: String)?,
        depth: Int
    ) throws {
        // The message's own text (Subject, attachment names, text bodies) as one document per
        // message: a GIẢI MẬT line in it downgrades a stamp in its Subject.
        report.secrecy += secrecy.messageTexts(of: message, part: outer?.part, name: outer?.name, budget: budget)
        for part in message.parts {
            // Parts are named by number as everywhere (ParsedMessage.partNumber): a single-part body is "1".
            let path = outer?.part ?? message.partNumber(of: part)
            let own = "part \(message.partNumber(of: part))"
            func named(_ name: String) -> String { outer.map { "\($0.name)/\(name)" } ?? name }
            let name = outer.map { "\($0.name)/\(part.filename ?? own)" } ?? part.filename
            if part.children.isEmpty && !(part.isMessage && part.decodedSize == 0) {
                let body = message.decodedBody(of: part).bytes
                // An unsplit multipart is read as text, as readers that show it do.
                let isTextBody = Self.isTextBody(part) || part.isUnsplitMultipart
                try body.withUnsafeBytes { bytes in
                    try scanObject(
                        bytes,
                        part: path,
                        name: name,
                        isTextBody: isTextBody,
                        declaredType: part.mediaType,
                        charset: part.charset,
                        engine: engine,
                        cookie: cookie,
                        budget: budget,
                        into: &report
                    )
                    noteEncryption(bytes, part: path, name: name ?? named(own), into: &report)
                }
                // A message inside: a message/rfc822 leaf (base64, or past the depth limit), or an
                // attachment libmagic calls message/rfc822, or one named .eml (a message that starts
                // with its Content-Type field is "text/plain" to libmagic).
                let isMessage =
                    part.isMessage
                    || (!isTextBody
                        && (report.objects.last(where: { $0.part == path && $0.containers.isEmpty })?.mimeType == "message/rfc822"
                            || Self.isMessageFileName(part.filename)))
                if isMessage && depth >= Self.maxAttachedMessageDepth {
                    // Its text is not read for secrecy stamps: not fully checked, never clean.
                    report.secrecy.append(
                        .init(
                            part: path,
                            name: name ?? named(own),
                            format: "mail",
                            report: SecrecyMatcher.match([]),
                            problems: ["message-too-deep: a message attached more than \(Self.maxAttachedMessageDepth) deep"]
                        )
                    )
                }
                if depth < Self.maxAttachedMessageDepth, isMessage {
                    let inner = MIMEParser.parse(body, limits: message.limits)
                    try scanParts(
                        of: inner,
                        engine: engine,
                        cookie: cookie,
                        budget: budget,
                        into: &report,
                        outer: (path, name ?? named(own)),
                        depth: depth + 1
                    )
                }
                // S/MIME opaque-signed data carries its MIME entity inside the signature.
                if !isTextBody, depth < Self.maxAttachedMessageDepth, let signed = SignedData.content(of: body) {
                    let inner = MIMEParser.parse(signed, limits: message.limits)
                    try scanParts(
                        of: inner,
                        engine: engine,
                        cookie: cookie,
                        budget: budget,
                        into: &report,
                        outer: (path, (name ?? named(own)) + " (signed content)"),
                        depth: depth + 1
                    )
                } else if part.mediaType == "application/pkcs7-mime" || part.mediaType == "application/x-pkcs7-mime",
                    part.contentType["smime-type"]?.lowercased() != "certs-only",
                    !report.encryptedMessages.contains(where: { $0.part == path })
                {
                    report.encryptedMessages.append(
                        .init(part: path, detail: "\(name ?? named(own)): S/MIME data ThuGate cannot read, content cannot be inspected")
                    )
                }
                // MIME parts inside a text body: what a reader that takes another boundary (or an
                // unsplit multipart's own) sees as parts.
                if isTextBody {
                    try scanEmbedded(
                        body[...],
                        of: message,
                        engine: engine,
                        cookie: cookie,
                        budget: budget,
                        into: &report,
                        part: path,
                        name: name ?? named(own),
                        depth: depth
                    )
                }
                for file in message.uuencodedFiles(in: part) {
                    try file.content.withUnsafeBytes { bytes in
                        try scanObject(
                            bytes,
                            part: path,
                            name: outer.map { "\($0.name)/\(file.name)" } ?? file.name,
                            isTextBody: false,
                            engine: engine,
                            cookie: cookie,
                            budget: budget,
                            into: &report
                        )
                    }
                }
                if let lenient = message.lenientBase64Body(of: part) {
                    try lenient.withUnsafeBytes { bytes in
                        try scanObject(
                            bytes,
                            part: path,
                            name: (name ?? named(own)) + " (base64 read skipping non-base64)",
                            isTextBody: false,
                            engine: engine,
                            cookie: cookie,
                            budget: budget,
                            into: &report
                        )
                    }
                }
            }
            for segment in message.scannedSegments(of: part) {
                let text = message.bytes[segment.range]
                let segmentName = named("(\(segment.kind.rawValue) of \(own))")
                try text.withUnsafeBytes { bytes in
                    try scanObject(
                        bytes,
                        part: path,
                        name: segmentName,
                        isTextBody: true,
                        engine: engine,
                        cookie: cookie,
                        budget: budget,
                        into: &report
                    )
                    noteEncryption(bytes, part: path, name: segmentName, into: &report)
                }
                try scanEmbedded(
                    text,
                    of: message,
                    engine: engine,
                    cookie: cookie,
                    budget: budget,
                    into: &report,
                    part: path,
                    name: segmentName,
                    depth: depth
                )
                for file in text.withUnsafeBytes({ UUDecoder.files(in: $0) }) {
                    try file.content.withUnsafeBytes { bytes in
                        try scanObject(
                            bytes,
                            part: path,
                            name: named(file.name),
                            isTextBody: false,
                            engine: engine,
                            cookie: cookie,
                            budget: budget,
                            into: &report
                        )
                    }
                }
            }
            for other in depth < Self.maxAttachedMessageDepth ? message.otherReadings(of: part) : [] {
                let inner = MIMEParser.parse(other, limits: message.limits)
                try scanParts(
                    of: inner,
                    engine: engine,
                    cookie: cookie,
                    budget: budget,
                    into: &report,
                    outer: (path, named("\(part.filename ?? own) (read another way)")),
                    depth: depth + 1
                )
            }
        }
    }

    /// MIME parts inside text that is no part (a second boundary parameter's parts in a
    /// preamble, an unsplit multipart): parsed with the boundary they use and scanned.
    private func scanEmbedded(
        _ text: ArraySlice<UInt8>,
        of message: ParsedMessage,
        engine: ClamAVEngine,
        cookie: MagicCookie,
        budget: SecrecyBudget,
        into report: inout ContentReport,
        part: String,
        name: String,
        depth: Int
    ) throws {
        guard depth < Self.maxAttachedMessageDepth, let embedded = MIMEParser.embeddedMultipart(text) else { return }
        let inner = MIMEParser.parse(embedded, limits: message.limits)
        try scanParts(of: inner, engine: engine, cookie: cookie, budget: budget, into: &report, outer: (part, name), depth: depth + 1)
    }

    /// ASCII-armored OpenPGP data (RFC 4880 6.2) at the start of a line, or a whole part that is
    /// binary OpenPGP or CMS enveloped data: content that cannot be inspected.
    private func noteEncryption(_ bytes: UnsafeRawBufferPointer, part: String, name: String, into report: inout ContentReport) {
        guard !report.encryptedMessages.contains(where: { $0.part == part }) else { return }
        if Self.hasPGPArmor(bytes) {
            report.encryptedMessages.append(.init(part: part, detail: "\(name): inline PGP message, content cannot be inspected"))
        } else if let format = Self.encryptedFormat(bytes) {
            report.encryptedMessages.append(.init(part: part, detail: "\(name): \(format), content cannot be inspected"))
        }
    }

    /// Binary encrypted formats by structure (libmagic calls both application/octet-stream):
    /// a CMS ContentInfo of type envelopedData or authEnvelopedData (RFC 5652 6.1, RFC 5083), or
    /// an OpenPGP message starting with a public-key or symmetric-key encrypted session key
    /// packet (RFC 4880 4.2, 5.1, 5.3) with a known version and algorithm.
    static func encryptedFormat(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 16 else { return nil }
        let head = Array(bytes.prefix(32))
        if head[0] == 0x30 {
            let enveloped: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03]
            let authEnveloped: [UInt8] = [0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, 0x17]
            // The OID follows the outer SEQUENCE's tag and length (2 to 6 bytes).
            for offset in 2...6 {
                if head[offset...].starts(with: enveloped) { return "CMS enveloped data (S/MIME)" }
                if head[offset...].starts(with: authEnveloped) { return "CMS authenticated enveloped data (S/MIME)" }
            }
            return nil
        }
        // OpenPGP: a session key packet, then another one or the encrypted data.
        guard let first = openPGPPacket(bytes, at: 0), first.length >= 4, first.body + first.length < bytes.count,
            let next = openPGPPacket(bytes, at: first.body + first.length), [1, 3, 9, 18, 20].contains(next.tag)
        else { return nil }
        let version = bytes[first.body]
        switch first.tag {
        // Versions 3 and 4 (what GnuPG and OpenPGP.js write); RFC 9580's v6 packets are too
        // loosely shaped to tell from random bytes by two packet headers.
        case 1 where version == 3 && first.length >= 12 && [1, 2, 16, 18, 22, 25, 26].contains(bytes[first.body + 9]):
            return "OpenPGP encrypted data (public key)"
        case 3 where version == 4 && (1...13).contains(bytes[first.body + 1]) && [0, 1, 3].contains(bytes[first.body + 2]):
            return "OpenPGP encrypted data (passphrase)"
        default:
            return nil
        }
    }

    /// An OpenPGP packet header (RFC 4880 4.2, old and new formats; definite lengths only).
    private static func openPGPPacket(_ bytes: UnsafeRawBufferPointer, at i: Int) -> (tag: Int, body: Int, length: Int)? {
        guard i + 6 <= bytes.count else { return nil }
        let b0 = bytes[i]
        if b0 & 0xC0 == 0xC0 {
            let l0 = Int(bytes[i + 1])
            if l0 < 192 { return (Int(b0 & 0x3F), i + 2, l0) }
            if l0 < 224 { return (Int(b0 & 0x3F), i + 3, (l0 - 192) << 8 + Int(bytes[i + 2]) + 192) }
            if l0 == 255 {
                let n = Int(bytes[i + 2]) << 24 | Int(bytes[i + 3]) << 16 | Int(bytes[i + 4]) << 8 | Int(bytes[i + 5])
                return (Int(b0 & 0x3F), i + 6, n)
            }
            // Partial lengths: the encrypted data packet may use them; a session key never does.
            return (Int(b0 & 0x3F), i + 2, 0)
        }
        guard b0 & 0x80 == 0x80 else { return nil }
        let tag = Int(b0 >> 2 & 0x0F)
        switch b0 & 3 {
        case 0: return (tag, i + 2, Int(bytes[i + 1]))
        case 1: return (tag, i + 3, Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]))
        case 2: return (tag, i + 5, Int(bytes[i + 1]) << 24 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 8 | Int(bytes[i + 4]))
        default: return (tag, i + 1, 0)  // indeterminate length (old format)
        }
    }

    static let pgpArmor = Array("-----BEGIN PGP MESSAGE-----".utf8)

    static func hasPGPArmor(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var at = 0
        let n = bytes.count
        // memchr for the line feed before a line; a message that starts with the armor too.
        while at + pgpArmor.count <= n {
            if bytes[at] == pgpArmor[0], at == 0 || bytes[at - 1] == 10,
                memcmp(base + at, pgpArmor, pgpArmor.count) == 0
            {
                return true
            }
            guard let lf = memchr(base + at, 10, n - at) else { return false }
            at = UnsafeRawPointer(lf) - base + 1
        }
        return false
    }

    /// `.eml` (a saved message), `.mht` / `.mhtml` (a web page saved as MIME, Word's "Single File
    /// Web Page"): read as messages whatever libmagic calls them.
    static func isMessageFileName(_ name: String?) -> Bool {
        guard let name = name?.lowercased() else { return false }
        return name.hasSuffix(".eml") || name.hasSuffix(".mht") || name.hasSuffix(".mhtml")
    }

    static func isTextBody(_ part: MIMEPart) -> Bool {
        part.mediaType.hasPrefix("text/") && part.filename == nil && part.disposition?.value != "attachment"
    }

    private func scanObject(
        _ bytes: UnsafeRawBufferPointer,
        part: String,
        name: String?,
        isTextBody: Bool,
        declaredType: String? = nil,
        charset: String? = nil,
        engine: ClamAVEngine,
        cookie: MagicCookie,
        budget: SecrecyBudget,
        into report: inout ContentReport
    ) throws {
        let containerName = name ?? "part \(part)"
        var sawTop = false
        var topIsMessage = false
        var layerError: (any Error)? = nil
        // The depth of the layer last read as a document: the layers libclamav takes out of a
        // document (a PDF's streams, a docx's XML, an OLE2 file's streams) come right after it,
        // deeper, and are its text already read, not documents of their own.
        var documentDepth: Int? = nil
        let outcome = try engine.scan(bytes, name: containerName) { layer in
            guard !layer.normalized else { return }
            if layer.depth == 0 {
                guard !sawTop else { return }
                sawTop = true
                let type = realType(layer.bytes ?? bytes, isTextBody: isTextBody, cookie)
                topIsMessage = type == "message/rfc822"
                report.objects.append(.init(part: part, name: name, size: bytes.count, mimeType: type, clamavType: layer.type))
                ContentStageTimes.time(\.archiveHeaders) {
                    inspectContainer(layer.bytes ?? bytes, mimeType: type, part: part, name: containerName, into: &report)
                }
                // Text libmagic cannot type (UTF-16 without a byte order mark) is read as the text
                // its part says it is.
                let declaredText = declaredType?.hasPrefix("text/") == true && (type == nil || type == "application/octet-stream")
                if !isTextBody,
                    let document = secrecy.document(
                        layer.bytes ?? bytes,
                        mimeType: declaredText ? declaredType : type,
                        part: part,
                        name: containerName,
                        charset: charset,
                        budget: budget
                    )
                {
                    report.secrecy.append(document)
                    documentDepth = 0
                }
            } else {
                // A message attached as a file is parsed by ThuGate itself (scanParts), with the
                // names as the sender wrote them; libclamav's mail parser rewrites them
                // (`hoa-don.exe` becomes `hoa_don.exe`). Its verdict still counts.
                guard !topIsMessage else { return }
                guard let data = layer.bytes else {
                    layerError = ScanError("libclamav gave no bytes for \(layer.name ?? "a member") in part \(part)")
                    return
                }
                // Inside a document already read, a stream that starts as plain text (a PDF's
                // content streams) is that document's text, and libmagic's text rules, its
                // slowest (about 1 ms a call), would only call it text. Anything binary, and any
                // text that could be a document or a message of its own, is still typed.
                let insideDocument = documentDepth.map { layer.depth > $0 } ?? false
                let type = insideDocument ? Self.streamType(data) ?? sniff(data, cookie) : sniff(data, cookie)
                // Named by archive path only: layers libclamav decompressed (the tar in a .gz)
                // have no name of their own, and it names some by the temporary file it wrote.
                let containers = [containerName] + layer.ancestors.dropFirst().compactMap { Self.storedName($0) }
                let memberName = Self.storedName(layer.name)
                let object = ContentReport.Object(
                    part: part,
                    name: memberName,
                    containers: containers,
                    size: layer.size,
                    mimeType: type,
                    clamavType: layer.type
                )
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
                    Self.noteMacros(
                        part: part,
                        container: path,
                        detail: "macro-enabled content type in [Content_Types].xml",
                        into: &report
                    )
                }
                let displayName = (containers + [memberName ?? "(member)"]).joined(separator: "/")
                ContentStageTimes.time(\.archiveHeaders) {
                    inspectContainer(data, mimeType: type, part: part, name: displayName, into: &report)
                }
                let format = DocumentFormat.of(mimeType: type)
                let isMessage = type == "message/rfc822" || (format == .text && Self.isMessageFileName(memberName))
                if let depth = documentDepth, layer.depth > depth {
                    // Inside a document already read: its XML, streams and text are that
                    // document's; a document or a message embedded in it is one of its own.
                    guard isMessage || (format != nil && format != .text && format != .csv && format != .html) else { return }
                } else {
                    documentDepth = nil
                }
                if isMessage {
                    // A message in an archive or a document: its Subject and bodies (libclamav
                    // takes its attachments out as layers of their own).
                    let inner = MIMEParser.parse(Array(data))
                    report.secrecy += secrecy.messageTexts(of: inner, part: part, name: displayName, budget: budget)
                } else if let document = secrecy.document(data, mimeType: type, part: part, name: displayName, budget: budget) {
                    report.secrecy.append(document)
                    if documentDepth == nil { documentDepth = layer.depth }
                }
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
            throw ScanError("libclamav did not scan part \(part) (\(containerName)); see its error in the log")
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
                report.encryptedArchives.append(
                    .init(
                        part: part,
                        name: name,
                        format: kind.lowercased(),
                        headersEncrypted: false,
                        encryptedMembers: [],
                        method: signature
                    )
                )
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
    private func inspectContainer(
        _ bytes: UnsafeRawBufferPointer,
        mimeType: String?,
        part: String,
        name: String,
        into report: inout ContentReport
    ) {
        if ArchiveReader.format(of: bytes) != nil, let listing = ArchiveReader.list(bytes, limits: archiveLimits) {
            if listing.isEncrypted {
                let encrypted = listing.members.filter { $0.encryption != nil }
                let method = listing.headerEncryption ?? encrypted.first?.encryption ?? "encrypted"
                report.encryptedArchives.append(
                    .init(
                        part: part,
                        name: name,
                        format: listing.format.rawValue,
                        headersEncrypted: listing.headersEncrypted,
                        encryptedMembers: encrypted.map(\.name),
                        method: method
                    )
                )
            }
            // Every member is judged by name, also those libclamav cannot open (encrypted, or
            // packed with a method it lacks); the ones it extracts are typed by the callback.
            for member in listing.members where !member.isDirectory {
                report.objects.append(
                    .init(
                        part: part,
                        name: member.name,
                        containers: [name],
                        size: Int(clamping: member.size ?? 0),
                        encryption: member.encryption
                    )
                )
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

    /// libmagic's type, with its executable guesses checked against the header structure
    /// (``ExecutableFormat``): a COM guess from two leading bytes is not an executable.
    private func sniff(_ bytes: UnsafeRawBufferPointer, _ cookie: MagicCookie) -> String? {
        ExecutableFormat.checkedType(cookie.mimeType(Self.sniffedPrefix(bytes)), of: bytes)
    }

    /// What libmagic is handed of `bytes`: ``textSniffLength`` of text, ``sniffLength`` of
    /// anything else (binary checks cost about the same on 1 KB as on 64 KB, and OLE2 and
    /// ISO 9660 are typed from structures past the first kilobytes).
    public static func sniffedPrefix(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let length = looksLikeText(bytes.prefix(textSniffLength)) ? textSniffLength : sniffLength
        return UnsafeRawBufferPointer(rebasing: bytes.prefix(length))
    }

    /// Bytes libmagic's text tests accept in any of its text encodings (ASCII, UTF-8, ISO-8859,
    /// "extended" 8-bit: `file_looks_*` in encoding.c): no control characters other than BEL,
    /// BS, tab, LF, VT, FF, CR and ESC, no DEL. Binary formats (and UTF-16) fail at once.
    static func looksLikeText(_ bytes: Slice<UnsafeRawBufferPointer>) -> Bool {
        !bytes.contains { $0 < 0x20 ? !(0x07...0x0D).contains($0) && $0 != 0x1B : $0 == 0x7F }
    }

    /// Whether a text body could be something else in disguise: libmagic's text rules are its
    /// slowest, and every executable, archive or document format it knows starts with a
    /// binary signature, so a body that starts as plain text is not sent to it.
    static func mayBeBinary(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let head = bytes.prefix(512)
        if head.starts(with: [0x4D, 0x5A]) || head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) || head.starts(with: Array("#!".utf8))
            || head.starts(with: Array("%PDF".utf8)) || head.starts(with: [0x50, 0x4B])
        {
            return true
        }
        return head.contains { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) }
    }

    /// Whether a stream taken out of a document is plain text and nothing else: it starts as
    /// plain text (``mayBeBinary(_:)`` is false: no executable, archive or document signature, no
    /// control characters in its first 512 bytes) and not as a text format that is a document
    /// or a message of its own: RTF (`{\rtf`), markup (`<`: HTML, XML, SVG), a header section
    /// (`Field-Name:` on its first line: an attached message) or PostScript (`%!`).
    static func isPlainStreamText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !mayBeBinary(bytes) else { return false }
        var head = bytes.prefix(512)[...]
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { head = head.dropFirst(3) }
        head = head.drop { $0 == 0x20 || (0x09...0x0D).contains($0) }
        if head.starts(with: Array("{\\rtf".utf8)) || head.first == UInt8(ascii: "<") || head.starts(with: Array("%!".utf8)) {
            return false
        }
        // RFC 5322 2.2: a field name is printable ASCII but the colon, then the colon.
        let name = head.prefix { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ":") }
        return !(name.count > 0 && head.dropFirst(name.count).first == UInt8(ascii: ":"))
    }

    /// The type of a stream taken out of a document already read, when it is that document's own
    /// syntax and nothing else: plain text (``isPlainStreamText(_:)``) or PDF syntax
    /// (``isPDFSyntax(_:)``: a page's content stream, whose strings hold glyph codes as raw bytes,
    /// or a dictionary). nil: libmagic types it.
    static func streamType(_ bytes: UnsafeRawBufferPointer) -> String? {
        if isPlainStreamText(bytes) { return "text/plain" }
        guard isPDFSyntax(bytes) else { return nil }
        return looksLikeText(bytes.prefix(textSniffLength)) ? "text/plain" : "application/octet-stream"
    }

    /// The keywords a stream of PDF syntax may hold: every content stream operator (ISO 32000-1
    /// Annex A, Table A.1; `'` and `"` included), and the object keywords (7.3: `true`, `false`,
    /// `null`, `R`, `obj`, `endobj`).
    static let pdfKeywords: Set<[UInt8]> = Set(
        ("b B b* B* BDC BI BMC BT BX c cm CS cs d d0 d1 Do DP EI EMC ET EX f F f* G g gs h i ID j J K k l m M MP n q Q re RG rg ri s S "
            + "SC sc SCN scn sh T* Tc Td TD Tf Tj TJ TL Tm Tr Ts Tw Tz v w W W* y ' \" true false null R obj endobj").split(separator: " ")
            .map { Array($0.utf8) }
    )

    /// Whether the first ``pdfSyntaxPrefix`` bytes of a stream are PDF tokens and nothing else
    /// (ISO 32000-1 7.2–7.3, 7.8.2): numbers, names, literal strings (balanced parentheses,
    /// backslash escapes, any bytes inside: a Type 0 font's glyph codes), hex strings,
    /// dictionaries, arrays and ``pdfKeywords``; inline image data (after `BI` … `ID`) ends the
    /// check. A string still open at the end of the stream, a control byte outside a string, and
    /// the signatures libmagic finds past the start (tar, cpio, ISO 9660) are not taken.
    /// No executable, archive or document format starts so: each begins with a signature of
    /// bytes outside this syntax (`MZ` then a control byte, `\x7FELF`, `PK\x03\x04`, an OLE2
    /// header, a NUL-padded tar name), so libmagic, about 0.4 ms a call on such a stream, would
    /// only call it data or text. A comment first (`%!PS`, `%PDF`) is not taken.
    static func isPDFSyntax(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Formats libmagic knows by bytes past the start: tar ("ustar" at 257), ISO 9660 ("CD001" at
        // 32769, 34817, 36865), and cpio, whose header starts with octal digits (one number token).
        func has(_ magic: String, at offset: Int) -> Bool {
            let magic = Array(magic.utf8)
            return bytes.count >= offset + magic.count && bytes[offset..<offset + magic.count].elementsEqual(magic)
        }
        if has("ustar", at: 257) || [0x8001, 0x8801, 0x9001].contains(where: { has("CD001", at: $0) })
            || ["070707", "070701", "070702"].contains(where: { has($0, at: 0) })
        {
            return false
        }
        let end = min(bytes.count, pdfSyntaxPrefix)
        var i = 0
        var tokens = 0
        var inlineImage = false
        func isWhite(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0x0C }
        func isRegular(_ b: UInt8) -> Bool { b > 0x20 && b < 0x7F && !pdfDelimiters.contains(b) }
        while i < end {
            let b = bytes[i]
            if isWhite(b) {
                i += 1
                continue
            }
            tokens += 1
            switch b {
            case UInt8(ascii: "("):
                var depth = 1
                i += 1
                while i < end, depth > 0 {
                    switch bytes[i] {
                    case UInt8(ascii: "\\"): i += 1
                    case UInt8(ascii: "("): depth += 1
                    case UInt8(ascii: ")"): depth -= 1
                    default: break
                    }
                    i += 1
                }
                // A string still open at the end of the stream is not PDF syntax. One cut by the
                // prefix is taken (a line of glyph codes often crosses it): a tar, cpio or ISO
                // image led by tokens is refused by its signature above; an old (v7) tar header,
                // which has none, made printable and led by tokens, would be typed as data, while
                // libclamav still takes its members out and each is typed on its own.
                if depth > 0 && end == bytes.count { return false }
            case UInt8(ascii: "<"):
                if i + 1 < end, bytes[i + 1] == UInt8(ascii: "<") {
                    i += 2
                    continue
                }
                i += 1
                while i < end, bytes[i] != UInt8(ascii: ">") {
                    guard isWhite(bytes[i]) || (bytes[i] < 0x80 && UnicodeScalar(bytes[i]).properties.isASCIIHexDigit) else { return false }
                    i += 1
                }
                i += 1
            case UInt8(ascii: ">"):
                // Only as `>>`, or cut by the prefix.
                if i + 1 >= end { return end < bytes.count }
                guard bytes[i + 1] == UInt8(ascii: ">") else { return false }
                i += 2
            case UInt8(ascii: "["), UInt8(ascii: "]"):
                i += 1
            case UInt8(ascii: "/"):
                i += 1
                while i < end, isRegular(bytes[i]) { i += 1 }
            case UInt8(ascii: "%"):
                guard tokens > 1 else { return false }
                while i < end, bytes[i] != 0x0A, bytes[i] != 0x0D {
                    // A comment is text: a control byte in one is not PDF syntax.
                    guard bytes[i] >= 0x20 || bytes[i] == 0x09 else { return false }
                    i += 1
                }
            default:
                guard isRegular(b) else { return false }
                let start = i
                while i < end, isRegular(bytes[i]) { i += 1 }
                let token = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                if token.allSatisfy({
                    (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+")
                }) {
                    continue
                }
                // A keyword cut by the prefix is not judged.
                if i >= end, end < bytes.count { return true }
                let keyword = Array(token)
                guard pdfKeywords.contains(keyword) else { return false }
                // Inline image data follows `BI` <dictionary> `ID` (8.9.7): bytes of any value.
                if keyword == beginInlineImage { inlineImage = true }
                if keyword == inlineImageData { return inlineImage }
            }
        }
        return tokens > 0
    }

    /// PDF delimiters (ISO 32000-1 7.2.2), and the two keywords of an inline image.
    private static let pdfDelimiters = Set("()<>[]{}/%".utf8)
    private static let beginInlineImage = Array("BI".utf8)
    private static let inlineImageData = Array("ID".utf8)

    /// How much of a stream ``isPDFSyntax(_:)`` reads.
    static let pdfSyntaxPrefix = 1024

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
                last.distance(from: dot, to: last.endIndex) == 11, last[last.index(after: dot)...].allSatisfy(\.isHexDigit)
            {
                components[components.count - 1] = String(last[..<dot])
            }
        }
        components.removeAll { $0.isEmpty || $0 == "." }
        // OLE2 streams are written as "<md5 of the stream name>_<n>" (ole2_extract.c).
        if let last = components.last, let underscore = last.firstIndex(of: "_"),
            last.distance(from: last.startIndex, to: underscore) == 32, last[..<underscore].allSatisfy(\.isHexDigit),
            !last[last.index(after: underscore)...].isEmpty, last[last.index(after: underscore)...].allSatisfy(\.isNumber)
        {
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
