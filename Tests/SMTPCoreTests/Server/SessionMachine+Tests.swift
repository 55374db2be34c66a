import NIOCore
import Testing

@testable import SMTPCore

@Suite struct SessionMachineTests {
    private func machine(maxRecipients: Int = 100, maxErrors: Int = 20, tls: Bool = false) -> SessionMachine {
        SessionMachine(
            configuration: SessionConfiguration(
                hostname: "gw.test",
                maxMessageSize: 1000,
                maxRecipients: maxRecipients,
                maxErrors: maxErrors,
                tlsAvailable: tls
            )
        )
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
        guard case .forwardMail(let envelope, _) = mail else {
            Issue.record("expected forwardMail, got \(mail)")
            return
        }
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
        guard case .inspect(let envelope) = m.dataEnded(DataOutcome()) else {
            Issue.record("expected inspect")
            return
        }
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
        for (outcome, code) in [
            (DataOutcome(tooBig: true), 552), (DataOutcome(bareLineEnding: true), 550), (DataOutcome(longLine: true), 550),
        ] {
            var m = machine()
            _ = m.received(.ehlo("c"))
            _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
            _ = m.mailReplied(.senderOK)
            _ = m.received(.rcpt(MailAddress("x@b.c")))
            _ = m.recipientReplied(.recipientOK)
            _ = m.received(.data)
            guard case .abortTransaction(let reply) = m.dataEnded(outcome) else {
                Issue.record("expected abort")
                continue
            }
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

/// The message after its final dot: verdict events in, relay / hold / refuse / defer out.
@Suite struct SessionMachineDispositionTests {
    private let a = MailAddress("a@b.c")
    private let x = MailAddress("x@y.z")
    private let refusal = Reply.custom(554, EnhancedStatus(5, 7, 1), "executable")
    private let deferral = Reply.custom(451, EnhancedStatus(4, 7, 0), "later")

    private var envelope: Envelope {
        var envelope = Envelope(heloName: "c", esmtp: true, sender: a, parameters: MailParameters())
        envelope.recipients = [x]
        return envelope
    }

    /// A machine whose client has just sent the final dot.
    private func inspecting(maxErrors: Int = 20) -> SessionMachine {
        var m = SessionMachine(configuration: SessionConfiguration(hostname: "gw.test", maxErrors: maxErrors))
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(a, MailParameters()))
        _ = m.mailReplied(.senderOK)
        _ = m.received(.rcpt(x))
        _ = m.recipientReplied(.recipientOK)
        _ = m.received(.data)
        _ = m.dataEnded(DataOutcome())
        return m
    }

    @Test func theFinalDotAsksForInspection() {
        var m = inspecting()
        #expect(m.state == .inspecting(envelope))
        #expect(m.inTransaction)
        #expect(m.received(.noop) == .reply(.badSequence))
    }

    @Test func aMessageToRelayGoesUpstreamAndTheUpstreamReplyGoesToTheClient() {
        var m = inspecting()
        #expect(m.inspected(.relay) == .relay(envelope))
        #expect(
            m.relayed(Reply(code: 250, status: nil, lines: ["queued"]))
                == .reply(Reply(code: 250, status: EnhancedStatus(2, 0, 0), lines: ["queued"]))
        )
        #expect(m.state == .ready(helo: "c", esmtp: true))
    }

    @Test func anUpstreamThatClosesAtTheFinalDotIsA451NotA421() {
        var m = inspecting()
        _ = m.inspected(.relay)
        #expect(
            m.relayed(Reply(code: 421, status: nil, lines: ["bye"]))
                == .reply(Reply(code: 451, status: EnhancedStatus(4, 0, 0), lines: ["bye"]))
        )
        #expect(m.state != .closed)
    }

    @Test func aHeldMessageIsAnsweredWithTheQuarantinesReply() {
        var m = inspecting()
        #expect(m.inspected(.hold) == .hold(envelope))
        #expect(m.inTransaction)
        #expect(m.held(.custom(250, EnhancedStatus(2, 0, 0), "held as Q1")) == .reply(.custom(250, EnhancedStatus(2, 0, 0), "held as Q1")))
        #expect(m.inTransaction == false)
    }

    @Test func aQuarantineThatFailsDefersTheMessage() {
        var m = inspecting()
        _ = m.inspected(.hold)
        #expect(m.held(deferral) == .reply(deferral))
        #expect(m.errors == 1)
    }

    @Test func aRefusedMessageAbortsTheUpstreamBeforeTheReply() {
        var m = inspecting()
        #expect(m.inspected(.refuse(refusal)) == .abortTransaction(refusal))
        #expect(m.state == .ready(helo: "c", esmtp: true))
        #expect(m.errors == 1)
    }

