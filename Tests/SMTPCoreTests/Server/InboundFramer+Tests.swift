import NIOCore
import Testing

@testable import SMTPCore

/// Feeds `input` to a framer one chunk at a time (every split point is tried by the callers).
private func commandLines(_ chunks: [String], maxLength: Int = 1000, policy: BareLineEndingPolicy = .reject) -> [InboundFramer.CommandLine]
{
    var framer = InboundFramer()
    var out: [InboundFramer.CommandLine] = []
    for chunk in chunks {
        framer.append(ByteBuffer(string: chunk))
        while let line = framer.nextCommandLine(maxLength: maxLength, bareLineEndings: policy) { out.append(line) }
    }
    return out
}

private func decodeData(
    _ chunks: [[UInt8]],
    maxSize: Int = 1 << 20,
    maxLine: Int = 1000,
    policy: BareLineEndingPolicy = .reject
)
    -> (message: [UInt8], finished: Bool, rest: [UInt8], decoder: DataDecoder)
{
    var framer = InboundFramer()
    var decoder = DataDecoder(maxSize: maxSize, maxLineLength: maxLine, bareLineEndings: policy)
    var message: [UInt8] = []
    var finished = false
    for chunk in chunks {
        framer.append(ByteBuffer(bytes: chunk))
        if !finished {
            finished = framer.decodeData(&decoder) { message.append(contentsOf: $0) }
        }
    }
    return (message, finished, Array(framer.buffer.readableBytesView), decoder)
}

/// Every way to cut `bytes` in two, plus byte-by-byte.
private func splits(_ bytes: [UInt8]) -> [[[UInt8]]] {
    var result: [[[UInt8]]] = [[bytes], bytes.map { [$0] }]
    for cut in 1..<bytes.count { result.append([Array(bytes[..<cut]), Array(bytes[cut...])]) }
    return result
}

@Suite struct InboundFramerTests {
    @Test func linesAcrossChunks() {
        let lines = commandLines(["EH", "LO a\r", "\nNOOP\r\nQU", "IT\r\n"])
        #expect(lines == [.line(ByteBuffer(string: "EHLO a")), .line(ByteBuffer(string: "NOOP")), .line(ByteBuffer(string: "QUIT"))])
    }

    @Test func overlongLineIsDiscardedThenFramingResumes() {
        let long = String(repeating: "x", count: 3000)
        let lines = commandLines(["MAIL FROM:<\(long.prefix(1500))", "\(long.suffix(1500))>\r\nNOOP\r\n"])
        #expect(lines == [.tooLong, .line(ByteBuffer(string: "NOOP"))])
        // Exactly at the limit (1000 with CRLF) is fine, one more is not.
        #expect(commandLines([String(repeating: "a", count: 998) + "\r\n"]).first != .tooLong)
        #expect(commandLines([String(repeating: "a", count: 999) + "\r\n"]) == [.tooLong])
    }

    @Test func consumedBytesAreDroppedSoTheBufferStaysSmall() {
        // A client that always leaves half a command pending must not grow the buffer.
        var framer = InboundFramer()
        framer.append(ByteBuffer(string: "NO"))
        for _ in 0..<20_000 {
            framer.append(ByteBuffer(string: "OP\r\nNO"))
            #expect(framer.nextCommandLine(maxLength: 1000, bareLineEndings: .reject) == .line(ByteBuffer(string: "NOOP")))
        }
        #expect(framer.buffer.capacity < 64 * 1024)
    }

    @Test func bareLineEndingsInCommands() {
        #expect(commandLines(["NOOP\nQUIT\r\n"]) == [.bareLineEnding, .line(ByteBuffer(string: "QUIT"))])
        #expect(commandLines(["NO\rOP\r\n"]) == [.bareLineEnding])
        #expect(commandLines(["NOOP\n"], policy: .normalize) == [.line(ByteBuffer(string: "NOOP"))])
    }

    @Test func dataEndsOnlyAtCRLFDotCRLFAndKeepsWhatFollows() {
        let input = Array("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n".utf8)
        for chunks in splits(input) {
            let r = decodeData(chunks)
            #expect(r.finished)
            #expect(r.message == Array("Subject: x\r\n\r\nbody\r\n".utf8))
            #expect(r.rest == Array("QUIT\r\n".utf8))
        }
    }

    @Test func dotStuffingIsUndone() {
        let input = Array("..one\r\n...\r\n.x\r\n\r\n.\r\n".utf8)
        for chunks in splits(input) {
            let r = decodeData(chunks)
            #expect(r.finished)
            #expect(r.message == Array(".one\r\n..\r\nx\r\n\r\n".utf8))
        }
    }

    @Test func emptyMessage() {
        let r = decodeData([Array(".\r\n".utf8)])
        #expect(r.finished && r.message.isEmpty)
    }

    @Test(arguments: ["\n.\r\n", "\n.\n", "\r.\r\n", "\r\n.\n", "\r\n.\r", "\r\n.\rX\r\n"])
    func smugglingEndingsDoNotEndData(fake: String) {
        let input = Array("hello\(fake)MAIL FROM:<evil@x>\r\n".utf8)
        for chunks in splits(input) {
            let r = decodeData(chunks)
            #expect(!r.finished)
            #expect(r.decoder.sawBareLineEnding)
        }
        // Normalized, the smuggled text stays inside the one message, with CRLF only.
        let normalized = decodeData([input + Array("\r\n.\r\n".utf8)], policy: .normalize)
        #expect(normalized.finished)
        let text = String(decoding: normalized.message, as: UTF8.self)
        #expect(text.contains("MAIL FROM:<evil@x>"))
        #expect(!hasBareLineEnding(normalized.message))
    }

    @Test func sizeLimitStopsStoringButFindsTheEnd() {
        let body = Array(String(repeating: "0123456789\r\n", count: 100).utf8)
        let r = decodeData([body + Array(".\r\nNOOP\r\n".utf8)], maxSize: 100)
        #expect(r.finished)
        #expect(r.message.count == 100)
        #expect(r.decoder.tooBig)
        #expect(r.decoder.size == body.count)
        #expect(r.rest == Array("NOOP\r\n".utf8))
    }

    @Test func longLinesAreFlagged() {
        let ok = decodeData([Array(String(repeating: "a", count: 998).utf8) + Array("\r\n.\r\n".utf8)])
        #expect(!ok.decoder.sawLongLine)
        let long = decodeData([Array(String(repeating: "a", count: 999).utf8) + Array("\r\n.\r\n".utf8)])
        #expect(long.decoder.sawLongLine)
    }
}

func hasBareLineEnding(_ bytes: [UInt8]) -> Bool {
    for (i, b) in bytes.enumerated() {
        if b == 10 && (i == 0 || bytes[i - 1] != 13) { return true }
        if b == 13 && (i + 1 == bytes.count || bytes[i + 1] != 10) { return true }
    }
    return false
}
