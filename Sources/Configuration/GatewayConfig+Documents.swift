public import Inspection
import NIOCore
public import Scanning

/// `[documents]`: how the text of documents is read for the secrecy check (issue 12). PDFs are
/// read by helper processes (`thugate-pdftext`) with limits of their own, never in the gateway.
public struct DocumentSettings: Sendable, Equatable {
    /// The PDF helpers: how many, their limits, where the executable is.
    public var pdf = PDFHelperSettings()

    public init() {}

    /// The PDF helper pool a gateway (or `thugate scan`) with these settings and `policy` uses:
    /// started when a rule reads documents' text, nil otherwise. Throws when no helper can be started, so
    /// ThuGate refuses to start rather than pass PDFs unread.
    public func pdfReader(for policy: PolicySettings) throws(PDFHelperError) -> PDFHelperPool? {
        guard policy.needsContentScan, policy.readsDocumentText else { return nil }
        return try PDFHelperPool(settings: pdf)
    }
}

extension ConfigReader {
    static let documentKeys: Set<String> = [
        "pdf_helpers", "pdf_memory_mb", "pdf_cpu_seconds", "pdf_timeout_seconds", "pdf_max_pages", "pdf_helper", "ocr",
        "time_budget", "max_text_size",
    ]

    /// `time_budget` and `max_text_size`: what one message's documents may cost.
    func documentBudget(_ s: Section, into limits: inout SecrecyLimits) throws(ConfigError) {
        if let v = try s.duration("time_budget") {
            guard v.nanoseconds >= 1_000_000_000 else { throw s.error("time_budget", "at least 1s") }
            limits.budget = .nanoseconds(v.nanoseconds)
        }
        if let v = try s.size("max_text_size", min: 1 << 20) { limits.maxTextBytes = v }
    }

    func documents(_ s: Section, into settings: inout DocumentSettings) throws(ConfigError) {
        if let v = try s.integer("pdf_helpers", min: 1) { settings.pdf.helpers = v }
        // The helper maps about 94 MiB before it reads anything: below 128 every PDF would fail.
        if let v = try s.integer("pdf_memory_mb", min: 128) { settings.pdf.memoryMB = v }
        if let v = try s.integer("pdf_cpu_seconds", min: 1) { settings.pdf.cpuSeconds = v }
        if let v = try s.integer("pdf_timeout_seconds", min: 1) { settings.pdf.timeoutSeconds = v }
        if let v = try s.integer("pdf_max_pages", min: 1) { settings.pdf.maxPages = v }
        if let v = try s.path("pdf_helper") { settings.pdf.helperPath = v }
        if let v = try s.bool("ocr") { settings.pdf.ocr = v }
    }
}
