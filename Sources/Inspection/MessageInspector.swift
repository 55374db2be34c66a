public import DocumentText
import Foundation
public import Logging
public import MIMECore
import NIOCore
import NIOPosix
public import Policy
public import SMTPCore
public import Scanning
public import Transforms

/// Parses a message, runs content inspection when a content rule is on, judges it with the rules,
/// and runs the transforms on what is delivered: the one path `thugate serve` and `thugate scan`
/// share, with one result (``InspectionResult``).
///
/// Content scanning (libclamav, libmagic) runs on its own bounded thread pool, one thread per
/// core by default, never on an event loop.
public final class MessageInspector: Sendable {
    public let ruleSet: RuleSet
    public let scanner: ContentScanner?
    /// Run after the verdict, in order, on messages that are delivered (TCVN 6909 text).
    public let transforms: [any MessageTransform]
    /// Hashes of the messages being inspected, so that one that crashes the process is held, not
    /// inspected again, after the restart (``CrashJournal``); nil when nothing is inspected.
    public let crashJournal: CrashJournal?
    private let limits: MIMELimits
    private let agencies: AgencyDirectory
    private let pool: NIOThreadPool?

    /// Loads the libclamav engine when a content rule is on: a database that cannot be loaded is
    /// an error here, so that ThuGate refuses to start rather than pass mail unscanned.
    /// `useCrashJournal`: `thugate serve` keeps one (`[scan] crash_journal`); `thugate scan` does
    /// not, since a person runs it once and sees it stop: nothing retries a message into a loop,
    /// and the gateway's journal slots are its own. `ruleSet` and `transforms` replace the ones
    /// the settings describe. `pdfReader` reads PDFs' text (the PDF helper pool); the caller
    /// owns it and shuts it down.
    public init(
        settings: InspectionSettings,
        ruleSet: RuleSet? = nil,
        transforms: [any MessageTransform]? = nil,
        useCrashJournal: Bool = false,
        pdfReader: (any PDFTextReading)? = nil
    ) throws {
        self.ruleSet = ruleSet ?? settings.policy.ruleSet
        self.limits = settings.mime
        self.agencies = settings.agencies
        self.transforms = transforms ?? settings.transforms
        // Whatever inspects a message in-process can fault on it (libclamav's parsers above all).
        let inspects = !self.ruleSet.rules.isEmpty || !self.transforms.isEmpty
        crashJournal = useCrashJournal && inspects ? try CrashJournal(path: settings.scan.crashJournal) : nil
        if settings.policy.needsContentScan {
            let engines = try EngineStore(settings: settings.scan.clamav)
            var limits = settings.scan.limits
            limits.secrecy.enabled = settings.policy.readsDocumentText
            scanner = ContentScanner(engines: engines, limits: limits, pdfReader: pdfReader)
            let threads = settings.scan.threads > 0 ? settings.scan.threads : System.coreCount
            let pool = NIOThreadPool(numberOfThreads: threads)
            pool.start()
            self.pool = pool
        } else {
            scanner = nil
            pool = nil
        }
    }

    public func shutdown() async {
        try? await pool?.shutdownGracefully()
    }

    /// Parses and judges on the calling thread (blocking); returns the result and the parsed
    /// message (`thugate scan` shows its parts). With a crash journal, the whole inspection (the
    /// parse, libclamav, libmagic, the rules, the transforms) runs with the message's hash in the
    /// journal, and a message that crashed the process before is held without being looked at
    /// again (its parsed message is then empty).
    public func inspectBlocking(
        _ bytes: MessageBytes,
        envelope: Envelope?
    ) throws(ScanError) -> (result: InspectionResult, message: ParsedMessage) {
        var untimed: StageTimes? = nil
        return try inspectBlocking(bytes, envelope: envelope, times: &untimed)
    }

