public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What ThuGate does with a bare `<LF>` or bare `<CR>` (one not part of `<CRLF>`).
///
/// Either way the end of DATA is only `<CRLF>.<CRLF>` and ThuGate only ever emits CRLF, so an
/// SMTP smuggling payload (CVE-2023-51764 family) can never become a second message upstream.
public enum BareLineEndingPolicy: String, Sendable, CaseIterable {
    /// Refuse the command, or the whole message after its final dot, with `550 5.5.2`.
    case reject
    /// Accept and turn it into CRLF (the stored message is well-formed CRLF text).
    case normalize
}

/// Splits the client's byte stream into command lines; the DATA phase is decoded by
/// ``DataDecoder`` from the same buffer, so bytes pipelined after the final dot stay here.
public struct InboundFramer: Sendable {
    public enum CommandLine: Equatable, Sendable {
        /// A complete line without its line ending.
        case line(ByteBuffer)
        /// The line was longer than the limit; it has been discarded.
        case tooLong
        /// The line ended in a bare LF or held a bare CR.
        case bareLineEnding
    }

    public private(set) var buffer: ByteBuffer
    private var discardingLongLine = false
    private var scanned = 0

    public init() {
        buffer = ByteBufferAllocator().buffer(capacity: 0)
    }

    public mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            // Bytes already consumed are dropped before growing, or a client that keeps a
            // partial command pending would make the buffer keep everything it ever sent.
            if buffer.readerIndex >= 16 * 1024 || buffer.readerIndex > buffer.readableBytes {
                buffer.discardReadBytes()
            }
            var bytes = bytes
            buffer.writeBuffer(&bytes)
        }
    }

    public var hasBufferedInput: Bool { buffer.readableBytes > 0 }

    /// Drops everything buffered: after STARTTLS, plaintext sent before the handshake must not
    /// be read as commands (CVE-2011-0411).
    public mutating func discardBuffered() {
        buffer.clear()
        scanned = 0
        discardingLongLine = false
    }

    /// Feeds the buffered bytes to a DATA decoder; returns true once the final dot was consumed.
    /// Bytes after it stay buffered: they are the next pipelined commands.
    public mutating func decodeData(_ decoder: inout DataDecoder, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Bool {
        scanned = 0
        discardingLongLine = false
        return try decoder.decode(&buffer, into: sink)
    }

    /// The next command line, or nil when more bytes are needed.
    /// - Parameter maxLength: the longest line accepted, CRLF included (RFC 5321 4.5.3.1.4
    ///   gives 512 for commands; ThuGate's default is the text-line 1000).
    public mutating func nextCommandLine(maxLength: Int, bareLineEndings: BareLineEndingPolicy) -> CommandLine? {
        let view = buffer.readableBytesView
        let searchStart = view.index(view.startIndex, offsetBy: scanned)
        guard let lf = view[searchStart...].firstIndex(of: 10) else {
            if discardingLongLine {
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                scanned = 0
            } else {
                scanned = buffer.readableBytes
                if scanned > maxLength {
                    discardingLongLine = true
                    buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                    scanned = 0
                }
            }
            return nil
        }
        let lineLengthWithLF = lf - view.startIndex + 1
        scanned = 0
        if discardingLongLine {
            discardingLongLine = false
            buffer.moveReaderIndex(forwardBy: lineLengthWithLF)
            return .tooLong
        }
        var line = buffer.readSlice(length: lineLengthWithLF)!
        if lineLengthWithLF > maxLength { return .tooLong }
        let content = line.readableBytesView
        let hasCR = content.count >= 2 && content[content.endIndex - 2] == 13
        line.moveWriterIndex(to: line.writerIndex - (hasCR ? 2 : 1))
        if line.readableBytesView.contains(13) { return .bareLineEnding }
        if !hasCR && bareLineEndings == .reject { return .bareLineEnding }
        return .line(line)
    }
}

/// Decodes the DATA phase: finds the end (only `<CRLF>.<CRLF>`), undoes dot-stuffing, checks
/// line endings, line length and size, and hands the message bytes to a sink.
///
/// - SeeAlso: RFC 5321 4.1.1.4, 4.5.2 (transparency), 4.5.3.1.6 (line length), 2.3.8.
public struct DataDecoder: Sendable {
    private enum State: Sendable { case lineStart, dot, dotCR, inLine, cr }

