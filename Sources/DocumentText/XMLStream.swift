import CExpat

/// What a part reader gets from `XMLStream`: elements by namespace-resolved name (`w:p`,
/// `text:p`: the prefix is ThuGate's own for the namespace, whatever the document calls it), and
/// character data as UTF-8 bytes.
protocol XMLEventHandler: AnyObject {
    func start(_ name: String, _ attributes: XMLAttributes)
    func end(_ name: String)
    func characters(_ text: UnsafeBufferPointer<UInt8>)
}

/// The attributes of one start tag, names resolved like element names when asked for: most tags'
/// attributes are never looked at. Valid only during the `start` call it is given to (it reads
/// expat's own array).
struct XMLAttributes {
    let raw: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    let names: XMLNameResolver

    subscript(_ name: String) -> String? {
        guard let raw else { return nil }
        var cursor = 0
        while let key = raw[cursor], let value = raw[cursor + 1] {
            if names.matches(key, name) { return String(cString: value) }
            cursor += 2
        }
        return nil
    }

    /// Every attribute, names resolved.
    var pairs: [(name: String, value: String)] {
        guard let raw else { return [] }
        var result: [(String, String)] = []
        var cursor = 0
        while let key = raw[cursor], let value = raw[cursor + 1] {
            result.append((names.resolve(key), String(cString: value)))
            cursor += 2
        }
        return result
    }
}

/// A streaming XML reader on expat for untrusted parts: fed in chunks (as the zip entry
/// inflates), never builds a tree, never recurses. A document type declaration is refused (no
/// DTD, so no entity is ever declared or expanded: the billion-laughs guard stays on as a second
/// line), element nesting is capped at `maxDepth`, and a malformed part stops with expat's
/// message. Each stop is one problem string: `xml-dtd: …`, `xml-too-deep: …`, `xml-error: PART:
/// message`.
///
/// - SeeAlso: W3C, Extensible Markup Language (XML) 1.0 (Fifth Edition), §2.8 (document type
///   declaration); Namespaces in XML 1.0 (Third Edition).
final class XMLStream {
    private let parser: XML_Parser
    private unowned let handler: any XMLEventHandler
    let part: String
    let maxDepth: Int
    private(set) var depth = 0
    /// Why the part was not read to its end; nil while reading, and after a complete read.
    private(set) var problem: String?
    private(set) var stopped = false
    private let names = XMLNameResolver()

    init?(part: String, handler: any XMLEventHandler, maxDepth: Int) {
        // A space separates the namespace URI from the local name: no XML name has one.
        guard let parser = XML_ParserCreateNS(nil, 0x20) else { return nil }
        self.parser = parser
        self.handler = handler
        self.part = part
        self.maxDepth = maxDepth
        XML_SetUserData(parser, Unmanaged.passUnretained(self).toOpaque())
        // Amplification of entity expansion over input bounded (expat's default factor, checked from
        // 1 MiB of output): no entity can be declared without a DTD, this holds if that ever changes.
        _ = XML_SetBillionLaughsAttackProtectionMaximumAmplification(parser, 100)
        _ = XML_SetBillionLaughsAttackProtectionActivationThreshold(parser, 1 << 20)
        XML_SetElementHandler(
            parser,
            { userData, name, attributes in
                guard let userData, let name else { return }
                Unmanaged<XMLStream>.fromOpaque(userData).takeUnretainedValue().didStart(name, attributes)
            },
            { userData, name in
                guard let userData, let name else { return }
                Unmanaged<XMLStream>.fromOpaque(userData).takeUnretainedValue().didEnd(name)
            }
        )
        XML_SetCharacterDataHandler(parser) { userData, text, length in
            guard let userData, let text, length > 0 else { return }
            let stream = Unmanaged<XMLStream>.fromOpaque(userData).takeUnretainedValue()
            guard !stream.stopped else { return }
            text.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                stream.handler.characters(UnsafeBufferPointer(start: $0, count: Int(length)))
            }
        }
        XML_SetStartDoctypeDeclHandler(parser) { userData, _, _, _, _ in
            guard let userData else { return }
            let stream = Unmanaged<XMLStream>.fromOpaque(userData).takeUnretainedValue()
            stream.stop("xml-dtd: \(stream.part) has a document type declaration (refused)")
        }
        // A DTD is refused at its start; an entity declaration cannot come without one, but stop there too.
        XML_SetEntityDeclHandler(parser) { userData, _, _, _, _, _, _, _, _ in
            guard let userData else { return }
            let stream = Unmanaged<XMLStream>.fromOpaque(userData).takeUnretainedValue()
            stream.stop("xml-dtd: \(stream.part) declares an entity (refused)")
        }
    }

    deinit { XML_ParserFree(parser) }

    /// Stops the parse: with a problem, or nil when the reader has said its own.
    func stop(_ problem: String?) {
        guard !stopped else { return }
        stopped = true
        if self.problem == nil { self.problem = problem }
        XML_StopParser(parser, XML_FALSE)
    }

    /// Parses the next chunk; false once the parse has stopped (a problem, or the reader stopped it).
    @discardableResult
    func feed(_ bytes: UnsafeRawBufferPointer, final: Bool) -> Bool {
        guard !stopped else { return false }
        var offset = 0
        // XML_Parse takes an int length: feed huge chunks in pieces.
        repeat {
            let length = min(bytes.count - offset, 1 << 30)
            let isLast = final && offset + length == bytes.count
            let pointer = bytes.baseAddress.map { ($0 + offset).assumingMemoryBound(to: CChar.self) }
            let status = XML_Parse(parser, pointer, Int32(length), isLast ? 1 : 0)
            if status != XML_STATUS_OK {
                if !stopped {
                    let code = XML_GetErrorCode(parser)
                    let message = XML_ErrorString(code).map { String(cString: $0) } ?? "error \(code.rawValue)"
                    let line = XML_GetCurrentLineNumber(parser)
                    stopped = true
                    problem = "xml-error: \(part): \(message) (line \(line))"
                }
                return false
            }
            offset += length
        } while offset < bytes.count
        return !stopped
    }

    private func didStart(_ rawName: UnsafePointer<CChar>, _ attributes: UnsafeMutablePointer<UnsafePointer<CChar>?>?) {
        guard !stopped else { return }
        depth += 1
        guard depth <= maxDepth else {
            stop("xml-too-deep: \(part) nests elements deeper than \(maxDepth)")
            return
        }
        handler.start(names.resolve(rawName), XMLAttributes(raw: attributes, names: names))
    }

    private func didEnd(_ rawName: UnsafePointer<CChar>) {
        guard !stopped else { return }
        handler.end(names.resolve(rawName))
        depth -= 1
    }
}

