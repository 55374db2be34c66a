import MilterCore
import SMTPCore
import Testing

/// Every response ThuGate sends, as bytes on the wire (length, code, payload), against
/// libmilter's formats (`smfi.c`, `engine.c`) written out by hand.
@Suite struct MilterPacketsTests {
    static let cases: [(String, MilterPacket, [UInt8])] = [
        ("continue", .continue, [0, 0, 0, 1, 0x63]),
        ("accept", .accept, [0, 0, 0, 1, 0x61]),
        ("discard", .discard, [0, 0, 0, 1, 0x64]),
        ("tempfail", .tempfail, [0, 0, 0, 1, 0x74]),
        ("reject", .reject, [0, 0, 0, 1, 0x72]),
        ("progress", .progress, [0, 0, 0, 1, 0x70]),
        ("quarantine", .quarantine(reason: "ThuGate: virus"), [0, 0, 0, 16, 0x71] + Array("ThuGate: virus\0".utf8)),
        ("delrcpt", .deleteRecipient("<a@b.vn>"), [0, 0, 0, 10, 0x2D] + Array("<a@b.vn>\0".utf8)),
        ("addheader", .addHeader(name: "X-A", value: " 1"), [0, 0, 0, 8, 0x68] + Array("X-A\0 1\0".utf8)),
        ("insheader", .insertHeader(index: 2, name: "X-A", value: "1"), [0, 0, 0, 11, 0x69, 0, 0, 0, 2] + Array("X-A\01\0".utf8)),
        ("chgheader", .changeHeader(index: 1, name: "Subject", value: ""), [0, 0, 0, 14, 0x6D, 0, 0, 0, 1] + Array("Subject\0\0".utf8)),
        ("replbody", MilterPacket.replaceBody(Array("a\r\n".utf8))[0], [0, 0, 0, 4, 0x62] + Array("a\r\n".utf8)),
        ("replbody empty", MilterPacket.replaceBody([])[0], [0, 0, 0, 1, 0x62]),
        (
            "replycode", .replyCode(Reply(451, EnhancedStatus(4, 7, 0), vi: "Thử lại", en: "try again"), ascii: true),
            [0, 0, 0, 31, 0x79] + Array("451 4.7.0 Thu lai / try again\0".utf8)
        ),
    ]

    @Test(arguments: 0..<cases.count)
    func packetBytes(index: Int) {
        let (name, packet, bytes) = Self.cases[index]
        #expect(packet.encoded == bytes, "\(name)")
        // And the decoder reads them back as they were.
        var decoder = MilterFrameDecoder()
        decoder.append(bytes)
        #expect((try? decoder.next()) == packet, "\(name)")
    }

    /// A NUL inside a string would end the field early: it becomes a space.
    @Test func stringsCannotCarryANul() {
        #expect(MilterPacket.addHeader(name: "X\0A", value: "b\0c").payload == Array("X A\0b c\0".utf8))
    }
}
