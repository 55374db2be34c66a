extension ParsedMessage {
    /// How ThuGate names a part to people, everywhere (`thugate scan`'s parts and findings, the
    /// normalizer's findings and X-ThuGate-Normalized, content-scan names): IMAP's part numbers.
    /// The body of a single-part message is "1"; the root of a multipart message, which IMAP
    /// does not number (it is the whole message), is "0"; every other part is its path ("2.1").
    ///
    /// - SeeAlso: RFC 3501 section 6.4.5 (BODY[section]: "a non-multipart message has part 1").
    public func partNumber(_ path: String) -> String {
        guard path.isEmpty else { return path }
        return parts.first.map { $0.children.isEmpty } ?? true ? "1" : "0"
    }

    public func partNumber(of part: MIMEPart) -> String { partNumber(part.path) }
}
