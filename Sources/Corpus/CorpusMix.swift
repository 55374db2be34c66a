/// What a corpus is made of: the share of each kind of message (`--mix key=value,...`).
///
/// Shares are of the whole count and exact: `violations=0.05` of 200 messages is 10 messages,
/// placed at seeded random positions. What the shares leave is plain notices and meeting
/// schedules.
public struct CorpusMix: Sendable, Equatable {
    /// Messages that break a rule, one violation kind after the other
    /// (``MessageKind/violations``).
    public var violations = 0.05
    /// Text in TCVN3, VNI or Windows-1258 (one after the other).
    public var legacy = 0.08
    /// Công văn with .docx, .xlsx and .pdf attachments.
    public var attachments = 0.40
    /// A scanned page (PNG) attached.
    public var images = 0.05
    /// Replies ("Re:", In-Reply-To, the original quoted).
    public var replies = 0.12
    /// Forwards by hand ("Fwd:", the original inline, sometimes its attachment).
    public var forwards = 0.05
    /// List-style messages to 25–120 recipients.
    public var lists = 0.04
    /// A 5–19 MB attachment; nil: 0.005 from 1,000 messages on, none below.
    public var large: Double? = nil
    /// Whether the rotation of violations includes the oversize one (a > 20 MB attachment); nil:
    /// when the corpus has large messages, so a small corpus stays small.
    public var oversize: Bool? = nil

    public init() {}

    /// The keys `--mix` takes, in the order the help lists them.
    public static let keys = ["violations", "legacy", "attachments", "images", "replies", "forwards", "lists", "large", "oversize"]

    /// Parses `violations=0.05,legacy=0.1,...` over the defaults.
    public init(parsing text: String) throws {
        self.init()
        for item in text.split(separator: ",") where !item.trimmingSpaces.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
            guard pair.count == 2, let value = Double(pair[1]), value >= 0, value <= 1 else {
                throw MixError("\(item): expected key=share with a share from 0 to 1")
            }
            switch pair[0] {
            case "violations": violations = value
            case "legacy": legacy = value
            case "attachments": attachments = value
            case "images": images = value
            case "replies": replies = value
            case "forwards": forwards = value
            case "lists": lists = value
            case "large": large = value
            case "oversize": oversize = value > 0
            default: throw MixError("unknown key \(pair[0]) (known: \(Self.keys.joined(separator: ", ")))")
            }
        }
        let total = violations + legacy + attachments + images + replies + forwards + lists + (large ?? 0)
        if total > 1 + 1e-9 { throw MixError("the shares add up to \(total), more than 1") }
    }

    func largeShare(count: Int) -> Double { large ?? (count >= 1000 ? 0.005 : 0) }

    func includesOversize(count: Int) -> Bool { oversize ?? (largeShare(count: count) > 0) }
}

public struct MixError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// The kinds of message in a corpus, as the manifest's `kind` names them.
public enum MessageKind: String, Sendable, CaseIterable {
    case notice, meeting, congvan, scan, reply, forward, list, large
    case legacyTCVN3 = "legacy-tcvn3"
    case legacyVNI = "legacy-vni"
    case legacyCP1258 = "legacy-cp1258"
    /// EICAR as an attachment.
    case virus
    /// EICAR inside a zip.
    case virusZip = "virus-zip"
    /// A PE32 program attached.
    case executable
    /// A zip with ZipCrypto-encrypted members.
    case encryptedZip = "encrypted-zip"
    /// A > 20 MB attachment.
    case oversize
    /// TỐI MẬT in a docx page header.
    case secretDocument = "secret-docx"
    /// TỐI MẬT in the Subject.
    case secretSubject = "secret-subject"
    /// A Zimbra redirect from a state mailbox to Gmail.
    case autoForward = "auto-forward"

    /// The violations, in the order the corpus takes turns with them.
    public static let violations: [MessageKind] = [
        .virus, .executable, .encryptedZip, .secretDocument, .autoForward, .virusZip, .secretSubject, .oversize,
    ]

    public var isViolation: Bool { Self.violations.contains(self) }
}

/// Which kind each message of a corpus is: the exact counts the mix asks for, at positions shuffled
/// by the seed.
public func corpusPlan(seed: UInt64, count: Int, mix: CorpusMix) -> [MessageKind] {
    func share(_ value: Double) -> Int { Int((value * Double(count)).rounded()) }
    var kinds: [MessageKind] = []
    let violationKinds = MessageKind.violations.filter { mix.includesOversize(count: count) || $0 != .oversize }
    for index in 0..<share(mix.violations) { kinds.append(violationKinds[index % violationKinds.count]) }
    let legacy: [MessageKind] = [.legacyTCVN3, .legacyVNI, .legacyCP1258]
    for index in 0..<share(mix.legacy) { kinds.append(legacy[index % legacy.count]) }
    for (kind, value) in [
        (MessageKind.large, mix.largeShare(count: count)), (.congvan, mix.attachments), (.scan, mix.images),
        (.reply, mix.replies), (.forward, mix.forwards), (.list, mix.lists),
    ] {
        kinds += Array(repeating: kind, count: share(value))
    }
    kinds = Array(kinds.prefix(count))
    var random = CorpusRandom(seed: seed)
    while kinds.count < count { kinds.append(random.chance(0.6) ? .notice : .meeting) }
    random.shuffle(&kinds)
    return kinds
}
