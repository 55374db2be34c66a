/// The matcher's data: level words, field labels, subject prefixes, stamp positions and legacy
/// fonts. Everything the matcher decides by word or place is read from here, so tuning it is an
/// edit of this file, not of the logic in `SecrecyMatcher`.
///
/// Words are written in their normalised form: NFC, capitals, single spaces.
///
/// - SeeAlso: Nghị định 30/2020/NĐ-CP Phụ lục I (where the secrecy and urgency stamps sit on an
///   administrative document); Law 117/2025/QH15 on Protection of State Secrets and Nghị định
///   63/2026/NĐ-CP (the stamp forms, taken over from Circular 24/2020/TT-BCA form 02).
public enum SecrecyTables {
    /// The three levels, in capitals with diacritics, and the forms without diacritics (which
    /// count only in a strong position).
    static let levels: [(word: String, level: SecrecyLevel, accented: Bool)] = [
        ("TUYỆT MẬT", .topSecret, true),
        ("TỐI MẬT", .secret, true),
        ("MẬT", .confidential, true),
        ("TUYET MAT", .topSecret, false),
        ("TOI MAT", .secret, false),
        ("MAT", .confidential, false),
    ]

    /// The levels with their spaces removed (`SecrecyMatcher.level(exactly:)` compares so).
    static let levelKeys: [(key: String, level: SecrecyLevel, accented: Bool)] = levels.map {
        ($0.word.filter { $0 != " " }, $0.level, $0.accented)
    }

    /// The declassification stamp (and its "already declassified" wording). In the same document
    /// it downgrades every finding.
    static let declassified: [String] = ["GIẢI MẬT", "ĐÃ GIẢI MẬT", "GIAI MAT", "DA GIAI MAT"]

    /// The e-office field label: "Độ mật: Mật | Tối mật | Tuyệt mật" ("Thường" = not secret).
    static let fieldLabels: [String] = ["ĐỘ MẬT", "DO MAT"]

    /// Labels of fields that follow "Độ mật: …" on the same line of an e-office form.
    static let followingFieldLabels: [String] = ["ĐỘ KHẨN", "DO KHAN", "SỐ", "SO:", "NGÀY", "NGAY", "NƠI NHẬN", "LOẠI"]

    /// Field values that mean "not secret": such a field is never a finding.
    static let fieldNotSecret: [String] = ["THƯỜNG", "THUONG", "KHÔNG", "KHONG", "KHÔNG MẬT"]

    /// Urgency stamps (Phụ lục I: just below the secrecy stamp). Not secrecy marks; a stamp line
    /// that carries one after the level ("MẬT HỎA TỐC" on one PDF line) still counts for the level.
    static let urgency: [String] = ["HỎA TỐC", "HOẢ TỐC", "THƯỢNG KHẨN", "KHẨN", "HOA TOC", "THUONG KHAN", "KHAN"]

    /// Reply and forward prefixes stripped from a Subject before looking for a leading tag.
    static let subjectPrefixes: [String] = ["RE", "FW", "FWD", "TL", "TR", "CHUYỂN TIẾP", "TRẢ LỜI", "AW", "WG"]

    /// Separators after a leading Subject tag: "MẬT - …", "TỐI MẬT: …", "MẬT | …".
    static let subjectTagSeparators: Set<Character> = ["-", "–", "—", ":", "|", "/"]

    /// Bracket pairs around a Subject tag: "[TỐI MẬT] …", "(MẬT) …".
    static let brackets: [(open: Character, close: Character)] = [("[", "]"), ("(", ")"), ("{", "}"), ("<", ">"), ("【", "】")]

    /// Quotation marks: a level between them is a quotation, never a stamp.
    static let quotes: Set<Character> = ["\"", "“", "”", "„", "'", "‘", "’", "«", "»", "`"]

    /// Characters trimmed from both ends of a unit before asking whether it *is* a level.
    static let trimmed: Set<Character> = [
        ".", ",", ";", ":", "!", "?", "*", "-", "–", "—", "_", "=", "~", "•", "·", "|", "/", "\\",
        "[", "]", "(", ")", "{", "}", "<", ">", "【", "】", "#", "+",
    ]

