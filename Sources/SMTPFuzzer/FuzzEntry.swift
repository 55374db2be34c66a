// The fuzzing entries for what an SMTP peer sends ThuGate: command lines (through the framer),
// the DATA phase (drip-fed in random chunk sizes) and the upstream's replies. Scripts/fuzz
// builds this target with `-sanitize=fuzzer,address -DFUZZING`; built normally it replays files
// through the same functions for the regression tests (FuzzSupport's `FuzzMain`).
import FuzzSupport
import NIOCore
import SMTPCore

let allocator = ByteBufferAllocator()

// MARK: - Command lines

/// Byte 0 picks the framer's settings and the chunk sizes; the rest is the client's stream.
/// Properties: every line the framer hands out is within the limit and holds no CR or LF; a
/// parsed MAIL/RCPT/EHLO written back in the strict form ThuGate sends upstream parses to
/// the same command (what we relay means what the client said).
func fuzzCommands(_ input: [UInt8]) {
    guard let settings = input.first else { return }
    let maxLength = settings & 0x80 != 0 ? 512 : 1000
    let policy: BareLineEndingPolicy = settings & 0x40 != 0 ? .reject : .normalize
    var chunker = Chunker(seed: settings)
    var framer = InboundFramer()
    for chunk in chunker.split(input.dropFirst()) {
        var buffer = allocator.buffer(capacity: chunk.count)
        buffer.writeBytes(chunk)
        framer.append(buffer)
        while let line = framer.nextCommandLine(maxLength: maxLength, bareLineEndings: policy) {
            guard case .line(let bytes) = line else { continue }
            let content = Array(bytes.readableBytesView)
            precondition(content.count + 2 <= maxLength, "line over the limit")
            precondition(!content.contains(13) && !content.contains(10), "line ending inside a command line")
            checkCommand(content)
        }
    }
}

func checkCommand(_ line: [UInt8]) {
    let command: SMTPCommand
    do {
        command = try SMTPCommand.parse(line)
    } catch {
        _ = error.reply.wireText
        return
    }
    precondition((try? SMTPCommand.parse(line)) == command, "parse is not deterministic")
    let strict: String
    switch command {
    case .mail(let address, let parameters): strict = "MAIL FROM:\(address)\(parameters.wireText)"
    case .rcpt(let address): strict = "RCPT TO:\(address)"
    case .ehlo(let name): strict = "EHLO \(name)"
    case .helo(let name): strict = "HELO \(name)"
    default: return
    }
    let again: SMTPCommand
    do {
        again = try SMTPCommand.parse(Array(strict.utf8))
    } catch {
        preconditionFailure("\(strict) (from a line that parsed) does not parse: \(error)")
    }
    switch (command, again) {
    case (.mail(let a, let p), .mail(let b, let q)):
        precondition(a == b && p.body == q.body && p.smtpUTF8 == q.smtpUTF8, "MAIL changed meaning: \(strict)")
    default:
        precondition(command == again, "command changed meaning: \(strict)")
    }
}

// MARK: - DATA

/// What the DATA phase must produce, written as plainly as RFC 5321 says it (4.1.1.4, 4.5.2):
/// the data ends at the first `<CRLF>.<CRLF>`, the CRLF of the DATA command counting as the
/// first; the lines in between are split at CRLF only; a leading dot of each line is dropped;
/// a bare CR or LF inside a line becomes CRLF (`normalize`) or stays (`reject`).
struct ReferenceData {
    /// The index in the input just past the end marker, nil when there is none.
    var end: Int?
    var output: [UInt8] = []
    var sawBareLineEnding = false
    /// The longest line in bytes, line endings and stuffing dots not counted (bare CR and LF end lines).
    var longestLine = 0

