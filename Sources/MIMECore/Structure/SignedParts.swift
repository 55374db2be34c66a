extension ParsedMessage {
    /// Indices (into ``parts``) of the parts a signature covers: every multipart/signed and
    /// application/pkcs7-mime (or x-pkcs7-mime) part and everything under them. A change to any
    /// of them would break the signature.
    ///
    /// - SeeAlso: RFC 1847 section 2.1 (multipart/signed), RFC 8551 section 3.2 (application/pkcs7-mime).
    public var signedPartIndices: Set<Int> {
        var out = Set<Int>()
        func mark(_ index: Int) {
            // A part index is marked once: children always come after their parent.
            guard out.insert(index).inserted else { return }
            for child in parts[index].children { mark(child) }
        }
        for (index, part) in parts.enumerated() {
            let type = part.mediaType
            if type == "multipart/signed" || type == "application/pkcs7-mime" || type == "application/x-pkcs7-mime" {
                mark(index)
            }
        }
        return out
    }
}
