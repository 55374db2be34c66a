public import SecrecyMarks

/// Text units from plain text (a mail's text/plain body, a .txt attachment): one unit a line.
/// Pure, no I/O.
///
/// Lines end at LF, CR LF or CR. Blank lines are skipped, and the index counts the lines kept, in
/// reading order, so a stamp under a few blank lines is still one of the "first lines". A line
/// quoted from an earlier mail (it starts with ">", after spaces: RFC 3676 quote depth) keeps its
/// text and gets the `.quoted` style, which the matcher never takes for a stamp position.
///
/// Problems: `input-too-large` (only the first `maxInputBytes` read), `text-cap-reached`.
///
/// - SeeAlso: RFC 3676 §4.5 (quoted lines), RFC 5322 §2.3 (lines end in CR LF).
public enum PlainText {
    public static func units(_ text: String, container: TextUnit.Container, limits: ExtractionLimits = .init()) -> ExtractedText {
        var result = ExtractedText()
        var input = Substring(text)
        if text.utf8.count > limits.maxInputBytes {
            result.problems.append("input-too-large: \(text.utf8.count) bytes, read \(limits.maxInputBytes)")
            input = text.utf8.prefixString(limits.maxInputBytes)
        }
        var textBytes = 0
        // Split on the UTF-8 of LF and CR (CR LF gives an empty line between, skipped): no
        // grapheme breaking over the whole text. Other line separators (U+2028, NEL) stay inside
        // a unit, where the matcher splits lines again.
        let bytes = input.utf8
        var lineStart = bytes.startIndex
        var cursor = bytes.startIndex
        while lineStart < bytes.endIndex {
            while cursor < bytes.endIndex, bytes[cursor] != 0x0A, bytes[cursor] != 0x0D { cursor = bytes.index(after: cursor) }
            let line = input[lineStart..<cursor]
            if cursor < bytes.endIndex { cursor = bytes.index(after: cursor) }
            lineStart = cursor
            guard !isBlank(line) else { continue }
            guard result.units.count < limits.maxUnits else {
                result.problems.append("text-cap-reached: more than \(limits.maxUnits) units")
                break
            }
            textBytes += line.utf8.count
            guard textBytes <= limits.maxTextBytes else {
                result.problems.append("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
                break
            }
            let quoted = line.utf8.drop(while: { $0 == 0x20 || $0 == 0x09 }).first == 0x3E
            result.units.append(TextUnit(String(line), container: container, style: quoted ? .quoted : [], index: result.units.count))
        }
        return result
    }
}

/// Nothing but white space (ASCII looked at byte by byte; other text by its characters).
func isBlank(_ text: Substring) -> Bool {
    for byte in text.utf8 {
        if byte >= 0x80 { return text.allSatisfy(\.isWhitespace) }
        if byte != 0x20, byte != 0x09, byte != 0x0B, byte != 0x0C { return false }
    }
    return true
}

extension String.UTF8View {
    /// The first `count` bytes as text, cut back to a character boundary.
    func prefixString(_ count: Int) -> Substring {
        let string = String(self)
        var end = index(startIndex, offsetBy: Swift.min(count, self.count))
        while end > startIndex, end.samePosition(in: string) == nil { end = index(before: end) }
        return string[..<end]
    }
}
