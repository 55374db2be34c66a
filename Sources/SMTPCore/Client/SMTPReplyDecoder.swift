public import NIOCore

/// Why a server's reply could not be read.
public struct SMTPReplyError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable { case malformed, tooLong }
    public var kind: Kind
    public var description: String { kind == .tooLong ? "reply too long" : "malformed reply" }
}

/// Decodes replies from an SMTP server (ThuGate's upstream), multi-line replies joined.
///
/// - SeeAlso: RFC 5321 4.2.1.
public struct SMTPReplyDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Reply

    /// A reply longer than this (lines × length) is refused rather than buffered without end.
    public static let maxReplyBytes = 64 * 1024
    private var lines: [String] = []
    private var code: Int?
    private var replyBytes = 0

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let reply = try next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while let reply = try next(&buffer) { context.fireChannelRead(Self.wrapInboundOut(reply)) }
        return .needMoreData
    }

    /// The next complete reply in `buffer`, or nil if more bytes are needed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(SMTPReplyError) -> Reply? {
        while true {
            guard let lf = buffer.readableBytesView.firstIndex(of: 10) else {
                if buffer.readableBytes + replyBytes > Self.maxReplyBytes { throw SMTPReplyError(kind: .tooLong) }
                return nil
            }
            let length = lf - buffer.readerIndex + 1
            replyBytes += length
            if replyBytes > Self.maxReplyBytes { throw SMTPReplyError(kind: .tooLong) }
            // Servers' text may hold any bytes: it is decoded leniently, line ending dropped.
            let line: (code: Int, final: Bool, text: String)? = buffer.withUnsafeReadableBytes { raw in
                var end = length - 1
                if end > 0 && raw[end - 1] == 13 { end -= 1 }
                guard end >= 3 else { return nil }
                var code = 0
                for i in 0..<3 {
                    let digit = raw[i] &- UInt8(ascii: "0")
                    guard digit <= 9 else { return nil }
                    code = code * 10 + Int(digit)
                }
                let separator = end > 3 ? raw[3] : UInt8(ascii: " ")
                guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else { return nil }
                // A bare CR inside the text is dropped, as `Reply.write` drops it when relaying:
                // what ThuGate acts on (the enhanced status) is what it sends on.
                let textBytes = end > 4 ? UnsafeRawBufferPointer(rebasing: raw[4..<end]) : UnsafeRawBufferPointer(start: nil, count: 0)
                let text =
                    textBytes.contains(13)
                    ? String(decoding: textBytes.lazy.filter { $0 != 13 }, as: UTF8.self)
                    : String(decoding: textBytes, as: UTF8.self)
                return (code, separator == UInt8(ascii: " "), text)
            }
            buffer.moveReaderIndex(forwardBy: length)
            guard let line, (200...599).contains(line.code) else { throw SMTPReplyError(kind: .malformed) }
            if let code, code != line.code { throw SMTPReplyError(kind: .malformed) }
            code = line.code
            lines.append(line.text)
            if line.final {
                defer {
                    lines.removeAll(keepingCapacity: true)
                    code = nil
                    replyBytes = 0
                }
                return Reply.parsing(code: line.code, lines: lines)
            }
        }
    }
}

extension Reply {
    /// A reply from the lines a server sent: the enhanced status is taken out of the text when
    /// the first line carries one.
    public static func parsing(code: Int, lines: [String]) -> Reply {
        guard let first = lines.first, let (status, _) = EnhancedStatus.parse(prefixOf: first),
            status.klass == code / 100
        else { return Reply(code: code, status: nil, lines: lines) }
        let stripped = lines.map { line -> String in
            if let (lineStatus, rest) = EnhancedStatus.parse(prefixOf: line), lineStatus == status { return rest }
            return line
        }
        return Reply(code: code, status: status, lines: stripped)
    }
}
