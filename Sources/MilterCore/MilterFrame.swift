/// The milter wire format (Sendmail's libmilter, protocol version 6): every packet is a 4-byte
/// big-endian length, then that many bytes, the first of which is the command (MTA → filter,
/// `SMFIC_*`) or the response (filter → MTA, `SMFIR_*`). No I/O here.
///
/// - SeeAlso: sendmail `include/libmilter/mfdef.h` (the command and response bytes),
///   `libmilter/comm.c` (`mi_rd_cmd`: the length includes the command byte; a length of 0 or
///   past the maximum is an error before anything is read).
public struct MilterPacket: Sendable, Equatable {
    /// `SMFIC_*` or `SMFIR_*`.
    public var code: UInt8
    public var payload: [UInt8]

    public init(code: UInt8, payload: [UInt8] = []) {
        self.code = code
        self.payload = payload
    }

    /// The packet as it goes on the wire.
    public var encoded: [UInt8] {
        let length = UInt32(payload.count + 1)
        return [
            UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
            UInt8(truncatingIfNeeded: length), code,
        ]
            + payload
    }
}

/// A frame the decoder refuses; the connection cannot be followed past it.
public enum MilterFrameError: Error, Equatable, Sendable {
    /// A length of 0: a packet without its command byte.
    case empty
    /// A declared length past the decoder's maximum, refused before any of it is buffered.
    case tooLarge(declared: UInt32, maximum: Int)
}

/// Splits the bytes read from a milter connection into packets. Bounded: it holds at most one
/// packet of `maximumLength` bytes plus its 4-byte length, whatever the peer declares.
public struct MilterFrameDecoder: Sendable {
    /// The largest packet taken (command byte included). Postfix and Sendmail send body chunks of
    /// at most 65,535 bytes (`MILTER_CHUNK_SIZE`); macros and headers are shorter than the MTA's
    /// own line limits. 1 MiB leaves room and no more.
    public let maximumLength: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maximumLength: Int = 1 << 20) {
        self.maximumLength = maximumLength
    }

    /// Bytes as they were read.
    public mutating func append<S: Sequence<UInt8>>(_ bytes: S) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes held that are not yet a whole packet.
    public var pending: Int { buffer.count - start }

    /// The next whole packet, or nil until more bytes arrive.
    public mutating func next() throws(MilterFrameError) -> MilterPacket? {
        guard buffer.count - start >= 4 else { return nil }
        let length =
            UInt32(buffer[start]) << 24 | UInt32(buffer[start + 1]) << 16 | UInt32(buffer[start + 2]) << 8 | UInt32(buffer[start + 3])
        guard length > 0 else { throw .empty }
        guard length <= maximumLength else { throw .tooLarge(declared: length, maximum: maximumLength) }
        let total = 4 + Int(length)
        guard buffer.count - start >= total else { return nil }
        let packet = MilterPacket(code: buffer[start + 4], payload: Array(buffer[(start + 5)..<(start + total)]))
        start += total
        // Compact once the consumed prefix is most of the buffer.
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return packet
    }
}

/// The command bytes an MTA sends (mfdef.h `SMFIC_*`).
public enum MilterCommand: UInt8, Sendable, CaseIterable {
    case abort = 0x41  // 'A'
    case body = 0x42  // 'B'
    case connect = 0x43  // 'C'
    case macro = 0x44  // 'D'
    case endOfMessage = 0x45  // 'E'
    case helo = 0x48  // 'H'
    case quitNewConnection = 0x4B  // 'K'
    case header = 0x4C  // 'L'
    case mail = 0x4D  // 'M'
    case endOfHeaders = 0x4E  // 'N'
    case optionNegotiation = 0x4F  // 'O'
    case quit = 0x51  // 'Q'
    case recipient = 0x52  // 'R'
    case data = 0x54  // 'T'
    case unknown = 0x55  // 'U'
}

/// The response bytes a filter sends (mfdef.h `SMFIR_*`).
public enum MilterResponse: UInt8, Sendable, CaseIterable {
    case addRecipient = 0x2B  // '+'
    case deleteRecipient = 0x2D  // '-'
    case addRecipientWithParameters = 0x32  // '2'
    case shutdown = 0x34  // '4'
    case accept = 0x61  // 'a'
    case replaceBody = 0x62  // 'b'
    case `continue` = 0x63  // 'c'
    case discard = 0x64  // 'd'
    case changeSender = 0x65  // 'e'
    case connectionFailure = 0x66  // 'f'
    case addHeader = 0x68  // 'h'
    case insertHeader = 0x69  // 'i'
    case setSymbolList = 0x6C  // 'l'
    case changeHeader = 0x6D  // 'm'
    case progress = 0x70  // 'p'
    case quarantine = 0x71  // 'q'
    case reject = 0x72  // 'r'
    case skip = 0x73  // 's'
    case tempfail = 0x74  // 't'
    case replyCode = 0x79  // 'y'
}
