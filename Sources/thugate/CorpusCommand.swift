import ArgumentParser
import Corpus
import Foundation

/// `thugate corpus`: the benchmark corpus of issue 14.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Make the benchmark corpus: provincial mail with the verdicts ThuGate should reach.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write COUNT messages (DIR/NNNNNN.eml) and DIR/manifest.jsonl from a seed.",
            discussion: """
                The same seed, count and mix give byte-identical files on every run. Each manifest line is \
                {"file", "mail_from", "rcpt_to", "kind", "expected": {"action", "rules"}}: the envelope to send \
                the message with and what the shipped configuration (Config/thugate.toml) decides: accept, tag \
                (delivered with findings), quarantine or reject, and the rule ids of the findings.

                --mix takes key=share pairs, shares of the whole count (what they leave is notices and \
                meeting schedules): violations (0.05: EICAR, EICAR in a zip, a PE32 program, a ZipCrypto zip, \
                TỐI MẬT in a docx header or the Subject, a Zimbra redirect to Gmail, a > 20 MB attachment, \
                in turn), legacy (0.08: TCVN3, VNI, Windows-1258 text), attachments (0.40: công văn with \
                .docx/.pdf/.xlsx), images (0.05: a scanned page), replies (0.12), forwards (0.05), lists \
                (0.04: 25-120 recipients), large (a 5-19 MB attachment; 0.005 from 1,000 messages on, else \
                none), and oversize (1 or 0: whether the > 20 MB violation takes its turn; by default only \
                when there are large messages).
                """
        )

        @Option(help: "The seed (any unsigned 64-bit integer).")
        var seed: UInt64

        @Option(help: "How many messages.")
        var count: Int

        @Option(help: "The directory to write (made if missing).")
        var out: String

        @Option(help: "Shares of message kinds, e.g. violations=0.05,legacy=0.1,large=0.01,attachments=0.4.")
        var mix: String?

        func validate() throws {
            guard count > 0, count <= 9_999_999 else { throw ValidationError("--count must be from 1 to 9999999") }
            if let mix {
                do { _ = try CorpusMix(parsing: mix) } catch { throw ValidationError("--mix: \(error)") }
            }
        }

        func run() throws {
            let mix = try mix.map { try CorpusMix(parsing: $0) } ?? CorpusMix()
            let generator = CorpusGenerator(seed: seed, count: count, mix: mix)
            let directory = URL(fileURLWithPath: out)
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                printError("thugate corpus: cannot make \(out): \(error.localizedDescription)")
                throw ExitCode.failure
            }
            var manifest = ""
            let clock = ContinuousClock()
            var lastProgress = clock.now
            for index in 0..<count {
                if clock.now - lastProgress >= .seconds(1) {
                    printError("thugate corpus: \(index)/\(count) messages")
                    lastProgress = clock.now
                }
                let message = generator.message(at: index)
                do {
                    try Data(message.bytes).write(to: directory.appendingPathComponent(message.file))
                } catch {
                    printError("thugate corpus: cannot write \(message.file): \(error.localizedDescription)")
                    throw ExitCode.failure
                }
                manifest += message.entry.jsonLine + "\n"
            }
            do {
                try Data(manifest.utf8).write(to: directory.appendingPathComponent("manifest.jsonl"))
            } catch {
                printError("thugate corpus: cannot write manifest.jsonl: \(error.localizedDescription)")
                throw ExitCode.failure
            }
            printError("thugate corpus: \(count)/\(count) messages")
        }
    }
}
