import NIOCore
import Testing

@testable import SMTPCore

@Suite struct ReplyTests {
    @Test func everyLineCarriesCodeAndStatus() {
        let reply = Reply(code: 250, status: EnhancedStatus(2, 0, 0), lines: ["one", "two"])
        #expect(reply.wireText == "250-2.0.0 one\r\n250 2.0.0 two\r\n")
    }

    @Test func textCannotForgeExtraReplies() {
        let reply = Reply.custom(550, EnhancedStatus(5, 1, 1), "x\r\n250 2.0.0 forged")
        #expect(reply.wireText == "550 5.1.1 x250 2.0.0 forged\r\n")
    }

    @Test func bilingualTextForOwnReplies() {
        #expect(Reply.messageTooBig.wireText.hasPrefix("552 5.3.4 Thư vượt quá kích thước cho phép / Message size exceeds"))
    }

    @Test func decoderJoinsMultilineRepliesAndExtractsStatus() throws {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: "250-upstream.test\r\n250-PIPELINING\r\n250 SIZE 10\r\n550 5.1.1 <x@y>: unknown\r\n354 go")
        let ehlo = try decoder.next(&buffer)
        #expect(ehlo == Reply(code: 250, status: nil, lines: ["upstream.test", "PIPELINING", "SIZE 10"]))
        let refused = try decoder.next(&buffer)
        #expect(refused == Reply(code: 550, status: EnhancedStatus(5, 1, 1), lines: ["<x@y>: unknown"]))
        #expect(try decoder.next(&buffer) == nil)
        buffer.writeString(" ahead\r\n")
        #expect(try decoder.next(&buffer)?.code == 354)
    }

    /// Found by `Scripts/fuzz reply` (FuzzRegressions/reply-crash-*): a bare CR inside the text
    /// hid an enhanced status that appeared once `Reply.write` dropped the CR for relaying, so
    /// ThuGate read `452` without a status and relayed `452 4.5.32 ...`. The decoder now reads
    /// the text as it will be relayed.
    @Test func decoderReadsTextAsItIsRelayed() throws {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: "452 4.5.3\r2 full\r\n")
        let reply = try #require(try decoder.next(&buffer))
        #expect(reply == Reply(code: 452, status: EnhancedStatus(4, 5, 32), lines: ["full"]))
        var relayed = ByteBuffer()
        reply.write(into: &relayed)
        var again = SMTPReplyDecoder()
        #expect(try again.next(&relayed) == reply)
    }

    @Test func decoderRefusesGarbage() {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n")
        #expect(throws: SMTPReplyError.self) { try decoder.next(&buffer) }
        var mixed = SMTPReplyDecoder()
        var buffer2 = ByteBuffer(string: "250-a\r\n251 b\r\n")
        #expect(throws: SMTPReplyError.self) { try mixed.next(&buffer2) }
    }

    @Test func receivedHeader() {
        let header = ReceivedHeader(
            heloName: "client (evil)\r\nX-Injected: 1",
            clientAddress: "192.0.2.1",
            hostname: "gw.test",
            esmtp: true,
            tls: true,
            smtpUTF8: false,
            queueID: "ABC",
            recipients: [MailAddress("a@b.c")],
            date: "Mon, 23 Nov 2026 21:00:00 +0700"
        )
        #expect(
            header.field
                == "Received: from clientevilX-Injected:1 ([192.0.2.1])\r\n\tby gw.test (ThuGate) with ESMTPS id ABC\r\n\tfor <a@b.c>; Mon, 23 Nov 2026 21:00:00 +0700\r\n"
        )
    }
}
