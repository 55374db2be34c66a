import NIOCore
import Testing

@testable import SMTPCore

@Suite struct DotStufferTests {
    private func stuff(_ chunks: [String]) -> String {
        var stuffer = DotStuffer()
        var out = ByteBuffer()
        for chunk in chunks { stuffer.encode(ByteBuffer(string: chunk), into: &out) }
        stuffer.finish(into: &out)
        return String(buffer: out)
    }

    @Test func stuffsLeadingDotsAndTerminates() {
        #expect(stuff([".a\r\nb\r\n..\r\n"]) == "..a\r\nb\r\n...\r\n.\r\n")
        #expect(stuff(["no final newline"]) == "no final newline\r\n.\r\n")
        #expect(stuff([""]) == ".\r\n")
    }

    @Test func neverEmitsBareLineEndings() {
        #expect(stuff(["a\nb\rc\r\n"]) == "a\r\nb\r\nc\r\n.\r\n")
        #expect(stuff(["a\r", ".b\r\n"]) == "a\r\n..b\r\n.\r\n")
    }

    @Test func roundTripsThroughTheDecoderAtEverySplit() {
        let message = "..x\r\n.\r\n\r\n.\r\nend\r\n"
        var stuffer = DotStuffer()
        var wire = ByteBuffer()
        stuffer.encode(ByteBuffer(string: message), into: &wire)
        stuffer.finish(into: &wire)
        let bytes = Array(wire.readableBytesView)
        for cut in 0...bytes.count {
            var framer = InboundFramer()
            var decoder = DataDecoder(maxSize: 1 << 20, maxLineLength: 1000, bareLineEndings: .reject)
            var got: [UInt8] = []
            framer.append(ByteBuffer(bytes: bytes[..<cut]))
            var done = framer.decodeData(&decoder) { got.append(contentsOf: $0) }
            framer.append(ByteBuffer(bytes: bytes[cut...]))
            if !done { done = framer.decodeData(&decoder) { got.append(contentsOf: $0) } }
            #expect(done)
            #expect(String(decoding: got, as: UTF8.self) == message)
        }
    }
}
