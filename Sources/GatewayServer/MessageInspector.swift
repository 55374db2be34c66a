import Foundation
import Logging
public import MIMECore
import NIOCore
import NIOPosix
public import Policy
public import Scanning
import SMTPCore

/// Parses a message, runs content inspection when a content rule is on, and judges it: the one
/// path `thugate serve` and `thugate scan` share.
///
/// Content scanning (libclamav, libmagic) runs on its own bounded thread pool, one thread per
/// core by default, never on an event loop.
public final class MessageInspector: Sendable {
    public let pipeline: FilterPipeline
    public let scanner: ContentScanner?
    /// TCVN 6909 normalization, run after the verdict on messages that are delivered.
    public let normalizer: TCVNNormalizer?
    /// Hashes of the messages being inspected, so that one that crashes the process is held, not
    /// inspected again, after the restart (``CrashJournal``); nil when nothing is inspected.
    public let crashJournal: CrashJournal?
    private let limits: MIMELimits
    private let pool: NIOThreadPool?

    /// Loads the libclamav engine when a content rule is on: a database that cannot be loaded is
    /// an error here, so that ThuGate refuses to start rather than pass mail unscanned.
    /// `useCrashJournal`: `thugate serve` keeps one (`[scan] crash_journal`); `thugate scan` does
    /// not, since a person runs it once and sees it stop: nothing retries a message into a loop,
    /// and the gateway's journal slots are its own.
    public init(config: GatewayConfig, pipeline: FilterPipeline? = nil, useCrashJournal: Bool = false) throws {
        self.pipeline = pipeline ?? config.makePipeline()
        self.limits = config.mime
        self.normalizer = config.text.normalizer
        // Whatever inspects a message in-process can fault on it (libclamav's parsers above all).
        let inspects = !self.pipeline.rules.isEmpty || config.text.normalize
        crashJournal = useCrashJournal && inspects ? try CrashJournal(path: config.scan.crashJournal) : nil
        if config.policy.needsContentScan {
            let engines = try EngineStore(settings: config.scan.clamav)
            scanner = ContentScanner(engines: engines, limits: config.scan.limits)
            let threads = config.scan.threads > 0 ? config.scan.threads : System.coreCount
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

    public struct Inspection: Sendable {
        public var message: ParsedMessage
        public var content: ContentReport?
        public var result: FilterPipeline.Result
        /// The message rewritten by TCVN 6909 normalization, when anything changed.
        public var normalized: [UInt8]?
    }

    /// Parses and judges on the calling thread (blocking). With a crash journal, the whole
    /// inspection (the parse, libclamav, libmagic, the rules, the normalizer) runs with the
    /// message's hash in the journal, and a message that crashed the process before is held
    /// without being looked at again.
    public func inspectBlocking(_ bytes: MessageBytes, envelope: Envelope?) throws(ScanError) -> Inspection {
        guard let crashJournal else { return try inspectUnguarded(bytes, envelope: envelope) }
        let digest = bytes.withUnsafeBytes(CrashJournal.digest)
        guard !crashJournal.hasCrashed(digest) else {
            // Not inspected again, not delivered unseen: held, whatever the rules say.
            let finding = Finding(.scanCrash, detail: "message sha256:\(CrashJournal.hex(digest)) made the gateway crash while it was"
                                  + " being checked, so it is not checked again: could not be checked")
            return Inspection(message: MIMEParser.parse([UInt8]()), content: nil,
                              result: FilterPipeline.Result(verdict: .quarantine(finding), findings: [finding]), normalized: nil)
        }
        return try crashJournal.whileScanning(digest) { () throws(ScanError) in try inspectUnguarded(bytes, envelope: envelope) }
    }

    private func inspectUnguarded(_ bytes: MessageBytes, envelope: Envelope?) throws(ScanError) -> Inspection {
        let parsed = MIMEParser.parse(bytes, limits: limits)
        let content = try scanner?.scan(parsed)
        var result = pipeline.evaluate(InspectedMessage(envelope: envelope, message: parsed, content: content))
        var normalized: [UInt8]? = nil
        // A transform after the verdict: only what is delivered (or tagged) is rewritten.
        switch (normalizer, result.verdict) {
        case (let normalizer?, .pass), (let normalizer?, .tag):
            let outcome = normalizer.normalize(parsed)
            result.findings += outcome.findings
            normalized = outcome.bytes
        default:
            break
        }
        return Inspection(message: parsed, content: content, result: result, normalized: normalized)
    }

    /// Parses and judges off the event loop: on the scan pool when content is scanned, on the
    /// shared blocking pool for a large message, in place for a small one with no content rule.
    func inspect(_ bytes: MessageBytes, envelope: Envelope, large: Bool) async throws -> (FilterPipeline.Result, [UInt8]?) {
        guard !pipeline.rules.isEmpty || normalizer != nil else { return (FilterPipeline.Result(verdict: .pass, findings: []), nil) }
        let run = { @Sendable () throws -> (FilterPipeline.Result, [UInt8]?) in
            let inspection = try self.inspectBlocking(bytes, envelope: envelope)
            // The parsed message holds the bytes: only the verdict and the rewrite go back.
            return (inspection.result, inspection.normalized)
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
            logger.notice("signatures reloaded: \(engine.signatureCount) signatures from \(engine.settings.databaseDirectory) in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        } catch {
            logger.error("signature reload failed, keeping the running engine: \(error)")
        }
    }
}