    @Test func aDeferredMessageAbortsTheUpstreamBeforeTheReply() {
        var m = inspecting()
        #expect(m.inspected(.defer(deferral)) == .abortTransaction(deferral))
        #expect(m.inTransaction == false)
    }

    @Test func aRefusalAtTheErrorLimitClosesTheSession() {
        var m = inspecting(maxErrors: 1)
        #expect(m.inspected(.refuse(refusal)) == .abortTransaction(.tooManyErrors))
        #expect(m.state == .closed)
    }

    @Test func aStorageFailureIsALocalErrorNotMessageTooBig() {
        var m = inspecting()
        _ = m.inspected(.relay)
        _ = m.relayed(.ok)
        _ = m.received(.mail(a, MailParameters()))
        _ = m.mailReplied(.senderOK)
        _ = m.received(.rcpt(x))
        _ = m.recipientReplied(.recipientOK)
        #expect(m.received(.data) == .receiveData)
        #expect(m.storageFailed() == .abortTransaction(.localError))
        #expect(m.state == .ready(helo: "c", esmtp: true))
    }

    @Test func aMessageTooBigIsRefusedWithoutInspection() {
        var m = SessionMachine(configuration: SessionConfiguration(hostname: "gw.test"))
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(a, MailParameters()))
        _ = m.mailReplied(.senderOK)
        _ = m.received(.rcpt(x))
        _ = m.recipientReplied(.recipientOK)
        _ = m.received(.data)
        #expect(m.dataEnded(DataOutcome(tooBig: true)) == .abortTransaction(.messageTooBig))
    }

    @Test func verdictsOutOfTurnAreBadSequence() {
        var m = SessionMachine(configuration: SessionConfiguration(hostname: "gw.test"))
        #expect(m.inspected(.relay) == .reply(.badSequence))
        #expect(m.relayed(.ok) == .reply(.badSequence))
        #expect(m.held(.ok) == .reply(.badSequence))
        #expect(m.storageFailed() == .reply(.badSequence))
    }
}

/// Graceful shutdown and how long the client may stay silent, with given instants.
@Suite struct SessionMachineDeadlineTests {
    private let now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    private func machine() -> SessionMachine {
        SessionMachine(configuration: SessionConfiguration(hostname: "gw.test", commandTimeout: .seconds(300), dataTimeout: .seconds(180)))
    }

    @Test func betweenTransactionsTheCommandTimeoutRunsAndShutdownMayClose() {
        var m = machine()
        #expect(m.awaitingInput(now: now) == ClientWait(deadline: now + .seconds(300), betweenTransactions: true))
        _ = m.received(.ehlo("c"))
        #expect(m.awaitingInput(now: now) == ClientWait(deadline: now + .seconds(300), betweenTransactions: true))
    }

    @Test func inATransactionTheClientIsNotIdle() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        #expect(m.awaitingInput(now: now) == ClientWait(deadline: now + .seconds(300), betweenTransactions: false))
    }

    @Test func inDataTheDataTimeoutRuns() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        _ = m.received(.rcpt(MailAddress("x@y.z")))
        _ = m.recipientReplied(.recipientOK)
        _ = m.received(.data)
        #expect(m.awaitingInput(now: now) == ClientWait(deadline: now + .seconds(180), betweenTransactions: false))
        // The client must read the 354 within the command timeout.
        #expect(m.awaitingOutput(now: now) == ClientWait(deadline: now + .seconds(300), betweenTransactions: false))
    }

    @Test func writingRepliesIsNeverIdle() {
        #expect(machine().awaitingOutput(now: now + .seconds(7)) == ClientWait(deadline: now + .seconds(307), betweenTransactions: false))
    }

    @Test func shutdownClosesASessionBetweenTransactions() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        #expect(m.shutdownRequested() == .close(.shuttingDown))
        #expect(m.state == .closed)
        #expect(m.shutdownRequested() == nil)
    }

    @Test func shutdownLetsAMessageInFlightFinish() {
        var m = machine()
        _ = m.received(.ehlo("c"))
        _ = m.received(.mail(MailAddress("a@b.c"), MailParameters()))
        #expect(m.shutdownRequested() == nil)
        _ = m.mailReplied(.senderOK)
        #expect(m.shutdownRequested() == nil)
        #expect(m.received(.rset) == .abortTransaction(.resetOK))
        #expect(m.shutdownRequested() == .close(.shuttingDown))
    }
}

/// The recipient policy: what the envelope alone decides is refused at RCPT, before the upstream
/// hears of the recipient, and only that recipient.
@Suite struct RecipientPolicyTests {
    /// Refuses recipients in one domain when MAIL FROM is in another (a stand-in for the rules).
    struct RefuseDomain: RecipientPolicy {
        var sender: String
        var domain: String
        func refusal(of recipient: MailAddress, from mailFrom: MailAddress) -> RecipientRefusal? {
            guard mailFrom.address.hasSuffix(sender), recipient.address.hasSuffix(domain) else { return nil }
            return RecipientRefusal(.custom(550, EnhancedStatus(5, 7, 1), "not this one"), reason: "test-rule: \(recipient.address)")
        }
    }

