import NIOCore
import Testing
@testable import SMTPCore

@Suite struct SessionMachineTests {
    private func machine(maxRecipients: Int = 100, maxErrors: Int = 20, tls: Bool = false) -> SessionMachine {
        SessionMachine(configuration: SessionConfiguration(hostname: "gw.test", maxMessageSize: 1000, maxRecipients: maxRecipients,
                                                           maxErrors: maxErrors, tlsAvailable: tls))
    }

    private func replyCode(_ action: SessionMachine.Action) -> Int? {
        if case .reply(let reply) = action { return reply.code }
        if case .close(let reply) = action { return reply.code }
        return nil
    }

    @Test func fullTransactionAwaitsTheUpstreamAtEachStep() {
        var m = machine()
        #expect(replyCode(m.received(.ehlo("c"))) == 250)
        let mail = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        guard case .forwardMail(let envelope) = mail else { Issue.record("expected forwardMail, got \(mail)"); return }
        #expect(envelope.sender == MailAddress("a@b.c"))
        #expect(m.received(.rcpt(MailAddress("x@y.z"))) == .reply(.badSequence), "no command while MAIL is with the upstream")
    }

    @Test func recipientsRefusedUpstreamAreNotInTheEnvelope() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        _ = m.mailReplied(.custom(250, EnhancedStatus(2, 1, 0), "ok"))
        _ = m.received(.rcpt(MailAddress("good@b.c")))
        _ = m.recipientReplied(Reply(code: 250, status: nil, lines: ["ok"]))
        _ = m.received(.rcpt(MailAddress("bad@b.c")))
        let refused = m.recipientReplied(.custom(550, EnhancedStatus(5, 1, 1), "unknown user"))
        #expect(refused == .reply(.custom(550, EnhancedStatus(5, 1, 1), "unknown user")))
        #expect(m.received(.data) == .receiveData)
        guard case .deliver(let envelope) = m.dataEnded(DataOutcome()) else { Issue.record("expected deliver"); return }
        #expect(envelope.recipients == [MailAddress("good@b.c")])
    }

    @Test func upstreamRepliesWithoutEnhancedStatusGetOne() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        guard case .reply(let reply) = m.mailReplied(Reply(code: 250, status: nil, lines: ["ok"])) else { return }
        #expect(reply.status == EnhancedStatus(2, 1, 0))
    }

    @Test func greetingAndHeloRepliesCarryNoEnhancedStatus() {
        var m = machine()
        // RFC 2034 3 and RFC 5321 4.3.1: the domain must follow the code directly.
        #expect(m.greeting.wireText == "220 gw.test ESMTP ThuGate\r\n")
        #expect(m.received(.helo("c")) == .reply(Reply(code: 250, status: nil, lines: ["gw.test"])))
    }

    @Test func upstream421BecomesA451ForTheClient() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        guard case .reply(let reply) = m.mailReplied(Reply(code: 421, status: nil, lines: ["closing"])) else { return }
        #expect(reply.code == 451 && reply.status == EnhancedStatus(4, 0, 0))
        #expect(m.state != .closed)
    }

    @Test func dataNeedsAnAcceptedRecipient() {
        var m = machine()
        #expect(replyCode(m.received(.data)) == 503)
        _ = m.received(.helo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        _ = m.received(.rcpt(MailAddress("bad@b.c")))
        _ = m.recipientReplied(.custom(550, EnhancedStatus(5, 1, 1), "no"))
        #expect(replyCode(m.received(.data)) == 554)
    }

    @Test func sizeDeclaredTooBigIsRefusedAtMail() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        #expect(m.received(.mail(MailAddress("a@b.c"), MailParameters(size: 1001))) == .reply(.messageTooBig))
    }

    @Test func refusedMessagesAbortTheUpstreamTransaction() {
        for (outcome, code) in [(DataOutcome(tooBig: true), 552), (DataOutcome(bareLineEnding: true), 550), (DataOutcome(longLine: true), 550)] {
            var m = machine()
            _ = m.received(.ehlo("c"))
            _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
            _ = m.mailReplied(.senderOK)
            _ = m.received(.rcpt(MailAddress("x@b.c")))
            _ = m.recipientReplied(.recipientOK)
            _ = m.received(.data)
            guard case .abortTransaction(let reply) = m.dataEnded(outcome) else { Issue.record("expected abort"); continue }
            #expect(reply.code == code)
            #expect(!m.inTransaction)
        }
    }

    @Test func tooManyRecipients() {
        var m = machine(maxRecipients: 1)
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        _ = m.received(.rcpt(MailAddress("x@b.c")))
        _ = m.recipientReplied(.recipientOK)
        #expect(m.received(.rcpt(MailAddress("y@b.c"))) == .reply(.tooManyRecipients))
    }

    @Test func errorLimitClosesTheSession() {
        var m = machine(maxErrors: 2)
        #expect(replyCode(m.received(.notImplemented("BDAT"))) == 502)
        #expect(m.received(.expn("x")) == .close(.tooManyErrors))
        #expect(m.state == .closed)
    }

    @Test func startTLSForgetsTheGreeting() {
        var m = machine(tls: true)
        _ = m.received(.ehlo("c"))
        #expect(m.ehloReply.lines.contains("STARTTLS"))
        #expect(m.received(.starttls) == .startTLS(.readyToStartTLS))
        #expect(m.received(.mail(MailAddress("a@b.c"), MailParameters())) == .reply(.needHelo))
        _ = m.received(.ehlo("c"))
        #expect(!m.ehloReply.lines.contains("STARTTLS"))
        #expect(m.received(.starttls) == .reply(.tlsAlreadyActive))
        var plain = machine()
        #expect(plain.received(.starttls) == .reply(.tlsNotAvailable))
    }

    @Test func rsetAndQuitInATransactionAbortUpstream() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        #expect(m.received(.rset) == .abortTransaction(.resetOK))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        #expect(m.received(.quit) == .abortTransaction(.closing))
        #expect(m.state == .closed)
    }

    @Test func commandLineErrorsBecomeReplies() {
        var m = machine()
        #expect(m.received(InboundFramer.CommandLine.tooLong) == .reply(.lineTooLong))
        #expect(m.received(InboundFramer.CommandLine.bareLineEnding) == .reply(.bareLineEnding))
        #expect(m.received(InboundFramer.CommandLine.line(ByteBuffer(string: "WHAT"))) == .reply(.unknownCommand))
    }
}
