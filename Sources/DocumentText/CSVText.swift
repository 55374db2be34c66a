public import SecrecyMarks

/// Text units from CSV (a register exported from an e-office system, a spreadsheet saved as
/// text): one `sheetCell` unit a field, numbered in reading order (row by row). Pure, no I/O.
///
/// Fields follow RFC 4180, read liberally as spreadsheets write them: a field in double quotes
/// may hold separators and line breaks, `""` inside it is a quote; a quote in the middle of an
/// unquoted field is text; records end at LF, CR LF or CR. The separator is the one of ",", ";"
/// (Excel in locales with a decimal comma, Vietnamese included) and tab found most often outside
/// quotes on the first line (ties: ",", then ";", then tab). Blank fields are skipped. A quoted
/// field open at the end takes the rest of the text (nothing is dropped).
///
/// Problems: `input-too-large`, `text-cap-reached`.
///
/// - SeeAlso: RFC 4180 (Common Format and MIME Type for Comma-Separated Values files).
public enum CSVText {
    public static func units(_ text: String, limits: ExtractionLimits = .init()) -> ExtractedText {
        var result = ExtractedText()
        var input = Substring(text)
        if text.utf8.count > limits.maxInputBytes {
            result.problems.append("input-too-large: \(text.utf8.count) bytes, read \(limits.maxInputBytes)")
            input = text.utf8.prefixString(limits.maxInputBytes)
        }
        let separator = separator(of: input)
        var field = String.UnicodeScalarView()
        var quoted = false
        var afterQuote = false
        var textBytes = 0
        var stopped = false

        func endField() {
            defer {
                field = String.UnicodeScalarView()
                afterQuote = false
            }
            let text = String(field)
            guard !stopped, !isBlank(Substring(text)) else { return }
            guard result.units.count < limits.maxUnits else {
                result.problems.append("text-cap-reached: more than \(limits.maxUnits) units")
                stopped = true
                return
            }
            textBytes += text.utf8.count
            guard textBytes <= limits.maxTextBytes else {
                result.problems.append("text-cap-reached: more than \(limits.maxTextBytes) bytes of text")
                stopped = true
                return
            }
            result.units.append(TextUnit(text, container: .sheetCell, index: result.units.count))
        }

        // Scalars, not characters: no grapheme breaking; CR LF ends a record, then an empty one.
        var iterator = input.unicodeScalars.makeIterator()
        var lookahead: Unicode.Scalar?
        while !stopped, let character = lookahead ?? iterator.next() {
            lookahead = nil
            if quoted {
                if character == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.append("\"")
                    } else {
                        quoted = false
                        afterQuote = true
                        lookahead = next
                    }
                } else {
                    field.append(character)
                }
                continue
            }
            if character == separator {
                endField()
            } else if character == "\n" || character == "\r" {
                endField()
            } else if character == "\"", field.isEmpty, !afterQuote {
                quoted = true
            } else {
                field.append(character)
            }
        }
        endField()
        return result
    }

    /// The separator used most often outside quotes on the first line.
    static func separator(of text: Substring) -> Unicode.Scalar {
        var counts: [Unicode.Scalar: Int] = [",": 0, ";": 0, "\t": 0]
        var quoted = false
        for character in text.unicodeScalars {
            if character == "\"" { quoted.toggle() }
            if quoted { continue }
            if character == "\n" || character == "\r" { break }
            if counts[character] != nil { counts[character, default: 0] += 1 }
        }
        var best: Unicode.Scalar = ","
        for candidate: Unicode.Scalar in [";", "\t"] where counts[candidate, default: 0] > counts[best, default: 0] { best = candidate }
        return best
    }
}
