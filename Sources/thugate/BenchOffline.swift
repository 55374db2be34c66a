import ArgumentParser
import Configuration
import Foundation
import Inspection
import MIMECore
import NIOPosix
import Policy
import SMTPCore
import Scanning

/// The offline bench: the proxy's inspection (``MessageInspector``, as `thugate scan` runs it,
/// with the recipients the envelope alone refuses taken out first) over every corpus message, on
/// `workers` threads of their own, each stage timed.
struct OfflineBench {
    var corpus: BenchCorpus
    var workers: Int
    var format: Bench.Format
    var options: ConfigOptions

    /// At most this many wrong verdicts are listed (all are counted).
    static let wrongListed = 20

    func run() async throws {
        let config = try options.load()
        let (inspector, pdfReader) = try Scan.inspector(for: config, command: "thugate bench")
        defer { pdfReader?.shutdown() }
        let agencies = config.agencies
        let messages = corpus.messages
        let queue = WorkQueue(count: messages.count)
        let pool = NIOThreadPool(numberOfThreads: workers)
        pool.start()
        let progress = BenchProgress(label: "thugate bench", total: messages.count) { queue.done }
        let clock = ContinuousClock()
        let started = clock.now
        let tally = try await withThrowingTaskGroup(of: OfflineTally.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    try await pool.runIfActive {
                        var tally = OfflineTally()
                        while let index = queue.next() {
                            Self.inspect(messages[index], with: inspector, agencies: agencies, into: &tally)
                            queue.finished()
                        }
                        return tally
                    }
                }
            }
            var all = OfflineTally()
            for try await tally in group { all.merge(tally) }
            return all
        }
        let elapsed = clock.now - started
        progress.stop()
        try? await pool.shutdownGracefully()
        await inspector.shutdown()
        let report = OfflineReport(tally, corpus: corpus.path, workers: workers, elapsed: elapsed)
        switch format {
        case .json: print(report.json)
        case .text: print(report.text)
        }
    }

    /// Reads, judges and counts one message; one that cannot be read or inspected counts as `error`.
    static func inspect(
        _ message: BenchCorpus.Message,
        with inspector: MessageInspector,
        agencies: AgencyDirectory,
        into tally: inout OfflineTally
    ) {
        let expected = message.entry?.expected
        let bytes: MessageBytes
        do {
            bytes = try Scan.read(message.path)
        } catch {
            tally.record(file: message.path, bytes: 0, action: "error", rules: [], expected: expected)
            return
        }
        var judged = ScanEnvelope.make(mailFrom: message.entry?.mailFrom, rcptTo: message.entry?.rcptTo ?? [], message: bytes)
        let refused = judged.refuseRecipients(ruleSet: inspector.ruleSet, agencies: agencies)
        var times: StageTimes? = StageTimes()
        do {
            let ((result, _), content) = try ContentStageTimes.measuring { () throws(ScanError) in
                try inspector.inspectBlocking(bytes, envelope: judged.envelope, times: &times)
            }
            // As `thugate scan` (and the proxy at RCPT): with every recipient refused, the strongest refusal decides.
            var action = judged.actionWhenAllRefused(refused) ?? result.verdict.action
            let rules = Set(refused.map(\.finding.rule.rawValue) + result.findings.map(\.rule.rawValue))
            // Delivered with findings (an X-ThuGate-Findings header): the manifest's `tag`.
            if action == "accept", !rules.isEmpty { action = "tag" }
            tally.record(
                file: message.path,
                bytes: bytes.count,
                action: action,
                rules: rules,
                expected: expected,
                times: times ?? StageTimes(),
                content: content
            )
        } catch {
            tally.record(
                file: message.path,
                bytes: bytes.count,
                action: "error",
                rules: [],
                expected: expected,
                times: times ?? StageTimes()
            )
        }
    }
}

/// Hands out message indexes to the workers and counts the finished ones (for the progress line).
/// A lock, not an actor: the workers are threads of a pool, outside Swift concurrency.
final class WorkQueue: @unchecked Sendable {
    // @unchecked: `nextIndex` and `finishedCount` are only touched under `lock`.
    private let lock = NSLock()
    private var nextIndex = 0
    private var finishedCount = 0
    let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.withLock {
            guard nextIndex < count else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }
    }

    func finished() { lock.withLock { finishedCount += 1 } }

    var done: Int { lock.withLock { finishedCount } }
}

