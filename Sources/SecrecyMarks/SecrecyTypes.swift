/// One piece of text an extractor found, with where it came from: what the matcher needs to tell
/// a stamp from a word in a sentence.
public struct TextUnit: Sendable, Hashable {
    /// The kind of place the text sits in.
    public enum Container: String, Sendable, Hashable, CaseIterable {
        case subject
        /// A line or paragraph of a mail's text/plain or text/html body.
        case mailBody = "mail-body"
        /// A paragraph of a document's body.
        case documentBody = "document-body"
        /// A cell of a table in a text document (docx, odt, rtf, doc): a letterhead, a stamp box.
        case tableCell = "table-cell"
        /// A cell of a spreadsheet (xlsx, ods, xls, csv): data, not layout. A level in one is at
        /// most weak ("MẬT" in the "Độ mật" column of a register); a sheet's header and footer
        /// are `pageHeader` / `pageFooter`.
        case sheetCell = "sheet-cell"
        /// A text box or frame (DrawingML, VML, ODF frame).
        case textBox = "text-box"
        case pageHeader = "page-header"
        case pageFooter = "page-footer"
        /// A line of text from a PDF page.
        case pdfLine = "pdf-line"
        case attachmentName = "attachment-name"
        /// Document properties, labels, classification headers.
        case metadata
    }

    /// Where on the page, when the extractor knows.
    public enum Region: String, Sendable, Hashable, CaseIterable {
        case topLeft = "top-left"
        case topRight = "top-right"
        /// The left cell of a letterhead table (the issuing agency, the number, the subject line).
        case letterheadLeft = "letterhead-left"
        case other
    }

    /// Style hints.
    public struct Style: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let bold = Style(rawValue: 1)
        /// Shown in capitals by its style (`w:caps`, `text-transform: uppercase`).
        public static let allCaps = Style(rawValue: 2)
        public static let red = Style(rawValue: 4)
        /// In a box or a bordered paragraph or cell.
        public static let bordered = Style(rawValue: 8)
        /// Quoted from another text: an HTML `blockquote` (a reply's quoted mail: Gmail's
        /// `gmail_quote`, `type="cite"`), a plain-text line starting with ">". Never a stamp
        /// position: a level in it is weak at most, and a GIẢI MẬT in it downgrades nothing.
        public static let quoted = Style(rawValue: 16)
        /// Not shown: every visible run of the unit is hidden (HTML `display: none`,
        /// `visibility: hidden`, `font-size: 0`, `mso-hide: all`, the `hidden` attribute; RTF
        /// `\v`). Hidden text is still read: a hidden stamp counts as a shown one, but a hidden
        /// GIẢI MẬT withdraws nothing (a reader sees only the stamp).
        public static let hidden = Style(rawValue: 32)
        /// Some of the unit's visible runs are hidden, not all (`<span style="display:none">GIẢI
        /// </span>MẬT` shows "MẬT"): a GIẢI MẬT in it withdraws nothing either.
        public static let partlyHidden = Style(rawValue: 64)
    }

    public var text: String
    public var container: Container
    /// 1-based page number, when known.
    public var page: Int?
    public var region: Region?
    public var style: Style
    /// The font the text is set in (resolved through the style chain), when known. Legacy
    /// Vietnamese fonts (`.VnTime`, `.VnTimeH`, `VNI-Times`) mean `text` holds legacy bytes read as
    /// Windows-1252 characters; they are converted before matching.
    public var fontName: String?
    public var fontSize: Double?
    /// 0-based index of the unit among its container's units in reading order (the body's
    /// paragraphs, the mail's lines), when known: "one of the first lines".
    public var index: Int?

    public init(
        _ text: String,
        container: Container,
        page: Int? = nil,
        region: Region? = nil,
        style: Style = [],
        fontName: String? = nil,
        fontSize: Double? = nil,
        index: Int? = nil
    ) {
        self.text = text
        self.container = container
        self.page = page
        self.region = region
        self.style = style
        self.fontName = fontName
        self.fontSize = fontSize
        self.index = index
    }
}

