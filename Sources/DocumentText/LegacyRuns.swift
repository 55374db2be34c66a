import SecrecyMarks

/// Which parts of one unit's text are set in a legacy Vietnamese font (`.VnTime`, `.VnTimeH`,
/// `VNI-Times`: bytes read as Windows-1252 characters), so that a unit that mixes fonts reaches
/// the matcher in Unicode.
///
/// The matcher converts a unit by its one `fontName`, which is right for a unit set in one legacy
/// font. But a letterhead cell (one unit of several paragraphs) or a paragraph with line breaks
/// often mixes runs: the agency, the number and the subject line in Times New Roman, the stamp
/// in `.VnTime` (typed over from an old document). Converting the whole unit by its first run's
/// font would leave the stamp as "TUYÖT MËT". So when the visible runs are in more than one
/// encoding (a Unicode font counts as one), each legacy run is converted here with its own font's
/// encoding, and the unit takes the font of its first Unicode run. Which fonts are legacy, and
/// how they convert, is the matcher's decision (`SecrecyMatcher.legacyDecoder(forFont:)`,
/// `SecrecyMatcher.unicode(fromLegacy:_:)`), so both read a font alike.
struct LegacyRuns {
    struct Segment {
        /// UTF-8 byte offsets in the unit's text.
        var range: Range<Int>
        var decoder: SecrecyDecoder
    }

    /// The text in legacy fonts, in order; adjacent runs of one encoding merged (VNI puts a
    /// letter's marks in bytes after it, which a run boundary may separate).
    private(set) var segments: [Segment] = []
    /// The encoding of the first visible run (`.some(nil)`: a Unicode font); nil before one.
    private var firstEncoding: SecrecyDecoder??
    /// The visible runs are in more than one encoding.
    private(set) var isMixed = false
    /// The font of the first visible run in a Unicode font, once one was seen.
    private(set) var unicodeFont: String?
    private var sawUnicode = false
    /// The last font asked about: runs of one font follow each other.
    private var lastFont: String??
    private var lastDecoder: SecrecyDecoder?

    /// Notes a run of `font` that took `bytes` of the unit's text; `visible` when it has a
    /// character other than white space.
    mutating func add(font: String?, bytes: Range<Int>, visible: Bool) {
        let decoder: SecrecyDecoder?
        if let lastFont, lastFont == font {
            decoder = lastDecoder
        } else {
            decoder = SecrecyMatcher.legacyDecoder(forFont: font)
            lastFont = .some(font)
            lastDecoder = decoder
        }
        if let decoder, !bytes.isEmpty {
            if let last = segments.last, last.decoder == decoder, last.range.upperBound == bytes.lowerBound {
                segments[segments.count - 1].range = last.range.lowerBound..<bytes.upperBound
            } else {
                segments.append(Segment(range: bytes, decoder: decoder))
            }
        }
        guard visible else { return }
        if decoder == nil, !sawUnicode {
            sawUnicode = true
            unicodeFont = font
        }
        if let first = firstEncoding {
            if first != decoder { isMixed = true }
        } else {
            firstEncoding = .some(decoder)
        }
    }

    /// Takes in the runs of a text appended after `offset` bytes of this one (a cell's
    /// paragraphs joined into the cell).
    mutating func append(_ other: LegacyRuns, at offset: Int) {
        for segment in other.segments {
            let range = (segment.range.lowerBound + offset)..<(segment.range.upperBound + offset)
            if let last = segments.last, last.decoder == segment.decoder, last.range.upperBound == range.lowerBound {
                segments[segments.count - 1].range = last.range.lowerBound..<range.upperBound
            } else {
                segments.append(Segment(range: range, decoder: segment.decoder))
            }
        }
        if other.isMixed { isMixed = true }
        if let theirs = other.firstEncoding {
            if let ours = firstEncoding {
                if ours != theirs { isMixed = true }
            } else {
                firstEncoding = theirs
            }
        }
        if !sawUnicode, other.sawUnicode {
            sawUnicode = true
            unicodeFont = other.unicodeFont
        }
    }

    /// The unit's font: `first` (its first visible run's), or when the runs mix encodings the
    /// font of its first Unicode run (nil when it has none: every legacy run is converted).
    func fontName(first: String?) -> String? { isMixed ? unicodeFont : first }

    /// `bytes` (the unit's UTF-8 text) with each legacy run converted to Unicode, when the
    /// visible runs mix encodings; nil when they do not (the unit keeps its font, and the matcher
    /// converts it whole). A run that holds a character no Windows-1252 byte gives is Unicode
    /// after all, and kept.
    func converted(_ bytes: [UInt8]) -> String? {
        guard isMixed, !segments.isEmpty else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + bytes.count / 2)
        var cursor = 0
        for segment in segments {
            let lower = min(max(segment.range.lowerBound, cursor), bytes.count)
            let upper = min(segment.range.upperBound, bytes.count)
            guard lower < upper else { continue }
            result += bytes[cursor..<lower]
            let legacy = String(decoding: bytes[lower..<upper], as: UTF8.self)
            if let unicode = SecrecyMatcher.unicode(fromLegacy: legacy, segment.decoder) {
                result += unicode.utf8
            } else {
                result += bytes[lower..<upper]
            }
            cursor = upper
        }
        result += bytes[min(cursor, bytes.count)...]
        return String(decoding: result, as: UTF8.self)
    }
}
