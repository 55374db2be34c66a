import CExpat
import Foundation

/// What a part reader gets from `XMLStream`: elements by namespace-resolved name (`w:p`,
/// `text:p`: the prefix is ThuGate's own for the namespace, whatever the document calls it), and
/// character data as UTF-8 bytes.
protocol XMLEventHandler: AnyObject {
    func start(_ name: String, _ attributes: XMLAttributes)
    func end(_ name: String)
    func characters(_ text: UnsafeBufferPointer<UInt8>)
    /// Read right after `start`: true when nothing inside the element just started can matter to
    /// the reader, so `XMLStream` hands it none of the element's children or text (their nesting is
    /// still counted against the depth bound, and expat still checks them) and then the element's
    /// `end`. Names are not even resolved in there: a styles part is mostly such subtrees.
    var skipsChildren: Bool { get }
}

extension XMLEventHandler {
    var skipsChildren: Bool { false }
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
    private let names: XMLNameResolver
    /// The depth of the element whose children the handler skips (`skipsChildren`); 0: none.
    private var skipFrom = 0

    /// `names` may be shared by the parts of one package (they name the same elements).
    init?(part: String, handler: any XMLEventHandler, maxDepth: Int, names: XMLNameResolver = XMLNameResolver()) {
        // A space separates the namespace URI from the local name: no XML name has one.
        guard let parser = XML_ParserCreateNS(nil, 0x20) else { return nil }
        self.parser = parser
        self.handler = handler
        self.part = part
        self.maxDepth = maxDepth
        self.names = names
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
            guard !stream.stopped, stream.skipFrom == 0 else { return }
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
        guard skipFrom == 0 else { return }
        handler.start(names.resolve(rawName), XMLAttributes(raw: attributes, names: names))
        if handler.skipsChildren { skipFrom = depth }
    }

    private func didEnd(_ rawName: UnsafePointer<CChar>) {
        guard !stopped else { return }
        if skipFrom > 0, depth > skipFrom {
            depth -= 1
            return
        }
        skipFrom = 0
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
/// few namespace URIs a part uses and, per namespace, the names already resolved: a styles part
/// names the same few dozen elements and attributes thousands of times, so a repeated name costs
/// a length, a hash of its local part and two `memcmp`s, not the decoding and joining of two
/// strings.
final class XMLNameResolver {
    private struct Namespace {
        var uri: [UInt8]
        var prefix: String
        /// Resolved names by a hash of the local part (a collision replaces the slot); the local part
        /// is the name's UTF-8 past the prefix.
        var names: [String?] = Array(repeating: nil, count: XMLNameResolver.slots)
    }

    static let slots = 128
    /// The longest namespace URI remembered (real ones are under 100 bytes): at most 32 namespaces
    /// × 128 cached names of at most 64 + 512 bytes stay per package.
    static let maxRememberedURI = 512
    private var known: [Namespace] = []
    private var last = 0

    /// The bytes the remembered namespaces and names hold (for the tests of the bounds).
    var rememberedBytes: Int {
        known.reduce(0) { sum, entry in
            sum + entry.uri.count + entry.prefix.utf8.count + entry.names.reduce(0) { $0 + ($1?.utf8.count ?? 0) }
        }
    }

    func resolve(_ raw: UnsafePointer<CChar>) -> String {
        let length = strlen(raw)
        // The local part is short: the separator is found from the end.
        var space = length
        while space > 0, raw[space - 1] != 0x20 { space -= 1 }
        guard space > 0 else { return String(decoding: UnsafeRawBufferPointer(start: raw, count: length), as: UTF8.self) }
        let uriLength = space - 1
        let local = UnsafeRawBufferPointer(start: raw + space, count: length - space)
        let index = namespace(UnsafeRawBufferPointer(start: raw, count: uriLength))
        guard let index else {
            let uri = String(decoding: UnsafeRawBufferPointer(start: raw, count: uriLength), as: UTF8.self)
            return (XMLNames.prefixes[uri].map { $0 + ":" } ?? "{" + uri + "}") + String(decoding: local, as: UTF8.self)
        }
        // FNV-1a of the local part.
        var hash: UInt32 = 2_166_136_261
        for byte in local { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let slot = Int(hash % UInt32(XMLNameResolver.slots))
        let prefixLength = known[index].prefix.utf8.count
        if var cached = known[index].names[slot],
            cached.withUTF8({ XMLNameResolver.same(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: $0[prefixLength...])), local) })
        {
            return cached
        }
        let name = known[index].prefix + String(decoding: local, as: UTF8.self)
        // Real names are short; a hostile part's megabyte-long ones are not kept.
        if local.count <= 64 { known[index].names[slot] = name }
        return name
    }

    static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let left = a.baseAddress, let right = b.baseAddress else { return true }
        return memcmp(left, right, a.count) == 0
    }

    /// The index in `known` of namespace `uri`, remembered on first sight; nil past 32 namespaces
    /// or for a URI longer than ``maxRememberedURI`` (a hostile part's thousands of namespaces, or
    /// its megabyte-long URIs, are resolved each time, never kept: the names cached under a
    /// namespace carry its prefix, so a long one would be copied into every slot).
    private func namespace(_ uri: UnsafeRawBufferPointer) -> Int? {
        func equal(_ entry: Namespace) -> Bool { entry.uri.withUnsafeBytes { XMLNameResolver.same($0, uri) } }
        if last < known.count, equal(known[last]) { return last }
        if let index = known.indices.first(where: { equal(known[$0]) }) {
            last = index
            return index
        }
        guard known.count < 32, uri.count <= XMLNameResolver.maxRememberedURI else { return nil }
        let text = String(decoding: uri, as: UTF8.self)
        known.append(Namespace(uri: Array(uri), prefix: XMLNames.prefixes[text].map { $0 + ":" } ?? "{" + text + "}"))
        last = known.count - 1
        return last
    }

    /// Whether the expanded name `raw` resolves to `name` ("w:val"), without building a string for
    /// names whose local part differs (the common case).
    func matches(_ raw: UnsafePointer<CChar>, _ name: String) -> Bool {
        let length = strlen(raw)
        var probe = name
        let localMatches = probe.withUTF8 { utf8 -> Bool in
            let start = utf8.firstIndex(of: 0x3A).map { $0 + 1 } ?? 0
            let count = utf8.count - start
            guard length >= count else { return false }
            guard count > 0, let base = utf8.baseAddress else { return true }
            return memcmp(raw + (length - count), base + start, count) == 0
        }
        return localMatches && resolve(raw) == name
    }
}