/// The three secrecy levels of Law 117/2025/QH15.
public enum SecrecyLevel: String, Sendable, Hashable, CaseIterable, Comparable {
    /// MẬT
    case confidential = "mat"
    /// TỐI MẬT
    case secret = "toi-mat"
    /// TUYỆT MẬT
    case topSecret = "tuyet-mat"

    public var vietnamese: String {
        switch self {
        case .confidential: "MẬT"
        case .secret: "TỐI MẬT"
        case .topSecret: "TUYỆT MẬT"
        }
    }

    private var rank: Int {
        switch self {
        case .confidential: 1
        case .secret: 2
        case .topSecret: 3
        }
    }

    public static func < (lhs: SecrecyLevel, rhs: SecrecyLevel) -> Bool { lhs.rank < rhs.rank }
}

/// How a unit's text was read before matching.
public enum SecrecyDecoder: String, Sendable, Hashable {
    /// Unicode already in NFC.
    case unicode
    /// Unicode in a decomposed form, composed to NFC.
    case nfd
    /// TCVN3 (`.VnTime`): legacy bytes read as Windows-1252.
    case tcvn3
    /// TCVN3 uppercase font (`.VnTimeH`): lowercase codes show as capitals.
    case tcvn3Upper = "tcvn3-upper"
    /// VNI-Windows (`VNI-Times`).
    case vni
}

/// A secrecy level found in a unit.
public struct SecrecyFinding: Sendable, Hashable {
    public enum Strength: String, Sendable, Hashable {
        /// A stamp: the rule acts on it.
        case strong
        /// A level in capitals standing alone as a unit, but not where a stamp stands (a cell in
        /// the middle of a table, a paragraph deep in the body, a footer, an attachment name).
        /// Evidence only: the rule does not act on it alone.
        case weak
    }

    /// Why this place counts.
    public enum Placement: String, Sendable, Hashable {
        case pageHeader = "page-header"
        case letterheadLeftCell = "letterhead-left-cell"
        case upperLeft = "upper-left"
        case circulationArea = "circulation-area"
        case textBox = "text-box"
        case bordered
        /// Among the first units of page 1 (Phụ lục I: below the number and the subject line).
        case documentHead = "document-head"
        case mailBodyFirstLines = "mail-body-first-lines"
        /// "[TỐI MẬT] …", "MẬT - …".
        case subjectTag = "subject-tag"
        /// "Độ mật: Mật".
        case field
        /// Not a stamp position (weak findings).
        case elsewhere
    }

    public var level: SecrecyLevel
    public var strength: Strength
    public var placement: Placement
    public var container: TextUnit.Container
    public var page: Int?
    public var region: TextUnit.Region?
    /// The unit's position in the input given to the matcher.
    public var unitIndex: Int
    /// The matched text, normalised.
    public var matched: String
    /// The normalised text around the match, up to 40 characters on each side.
    public var context: String
    /// The unit's original text (before normalisation), capped, for evidence.
    public var original: String
    public var decoder: SecrecyDecoder
    /// Written without diacritics ("TOI MAT").
    public var unaccented: Bool
}

/// What the matcher found in one document (or one message's own text).
public struct SecrecyReport: Sendable, Hashable {
    /// Strong findings, when no GIẢI MẬT stamp downgraded them.
    public var findings: [SecrecyFinding]
    /// Strong findings a GIẢI MẬT stamp in the same document downgraded: a log line, not a finding.
    public var downgraded: [SecrecyFinding]
    /// Weak findings (evidence only), never acted on.
    public var weak: [SecrecyFinding]
    /// Where the GIẢI MẬT stamp was, if any.
    public var declassification: DeclassificationMark?

    /// True when a GIẢI MẬT stamp downgraded strong findings.
    public var isDowngraded: Bool { !downgraded.isEmpty }

    /// The highest strong level, if any.
    public var highestLevel: SecrecyLevel? { findings.map(\.level).max() }
}

/// A GIẢI MẬT (declassified) stamp.
public struct DeclassificationMark: Sendable, Hashable {
    public var container: TextUnit.Container
    public var page: Int?
    public var region: TextUnit.Region?
    public var unitIndex: Int
    public var matched: String
    public var context: String
    public var decoder: SecrecyDecoder
}
