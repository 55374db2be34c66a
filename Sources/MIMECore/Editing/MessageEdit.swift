/// One change made to a message, named the way a milter reports it back to the MTA (insert, add
/// or change a header field, replace a body), together with the bytes it splices into the
/// original.
///
/// A front end that rewrites the message itself (the SMTP proxy) applies the splices
/// (``MessageEdits/applied(to:)``); one that may only describe changes (a milter) sends the
/// message header's field edits and, when anything below the header changed, the new body
/// (``MessageEdits/milterEdits(of:)``).
///
/// - SeeAlso: Postfix MILTER_README (the Sendmail milter protocol's SMFIR_INSHEADER,
///   SMFIR_ADDHEADER, SMFIR_CHGHEADER and SMFIR_REPLBODY replies).
public struct MessageEdit: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A field inserted before the part's first field (SMFIR_INSHEADER at index 0).
        case insertHeader(name: String, value: String)
        /// A field added after the part's last field (SMFIR_ADDHEADER).
        case addHeader(name: String, value: String)
        /// The part's `index`-th field named `name` (1-based, names compared case-insensitively)
        /// given a new value (SMFIR_CHGHEADER).
        case changeHeader(name: String, index: Int, value: String)
        /// A leaf part's body replaced by `bytes` (already transfer-encoded).
        case replaceBody
    }

    /// The part edited: its path, "" for the message itself (``MIMEPart/path``).
    public var part: String
    public var kind: Kind
    /// The original bytes replaced; empty for an insertion.
    public var range: Range<Int>
    /// What replaces them: a whole field with its CRLF, or a body.
    public var bytes: [UInt8]

    public init(part: String, kind: Kind, range: Range<Int>, bytes: [UInt8]) {
        self.part = part
        self.kind = kind
        self.range = range
        self.bytes = bytes
    }
}

/// The edits made to one message, in the order of the bytes they touch; no two overlap.
public struct MessageEdits: Sendable, Equatable {
    public private(set) var edits: [MessageEdit]

    /// Sorts `edits` by position. Two edits touching the same bytes are a programming error
    /// (``MessageEditor`` refuses them).
    public init(_ edits: [MessageEdit] = []) {
        // A stable sort: two insertions at one offset keep the order they were made in.
        self.edits = edits.enumerated().sorted {
            ($0.element.range.lowerBound, $0.element.range.upperBound, $0.offset)
                < ($1.element.range.lowerBound, $1.element.range.upperBound, $1.offset)
        }.map(\.element)
    }

    public var isEmpty: Bool { edits.isEmpty }

    /// The original message with every edit spliced in.
    public func applied(to original: MessageBytes) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(original.count + edits.reduce(0) { $0 + $1.bytes.count - $1.range.count })
        var position = 0
        for edit in edits {
            out += original[position..<edit.range.lowerBound]
            out += edit.bytes
            position = edit.range.upperBound
        }
        out += original[position..<original.count]
        return out
    }

    /// The edits as a milter sends them to the MTA, which keeps the message: the message
    /// header's field edits in order, and the whole new body when anything after the message
    /// header changed (a milter replaces the body or leaves it; it cannot edit part of it).
    public func milterEdits(of message: ParsedMessage) -> (header: [MessageEdit], body: [UInt8]?) {
        let isHeaderEdit = { (edit: MessageEdit) in edit.part.isEmpty && edit.kind != .replaceBody }
        let header = edits.filter(isHeaderEdit)
        let inBody = edits.filter { !isHeaderEdit($0) }
        guard !inBody.isEmpty else { return (header, nil) }
        // Every such edit lies after the message header: in the body or in a part's header.
        var body: [UInt8] = []
        var position = message.parts[0].header.bodyStart
        for edit in inBody {
            body += message.bytes[position..<edit.range.lowerBound]
            body += edit.bytes
            position = edit.range.upperBound
        }
        body += message.bytes[position..<message.bytes.count]
        return (header, body)
    }
}
