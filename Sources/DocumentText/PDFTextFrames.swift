public import SecrecyMarks

/// The framed protocol between the gateway and its PDF helper process (`thugate-pdftext`): one
/// file both sides compile, so the two cannot drift apart.
///
/// Every message is a frame: a 4-byte big-endian payload length, then the payload. The gateway
/// sends a ``PDFTextRequest``; the helper answers with one ``PDFTextResponse`` frame per request,
/// in order, and sends one response frame with no units and no problems as soon as it has set its
/// resource limits (the "ready" handshake). Integers are big-endian; strings are UTF-8 with a
/// length in front. Both sides read what the other wrote as hostile: a length is checked against
/// the frame's cap before anything is allocated for it, and against the bytes that remain before
/// it is read.
public enum PDFTextFrames {
    /// Bytes of the length in front of each payload.
    public static let headerBytes = 4

    /// A frame or payload that breaks the protocol.
    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The frame of `payload`: its length in front.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerBytes + payload.count)
        out.appendUInt32(UInt32(clamping: payload.count))
        out += payload
        return out
    }

    /// The response frame a helper writes when it is ready.
    public static var readyFrame: [UInt8] { frame(PDFTextResponse(ExtractedText()).encoded()) }
}

/// Splits a byte stream into frames, however the stream was cut into reads. A frame whose
/// declared length is above `maxPayload` is refused when its header arrives, before its payload
/// is read or any room is made for it.
public struct PDFFrameReader: Sendable {
    public let maxPayload: Int
    private var buffer: [UInt8] = []
    /// The payload length of the frame being read, once its header is in.
    private var expected: Int?

    public init(maxPayload: Int) { self.maxPayload = maxPayload }

    /// Bytes received and not yet returned as a frame.
    public var buffered: Int { buffer.count }

    /// Takes in bytes read from the stream.
    public mutating func append<C: Collection<UInt8>>(_ bytes: C) { buffer.append(contentsOf: bytes) }

    /// The next complete payload, nil when more bytes are needed. Throws on a frame past `maxPayload`.
    public mutating func next() throws(PDFTextFrames.Error) -> [UInt8]? {
        if expected == nil {
            guard buffer.count >= PDFTextFrames.headerBytes else { return nil }
            let length = Int(buffer[0]) << 24 | Int(buffer[1]) << 16 | Int(buffer[2]) << 8 | Int(buffer[3])
            guard length <= maxPayload else {
                throw PDFTextFrames.Error("frame-too-large: \(length) bytes declared, at most \(maxPayload)")
            }
            expected = length
            buffer.removeFirst(PDFTextFrames.headerBytes)
        }
        guard let length = expected, buffer.count >= length else { return nil }
        let payload = Array(buffer[..<length])
        buffer.removeFirst(length)
        expected = nil
        return payload
    }
}

/// What the gateway asks the helper: read this PDF, within these bounds.
public struct PDFTextRequest: Sendable, Hashable {
    /// Pages read (the first ones); a longer document gets a `pdf-pages` problem.
    public var maxPages: Int
    /// Pages read with positions, fonts and colours (1 and 2); later pages as plain text.
    public var positionedPages: Int
    /// UTF-8 bytes of text returned.
    public var maxTextBytes: Int
    /// Units returned.
    public var maxUnits: Int
    public var pdf: [UInt8]

    /// Fixed bytes before the PDF.
    static let headerBytes = 16

    public init(pdf: [UInt8], maxPages: Int, positionedPages: Int = 2, maxTextBytes: Int, maxUnits: Int) {
        self.pdf = pdf
        self.maxPages = maxPages
        self.positionedPages = positionedPages
        self.maxTextBytes = maxTextBytes
        self.maxUnits = maxUnits
    }

    /// The payload (the caller frames it): four counts, then the PDF's bytes.
    public static func encode(
        pdf: UnsafeRawBufferPointer,
        maxPages: Int,
        positionedPages: Int,
        maxTextBytes: Int,
        maxUnits: Int
    )
        -> [UInt8]
    {
        var out = [UInt8]()
        out.reserveCapacity(PDFTextFrames.headerBytes + headerBytes + pdf.count)
        out.appendUInt32(UInt32(clamping: headerBytes + pdf.count))
        for value in [maxPages, positionedPages, maxTextBytes, maxUnits] { out.appendUInt32(UInt32(clamping: max(0, value))) }
        out.append(contentsOf: pdf)
        return out
    }

    public func encoded() -> [UInt8] {
        pdf.withUnsafeBytes {
            Array(
                Self.encode(pdf: $0, maxPages: maxPages, positionedPages: positionedPages, maxTextBytes: maxTextBytes, maxUnits: maxUnits)
                    .dropFirst(PDFTextFrames.headerBytes)
            )
        }
    }

    public init(decoding payload: [UInt8]) throws(PDFTextFrames.Error) {
        var reader = PayloadReader(payload)
        maxPages = Int(try reader.uint32())
        positionedPages = Int(try reader.uint32())
        maxTextBytes = Int(try reader.uint32())
        maxUnits = Int(try reader.uint32())
        pdf = reader.rest()
    }
}