    /// Scalars folded away: zero-width spaces and joiners, word joiner, BOM, soft hyphen,
    /// combining grapheme joiner, Mongolian vowel separator, bidirectional controls.
    static let invisible: Set<UInt32> = [
        0x00AD, 0x034F, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062,
        0x2063, 0x2064, 0xFEFF, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
        0x2069,
    ]

    /// How many of a mail body's first lines are "the top of the letter" where a stamp stands.
    static let mailBodyFirstLines = 8

    /// How many of a document's first units (on page 1, or with no page known) are the head of
    /// page 1: the number, the subject line, the secrecy and urgency stamps (Phụ lục I).
    static let documentHeadUnits = 15

    /// Only this many UTF-8 bytes of a unit are considered: a stamp is short, and the cap bounds
    /// the work on a hostile unit.
    public static let unitByteCap = 4096

    /// A line longer than this (UTF-8 bytes, after normalisation) is running text, never a stamp
    /// line: "T U Y Ệ T   M Ậ T  H Ỏ A  T Ố C" or "[ TUYỆT MẬT ] - THƯỢNG KHẨN" fit well inside it.
    static let stampLineBytes = 96

    /// Only this many lines of a unit are considered.
    static let unitLineCap = 64

    /// Legacy Vietnamese fonts: name prefix (compared case-insensitively, longest first) →
    /// the encoding their text is stored in. `UVn…` fonts are Unicode and are listed as nil so
    /// they are never converted.
    static let legacyFonts: [(prefix: String, decoder: SecrecyDecoder?)] = [
        ("uvn", nil),
        (".vntimeh", .tcvn3Upper), (".vnarialh", .tcvn3Upper), (".vnhelveticah", .tcvn3Upper),
        (".vncourierh", .tcvn3Upper), (".vnavanth", .tcvn3Upper), (".vnbahamasbh", .tcvn3Upper),
        (".vnuniverseh", .tcvn3Upper), (".vnclarendonh", .tcvn3Upper), (".vnbook-antiquah", .tcvn3Upper),
        (".vn", .tcvn3),
        ("vni-", .vni), ("vni ", .vni),
    ]

    /// Context kept on each side of a match, in characters.
    static let contextCharacters = 40
}

extension SecrecyTables {
    /// A place where a stamp stands. A unit that *is* a level in one of these is a strong finding.
    struct StampPosition: Sendable {
        var containers: Set<TextUnit.Container>
        /// Page 1, or no page known (a Word body has no pages until it is laid out).
        var firstPageOnly: Bool
        /// The unit's region must be one of these (nil: any region, or none known).
        var regions: Set<TextUnit.Region>?
        /// The unit must be bordered (a bordered paragraph or cell).
        var bordered: Bool
        /// The unit must be among the first units: `documentHeadUnits`, or `mailBodyFirstLines`
        /// for a mail body.
        var head: Bool
        var placement: SecrecyFinding.Placement
    }

    static let documentContainers: Set<TextUnit.Container> = [.documentBody, .tableCell, .pdfLine, .textBox]

    /// The stamp positions, first match wins (Phụ lục I: upper left of page 1 below the number and
    /// the subject line; circulation notes top right; Word letterheads are a two-column table).
    static let stampPositions: [StampPosition] = [
        .init(containers: [.pageHeader], firstPageOnly: false, regions: nil, bordered: false, head: false, placement: .pageHeader),
        .init(
            containers: documentContainers,
            firstPageOnly: true,
            regions: [.letterheadLeft],
            bordered: false,
            head: false,
            placement: .letterheadLeftCell
        ),
        .init(
            containers: documentContainers,
            firstPageOnly: true,
            regions: [.topLeft],
            bordered: false,
            head: false,
            placement: .upperLeft
        ),
        .init(
            containers: documentContainers,
            firstPageOnly: true,
            regions: [.topRight],
            bordered: false,
            head: false,
            placement: .circulationArea
        ),
        .init(containers: [.textBox], firstPageOnly: true, regions: nil, bordered: false, head: false, placement: .textBox),
        .init(containers: documentContainers, firstPageOnly: true, regions: nil, bordered: true, head: false, placement: .bordered),
        .init(containers: documentContainers, firstPageOnly: true, regions: nil, bordered: false, head: true, placement: .documentHead),
        .init(containers: [.mailBody], firstPageOnly: false, regions: nil, bordered: false, head: true, placement: .mailBodyFirstLines),
    ]
}
