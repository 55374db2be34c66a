import NIOCore

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
            var lineBuffer = buffer.readSlice(length: length)!
            var line = lineBuffer.readString(length: lineBuffer.readableBytes) ?? ""
            // Servers' text may hold any bytes; keep what decodes, drop the line ending.
            while line.last == "\n" || line.last == "\r" || line.last == "\r\n" { line.removeLast() }
            let utf8 = Array(line.utf8)
            guard utf8.count >= 3, let lineCode = Int(String(decoding: utf8[0..<3], as: UTF8.self)), (200...599).contains(lineCode) else {
                throw SMTPReplyError(kind: .malformed)
            }
            if let code, code != lineCode { throw SMTPReplyError(kind: .malformed) }
            code = lineCode
            let separator: UInt8 = utf8.count > 3 ? utf8[3] : UInt8(ascii: " ")
            guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else { throw SMTPReplyError(kind: .malformed) }
            lines.append(utf8.count > 4 ? String(decoding: utf8[4...], as: UTF8.self) : "")
            if separator == UInt8(ascii: " ") {
                defer { lines = []; code = nil; replyBytes = 0 }
                return Reply.parsing(code: lineCode, lines: lines)
            }
        }
    }
}

extension Reply {
    /// A reply from the lines a server sent: the enhanced status is taken out of the text when
    /// the first line carries one.
    public static func parsing(code: Int, lines: [String]) -> Reply {
        guard let first = lines.first, let (status, _) = EnhancedStatus.parse(prefixOf: Substring(first)),
              status.klass == code / 100
        else { return Reply(code: code, status: nil, lines: lines) }
        let stripped = lines.map { line -> String in
            if let (lineStatus, rest) = EnhancedStatus.parse(prefixOf: Substring(line)), lineStatus == status { return String(rest) }
            return line
        }
        return Reply(code: code, status: status, lines: stripped)
    }
}