    init(_ input: [UInt8], policy: BareLineEndingPolicy) {
        let framed: [UInt8] = [13, 10] + input
        let marker: [UInt8] = [13, 10, 46, 13, 10]
        if framed.count >= 5 {
            for p in 0...(framed.count - 5) where framed[p..<(p + 5)].elementsEqual(marker) {
                end = p + 3
                break
            }
        }
        // The body: everything before the marker's dot, so it ends in CRLF (or is empty).
        let body = input[0..<max(0, (end ?? input.count + 3) - 3)]
        var lineStart = body.startIndex
        var index = body.startIndex
        while index < body.endIndex {
            if body[index] == 13 && index + 1 < body.endIndex && body[index + 1] == 10 {
                appendLine(body[lineStart..<index], policy: policy)
                output += [13, 10]
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        // Only when there is no marker: the unfinished last line.
        if lineStart < body.endIndex { appendLine(body[lineStart...], policy: policy) }
    }

    private mutating func appendLine(_ line: ArraySlice<UInt8>, policy: BareLineEndingPolicy) {
        var line = line
        if line.first == 46 { line = line.dropFirst() }
        var length = 0
        for byte in line {
            if byte == 13 || byte == 10 {
                sawBareLineEnding = true
                output += policy == .normalize ? [13, 10] : [byte]
                length = 0
            } else {
                output.append(byte)
                length += 1
                longestLine = max(longestLine, length)
            }
        }
    }
}

/// Bytes 0–3 pick the policy, whether an end marker is appended, the chunk sizes, the line
/// and size limits; the rest is what the client sends after `354`. The decoder, drip-fed
/// through the framer as the session feeds it, must agree with ``ReferenceData`` exactly:
/// same end, same bytes (cut at the size limit), same flags; with `normalize` no bare CR or LF
/// ever comes out; bytes after the marker stay buffered for the next command.
func fuzzData(_ input: [UInt8]) {
    guard input.count >= 4 else { return }
    let policy: BareLineEndingPolicy = input[0] & 1 != 0 ? .reject : .normalize
    var stream = Array(input[4...])
    if input[0] & 2 != 0 { stream += [13, 10, 46, 13, 10] }
    var chunker = Chunker(seed: input[1])
    let maxLineLength = 3 + Int(input[2]) * 4
    let maxSize = input[3] == 255 ? Int.max : Int(input[3]) * 64
    let reference = ReferenceData(stream, policy: policy)

    var decoder = DataDecoder(maxSize: maxSize, maxLineLength: maxLineLength, bareLineEndings: policy)
    var framer = InboundFramer()
    var output: [UInt8] = []
    var finished = false
    var fed = 0
    for chunk in chunker.split(stream[...]) {
        var buffer = allocator.buffer(capacity: chunk.count)
        buffer.writeBytes(chunk)
        framer.append(buffer)
        fed += chunk.count
        finished = framer.decodeData(&decoder) { output += $0 }
        if finished { break }
    }
    if let end = reference.end {
        precondition(finished, "the end marker was not seen")
        // What stays buffered plus what was not fed yet is exactly what follows the marker.
        precondition(fed - framer.buffer.readableBytes == end, "DATA ended at \(fed - framer.buffer.readableBytes), not \(end)")
        precondition(framer.buffer.readableBytesView.elementsEqual(stream[end..<fed]), "bytes after the marker lost")
        precondition(decoder.size == reference.output.count, "size \(decoder.size) != \(reference.output.count)")
        precondition(output.elementsEqual(reference.output.prefix(maxSize)), "decoded bytes differ from the reference")
        precondition(decoder.sawBareLineEnding == reference.sawBareLineEnding, "bare line ending flag differs")
        precondition(decoder.sawLongLine == (reference.longestLine > maxLineLength - 2), "long line flag differs")
        precondition(decoder.tooBig == (reference.output.count > maxSize))
    } else {
        precondition(!finished, "DATA ended without <CRLF>.<CRLF>")
        // Online: what came out so far is the start of what the whole data gives.
        let whole = ReferenceData(stream + [13, 10, 46, 13, 10], policy: policy)
        precondition(
            output.count <= whole.output.count && output.elementsEqual(whole.output.prefix(output.count)),
            "decoded bytes are not a prefix of the reference"
        )
    }
    if policy == .normalize {
        for (i, byte) in output.enumerated() {
            if byte == 10 { precondition(i > 0 && output[i - 1] == 13, "bare LF came out") }
            if byte == 13 && i + 1 < output.count { precondition(output[i + 1] == 10, "bare CR came out") }
        }
    }
}

// MARK: - Replies

/// Byte 0 picks the chunk sizes; the rest is what an upstream server sends. Properties: the
/// replies (and the error, if any) do not depend on how the bytes were split; every reply has
/// a code 200–599 and at least one line; written back as ThuGate relays it, a reply reads as
/// exactly one reply with the same code, status and line count, and reading is stable after that.
func fuzzReplies(_ input: [UInt8]) {
    guard let seed = input.first else { return }
    let stream = input[1...]
    var whole = allocator.buffer(capacity: stream.count)
    whole.writeBytes(stream)
    let expected = decodeAll([whole])
    var chunker = Chunker(seed: seed)
    let chunks = chunker.split(stream).map { chunk -> ByteBuffer in
        var buffer = allocator.buffer(capacity: chunk.count)
        buffer.writeBytes(chunk)
        return buffer
    }
    let dripped = decodeAll(chunks)
    precondition(dripped.replies == expected.replies && dripped.error == expected.error, "replies depend on chunking")
    for reply in expected.replies {
        precondition((200...599).contains(reply.code) && !reply.lines.isEmpty)
        if let status = reply.status { precondition(status.klass == reply.code / 100) }
        let once = rereadOne(reply)
        precondition(
            once.code == reply.code && once.status == reply.status && once.lines.count == reply.lines.count,
            "relayed reply reads differently: \(reply) -> \(once)"
        )
        precondition(rereadOne(once) == once, "reading a relayed reply is not stable: \(once)")
    }
}

func decodeAll(_ chunks: [ByteBuffer]) -> (replies: [Reply], error: SMTPReplyError?) {
    var decoder = SMTPReplyDecoder()
    var buffer = allocator.buffer(capacity: 0)
    var replies: [Reply] = []
    for var chunk in chunks {
        buffer.writeBuffer(&chunk)
        do {
            while let reply = try decoder.next(&buffer) { replies.append(reply) }
        } catch {
            return (replies, error)  // the connection is dropped here
        }
    }
    return (replies, nil)
}

func rereadOne(_ reply: Reply) -> Reply {
    var wire = allocator.buffer(capacity: 128)
    reply.write(into: &wire)
    let again = decodeAll([wire])
    precondition(again.error == nil && again.replies.count == 1, "\(reply) written back reads as \(again)")
    return again.replies[0]
}

// MARK: - Selection

enum SMTPFuzzTarget: String, FuzzTarget {
    case command, data, reply

    func run(_ raw: UnsafeRawBufferPointer) {
        let input = Array(raw)
        switch self {
        case .command: fuzzCommands(input)
        case .data: fuzzData(input)
        case .reply: fuzzReplies(input)
        }
    }
}
