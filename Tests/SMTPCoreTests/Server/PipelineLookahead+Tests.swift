import NIOCore
import Testing

@testable import SMTPCore

/// Which commands pipelined behind MAIL go upstream with it, and how their replies come back.
@Suite struct PipelineLookaheadTests {
    private let a = MailAddress("a@b.c")
    private let x = MailAddress("x@y.z")
    private let y = MailAddress("y@y.z")

    private func machine(maxRecipients: Int = 100, maxErrors: Int = 20) -> SessionMachine {
        var m = SessionMachine(
            configuration: SessionConfiguration(
                hostname: "gw.test",
                maxMessageSize: 1000,
                maxRecipients: maxRecipients,
                maxErrors: maxErrors
            )
        )
        _ = m.received(.ehlo("c"))
        return m
    }

    private func framer(_ text: String) -> InboundFramer {
        var framer = InboundFramer()
        framer.append(ByteBuffer(string: text))
        return framer
    }

    private func envelope(_ sender: MailAddress, smtpUTF8: Bool = false, recipients: [MailAddress] = []) -> Envelope {
        var envelope = Envelope(heloName: "c", esmtp: true, sender: sender, parameters: MailParameters(smtpUTF8: smtpUTF8))
        envelope.recipients = recipients
        return envelope
    }

    @Test func recipientsAndDataBehindMailGoUpstreamWithIt() {
        var m = machine()
        var input = framer("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<y@y.z>\r\nDATA\r\nSubject: hi\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a), pipelined: [.rcpt(x), .rcpt(y), .data]))
        #expect(m.lookahead.entries.count == 3)
        // The message data after DATA is left in the framer.
        #expect(input.hasBufferedInput)
    }

    @Test func theRepliesToCommandsSentEarlyAreTheirAnswers() {
        var m = machine()
        var input = framer("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<y@y.z>\r\nDATA\r\n")
        _ = m.nextCommand(from: &input)
        let refused = Reply.custom(550, EnhancedStatus(5, 1, 1), "no such user")
        #expect(m.mailReplied([.senderOK, .recipientOK, refused, .startData]) == .reply(.senderOK))
        #expect(m.nextCommand(from: &input) == .reply(.recipientOK))
        #expect(m.nextCommand(from: &input) == .reply(refused))
        #expect(m.nextCommand(from: &input) == .receiveData)
        #expect(m.nextCommand(from: &input) == nil)
        #expect(m.state == .data(envelope(a, recipients: [x])))
    }

    @Test func aCommandThatDoesNotGoEarlyEndsTheLookaheadAndIsHandledInTurn() {
        var m = machine()
        var input = framer("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nNOOP\r\nRCPT TO:<y@y.z>\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a), pipelined: [.rcpt(x)]))
        #expect(m.mailReplied([.senderOK, .recipientOK]) == .reply(.senderOK))
        #expect(m.nextCommand(from: &input) == .reply(.recipientOK))
        #expect(m.nextCommand(from: &input) == .reply(.ok))
        #expect(m.nextCommand(from: &input) == .forwardRecipient(y))
    }

    @Test func dataGoesEarlyOnlyBehindARecipient() {
        var m = machine()
        var input = framer("MAIL FROM:<a@b.c>\r\nDATA\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a), pipelined: []))
        #expect(m.mailReplied([.senderOK]) == .reply(.senderOK))
        #expect(m.nextCommand(from: &input) == .reply(.noValidRecipients))
    }

    @Test func aNonASCIIRecipientWithoutSMTPUTF8NeverReachesTheUpstream() {
        var m = machine()
        var input = framer("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<thư@bộ.vn>\r\nDATA\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a), pipelined: [.rcpt(x)]))
        _ = m.mailReplied([.senderOK, .recipientOK])
        #expect(m.nextCommand(from: &input) == .reply(.recipientOK))
        #expect(m.nextCommand(from: &input) == .reply(.smtpUTF8Required))
        #expect(m.nextCommand(from: &input) == .receiveData)
    }

    @Test func aNonASCIIRecipientWithSMTPUTF8GoesEarly() {
        var m = machine()
        let vn = MailAddress("thư@bộ.vn")
        var input = framer("MAIL FROM:<a@b.c> SMTPUTF8\r\nRCPT TO:<thư@bộ.vn>\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a, smtpUTF8: true), pipelined: [.rcpt(vn)]))
    }

    @Test func recipientsPastTheLimitStayBehindAndAreRefusedHere() {
        var m = machine(maxRecipients: 2)
        var input = framer("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<y@y.z>\r\nRCPT TO:<z@y.z>\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a), pipelined: [.rcpt(x), .rcpt(y)]))
        _ = m.mailReplied([.senderOK, .recipientOK, .recipientOK])
        #expect(m.nextCommand(from: &input) == .reply(.recipientOK))
        #expect(m.nextCommand(from: &input) == .reply(.recipientOK))
        #expect(m.nextCommand(from: &input) == .reply(.tooManyRecipients))
    }

    @Test func mailRefusedUpstreamAbortsAndTheRecipientsBehindItNeedMail() {
        var m = machine()
        var input = framer("MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\n")
        _ = m.nextCommand(from: &input)
        let refused = Reply.custom(550, EnhancedStatus(5, 7, 1), "sender refused")
        #expect(m.mailReplied([refused, .needMail]) == .abortTransaction(refused))
        #expect(m.inTransaction == false)
        #expect(m.nextCommand(from: &input) == .reply(.needMail))
    }

    @Test func aMailReadAheadTakesTheRecipientsBehindItAlong() {
        var m = machine()
        // The first MAIL is refused upstream; the second one was read ahead behind it.
        var input = framer("MAIL FROM:<a@b.c>\r\nMAIL FROM:<x@y.z>\r\nRCPT TO:<y@y.z>\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a), pipelined: []))
        #expect(
            m.mailReplied([.custom(451, EnhancedStatus(4, 0, 0), "later")])
                == .abortTransaction(.custom(451, EnhancedStatus(4, 0, 0), "later"))
        )
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(x), pipelined: [.rcpt(y)]))
        _ = m.mailReplied([.senderOK, .recipientOK])
        #expect(m.nextCommand(from: &input) == .reply(.recipientOK))
        #expect(m.nextCommand(from: &input) == nil)
    }

    @Test func aLineThatDoesNotParseIsKeptAndAnsweredInTurn() {
        var m = machine()
        var input = framer("MAIL FROM:<a@b.c>\r\nRCPT TO:x\r\n")
        #expect(m.nextCommand(from: &input) == .forwardMail(envelope(a), pipelined: []))
        _ = m.mailReplied([.senderOK])
        guard case .reply(let reply) = m.nextCommand(from: &input) else {
            Issue.record("expected a reply")
            return
        }
        #expect(reply.code == 501 || reply.code == 500)
    }
}
