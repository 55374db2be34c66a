import Foundation

/// One line of a corpus's `manifest.jsonl` (`thugate corpus generate`): the message file (relative
/// to the corpus directory), the envelope to send or judge it with, and what the gateway should
/// decide about it.
struct ManifestEntry: Decodable, Equatable, Sendable {
    struct Expected: Decodable, Equatable, Sendable {
        /// `accept`, `tag` (delivered with findings: `thugate scan`'s `accept` with findings),
        /// `quarantine`, `tempfail` or `reject`.
        var action: String
        /// Rule ids that must be among the findings (`thugate scan`'s `rule`).
        var rules: [String]

        init(action: String, rules: [String] = []) {
            self.action = action
            self.rules = rules
        }

        init(from decoder: any Decoder) throws {
            let values = try decoder.container(keyedBy: CodingKeys.self)
            action = try values.decode(String.self, forKey: .action)
            rules = try values.decodeIfPresent([String].self, forKey: .rules) ?? []
        }

        enum CodingKeys: String, CodingKey { case action, rules }
    }

    var file: String
    /// The envelope sender; `""` is the null sender, nil: none given.
    var mailFrom: String?
    var rcptTo: [String]
    var kind: String?
    var expected: Expected?

    init(file: String, mailFrom: String? = nil, rcptTo: [String] = [], kind: String? = nil, expected: Expected? = nil) {
        self.file = file
        self.mailFrom = mailFrom
        self.rcptTo = rcptTo
        self.kind = kind
        self.expected = expected
    }

    init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        file = try values.decode(String.self, forKey: .file)
        mailFrom = try values.decodeIfPresent(String.self, forKey: .mailFrom)
        rcptTo = try values.decodeIfPresent([String].self, forKey: .rcptTo) ?? []
        kind = try values.decodeIfPresent(String.self, forKey: .kind)
        expected = try values.decodeIfPresent(Expected.self, forKey: .expected)
    }

    enum CodingKeys: String, CodingKey {
        case file, kind, expected
        case mailFrom = "mail_from"
        case rcptTo = "rcpt_to"
    }
}

/// The messages a bench runs over: every .eml file under a directory (or one file), with the
/// manifest's entry for each file it names.
struct BenchCorpus: Sendable {
    struct Message: Sendable {
        var path: String
        var entry: ManifestEntry?
    }

    /// The directory or file given.
    var path: String
    var messages: [Message]
    /// Whether the directory has a manifest.jsonl (verdicts are then checked).
    var hasManifest: Bool

    static let manifestName = "manifest.jsonl"

    /// A manifest line that cannot be used, with its line number.
    struct ManifestError: Error, CustomStringConvertible, Equatable {
        /// 1-based; nil when the error is about the manifest as a whole.
        var line: Int?
        var reason: String
        var description: String { "\(BenchCorpus.manifestName)\(line.map { " line \($0)" } ?? ""): \(reason)" }
    }

    /// The manifest's entries, in order; blank lines are skipped. A file named twice, an absolute
    /// path or one leaving the directory (`..`) is an error: the manifest names files in the corpus.
    static func parseManifest(_ text: String) throws(ManifestError) -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        var seen = Set<String>()
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            let entry: ManifestEntry
            do {
                entry = try decoder.decode(ManifestEntry.self, from: Data(trimmed.utf8))
            } catch {
                throw ManifestError(line: index + 1, reason: "not a manifest entry (\(Self.reason(error)))")
            }
            let components = entry.file.split(separator: "/")
            guard !entry.file.hasPrefix("/"), !components.contains(".."), !components.isEmpty else {
                throw ManifestError(line: index + 1, reason: "\"file\" must be a path inside the corpus directory")
            }
            guard seen.insert(entry.file).inserted else {
                throw ManifestError(line: index + 1, reason: "\(entry.file) is named twice")
            }
            entries.append(entry)
        }
        return entries
    }

    /// Every .eml file under `path` (sorted), each with its manifest entry; a manifest entry for
    /// a file that is not there is an error.
    static func load(_ path: String) throws -> BenchCorpus {
        let files = try Scan.messageFiles(path)
        let manifestPath = (path as NSString).appendingPathComponent(manifestName)
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            return BenchCorpus(path: path, messages: files.map { Message(path: $0) }, hasManifest: false)
        }
        let entries = try parseManifest(String(decoding: data, as: UTF8.self))
        var byPath: [String: ManifestEntry] = [:]
        for entry in entries { byPath[(path as NSString).appendingPathComponent(entry.file)] = entry }
        let present = Set(files)
        if let missing = entries.first(where: { !present.contains((path as NSString).appendingPathComponent($0.file)) }) {
            throw ManifestError(line: nil, reason: "\(missing.file) is not an .eml file in \(path)")
        }
        return BenchCorpus(path: path, messages: files.map { Message(path: $0, entry: byPath[$0]) }, hasManifest: true)
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "invalid JSON"
        }
    }
}