/// ThuGate's prefixes for the namespaces the readers look at: a document may bind any prefix, so
/// names are matched by namespace URI (transitional and strict OOXML alike), never by the
/// document's prefix.
enum XMLNames {
    static let prefixes: [String: String] = [
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main": "w",
        "http://purl.oclc.org/ooxml/wordprocessingml/main": "w",
        "http://schemas.openxmlformats.org/drawingml/2006/main": "a",
        "http://purl.oclc.org/ooxml/drawingml/main": "a",
        "http://schemas.openxmlformats.org/presentationml/2006/main": "p",
        "http://purl.oclc.org/ooxml/presentationml/main": "p",
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main": "x",
        "http://purl.oclc.org/ooxml/spreadsheetml/main": "x",
        "http://schemas.openxmlformats.org/markup-compatibility/2006": "mc",
        "urn:schemas-microsoft-com:vml": "v",
        "http://schemas.openxmlformats.org/package/2006/relationships": "rel",
        "http://schemas.openxmlformats.org/package/2006/content-types": "ct",
        "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": "cp",
        "http://purl.org/dc/elements/1.1/": "dc",
        "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties": "op",
        "http://purl.oclc.org/ooxml/officeDocument/customProperties": "op",
        "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes": "vt",
        "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes": "vt",
        "urn:oasis:names:tc:opendocument:xmlns:office:1.0": "office",
        "urn:oasis:names:tc:opendocument:xmlns:style:1.0": "style",
        "urn:oasis:names:tc:opendocument:xmlns:text:1.0": "text",
        "urn:oasis:names:tc:opendocument:xmlns:table:1.0": "table",
        "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0": "draw",
        "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0": "fo",
        "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0": "svg",
        "urn:oasis:names:tc:opendocument:xmlns:meta:1.0": "meta",
        "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0": "presentation",
        "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0": "manifest",
    ]

}

/// Resolves expat's expanded names ("URI local") to "prefix:local" (`XMLNames`), remembering the
/// few namespace URIs a part uses so that a name costs a byte comparison, not a string and a hash
/// of its URI.
final class XMLNameResolver {
    private var known: [(uri: [UInt8], prefix: String)] = []

    func resolve(_ raw: UnsafePointer<CChar>) -> String {
        var length = 0
        var space = -1
        while raw[length] != 0 {
            if raw[length] == 0x20 { space = length }
            length += 1
        }
        let bytes = UnsafeRawBufferPointer(start: raw, count: length)
        guard space >= 0 else { return String(decoding: bytes, as: UTF8.self) }
        let uri = UnsafeRawBufferPointer(rebasing: bytes[..<space])
        let local = String(decoding: bytes[(space + 1)...], as: UTF8.self)
        for entry in known where entry.uri.count == uri.count && entry.uri.elementsEqual(uri) {
            return entry.prefix + local
        }
        let text = String(decoding: uri, as: UTF8.self)
        let prefix = XMLNames.prefixes[text].map { $0 + ":" } ?? "{" + text + "}"
        // A part uses a handful of namespaces; a hostile one with thousands is not remembered past 32.
        if known.count < 32 { known.append((Array(uri), prefix)) }
        return prefix + local
    }

    /// Whether the expanded name `raw` resolves to `name` ("w:val"), without building a string for
    /// names whose local part differs (the common case).
    func matches(_ raw: UnsafePointer<CChar>, _ name: String) -> Bool {
        var length = 0
        while raw[length] != 0 { length += 1 }
        let bytes = UnsafeRawBufferPointer(start: raw, count: length)
        var local = name.utf8[...]
        if let colon = name.utf8.firstIndex(of: 0x3A) { local = name.utf8[name.utf8.index(after: colon)...] }
        guard bytes.count >= local.count, bytes.suffix(local.count).elementsEqual(local) else { return false }
        return resolve(raw) == name
    }
}
