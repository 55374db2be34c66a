/// Changes to a parsed message, serialized so that every byte outside the changed places stays
/// exactly as it was.
///
/// Used by the transforms: TCVN 6909 normalization replaces a text part's content and charset,
/// and adds `X-ThuGate-Normalized`. Every change is kept as a ``MessageEdit`` (``edits``), so a
/// milter can report the same changes that the proxy writes.
public struct MessageEditor: Sendable {
    public let message: ParsedMessage
    /// The changes made, each with the byte range of the original it replaces; ranges never
    /// overlap.
    private var replacements: [MessageEdit] = []

    public enum EditError: Error, Equatable {
        case overlappingEdit(String)
        case containerPart(String)
    }

    public init(_ message: ParsedMessage) {
        self.message = message
    }

    /// Adds a header field at the top of the message (or of a part), before the existing ones.
    /// The value is folded if needed and never holds a bare line break.
    public mutating func addHeader(_ name: String, _ value: String, to part: MIMEPart? = nil) throws(EditError) {
        let target = part ?? message.parts[0]
        let at = target.header.range.lowerBound
        try replace(at..<at, with: Self.field(name, value), part: target.path, kind: .insertHeader(name: name, value: value))
    }

    /// Replaces a leaf part's decoded content. The part's Content-Transfer-Encoding becomes
    /// quoted-printable (text mostly ASCII) or base64, its Content-Type keeps its type and
    /// parameters with `charset` set when given. Other header fields of the part stay.
    public mutating func replaceContent(of part: MIMEPart, with content: [UInt8], charset: String? = nil) throws(EditError) {
        guard part.children.isEmpty else { throw .containerPart(part.path) }
        let eightBit = content.reduce(0) { $0 + ($1 >= 0x80 ? 1 : 0) }
        let useQP = part.mediaType.hasPrefix("text/") && eightBit * 5 < max(content.count, 1)
        let body = useQP ? TransferEncoder.quotedPrintable(content) : TransferEncoder.base64(content)
        let encodingName = useQP ? "quoted-printable" : "base64"

        var params = part.contentType.parameters
        if let charset { params["charset"] = charset }
        let typeValue = ([part.mediaType] + params.keys.sorted().map { "\($0)=\(Self.quoteIfNeeded(params[$0]!))" })
            .joined(separator: "; ")

        try replaceField("Content-Type", of: part, with: typeValue)
        try replaceField("Content-Transfer-Encoding", of: part, with: encodingName)
        // Inside a multipart the CRLF before the next delimiter is outside bodyRange and stays.
        try replace(part.bodyRange, with: body, part: part.path, kind: .replaceBody)
    }

    /// Replaces the first field named `name` of a part (the message itself by default) with a new
    /// value, or adds the field when the part has none. The value must be ASCII (encode words
    /// first, RFC 2047); it is folded to stay under 78 characters where possible.
    public mutating func replaceHeader(_ name: String, with value: String, of part: MIMEPart? = nil) throws(EditError) {
        try replaceField(name, of: part ?? message.parts[0], with: value)
    }

    /// Replaces one given field (when a part has several of that name), keeping its name.
    public mutating func replaceHeader(_ field: HeaderField, with value: String) throws(EditError) {
        // The part whose header section holds the field (header sections never nest), and the
        // field's place among those of its name there, as a milter counts it.
        let part = message.parts.first { $0.header.range.contains(field.range.lowerBound) } ?? message.parts[0]
        let index = (part.header.fields(named: field.name).firstIndex { $0.range == field.range } ?? 0) + 1
        try replace(
            field.range,
            with: Self.field(field.name, value),
            part: part.path,
            kind: .changeHeader(name: field.name, index: index, value: value)
        )
    }

    /// Every change made so far, in the order of the bytes they touch.
    public var edits: MessageEdits { MessageEdits(replacements) }

    /// The message with all edits applied.
    public func serialized() -> [UInt8] {
        edits.applied(to: message.bytes)
    }

    // MARK: -

    private mutating func replace(_ range: Range<Int>, with bytes: [UInt8], part: String, kind: MessageEdit.Kind) throws(EditError) {
        for edit in replacements where edit.range.overlaps(range) || (!range.isEmpty && edit.range == range) {
            throw .overlappingEdit("\(range)")
        }
        replacements.append(MessageEdit(part: part, kind: kind, range: range, bytes: bytes))
    }

    /// Replaces the first field named `name` in the part, or adds one after its last field.
    private mutating func replaceField(_ name: String, of part: MIMEPart, with value: String) throws(EditError) {
        let field = Self.field(name, value)
        if let existing = part.header.fields(named: name).first {
            try replace(existing.range, with: field, part: part.path, kind: .changeHeader(name: existing.name, index: 1, value: value))
        } else {
            let end = part.header.fields.last?.range.upperBound ?? part.header.range.lowerBound
            try replace(end..<end, with: field, part: part.path, kind: .addHeader(name: name, value: value))
        }
    }

    /// `Name: value` with CRLF, folded at spaces to stay under 78 characters where possible;
    /// CR and LF in the value are replaced by spaces.
    static func field(_ name: String, _ value: String) -> [UInt8] {
        let clean = String(value.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : Character($0) })
        var out = Array("\(name):".utf8)
        var lineLength = out.count
        for (i, word) in clean.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(word.utf8)
            if i > 0 && lineLength + 1 + bytes.count > 78 && lineLength > name.utf8.count + 1 {
                out += [13, 10, 0x20]
                lineLength = 1
            } else {
                out.append(0x20)
                lineLength += 1
            }
            out += bytes
            lineLength += bytes.count
        }
        return out + [13, 10]
    }

    private static func quoteIfNeeded(_ value: String) -> String {
        let special = value.isEmpty || value.contains { " ()<>@,;:\\\"/[]?=".contains($0) || $0.asciiValue == nil }
        guard special else { return value }
        return "\"" + value.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"") + "\""
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