    private func machine(maxRecipients: Int = 100, maxErrors: Int = 20) -> SessionMachine {
        var m = SessionMachine(
            configuration: SessionConfiguration(
                hostname: "gw.test",
                maxRecipients: maxRecipients,
                maxErrors: maxErrors,
                recipientPolicy: RefuseDomain(sender: "@fwd.example", domain: "@gmail.com")
            )
        )
        _ = m.received(.ehlo("c"))
        return m
    }

    private let refused = Reply.custom(550, EnhancedStatus(5, 7, 1), "not this one")

    @Test func aRecipientThePolicyRefusesNeverGoesUpstreamAndTheOthersDo() {
        var m = machine()
        _ = m.received(.mail(MailAddress("srs0=x@fwd.example"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        #expect(m.received(.rcpt(MailAddress("a@hoabinh.gov.vn"))) == .forwardRecipient(MailAddress("a@hoabinh.gov.vn")))
        _ = m.recipientReplied(.recipientOK)
        let action = m.received(.rcpt(MailAddress("b@gmail.com")))
        #expect(
            action
                == .refusedRecipient(
                    MailAddress("b@gmail.com"),
                    from: MailAddress("srs0=x@fwd.example"),
                    reason: "test-rule: b@gmail.com",
                    reply: refused
                )
        )
        #expect(m.errors == 0, "a policy's answer is not the client's error")
        #expect(m.received(.data) == .receiveData)
        guard case .inspect(let envelope) = m.dataEnded(DataOutcome()) else {
            Issue.record("expected inspect")
            return
        }
        #expect(envelope.recipients == [MailAddress("a@hoabinh.gov.vn")])
    }

    @Test func anotherSenderIsNotAsked() {
        var m = machine()
        _ = m.received(.mail(MailAddress("person@example.org"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        #expect(m.received(.rcpt(MailAddress("b@gmail.com"))) == .forwardRecipient(MailAddress("b@gmail.com")))
    }

    @Test func aPipelinedRecipientThePolicyRefusesIsNotSentEarly() {
        var m = machine()
        var input = InboundFramer()
        input.append(
            ByteBuffer(string: "MAIL FROM:<srs0=x@fwd.example>\r\nRCPT TO:<a@hoabinh.gov.vn>\r\nRCPT TO:<b@gmail.com>\r\nDATA\r\n")
        )
        let mail = m.nextCommand(from: &input)
        guard case .forwardMail(_, let early) = mail else {
            Issue.record("expected forwardMail, got \(String(describing: mail))")
            return
        }
        #expect(early == [.rcpt(MailAddress("a@hoabinh.gov.vn"))])
        #expect(m.mailReplied([.senderOK, .recipientOK]) == .reply(.senderOK))
        #expect(m.nextCommand(from: &input) == .reply(.recipientOK))
        #expect(
            m.nextCommand(from: &input)
                == .refusedRecipient(
                    MailAddress("b@gmail.com"),
                    from: MailAddress("srs0=x@fwd.example"),
                    reason: "test-rule: b@gmail.com",
                    reply: refused
                )
        )
        #expect(m.nextCommand(from: &input) == .receiveData)
    }

    /// A forwarder's alias of many outside mailboxes is not cut off by the error limit; the
    /// refusals count toward the recipients one transaction may ask for.
    @Test func policyRefusalsDoNotReachTheErrorLimitButCountTowardTheRecipientCap() {
        var m = machine(maxRecipients: 30, maxErrors: 2)
        _ = m.received(.mail(MailAddress("srs0=x@fwd.example"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        for i in 0..<25 {
            guard case .refusedRecipient = m.received(.rcpt(MailAddress("o\(i)@gmail.com"))) else {
                Issue.record("recipient \(i) not refused by the policy")
                return
            }
        }
        #expect(m.state != .closed && m.errors == 0)
        for i in 0..<5 {
            #expect(m.received(.rcpt(MailAddress("s\(i)@hoabinh.gov.vn"))) == .forwardRecipient(MailAddress("s\(i)@hoabinh.gov.vn")))
            _ = m.recipientReplied(.recipientOK)
        }
        #expect(m.received(.rcpt(MailAddress("late@hoabinh.gov.vn"))) == .reply(.tooManyRecipients))
        // A new transaction starts the count again.
        _ = m.received(.rset)
        _ = m.received(.mail(MailAddress("srs0=x@fwd.example"), MailParameters()))
        _ = m.mailReplied(.senderOK)
        #expect(m.received(.rcpt(MailAddress("s@hoabinh.gov.vn"))) == .forwardRecipient(MailAddress("s@hoabinh.gov.vn")))
    }
}
