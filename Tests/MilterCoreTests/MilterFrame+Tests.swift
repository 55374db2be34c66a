import MilterCore
import Testing

@Suite struct MilterFrameTests {
    /// SMFIC_OPTNEG as Postfix 3.7 sends it: version 6, actions 0x1FF, protocol 0x1FFFFF.
    static let optneg: [UInt8] = [0, 0, 0, 13, 0x4F, 0, 0, 0, 6, 0, 0, 0x01, 0xFF, 0, 0x1F, 0xFF, 0xFF]

    @Test func packetsSplitAtEveryByteBoundary() throws {
        let body = MilterPacket(code: MilterCommand.body.rawValue, payload: Array("Kính gửi\r\n".utf8)).encoded
        let stream = Self.optneg + body + MilterPacket(code: MilterCommand.endOfMessage.rawValue).encoded
        for chunk in [1, 2, 3, 5, 7, stream.count] {
            var decoder = MilterFrameDecoder()
            var packets: [MilterPacket] = []
            var offset = 0
            while offset < stream.count {
                decoder.append(stream[offset..<min(offset + chunk, stream.count)])
                offset += chunk
                while let packet = try decoder.next() { packets.append(packet) }
            }
            #expect(packets.map(\.code) == [0x4F, 0x42, 0x45], "chunk \(chunk)")
            #expect(packets[0].payload == Array(Self.optneg.dropFirst(5)))
            #expect(packets[1].payload == Array("Kính gửi\r\n".utf8))
            #expect(packets[2].payload.isEmpty)
            #expect(decoder.pending == 0)
        }
    }

    @Test func encodingIsTheLengthWithTheCodeThenThePayload() {
        #expect(MilterPacket(code: MilterResponse.continue.rawValue).encoded == [0, 0, 0, 1, 0x63])
        #expect(MilterPacket(code: 0x4F, payload: Array(Self.optneg.dropFirst(5))).encoded == Self.optneg)
        let chunk = MilterPacket(code: MilterResponse.replaceBody.rawValue, payload: [UInt8](repeating: 0x41, count: 65_535)).encoded
        #expect(chunk.prefix(5) == [0, 1, 0, 0, 0x62])
    }

    /// A declared 2 GiB frame is refused from its 4 length bytes, before anything is buffered.
    @Test func oversizedAndEmptyFramesAreRefusedAtTheirLength() {
        var decoder = MilterFrameDecoder()
        decoder.append([0x80, 0, 0, 0])
        #expect(throws: MilterFrameError.tooLarge(declared: 0x8000_0000, maximum: 1 << 20)) { try decoder.next() }
        var small = MilterFrameDecoder(maximumLength: 16)
        small.append([0, 0, 0, 17, 0x42])
        #expect(throws: MilterFrameError.tooLarge(declared: 17, maximum: 16)) { try small.next() }
        var empty = MilterFrameDecoder()
        empty.append([0, 0, 0, 0])
        #expect(throws: MilterFrameError.empty) { try empty.next() }
    }

    @Test func aPartialPacketWaits() throws {
        var decoder = MilterFrameDecoder()
        decoder.append([0, 0, 0, 5, 0x52, 0x3C])
        #expect(try decoder.next() == nil)
        decoder.append([0x61, 0x3E, 0])
        #expect(try decoder.next() == MilterPacket(code: 0x52, payload: [0x3C, 0x61, 0x3E, 0]))
        #expect(try decoder.next() == nil)
    }

    /// Many packets through one decoder: what it holds stays bounded by what is unread.
    @Test func consumedBytesAreReleased() throws {
        var decoder = MilterFrameDecoder()
        let packet = MilterPacket(code: 0x42, payload: [UInt8](repeating: 0x61, count: 1000)).encoded
        for _ in 0..<1000 {
            decoder.append(packet + packet.prefix(2))
            #expect(try decoder.next() != nil)
            decoder.append(packet.dropFirst(2))
            #expect(try decoder.next() != nil)
            #expect(try decoder.next() == nil)
        }
        #expect(decoder.pending == 0)
    }

    @Test func commandAndResponseBytesAreTheLibmilterOnes() {
        #expect(String(decoding: MilterCommand.allCases.map(\.rawValue), as: UTF8.self) == "ABCDEHKLMNOQRTU")
        #expect(String(decoding: MilterResponse.allCases.map(\.rawValue), as: UTF8.self) == "+-24abcdefhilmpqrsty")
    }
}