    public let maxSize: Int
    public let maxLineLength: Int
    public let bareLineEndings: BareLineEndingPolicy
    private var state: State = .lineStart
    private var lineLength = 0

    /// Message bytes received after unstuffing (counting those past `maxSize` that were dropped).
    public private(set) var size = 0
    public private(set) var sawBareLineEnding = false
    public private(set) var sawLongLine = false
    public var tooBig: Bool { size > maxSize }

    public init(maxSize: Int, maxLineLength: Int, bareLineEndings: BareLineEndingPolicy) {
        self.maxSize = maxSize
        self.maxLineLength = maxLineLength
        self.bareLineEndings = bareLineEndings
    }

    /// Consumes bytes from `buffer` up to and including the end-of-data marker.
    /// - Returns: true when the final `<CRLF>.<CRLF>` was consumed.
    public mutating func decode(_ buffer: inout ByteBuffer, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Bool {
        var consumed = 0
        var finished = false
        try buffer.withUnsafeReadableBytes { bytes in
            var runStart = 0
            var i = 0
            let count = bytes.count
            func flush(_ end: Int) throws {
                if end > runStart { try emit(UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]), sink) }
            }
            let base = bytes.baseAddress
            scan: while i < count {
                if state == .inLine, let base {
                    // Fast path: jump over ordinary bytes to the next CR or LF with memchr.
                    let lfOffset = memchr(base + i, 10, count - i).map { UnsafeRawPointer($0) - base } ?? count
                    let stop = memchr(base + i, 13, lfOffset - i).map { UnsafeRawPointer($0) - base } ?? lfOffset
                    lineLength += stop - i
                    if lineLength > maxLineLength - 2 { sawLongLine = true }
                    i = stop
                    if i == count { break scan }
                }
                let byte = bytes[i]
                switch state {
                case .inLine:
                    if byte == 13 {
                        state = .cr
                    } else if byte == 10 {
                        sawBareLineEnding = true
                        if bareLineEndings == .normalize {
                            try flush(i)
                            try emitStatic(crlf, sink)
                            runStart = i + 1
                        }
                        // Not a line start: `<LF>.<CRLF>` must never end the message.
                        lineLength = 0
                    } else {
                        lineLength += 1
                        if lineLength > maxLineLength - 2 { sawLongLine = true }
                    }
                    i += 1
                case .cr:
                    if byte == 10 {
                        state = .lineStart
                        lineLength = 0
                        i += 1
                    } else {
                        sawBareLineEnding = true
                        if bareLineEndings == .normalize {
                            try flush(i)
                            try emitStatic(lf, sink)
                            runStart = i
                        }
                        lineLength = 0
                        state = .inLine
                    }
                case .lineStart:
                    if byte == UInt8(ascii: ".") {
                        try flush(i)
                        runStart = i + 1
                        state = .dot
                        i += 1
                    } else {
                        state = .inLine
                    }
                case .dot:
                    if byte == 13 {
                        try flush(i)
                        runStart = i + 1
                        state = .dotCR
                        i += 1
                    } else {
                        // A leading dot with more on the line was stuffing: it stays dropped.
                        lineLength = 0
                        state = .inLine
                    }
                case .dotCR:
                    if byte == 10 {
                        i += 1
                        runStart = i
                        finished = true
                        break scan
                    }
                    // `.<CR>x`: a bare CR after a stuffed dot.
                    sawBareLineEnding = true
                    try emitStatic(bareLineEndings == .normalize ? crlf : cr, sink)
                    runStart = i
                    lineLength = 0
                    state = .inLine
                }
            }
            if !finished { try flush(count) }
            consumed = i
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        return finished
    }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let room = max(0, maxSize - size)
        size += bytes.count
        if room >= bytes.count {
            try sink(bytes)
        } else if room > 0 {
            try sink(UnsafeRawBufferPointer(rebasing: bytes[0..<room]))
        }
    }

    private mutating func emitStatic(_ bytes: [UInt8], _ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { try emit($0, sink) }
    }
}

private let crlf: [UInt8] = [13, 10]
private let lf: [UInt8] = [10]
private let cr: [UInt8] = [13]
