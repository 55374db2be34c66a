/// Header field values made from text a sender chose (file and member names in findings, an
/// envelope address): safe to write into a header section.
public enum HeaderText {
    /// `text` as a header field value: control characters (CR and LF above all, which would end
    /// the field early and start one the sender wrote) become spaces; text longer than
    /// `maxBytes` UTF-8 bytes is cut there and ends with ` …`, so that the line stays under
    /// RFC 5322's 998 octets; non-ASCII text travels as RFC 2047 words, one per folded line.
    ///
    /// - SeeAlso: RFC 5322 section 2.1.1 (line length), section 2.2 (field bodies), RFC 2047.
    public static func sanitized(_ text: String, maxBytes: Int = 900) -> String {
        var out = String(String.UnicodeScalarView(text.unicodeScalars.lazy.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        if out.utf8.count > maxBytes {
            // Cut on bytes; a character split in two decodes as U+FFFD, which is dropped.
            var cut = String(decoding: out.utf8.prefix(maxBytes - 10), as: UTF8.self)
            while cut.last == "\u{FFFD}" { cut.removeLast() }
            out = cut + " …"
        }
        guard out.unicodeScalars.contains(where: { !$0.isASCII }) else { return out }
        return EncodedWords.encode(out).split(separator: " ").joined(separator: "\r\n ")
    }
}
