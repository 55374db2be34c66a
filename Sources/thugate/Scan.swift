import ArgumentParser
import Configuration
import Foundation
import Inspection
import MIMECore
import Policy
import Quarantine
import SMTPCore
import Scanning
import SecrecyMarks

#if canImport(Glibc)
import Glibc
#endif

/// `thugate scan`: the proxy's inspection (``MessageInspector``) run offline over .eml files, to see what ThuGate would do.
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse messages and run the same rules as the proxy, offline.",
        discussion: """
            PATH is an .eml file or a directory (searched recursively for *.eml). JSON output is one \
            object per line: {"file", "action", "envelope": {"source", "mail_from", "rcpt_to", "rcpt_refused"}, "findings": \
            [{"rule", "detail", "part"}], "parts": [...], \
            "objects": [...], "secrecy": [{"part", "name", "format", "marks": [{"level", "strength", "placement", \
            "container", "page", "region", "matched", "context", "decoder"}], "declassified", "problems"}]}: \
            secrecy lists every document with a secrecy mark (strong, weak, or downgraded by GIẢI MẬT) or \
            one it could not read completely. Recipients the envelope alone refuses (auto_forward with an SRS \
            or +caf_= sender, official_only) are refused as the proxy does at RCPT: listed in rcpt_refused, \
            their findings first, and the message judged for the others. \
            Exit status 0 when every file was read, 1 when some could not be.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var options: ConfigOptions

    @Option(help: "text (a tree of the parts, for people) or json (one object per line).")
    var format: Format = .text

    @Option(help: "The envelope sender to judge the messages with (<> for the null sender).")
    var mailFrom: String?

    @Option(
        help:
            "An envelope recipient (repeat for several). Without --mail-from / --rcpt-to the envelope comes from the message's X-ThuGate-Envelope-From/-To (an exported held message) or Return-Path and Delivered-To / X-Original-To fields, and otherwise there is none."
    )
    var rcptTo: [String] = []

    @Argument(help: "Files or directories of .eml files.")
    var paths: [String]

    func run() throws {
        let config = try options.load()
        let (inspector, pdfReader) = try Self.inspector(for: config, command: "thugate scan")
        defer { pdfReader?.shutdown() }
        let files = try paths.flatMap(Self.messageFiles)
        let showProgress = files.count >= 50
        var lastProgress = Date()
        var failures = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]

        for (index, file) in files.enumerated() {
            if showProgress && Date().timeIntervalSince(lastProgress) >= 1 {
                printError("thugate scan: \(index)/\(files.count) messages")
                lastProgress = Date()
            }
            let bytes: MessageBytes
            do {
                bytes = try Self.read(file)
            } catch {
                failures += 1
                emit(ScanReport(file: file, error: "\(error)"), encoder: encoder)
                continue
            }
            do {
                var judged = ScanEnvelope.make(mailFrom: mailFrom, rcptTo: rcptTo, message: bytes)
                // As the proxy does at RCPT: the recipients the envelope alone refuses never reach the message.
                let refused = judged.refuseRecipients(ruleSet: inspector.ruleSet, agencies: config.agencies)
                let (result, message) = try inspector.inspectBlocking(bytes, envelope: judged.envelope)
                var report = ScanReport(file: file, result: result, message: message)
                report.envelope = ScanReport.EnvelopeReport(judged, refused: refused)
                report.refusedAtRecipient(refused, in: judged)
                emit(report, encoder: encoder)
            } catch {
                failures += 1
                emit(ScanReport(file: file, error: "content scan failed: \(error)"), encoder: encoder)
            }
        }
        if showProgress { printError("thugate scan: \(files.count)/\(files.count) messages") }
        if failures > 0 { throw ExitCode.failure }
    }

    /// The proxy's inspection with its PDF helpers (the caller shuts them down), as `scan` and
    /// `bench` run it; exit 78 (EX_CONFIG) when the content scanner cannot load.
    static func inspector(for config: GatewayConfig, command: String) throws -> (MessageInspector, PDFHelperPool?) {
        do {
            let pdfReader = try config.documents.pdfReader(for: config.policy)
            return (try MessageInspector(settings: config.inspection, pdfReader: pdfReader), pdfReader)
        } catch {
            printError("\(command): cannot load the content scanner: \(error)")
            throw ExitCode(78)
        }
    }

    private func emit(_ report: ScanReport, encoder: JSONEncoder) {
        switch format {
        case .json:
            // A report holds only strings and integers: encoding it cannot fail.
            print(String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self))
        case .text:
            print(report.text)
        }
    }

    /// The .eml files under `path` in a stable order, or `path` itself.
    static func messageFiles(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("\(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let enumerator = FileManager.default.enumerator(atPath: path)
        var files: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if name.lowercased().hasSuffix(".eml") { files.append((path as NSString).appendingPathComponent(name)) }
        }
        return files.sorted()
    }

    /// The file mapped read-only: a large message is not copied into memory.
    static func read(_ path: String) throws -> MessageBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(message: "cannot stat: \(String(cString: strerror(errno)))") }
        guard let bytes = MessageBytes(mapping: fd, count: Int(info.st_size)) else {
            throw FileError(message: "cannot map: \(String(cString: strerror(errno)))")
        }
        return bytes
    }
}

struct FileError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// One line of `thugate scan --format json`.
struct ScanReport: Encodable {
    struct FindingReport: Encodable {
        var rule: String
        var detail: String
        var part: String?
    }

    struct PartReport: Encodable {
        var part: String
        var type: String
        var charset: String?
        var encoding: String
        var filename: String?
        var size: Int
        var uuencoded: [String]?
        var defects: [String]
    }

    /// What content inspection saw: each part and each archive member, with its real type.
    struct ObjectReport: Encodable {
        var part: String
        var name: String
        var type: String?
        var size: Int
        var encryption: String?
    }

    /// What the secrecy matcher saw in one document or in the message's own text: every mark,
    /// strong, weak or withdrawn by a GIẢI MẬT stamp, with its context (for the person checking a
    /// file; the gateway's findings, notices and logs never carry the text).
    struct SecrecyReport: Encodable {
        struct Mark: Encodable {
            var level: String
            /// `strong`, `weak`, or `downgraded` (a GIẢI MẬT stamp withdrew it).
            var strength: String
            var placement: String
            var container: String
            var page: Int?
            var region: String?
            var matched: String
            var context: String
            var decoder: String
        }

        var part: String
        var name: String
        var format: String
        var marks: [Mark]
        /// Where the GIẢI MẬT stamp is, if any.
        var declassified: String?
        /// Why the text could not be read completely.
        var problems: [String]
    }

    /// The envelope the message was judged with, and where it came from.
    struct EnvelopeReport: Encodable {
        /// `options`, `x-thugate-envelope`, `return-path/delivered-to` or `none`.
        var source: String
        var mailFrom: String?
        /// The recipients the message was judged for (those not refused at RCPT).
        var rcptTo: [String]
        /// The recipients the proxy would refuse at RCPT, before the message.
        var rcptRefused: [String]

        init(_ judged: ScanEnvelope, refused: [ScanEnvelope.RecipientRefusal] = []) {
            source = judged.source.rawValue
            mailFrom = judged.envelope.map { "<\($0.sender.address)>" }
            rcptTo = judged.envelope?.recipients.map { "<\($0.address)>" } ?? []
            rcptRefused = refused.map { "<\($0.recipient.address)>" }
        }

        enum CodingKeys: String, CodingKey {
            case source
            case mailFrom = "mail_from"
            case rcptTo = "rcpt_to"
            case rcptRefused = "rcpt_refused"
        }
    }

    /// The RCPT refusals come first among the findings (`part` null); with no recipient left, the
    /// message is refused as the strongest of them says.
    mutating func refusedAtRecipient(_ refused: [ScanEnvelope.RecipientRefusal], in judged: ScanEnvelope) {
        findings = refused.map { FindingReport(rule: $0.finding.rule.rawValue, detail: $0.finding.detail, part: nil) } + findings
        if let refusal = judged.actionWhenAllRefused(refused) { action = refusal }
    }

    var file: String
    var action: String
    var envelope: EnvelopeReport?
    var findings: [FindingReport]
    var parts: [PartReport]
    var objects: [ObjectReport]?
    /// Only documents with a mark or a problem.
    var secrecy: [SecrecyReport]?
    var error: String?

    init(file: String, error: String) {
        self.file = file
        self.action = "error"
        self.findings = []
        self.parts = []
        self.objects = nil
        self.secrecy = nil
        self.error = error
    }

    init(file: String, result: InspectionResult, message: ParsedMessage) {
        self.file = file
        self.action = result.verdict.action
        // One numbering everywhere (ParsedMessage.partNumber): a single-part body is "1", a
        // multipart root "0".
        self.findings = result.findings.map {
            FindingReport(rule: $0.rule.rawValue, detail: $0.detail, part: $0.part.map(message.partNumber))
        }
        self.parts = message.parts.map { part in
            PartReport(
                part: message.partNumber(of: part),
                type: part.mediaType,
                charset: part.charset,
                encoding: part.transferEncoding,
                filename: part.filename,
                size: part.children.isEmpty ? part.decodedSize : part.bodyRange.count,
                uuencoded: part.uuencodedNames.isEmpty ? nil : part.uuencodedNames,
                defects: part.defects.map(\.description)
            )
        }
        self.objects = result.content?.objects.map {
            ObjectReport(
                part: message.partNumber($0.part),
                name: $0.displayName,
                type: $0.mimeType,
                size: $0.size,
                encryption: $0.encryption
            )
        }
        self.secrecy = result.content.map { content in
            content.secrecy.compactMap { document in
                let report = document.report
                func marks(_ found: [SecrecyFinding], _ strength: String) -> [SecrecyReport.Mark] {
                    found.map {
                        SecrecyReport.Mark(
                            level: $0.level.vietnamese,
                            strength: strength,
                            placement: $0.placement.rawValue,
                            container: $0.container.rawValue,
                            page: $0.page,
                            region: $0.region?.rawValue,
                            matched: HoldRequest.stripped($0.matched),
                            context: HoldRequest.stripped($0.context),
                            decoder: $0.decoder.rawValue
                        )
                    }
                }
                let all = marks(report.findings, "strong") + marks(report.downgraded, "downgraded") + marks(report.weak, "weak")
                guard !all.isEmpty || !document.problems.isEmpty else { return nil }
                return SecrecyReport(
                    part: message.partNumber(document.part),
                    name: HoldRequest.stripped(document.name),
                    format: document.format,
                    marks: all,
                    declassified: report.declassification.map { mark in
                        [mark.container.rawValue, mark.page.map { "page \($0)" }].compactMap { $0 }.joined(separator: ", ")
                    },
                    problems: document.problems.map(HoldRequest.stripped)
                )
            }
        }
        self.error = nil
    }

    /// For people: the verdict, a tree of the parts, then the findings.
    var text: String {
        if let error { return "\(file): error: \(error)" }
        var lines = ["\(file): \(action)"]
        if let envelope, envelope.source != ScanEnvelope.Source.none.rawValue {
            lines.append("  envelope (\(envelope.source)): \(envelope.mailFrom ?? "<>") → \(envelope.rcptTo.joined(separator: ", "))")
            if !envelope.rcptRefused.isEmpty { lines.append("  refused at RCPT: \(envelope.rcptRefused.joined(separator: ", "))") }
        }
        for part in parts {
            let root = part.part == "0" || parts.count == 1
            let depth = root ? 0 : part.part.split(separator: ".").count
            var line = String(repeating: "  ", count: depth + 1) + (root ? "" : "\(part.part) ") + part.type
            if let filename = part.filename { line += " \"\(filename)\"" }
            if let charset = part.charset { line += " charset=\(charset)" }
            if part.encoding != "7bit" { line += " \(part.encoding)" }
            line += " \(Self.size(part.size))"
            if let uu = part.uuencoded { line += " uuencoded: \(uu.joined(separator: ", "))" }
            if !part.defects.isEmpty { line += " [\(part.defects.joined(separator: "; "))]" }
            lines.append(line)
        }
        for object in objects ?? [] where object.name.contains("/") || object.type != nil {
            var line =
                "    object (part \(object.part)) \(object.name): \(object.type ?? (object.encryption == nil ? "text" : "unreadable"))"
            line += " \(Self.size(object.size))"
            if let encryption = object.encryption { line += " encrypted (\(encryption))" }
            lines.append(line)
        }
        for document in secrecy ?? [] {
            for mark in document.marks {
                var line = "    secrecy (part \(document.part)) \(document.name): \(mark.level) \(mark.strength) \(mark.placement)"
                line += " in \(mark.container)\(mark.page.map { " page \($0)" } ?? "")\(mark.region.map { " \($0)" } ?? "")"
                line += " [\(mark.decoder)] «\(mark.context)»"
                lines.append(line)
            }
            if let declassified = document.declassified {
                lines.append("    secrecy (part \(document.part)) \(document.name): GIẢI MẬT (declassified) in \(declassified)")
            }
            for problem in document.problems {
                lines.append("    secrecy (part \(document.part)) \(document.name): not fully read: \(problem)")
            }
        }
        for finding in findings {
            lines.append("  finding \(finding.rule)\(finding.part.map { " (part \($0))" } ?? ""): \(finding.detail)")
        }
        return lines.joined(separator: "\n")
    }

    static func size(_ bytes: Int) -> String {
        bytes < 1024
            ? "\(bytes) B"
            : bytes < 1 << 20 ? String(format: "%.1f KB", Double(bytes) / 1024) : String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}
