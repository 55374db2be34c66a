// Report benchmark: builds a usage report from a year of synthetic roll-up rows (the shape the
// verdict log writes: every (agency, rule) pair of "*", the message's agencies and its rules) and
// times building it and each renderer. `--write DIR` writes the four forms there (the HTML is what
// Scripts/report-screenshot looks at). Benchmarks/report_year.py times the real CLI on a real store.
//
//   thugate-reportbench [--days 365] [--agencies 30] [--rules 12] [--per-day 3000] [--runs 5] [--write DIR]

import Foundation
import Reports

var days = 365
var agencyCount = 30
var ruleCount = 12
var perDay = 3000
var runs = 5
var writeDirectory: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else { break }
    switch flag {
    case "--days": days = Int(value) ?? days
    case "--agencies": agencyCount = Int(value) ?? agencyCount
    case "--rules": ruleCount = Int(value) ?? ruleCount
    case "--per-day": perDay = Int(value) ?? perDay
    case "--runs": runs = Int(value) ?? runs
    case "--write": writeDirectory = value
    default: break
    }
}

/// Deterministic pseudo-random numbers (SplitMix64), so every run builds the same rows.
struct Random {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

let ruleNames = [
    "tcvn-conversion", "mime-irregular", "encrypted-document", "office-macro", "encrypted-archive", "executable", "virus",
    "attachment-size", "mime-ambiguous", "encrypted-message", "archive-limit", "malformed", "state-secret", "forwarding",
]
let rules = Array(ruleNames.prefix(ruleCount))
let agencies = (0..<agencyCount).map { (id: "agency\($0)", name: "Sở ban ngành số \($0 + 1) — UBND tỉnh Quảng Ninh") }
let first = LocalDay("2026-01-01")!
let period = try ReportPeriod.range(from: first.description, to: first.adding(days: days - 1).description)

/// A year of messages folded into roll-up rows as the verdict log keys them.
@MainActor func rollups() -> [RollupRow] {
    var random = Random(state: 42)
    struct Key: Hashable {
        var day: String, direction: String, agency: String, rule: String, outcome: Outcome
    }
    var counts: [Key: (Int, Int64)] = [:]
    let directions = ["in", "out", "internal", "transit"]
    for dayIndex in 0..<days {
        let day = first.adding(days: dayIndex).description
        for _ in 0..<perDay {
            let roll = random.next(1000)
            let outcome: Outcome = roll < 900 ? .delivered : roll < 960 ? .refused : roll < 985 ? .tempfailed : .held
            var messageRules: [String] = []
            if random.next(10) == 0 { messageRules.append(rules[0]) }
            if outcome != .delivered || random.next(20) == 0 { messageRules.append(rules[1 + random.next(rules.count - 1)]) }
            let messageAgencies =
                random.next(8) == 0
                ? [agencies[random.next(agencyCount)].id, agencies[random.next(agencyCount)].id] : [agencies[random.next(agencyCount)].id]
            let direction = directions[random.next(10) < 6 ? 0 : random.next(4)]
            let size = Int64(2000 + random.next(200_000))
            for agency in ["*"] + Set(messageAgencies).sorted() {
                for rule in ["*"] + messageRules {
                    let key = Key(day: day, direction: direction, agency: agency, rule: rule, outcome: outcome)
                    let old = counts[key] ?? (0, 0)
                    counts[key] = (old.0 + 1, old.1 + size)
                }
            }
        }
    }
    return counts.map {
        RollupRow(
            day: $0.key.day,
            direction: $0.key.direction,
            agency: $0.key.agency,
            rule: $0.key.rule,
            outcome: $0.key.outcome,
            messages: $0.value.0,
            bytes: $0.value.1
        )
    }
}

let rows = rollups()
var random = Random(state: 7)
let decisions = (0..<(days * perDay / 70)).map { index -> HeldDecision in
    let held = period.startMilliseconds + Int64(index) * 60_000
    let state = HeldDecision.State.allCases[random.next(4)]
    return HeldDecision(heldAt: held, decidedAt: state == .pending ? nil : held + Int64(random.next(72 * 3_600_000)), state: state)
}
let senders = (0..<10).map { SenderTotal(sender: "<spam\($0)@example.com>", messages: 1000 - $0 * 37) }

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

print(
    "\(days) days, \(agencyCount) agencies, \(rules.count) rules, \(perDay) messages a day: \(rows.count) roll-up rows, \(decisions.count) held recipients"
)
var report = UsageReport(period: period, generatedAt: 0, rows: [], agencies: agencies)
var best: [String: Double] = [:]
var outputs: [String: String] = [:]
for _ in 0..<runs {
    let build = seconds {
        report = UsageReport(
            period: period,
            by: .day,
            generatedAt: 1_790_787_600_000,
            rows: rows,
            refusedSenders: senders,
            decisions: decisions,
            agencies: agencies
        )
    }
    best["build", default: .infinity] = min(best["build", default: .infinity], build)
    for (name, render) in [
        ("table", TableRenderer.render), ("csv", CSVRenderer.render), ("json", JSONRenderer.render), ("html", HTMLRenderer.render),
    ] as [(String, (UsageReport) -> String)] {
        var text = ""
        let time = seconds { text = render(report) }
        best[name, default: .infinity] = min(best[name, default: .infinity], time)
        outputs[name] = text
    }
}
for name in ["build", "table", "csv", "json", "html"] {
    let size = outputs[name].map { " (\($0.utf8.count / 1024) KiB)" } ?? ""
    print("\(name): \(String(format: "%.1f", best[name]! * 1000)) ms\(size)")
}
if let writeDirectory {
    try FileManager.default.createDirectory(atPath: writeDirectory, withIntermediateDirectories: true)
    for (name, text) in outputs {
        try Data(text.utf8).write(
            to: URL(fileURLWithPath: writeDirectory).appendingPathComponent("report.\(name == "table" ? "txt" : name)")
        )
    }
}