    /// ``inspectBlocking(_:envelope:)`` that also adds each stage's duration to `times` when it is
    /// not nil (`thugate bench`); with nil no clock is read, so the proxy pays nothing.
    public func inspectBlocking(
        _ bytes: MessageBytes,
        envelope: Envelope?,
        times: inout StageTimes?
    ) throws(ScanError) -> (result: InspectionResult, message: ParsedMessage) {
        guard let crashJournal else { return try inspectUnguarded(bytes, envelope: envelope, times: &times) }
        let digest = bytes.withUnsafeBytes(CrashJournal.digest)
        guard !crashJournal.hasCrashed(digest) else {
            // Not inspected again, not delivered unseen: held, whatever the rules say.
            let finding = Finding(
                .scanCrash,
                detail: "message sha256:\(CrashJournal.hex(digest)) made the gateway crash while it was"
                    + " being checked, so it is not checked again: could not be checked"
            )
            return (InspectionResult(verdict: .quarantine(finding), findings: [finding]), MIMEParser.parse([UInt8]()))
        }
        var journaled = times
        defer { times = journaled }
        return try crashJournal.whileScanning(digest) { () throws(ScanError) in
            try inspectUnguarded(bytes, envelope: envelope, times: &journaled)
        }
    }

    private func inspectUnguarded(
        _ bytes: MessageBytes,
        envelope: Envelope?,
        times: inout StageTimes?
    ) throws(ScanError) -> (result: InspectionResult, message: ParsedMessage) {
        let parsed = StageTimes.measure(\.parse, &times) { MIMEParser.parse(bytes, limits: limits) }
        var content: ContentReport?
        if let scanner {
            content = try StageTimes.measure(\.contentScan, &times) { () throws(ScanError) in try scanner.scan(parsed) }
        }
        let parties = envelope.map { agencies.parties(sender: $0.sender, recipients: $0.recipients) }
        let judged = StageTimes.measure(\.rules, &times) {
            ruleSet.evaluate(RuleInput(envelope: envelope, message: parsed, content: content, parties: parties, agencies: agencies))
        }
        var result = InspectionResult(verdict: judged.verdict, findings: judged.findings, content: content)
        // Transforms after the verdict: only what is delivered (or tagged) is rewritten.
        switch result.verdict {
        case .pass, .tag: StageTimes.measure(\.transforms, &times) { transform(parsed, into: &result) }
        case .quarantine, .tempfail, .reject: break
        }
        return (result, parsed)
    }

    /// Runs the transforms in order, each on the previous one's output.
    private func transform(_ message: ParsedMessage, into result: inout InspectionResult) {
        var current = message
        for (index, transform) in transforms.enumerated() {
            let done = transform.transform(current)
            result.findings += done.findings
            guard let rewritten = done.rewritten(current) else { continue }
            result.transforms.append(AppliedTransform(name: transform.name, edits: done.edits, summary: done.summary))
            result.rewritten = rewritten
            // The next transform sees this one's output (parsed again only when there is a next).
            if index + 1 < transforms.count { current = MIMEParser.parse(rewritten, limits: limits) }
        }
    }

    /// Parses and judges off the event loop: on the scan pool when content is scanned, on the
    /// shared blocking pool for a large message, in place for a small one with no content rule.
    public func inspect(_ bytes: MessageBytes, envelope: Envelope, large: Bool) async throws -> InspectionResult {
        guard !ruleSet.rules.isEmpty || !transforms.isEmpty else { return .uninspected }
        let run = { @Sendable () throws -> InspectionResult in
            // The parsed message holds the bytes: only the result goes back.
            try self.inspectBlocking(bytes, envelope: envelope).result
        }
        if let pool { return try await pool.runIfActive(run) }
        return large ? try await NIOThreadPool.singleton.runIfActive(run) : try run()
    }

    /// Compiles the signature database again and swaps the new engine in (SIGHUP, `thugate
    /// reload`). A database that does not load leaves the running engine in place.
    public func reloadSignatures(logger: Logger) {
        guard let scanner else { return }
        let started = Date()
        do {
            let engine = try scanner.engines.reload()
            logger.notice(
                "signatures reloaded: \(engine.signatureCount) signatures from \(engine.settings.databaseDirectory) in \(Int(Date().timeIntervalSince(started) * 1000)) ms"
            )
        } catch {
            logger.error("signature reload failed, keeping the running engine: \(error)")
        }
    }
}