/// What the helper answers: the units it read and its problems.
public struct PDFTextResponse: Sendable, Hashable {
    public var text: ExtractedText

    public init(_ text: ExtractedText) { self.text = text }

    /// Each unit as text, container, page, region, style, font name, font size and index (absent
    /// values flagged), then the problems.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.appendUInt32(UInt32(clamping: text.units.count))
        for unit in text.units {
            out.appendString(unit.text, lengthBytes: 4)
            out.appendString(unit.container.rawValue, lengthBytes: 1)
            out.appendInt32(unit.page)
            out.appendString(unit.region?.rawValue ?? "", lengthBytes: 1)
            out.append(unit.style.rawValue)
            if let font = unit.fontName {
                out.append(1)
                out.appendString(font, lengthBytes: 1)
            } else {
                out.append(0)
            }
            if let size = unit.fontSize {
                out.append(1)
                let bits = size.bitPattern
                for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
            } else {
                out.append(0)
            }
            out.appendInt32(unit.index)
        }
        out.appendUInt32(UInt32(clamping: text.problems.count))
        for problem in text.problems { out.appendString(problem, lengthBytes: 4) }
        return out
    }

    public init(decoding payload: [UInt8]) throws(PDFTextFrames.Error) {
        var reader = PayloadReader(payload)
        let count = Int(try reader.uint32())
        // Each unit takes at least 16 bytes: a count beyond that is a lie, refused before reserving.
        guard count <= reader.remaining / 16 else { throw PDFTextFrames.Error("bad-response: \(count) units in \(payload.count) bytes") }
        var units = [TextUnit]()
        units.reserveCapacity(count)
        for _ in 0..<count {
            let text = try reader.string(lengthBytes: 4)
            let containerName = try reader.string(lengthBytes: 1)
            guard let container = TextUnit.Container(rawValue: containerName) else {
                throw PDFTextFrames.Error("bad-response: unknown container \(containerName)")
            }
            let page = try reader.int32()
            let regionName = try reader.string(lengthBytes: 1)
            let region: TextUnit.Region?
            if regionName.isEmpty {
                region = nil
            } else {
                guard let known = TextUnit.Region(rawValue: regionName) else {
                    throw PDFTextFrames.Error("bad-response: unknown region \(regionName)")
                }
                region = known
            }
            let style = TextUnit.Style(rawValue: try reader.byte())
            let fontName = try reader.byte() == 1 ? try reader.string(lengthBytes: 1) : nil
            var fontSize: Double?
            if try reader.byte() == 1 {
                var bits: UInt64 = 0
                for _ in 0..<8 { bits = bits << 8 | UInt64(try reader.byte()) }
                fontSize = Double(bitPattern: bits)
            }
            let index = try reader.int32()
            units.append(
                TextUnit(
                    text,
                    container: container,
                    page: page,
                    region: region,
                    style: style,
                    fontName: fontName,
                    fontSize: fontSize,
                    index: index
                )
            )
        }
        let problemCount = Int(try reader.uint32())
        guard problemCount <= reader.remaining / 4 else { throw PDFTextFrames.Error("bad-response: \(problemCount) problems") }
        var problems = [String]()
        for _ in 0..<problemCount { problems.append(try reader.string(lengthBytes: 4)) }
        guard reader.remaining == 0 else { throw PDFTextFrames.Error("bad-response: \(reader.remaining) bytes after the problems") }
        text = ExtractedText(units: units, problems: problems)
    }
}

/// Reads a payload front to back; every length is checked against what remains.
private struct PayloadReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func byte() throws(PDFTextFrames.Error) -> UInt8 {
        guard remaining >= 1 else { throw PDFTextFrames.Error("truncated: payload ends inside a field") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() throws(PDFTextFrames.Error) -> UInt32 {
        guard remaining >= 4 else { throw PDFTextFrames.Error("truncated: payload ends inside a field") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    /// -1 is nil.
    mutating func int32() throws(PDFTextFrames.Error) -> Int? {
        let value = Int32(bitPattern: try uint32())
        return value < 0 ? nil : Int(value)
    }

    mutating func string(lengthBytes: Int) throws(PDFTextFrames.Error) -> String {
        let length = lengthBytes == 1 ? Int(try byte()) : Int(try uint32())
        guard length <= remaining else { throw PDFTextFrames.Error("truncated: a \(length)-byte string in \(remaining) bytes") }
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }

    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }
}

extension [UInt8] {
    fileprivate mutating func appendUInt32(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    fileprivate mutating func appendInt32(_ value: Int?) {
        appendUInt32(UInt32(bitPattern: value.map { Int32(clamping: $0) } ?? -1))
    }

    fileprivate mutating func appendString(_ string: String, lengthBytes: Int) {
        var utf8 = Array(string.utf8)
        if lengthBytes == 1 {
            // A 1-byte length holds names (font, container, region): cut on a scalar boundary.
            if utf8.count > 255 {
                var cut = 255
                while cut > 0, utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
                utf8.removeSubrange(cut...)
            }
            append(UInt8(utf8.count))
        } else {
            appendUInt32(UInt32(clamping: utf8.count))
        }
        append(contentsOf: utf8)
    }
}
