import NIOCore

/// The commands a client pipelined right behind MAIL (RFC 2920), read from the input ahead of
/// time, and the upstream's replies to those passed on with MAIL in the same write.
///
/// Only what the session machine is sure to pass on goes early: a recipient the machine would
/// refuse itself (``SessionMachine/refusal(of:after:in:configuration:)``) never reaches the
/// upstream. The first command that does not go early ends the lookahead; it is kept, and
/// handled in turn like the others.
/// - SeeAlso: RFC 2920 3.1 (a client may pipeline RCPT and DATA behind MAIL).
public struct PipelineLookahead: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var line: InboundFramer.CommandLine
        /// The parsed command; nil when the line does not parse (the machine reports why).
        public var command: SMTPCommand?
        /// The upstream's reply, for a command that went upstream with MAIL.
        public var upstreamReply: Reply?
        /// Whether the command went upstream with MAIL.
        public var sentEarly: Bool
    }

    public private(set) var entries: [Entry] = []
    private var index = 0

    public init() {}

    /// Whether every command read ahead has been handled.
    public var isEmpty: Bool { index >= entries.count }

    /// The next command read ahead, in the order the client sent them.
    mutating func next() -> Entry? {
        guard index < entries.count else { return nil }
        let entry = entries[index]
        index += 1
        if index == entries.count {
            entries.removeAll(keepingCapacity: true)
            index = 0
        }
        return entry
    }

    /// Reads the RCPT commands (and a DATA after them) already buffered behind MAIL and returns
    /// those that go upstream with it.
    mutating func take(
        from framer: inout InboundFramer,
        behind envelope: Envelope,
        configuration: SessionConfiguration
    ) -> [SMTPCommand] {
        entries.removeAll(keepingCapacity: true)
        index = 0
        var early: [SMTPCommand] = []
        while let line = framer.nextCommandLine(
            maxLength: configuration.maxLineLength,
            bareLineEndings: configuration.bareLineEndings
        ) {
            var entry = Entry(line: line, command: nil, upstreamReply: nil, sentEarly: false)
            if case .line(let bytes) = line { entry.command = try? SMTPCommand.parse(bytes.readableBytesView) }
            switch entry.command {
            case .rcpt(let address)
            where SessionMachine.refusal(of: address, after: early.count, in: envelope, configuration: configuration) == nil:
                entry.sentEarly = true
                early.append(.rcpt(address))
                entries.append(entry)
                continue
            case .data where !early.isEmpty:
                entry.sentEarly = true
                early.append(.data)
            default:
                break
            }
            entries.append(entry)
            break
        }
        return early
    }

    /// The upstream's replies to the commands sent early, in order.
    mutating func upstreamReplied(_ replies: ArraySlice<Reply>) {
        var replies = replies.makeIterator()
        for i in entries.indices where entries[i].sentEarly {
            guard let reply = replies.next() else { return }
            entries[i].upstreamReply = reply
        }
    }
}
