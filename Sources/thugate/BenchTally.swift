import Inspection
import Scanning

/// What an offline bench saw, summed: one per worker, merged at the end (``merge(_:)``), so the
/// workers share nothing while they run.
struct OfflineTally: Sendable, Equatable {
    /// A message whose verdict is not the manifest's.
    struct Wrong: Sendable, Equatable, Encodable {
        var file: String
        var expected: String
        var actual: String
        /// Expected rules that are not among the findings.
        var missingRules: [String]

        enum CodingKeys: String, CodingKey {
            case file, expected, actual
            case missingRules = "missing_rules"
        }
    }

    /// Right and wrong verdicts for one expected action.
    struct Checked: Sendable, Equatable, Encodable {
        var right = 0
        var wrong = 0
    }

    var messages = 0
    var bytes = 0
    /// Messages that could not be read or inspected (their verdict is `error`).
    var errors = 0
    var stages = StageTimes()
    /// Inside ``StageTimes/contentScan``: libmagic, libclamav, archive headers, document text, the matcher.
    var content = ContentStageTimes()
    /// Messages per action (`accept`, `quarantine`, `tempfail`, `reject`, `error`).
    var verdicts: [String: Int] = [:]
    /// Per expected action, for the messages the manifest has an expectation for.
    var checked: [String: Checked] = [:]
    var wrong: [Wrong] = []

    var correct: Int { checked.values.reduce(0) { $0 + $1.right } }
    var wrongCount: Int { checked.values.reduce(0) { $0 + $1.wrong } }

    /// Counts one message: right when the action is the expected one and every expected rule is
    /// among the findings' rules.
    mutating func record(
        file: String,
        bytes: Int,
        action: String,
        rules: Set<String>,
        expected: ManifestEntry.Expected?,
        times: StageTimes = StageTimes(),
        content: ContentStageTimes = ContentStageTimes()
    ) {
        messages += 1
        self.bytes += bytes
        if action == "error" { errors += 1 }
        verdicts[action, default: 0] += 1
        stages += times
        self.content += content
        guard let expected else { return }
        let missing = expected.rules.filter { !rules.contains($0) }
        if action == expected.action && missing.isEmpty {
            checked[expected.action, default: Checked()].right += 1
        } else {
            checked[expected.action, default: Checked()].wrong += 1
            wrong.append(Wrong(file: file, expected: expected.action, actual: action, missingRules: missing))
        }
    }

    mutating func merge(_ other: OfflineTally) {
        messages += other.messages
        bytes += other.bytes
        errors += other.errors
        stages += other.stages
        content += other.content
        verdicts.merge(other.verdicts, uniquingKeysWith: +)
        checked.merge(other.checked) { Checked(right: $0.right + $1.right, wrong: $0.wrong + $1.wrong) }
        wrong += other.wrong
    }
}

/// What an SMTP load run saw, summed per connection task and merged at the end.
struct LoadTally: Sendable, Equatable {
    /// Latency of each measured message in microseconds (MAIL sent → the reply that ended it).
    var latenciesMicros: [UInt64] = []
    /// Messages by the reply that ended them: the final reply after the dot, or the refusal of
    /// MAIL, of every RCPT or of DATA.
    var replies: [Int: Int] = [:]
    /// Messages that ended without a reply (connection refused, closed, timed out), by reason.
    var errors: [String: Int] = [:]
    /// Message bytes of the measured messages (before dot-stuffing).
    var bytes = 0

    var messages: Int { replies.values.reduce(0, +) + errors.values.reduce(0, +) }
    var accepted: Int { replies[250] ?? 0 }
    /// Every message not accepted with 250.
    var failures: Int { messages - accepted }

    mutating func record(reply code: Int, bytes: Int, latencyMicros: UInt64) {
        replies[code, default: 0] += 1
        self.bytes += bytes
        latenciesMicros.append(latencyMicros)
    }

    mutating func record(error reason: String) {
        errors[reason, default: 0] += 1
    }

    mutating func merge(_ other: LoadTally) {
        latenciesMicros += other.latenciesMicros
        replies.merge(other.replies, uniquingKeysWith: +)
        errors.merge(other.errors, uniquingKeysWith: +)
        bytes += other.bytes
    }
}
