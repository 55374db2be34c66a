/// The content of an S/MIME opaque-signed part (`application/pkcs7-mime; smime-type=signed-data`):
/// a CMS SignedData that carries the signed MIME entity inside it, where no MIME parser sees it.
///
/// Reads BER as CMS writers produce it: definite or indefinite lengths, and the content as one
/// OCTET STRING or as a constructed one in pieces (OpenSSL `-stream`, Outlook). Bounded: nesting
/// at most 32 deep, and the content is never larger than the input.
///
/// - SeeAlso: RFC 5652 3 (ContentInfo), 5.1 (SignedData), 5.2 (EncapsulatedContentInfo);
///   RFC 8551 3.5.2 (opaque signed data); X.690 8.1.3 (lengths), 8.7 (OCTET STRING).
public enum SignedData {
    /// `1.2.840.113549.1.7.2`, id-signedData.
    static let signedDataOID: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02]

    /// The encapsulated content of a CMS SignedData, or nil when `der` is not one or carries
    /// no content (a detached signature).
    public static func content(of der: [UInt8]) -> [UInt8]? {
        der.withUnsafeBytes { content(of: $0) }
    }

    public static func content(of der: UnsafeRawBufferPointer) -> [UInt8]? {
        let reader = BERReader(bytes: der)
        // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
        guard let info = reader.element(at: 0, end: der.count), info.tag == 0x30,
            let type = reader.element(at: info.contentStart, end: info.contentEnd), type.tag == 0x06,
            Array(der[type.contentStart..<type.contentEnd]) == signedDataOID,
            let explicit = reader.element(at: type.next, end: info.contentEnd), explicit.tag == 0xA0,
            // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, ... }
            let signed = reader.element(at: explicit.contentStart, end: explicit.contentEnd), signed.tag == 0x30,
            let version = reader.element(at: signed.contentStart, end: signed.contentEnd), version.tag == 0x02,
            let digests = reader.element(at: version.next, end: signed.contentEnd), digests.tag == 0x31,
            let encap = reader.element(at: digests.next, end: signed.contentEnd), encap.tag == 0x30,
            // EncapsulatedContentInfo ::= SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
            let eType = reader.element(at: encap.contentStart, end: encap.contentEnd), eType.tag == 0x06,
            let eExplicit = reader.element(at: eType.next, end: encap.contentEnd), eExplicit.tag == 0xA0,
            let octets = reader.element(at: eExplicit.contentStart, end: eExplicit.contentEnd), octets.tag & 0xDF == 0x04
        else { return nil }
        var out: [UInt8] = []
        guard reader.collectOctets(octets, into: &out, depth: 0) else { return nil }
        return out
    }
}

/// A minimal BER reader over a buffer: one element's tag, content range and end.
struct BERReader {
    let bytes: UnsafeRawBufferPointer

    struct Element {
        var tag: UInt8
        var contentStart: Int
        /// The end of the content (before the end-of-contents octets of an indefinite length).
        var contentEnd: Int
        /// Where the next element starts.
        var next: Int
        var constructed: Bool { tag & 0x20 != 0 }
    }

    /// The element at `i`, ending at or before `end`. Only single-byte tags, which is all CMS
    /// uses at these levels.
    func element(at i: Int, end: Int, depth: Int = 0) -> Element? {
        guard depth < 32, i + 2 <= end, end <= bytes.count else { return nil }
        let tag = bytes[i]
        guard tag & 0x1F != 0x1F else { return nil }
        let first = Int(bytes[i + 1])
        var start = i + 2
        if first == 0x80 {
            // Indefinite length (constructed only): children up to the end-of-contents octets.
            guard tag & 0x20 != 0 else { return nil }
            var at = start
            while true {
                guard at + 2 <= end else { return nil }
                if bytes[at] == 0 && bytes[at + 1] == 0 { return Element(tag: tag, contentStart: start, contentEnd: at, next: at + 2) }
                guard let child = element(at: at, end: end, depth: depth + 1) else { return nil }
                at = child.next
            }
        }
        var length = first
        if first > 0x80 {
            let count = first & 0x7F
            guard count <= 4, start + count <= end else { return nil }
            length = 0
            for k in 0..<count { length = length << 8 | Int(bytes[start + k]) }
            start += count
        }
        guard length <= end - start else { return nil }
        return Element(tag: tag, contentStart: start, contentEnd: start + length, next: start + length)
    }

    /// The bytes of an OCTET STRING, joining the pieces of a constructed one.
    func collectOctets(_ element: Element, into out: inout [UInt8], depth: Int) -> Bool {
        guard depth < 32 else { return false }
        if !element.constructed {
            out += bytes[element.contentStart..<element.contentEnd]
            return true
        }
        var at = element.contentStart
        while at < element.contentEnd {
            guard let piece = self.element(at: at, end: element.contentEnd), piece.tag & 0xDF == 0x04,
                collectOctets(piece, into: &out, depth: depth + 1)
            else { return false }
            at = piece.next
        }
        return true
    }
}