/// The offline bench's result, as text or one JSON object.
struct OfflineReport: Encodable {
    var mode = "offline"
    var corpus: String
    var workers: Int
    var messages: Int
    var bytes: Int
    var errors: Int
    var seconds: Double
    var messagesPerSecond: Double
    var mbPerSecond: Double
    /// Seconds per stage, summed over the workers (CPU-like time, not wall time).
    var stages: [String: Double]
    var verdicts: [String: Int]
    var checked: Int
    var correct: Int
    var wrong: Int
    var byExpected: [String: OfflineTally.Checked]
    var wrongFiles: [OfflineTally.Wrong]
    /// The stage names in the order they run (for the text form; JSON objects have no order).
    private var stageOrder: [String]
    /// The stages inside content_scan.
    private var contentStages: Set<String>

    init(_ tally: OfflineTally, corpus: String, workers: Int, elapsed: Duration) {
        let seconds = max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18, 1e-9)
        self.corpus = corpus
        self.workers = workers
        messages = tally.messages
        bytes = tally.bytes
        errors = tally.errors
        self.seconds = seconds
        messagesPerSecond = Double(tally.messages) / seconds
        mbPerSecond = Double(tally.bytes) / 1e6 / seconds
        // The content scan's own stages right after it (they are part of it).
        var named = tally.stages.named
        named.insert(contentsOf: tally.content.named, at: 2)
        stages = Dictionary(uniqueKeysWithValues: named.map { ($0.name, Self.seconds($0.duration)) })
        stageOrder = named.map(\.name)
        contentStages = Set(tally.content.named.map(\.name))
        verdicts = tally.verdicts
        correct = tally.correct
        wrong = tally.wrongCount
        checked = correct + wrong
        byExpected = tally.checked
        wrongFiles = Array(tally.wrong.sorted { $0.file < $1.file }.prefix(OfflineBench.wrongListed))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    enum CodingKeys: String, CodingKey {
        case mode, corpus, workers, messages, bytes, errors, seconds, stages, verdicts, checked, correct, wrong
        case messagesPerSecond = "messages_per_second"
        case mbPerSecond = "mb_per_second"
        case byExpected = "by_expected"
        case wrongFiles = "wrong_files"
    }

    var json: String {
        BenchJSON.line(self)
    }

    var text: String {
        var lines = [
            "corpus \(corpus): \(messages) messages, \(String(format: "%.1f", Double(bytes) / 1e6)) MB, \(workers) workers, "
                + String(format: "%.2f s", seconds),
            String(format: "%.1f messages/s, %.2f MB/s", messagesPerSecond, mbPerSecond),
            "time per stage (summed over the workers, ms per message):",
        ]
        let total = stages.filter { !contentStages.contains($0.key) }.values.reduce(0, +)
        let content = stages["content_scan"] ?? 0
        let other = content - stages.filter { contentStages.contains($0.key) }.values.reduce(0, +)
        var order = stageOrder
        if let last = order.lastIndex(where: contentStages.contains) { order.insert("content_other", at: last + 1) }
        for name in order {
            // content_other: the content scan less its timed stages (ThuGate's own scanning code, MIME re-reads).
            let value = name == "content_other" ? max(0, other) : stages[name] ?? 0
            let inner = contentStages.contains(name) || name == "content_other"
            lines.append(
                (inner ? "    " : "  ") + name.padding(toLength: inner ? 16 : 18, withPad: " ", startingAt: 0)
                    + String(
                        format: "%9.3f s  %8.3f ms  %5.1f %%",
                        value,
                        messages > 0 ? value * 1000 / Double(messages) : 0,
                        total > 0 ? value * 100 / total : 0
                    )
            )
        }
        lines.append("verdicts: " + verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        if checked > 0 {
            lines.append("against the manifest: \(correct) right, \(wrong) wrong")
            for (action, counts) in byExpected.sorted(by: { $0.key < $1.key }) {
                lines.append("  expected \(action): \(counts.right) right, \(counts.wrong) wrong")
            }
            for item in wrongFiles {
                let missing = item.missingRules.isEmpty ? "" : " (missing \(item.missingRules.joined(separator: ", ")))"
                lines.append("  wrong: \(item.file): expected \(item.expected), got \(item.actual)\(missing)")
            }
            if wrong > wrongFiles.count { lines.append("  … and \(wrong - wrongFiles.count) more") }
        }
        return lines.joined(separator: "\n")
    }
}

/// One JSON object on one line, keys sorted, as both bench reports print it.
enum BenchJSON {
    static func line(_ report: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Numbers, strings and dictionaries of them only: encoding cannot fail.
        return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
    }
}
