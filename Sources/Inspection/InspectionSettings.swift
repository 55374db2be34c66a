public import MIMECore
public import Policy
public import Scanning
public import Transforms

/// What a rule finds leads to (`[policy]`): each rule's action, read from the key its declaration
/// names (``RuleCatalog``), and the rules' parameters.
public struct PolicySettings: Sendable, Equatable {
    public var actions = RuleCatalog.defaultActions
    public var parameters = RuleParameters()

    public init() {}

    /// The action of `rule` (`off` for a rule that is not configurable).
    public subscript(_ rule: Finding.RuleID) -> PolicyAction {
        get { actions[rule] ?? .off }
        set { actions[rule] = newValue }
    }

    /// The rules that read documents' text (the secrecy stamps).
    public static let documentTextRules: [Finding.RuleID] = [.stateSecret, .secrecyUnchecked, .secrecyUncheckedOutbound]

    /// Whether any rule reads documents' text: when none does, no document is read (and no PDF
    /// helper started).
    public var readsDocumentText: Bool { Self.documentTextRules.contains { self[$0] != .off } }

    /// Whether any rule needs libclamav and libmagic.
    public var needsContentScan: Bool {
        RuleCatalog.all.contains { $0.needsContentScan && self[$0.id] != .off }
    }

    /// The rules and their actions: what `thugate serve` and `thugate scan` both run.
    public var ruleSet: RuleSet {
        RuleCatalog.ruleSet(actions: actions, parameters: parameters)
    }
}

/// Content scanning (`[scan]`): libclamav's signatures and limits, archive limits, the scan threads.
public struct ScanSettings: Sendable, Equatable {
    public var clamav = ClamAVSettings()
    public var limits = ScanLimits()
    /// Scan threads; 0 means one per core.
    public var threads = 0
    /// Where `serve` records the message each thread is inspecting (``CrashJournal``).
    public var crashJournal = "var/scan-crashes"

    public init() {}
}

/// TCVN 6909:2001 normalization of Vietnamese text (`[text]`).
public struct TextSettings: Sendable, Equatable {
    /// Convert legacy Vietnamese encodings in text parts, headers and file names to UTF-8 NFC.
    public var normalize = true
    /// DKIM-signed messages: only report, or normalize those from `internalDomains`.
    public var dkimSigned = TCVNNormalizer.DKIMSigned.report
    public var internalDomains: [String] = []

    public init() {}

    /// The transform these settings describe, whether or not `normalize` is on
    /// (`thugate normalize` runs it anyway).
    public var normalizer: TCVNNormalizer {
        TCVNNormalizer(dkimSigned: dkimSigned, internalDomains: internalDomains)
    }
}

/// Everything ``MessageInspector`` needs: the rules, content scanning, the transforms, the MIME
/// parser's limits. The configuration file fills it (`GatewayConfig.inspection`); a benchmark or
/// a test builds one directly.
public struct InspectionSettings: Sendable, Equatable {
    public var policy = PolicySettings()
    public var scan = ScanSettings()
    public var text = TextSettings()
    /// Limits of the MIME parser (`[mime]`).
    public var mime = MIMELimits()
    /// The agencies (`[[agency]]`): rules that care which way a message goes (state-issued mailbox
    /// to one that is not) read the owners of its envelope addresses.
    public var agencies = AgencyDirectory()

    public init(
        policy: PolicySettings = PolicySettings(),
        scan: ScanSettings = ScanSettings(),
        text: TextSettings = TextSettings(),
        mime: MIMELimits = MIMELimits(),
        agencies: AgencyDirectory = AgencyDirectory()
    ) {
        self.policy = policy
        self.scan = scan
        self.text = text
        self.mime = mime
        self.agencies = agencies
    }

    /// The transforms run after the verdict, in order: TCVN 6909 text when `[text] normalize` is on.
    public var transforms: [any MessageTransform] {
        text.normalize ? [text.normalizer] : []
    }
}
