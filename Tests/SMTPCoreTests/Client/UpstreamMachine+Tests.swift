import NIOCore
import Testing

@testable import SMTPCore

/// The upstream client machine alone: replies in, actions out, instants passed by hand.
@Suite struct UpstreamMachineTests {
    typealias Machine = UpstreamMachine

    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static let timeouts = Machine.Timeouts(command: .minutes(5), data: .minutes(10))
    static let sender = MailAddress("vanthu@quangninh.gov.vn")
    static let b = MailAddress("b@quangninh.gov.vn")
    static let c = MailAddress("c@quangninh.gov.vn")
    static let envelope = Envelope(heloName: "client.test", esmtp: true, sender: sender, parameters: MailParameters())
    static let full = reply(250, "upstream.test", "PIPELINING", "SIZE 10240000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES")
    static let bytes = ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n")

    static func reply(_ code: Int, _ lines: String...) -> Reply { Reply.parsing(code: code, lines: lines) }
    static let ok = reply(250, "2.0.0 ok")
    static let go = reply(354, "go ahead")

    static func configuration(tls: Machine.TLSPolicy = .none, pipelining: Bool = true) -> Machine.Configuration {
        Machine.Configuration(heloName: "thugate.test", startTLS: tls, pipelining: pipelining, timeouts: timeouts)
    }

    /// A machine past greeting and EHLO, idle; `reused` after one transaction.
    static func ready(ehlo: Reply = full, pipelining: Bool = true, reused: Bool = false) -> Machine {
        var machine = Machine(configuration: configuration(pipelining: pipelining))
        _ = machine.connected(now: t0)
        _ = machine.replyReceived(reply(220, "upstream.test ESMTP"), now: t0)
        _ = machine.replyReceived(ehlo, now: t0)
        if reused {
            _ = machine.mail(envelope, pipelined: [], now: t0)
            _ = machine.replyReceived(reply(550, "5.1.0 no"), now: t0)
        }
        return machine
    }

    /// A machine with a transaction open: MAIL and one RCPT accepted.
    static func open(reused: Bool = false) -> Machine {
        var machine = ready(reused: reused)
        _ = machine.mail(envelope, pipelined: [.rcpt(b)], now: t0)
        if reused { _ = machine.replyReceived(ok, now: t0) }
        _ = machine.replyReceived(ok, now: t0)
        _ = machine.replyReceived(ok, now: t0)
        return machine
    }

    static func mail(_ parameters: MailParameters = MailParameters()) -> SMTPCommand { .mail(sender, parameters) }
    static func dataReplay(_ recipients: [MailAddress], mailRetried: Bool = false) -> Machine.Replay {
        var envelope = envelope
        envelope.recipients = recipients
        return Machine.Replay(envelope: envelope, step: .data, mailRetried: mailRetried, dataReplayed: true)
    }

    // MARK: Greeting, EHLO, STARTTLS

    @Test func greetingAndEHLO() {
        var machine = Machine(configuration: Self.configuration())
        #expect(machine.connected(now: Self.t0) == .wait)
        #expect(machine.deadline == Self.t0 + .minutes(5))
        #expect(machine.replyReceived(Self.reply(220, "upstream.test ESMTP"), now: Self.t0) == .send([.ehlo("thugate.test")]))
        #expect(
            machine.replyReceived(Self.full, now: Self.t0 + .seconds(1))
                == .complete(.ready(Machine.Extensions(["PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"])), .keep)
        )
        #expect(machine.deadline == nil)
    }

    @Test func ehloRefusedFallsBackToHELO() {
        var machine = Machine(configuration: Self.configuration())
        _ = machine.connected(now: Self.t0)
        #expect(machine.replyReceived(Self.reply(220, "old"), now: Self.t0) == .send([.ehlo("thugate.test")]))
        #expect(machine.replyReceived(Self.reply(502, "what"), now: Self.t0) == .send([.helo("thugate.test")]))
        #expect(machine.replyReceived(Self.reply(250, "hello"), now: Self.t0) == .complete(.ready(Machine.Extensions()), .keep))
    }

    @Test func heloRefusedFails() {
        var machine = Machine(configuration: Self.configuration())
        _ = machine.connected(now: Self.t0)
        _ = machine.replyReceived(Self.reply(220, "old"), now: Self.t0)
        _ = machine.replyReceived(Self.reply(502, "what"), now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(501, "no"), now: Self.t0)
                == .complete(.failed(UpstreamError(kind: .protocolViolation, detail: "HELO refused: 501 no")), .close)
        )
        #expect(machine.isClosed)
    }

    @Test func greetingOtherThan220Fails() {
        var machine = Machine(configuration: Self.configuration())
        _ = machine.connected(now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(554, "5.7.1 go away"), now: Self.t0)
                == .complete(.failed(UpstreamError(kind: .protocolViolation, detail: "greeting 554 5.7.1 go away")), .close)
        )
    }

    @Test func startTLSThenEHLOAgain() {
        var machine = Machine(configuration: Self.configuration(tls: .may))
        _ = machine.connected(now: Self.t0)
        _ = machine.replyReceived(Self.reply(220, "hi"), now: Self.t0)
        #expect(machine.replyReceived(Self.reply(250, "hi", "STARTTLS", "SIZE 10"), now: Self.t0) == .send([.starttls]))
        #expect(machine.replyReceived(Self.reply(220, "2.0.0 ready"), now: Self.t0) == .startTLS(thenSend: [.ehlo("thugate.test")]))
        #expect(machine.extensions == Machine.Extensions())
        #expect(
            machine.replyReceived(Self.reply(250, "hi", "PIPELINING"), now: Self.t0)
                == .complete(.ready(Machine.Extensions(["PIPELINING"])), .keep)
        )
    }

    @Test func startTLSMayWithoutOfferIsPlain() {
        var machine = Machine(configuration: Self.configuration(tls: .may))
        _ = machine.connected(now: Self.t0)
        _ = machine.replyReceived(Self.reply(220, "hi"), now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(250, "hi", "SIZE 10"), now: Self.t0) == .complete(.ready(Machine.Extensions(["SIZE"])), .keep)
        )
    }

    @Test func startTLSEncryptWithoutOfferFails() {
        var machine = Machine(configuration: Self.configuration(tls: .encrypt))
        _ = machine.connected(now: Self.t0)
        _ = machine.replyReceived(Self.reply(220, "hi"), now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(250, "hi"), now: Self.t0)
                == .complete(
                    .failed(UpstreamError(kind: .tls, detail: "upstream does not offer STARTTLS and starttls = \"encrypt\"")),
                    .close
                )
        )
    }

    @Test func startTLSRefusedFails() {
        var machine = Machine(configuration: Self.configuration(tls: .encrypt))
        _ = machine.connected(now: Self.t0)
        _ = machine.replyReceived(Self.reply(220, "hi"), now: Self.t0)
        _ = machine.replyReceived(Self.reply(250, "hi", "STARTTLS"), now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(454, "4.7.0 not now"), now: Self.t0)
                == .complete(.failed(UpstreamError(kind: .tls, detail: "STARTTLS refused: 454 4.7.0 not now")), .close)
        )
    }

    // MARK: A transaction

    @Test func pipelinedMailRecipientsAndData() {
        var machine = Self.ready()
        #expect(
            machine.mail(Self.envelope, pipelined: [.rcpt(Self.b), .rcpt(Self.c), .data], now: Self.t0)
                == .send([Self.mail(), .rcpt(Self.b), .rcpt(Self.c), .data])
        )
        #expect(machine.deadline == Self.t0 + .minutes(5))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.reply(550, "5.1.1 unknown"), now: Self.t0) == .wait)
        #expect(
            machine.replyReceived(Self.go, now: Self.t0)
                == .complete(.replies([Self.ok, Self.ok, Self.reply(550, "5.1.1 unknown"), Self.go]), .keep)
        )
        #expect(machine.deadline == nil)
        // DATA was answered already: the message goes at once.
        #expect(machine.message(Self.bytes, isComplete: false, now: Self.t0) == .write(Self.bytes))
        #expect(machine.deadline == Self.t0 + .minutes(10))
        #expect(machine.messageDataWritten(now: Self.t0) == .complete(.written, .keep))
        #expect(machine.messageEnded(Self.bytes, now: Self.t0 + .seconds(3)) == .writeLast(Self.bytes))
        #expect(machine.messageDataWritten(now: Self.t0) == .wait)
        #expect(machine.deadline == Self.t0 + .seconds(3) + .minutes(10))
        #expect(
            machine.replyReceived(Self.reply(250, "2.0.0 queued as X"), now: Self.t0)
                == .complete(.replies([Self.reply(250, "2.0.0 queued as X")]), .release)
        )
        #expect(machine.reused)
        #expect(machine.deadline == nil)
    }

    @Test func withoutPipeliningCommandsGoOneAfterEachReply() {
        var machine = Self.ready(ehlo: Self.reply(250, "hi", "8BITMIME"))
        #expect(machine.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data], now: Self.t0) == .send([Self.mail()]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .send([.rcpt(Self.b)]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .send([.data]))
        #expect(machine.replyReceived(Self.go, now: Self.t0) == .complete(.replies([Self.ok, Self.ok, Self.go]), .keep))
    }

    @Test func pipeliningOffInTheConfiguration() {
        var machine = Self.ready(pipelining: false)
        #expect(machine.mail(Self.envelope, pipelined: [.rcpt(Self.b)], now: Self.t0) == .send([Self.mail()]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .send([.rcpt(Self.b)]))
    }

    @Test func reusedConnectionStartsWithRSET() {
        var machine = Self.ready(reused: true)
        #expect(machine.mail(Self.envelope, pipelined: [.rcpt(Self.b)], now: Self.t0) == .send([.rset, Self.mail(), .rcpt(Self.b)]))
        #expect(machine.replyReceived(Self.reply(250, "reset"), now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .complete(.replies([Self.ok, Self.ok]), .keep))
    }

    // MARK: XFORWARD (Postfix XFORWARD_README)

    static let xforwardEHLO = reply(250, "upstream.test", "PIPELINING", "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")
    static var fromClient: Envelope {
        var envelope = envelope
        envelope.origin = ClientOrigin(address: "203.0.113.9", port: 40000)
        return envelope
    }
    static let xforwardCommand = SMTPCommand.xforward([
        .init("NAME", "[UNAVAILABLE]"), .init("ADDR", "203.0.113.9"), .init("PORT", "40000"), .init("PROTO", "ESMTP"),
        .init("HELO", "client.test"), .init("SOURCE", "REMOTE"),
    ])

    @Test func xforwardBeforeMailWhenAnnounced() {
        var machine = Self.ready(ehlo: Self.xforwardEHLO)
        #expect(machine.extensions.xforwardAttributes == ["NAME", "ADDR", "PROTO", "HELO", "SOURCE", "PORT", "IDENT"])
        #expect(
            machine.mail(Self.fromClient, pipelined: [.rcpt(Self.b)], now: Self.t0)
                == .send([Self.xforwardCommand, Self.mail(), .rcpt(Self.b)])
        )
        // XFORWARD's reply is not the client's: MAIL's is first.
        #expect(machine.replyReceived(Self.reply(250, "2.0.0 Ok"), now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .complete(.replies([Self.ok, Self.ok]), .keep))
    }

    @Test func xforwardAfterRSETOnAReusedConnectionAndRefusalIgnored() {
        var machine = Self.ready(ehlo: Self.xforwardEHLO, reused: true)
        #expect(machine.mail(Self.fromClient, pipelined: [], now: Self.t0) == .send([.rset, Self.xforwardCommand, Self.mail()]))
        #expect(machine.replyReceived(Self.reply(250, "reset"), now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.reply(550, "5.7.0 Error: insufficient authorization"), now: Self.t0) == .wait)
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .complete(.replies([Self.ok]), .keep))
    }

    @Test func xforwardOneAfterTheOtherWithoutPipelining() {
        var machine = Self.ready(ehlo: Self.reply(250, "hi", "XFORWARD ADDR"))
        let only = SMTPCommand.xforward([.init("ADDR", "203.0.113.9")])
        #expect(machine.mail(Self.fromClient, pipelined: [.rcpt(Self.b)], now: Self.t0) == .send([only]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .send([Self.mail()]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .send([.rcpt(Self.b)]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .complete(.replies([Self.ok, Self.ok]), .keep))
    }

    @Test func noXforwardUnannouncedUnconfiguredOrForOwnMail() {
        var plain = Self.ready()
        #expect(plain.mail(Self.fromClient, pipelined: [], now: Self.t0) == .send([Self.mail()]))
        var own = Self.ready(ehlo: Self.xforwardEHLO)
        #expect(own.mail(Self.envelope, pipelined: [], now: Self.t0) == .send([Self.mail()]))
        var configuration = Self.configuration()
        configuration.xforward = false
        var off = Machine(configuration: configuration)
        _ = off.connected(now: Self.t0)
        _ = off.replyReceived(Self.reply(220, "upstream.test ESMTP"), now: Self.t0)
        _ = off.replyReceived(Self.xforwardEHLO, now: Self.t0)
        #expect(off.mail(Self.fromClient, pipelined: [], now: Self.t0) == .send([Self.mail()]))
    }

    @Test func deadPooledConnectionReplaysWithXforwardAgain() {
        var machine = Self.ready(ehlo: Self.xforwardEHLO, reused: true)
        _ = machine.mail(Self.fromClient, pipelined: [.rcpt(Self.b), .data], now: Self.t0)
        let replay = Machine.Replay(
            envelope: Self.fromClient,
            step: .mail(pipelined: [.rcpt(Self.b), .data]),
            mailRetried: true,
            dataReplayed: false
        )
        #expect(machine.connectionClosed() == .complete(.replay(replay), .close))
        var fresh = Self.ready(ehlo: Self.xforwardEHLO)
        #expect(fresh.replay(replay, now: Self.t0) == .send([Self.xforwardCommand, Self.mail(), .rcpt(Self.b), .data]))
    }

    @Test func mailParametersAsTheUpstreamTakesThem() {
        var machine = Self.ready()
        let parameters = MailParameters(size: 5000, body: .eightBitMIME, smtpUTF8: true)
        #expect(
            machine.mail(Envelope(heloName: "c", esmtp: true, sender: Self.sender, parameters: parameters), pipelined: [], now: Self.t0)
                == .send([Self.mail(MailParameters(size: 6024, body: .eightBitMIME, smtpUTF8: true))])
        )
        var plain = Self.ready(ehlo: Self.reply(250, "hi", "8BITMIME"))
        #expect(
            plain.mail(
                Envelope(heloName: "c", esmtp: true, sender: Self.sender, parameters: MailParameters(size: 5000, body: .sevenBit)),
                pipelined: [],
                now: Self.t0
            ) == .send([Self.mail()])
        )
        var huge = Self.ready()
        #expect(
            huge.mail(
                Envelope(heloName: "c", esmtp: true, sender: Self.sender, parameters: MailParameters(size: .max)),
                pipelined: [],
                now: Self.t0
            )
                == .send([Self.mail(MailParameters(size: .max))])
        )
    }

    @Test func noDowngradeOfSMTPUTF8Or8BitMIME() {
        var machine = Self.ready(ehlo: Self.reply(250, "hi", "PIPELINING", "8BITMIME"))
        let utf8 = Envelope(
            heloName: "c",
            esmtp: true,
            sender: MailAddress("nguyễn@quangninh.gov.vn"),
            parameters: MailParameters(smtpUTF8: true)
        )
        #expect(
            machine.mail(utf8, pipelined: [.rcpt(Self.b), .data], now: Self.t0)
                == .complete(.replies([.upstreamLacksSMTPUTF8, .needMail, .needMail]), .release)
        )
        var seven = Self.ready(ehlo: Self.reply(250, "hi", "PIPELINING"))
        let eight = Envelope(heloName: "c", esmtp: true, sender: Self.sender, parameters: MailParameters(body: .eightBitMIME))
        #expect(seven.mail(eight, pipelined: [], now: Self.t0) == .complete(.replies([.upstreamLacks8BitMIME]), .release))
        #expect(Reply.needMail.lines == ["Hãy gửi MAIL trước / Need MAIL command"])
        #expect(
            Reply.upstreamLacksSMTPUTF8.wireText
                == "553 5.6.7 Máy chủ thư chính không hỗ trợ SMTPUTF8 / Upstream does not support SMTPUTF8\r\n"
        )
    }

    @Test func mailRefusedReleasesTheConnection() {
        var machine = Self.ready()
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data], now: Self.t0)
        _ = machine.replyReceived(Self.reply(451, "4.3.0 later"), now: Self.t0)
        _ = machine.replyReceived(Self.reply(503, "5.5.1 no MAIL"), now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(503, "5.5.1 no MAIL"), now: Self.t0)
                == .complete(
                    .replies([Self.reply(451, "4.3.0 later"), Self.reply(503, "5.5.1 no MAIL"), Self.reply(503, "5.5.1 no MAIL")]),
                    .release
                )
        )
        #expect(machine.mail(Self.envelope, pipelined: [], now: Self.t0) == .send([.rset, Self.mail()]))
    }

    @Test func recipientsOneByOne() {
        var machine = Self.ready()
        #expect(machine.mail(Self.envelope, pipelined: [], now: Self.t0) == .send([Self.mail()]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .complete(.replies([Self.ok]), .keep))
        #expect(machine.recipient(Self.b, now: Self.t0) == .send([.rcpt(Self.b)]))
        #expect(
            machine.replyReceived(Self.reply(550, "5.1.1 no"), now: Self.t0) == .complete(.replies([Self.reply(550, "5.1.1 no")]), .keep)
        )
        #expect(machine.recipient(Self.c, now: Self.t0) == .send([.rcpt(Self.c)]))
        #expect(
            machine.replyReceived(Self.reply(251, "forwarded"), now: Self.t0) == .complete(.replies([Self.reply(251, "forwarded")]), .keep)
        )
        #expect(machine.message(Self.bytes, isComplete: false, now: Self.t0) == .send([.data]))
        #expect(machine.replyReceived(Self.go, now: Self.t0) == .write(Self.bytes))
        // Lost before the final dot: the replay carries only the recipient the upstream accepted.
        #expect(machine.connectionClosed() == .complete(.replay(Self.dataReplay([Self.c])), .close))
    }

    @Test func dataRefusedIsAnsweredAfterRSET() {
        var machine = Self.ready(ehlo: Self.reply(250, "hi"))
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b)], now: Self.t0)
        _ = machine.replyReceived(Self.ok, now: Self.t0)
        _ = machine.replyReceived(Self.ok, now: Self.t0)
        #expect(machine.message(Self.bytes, isComplete: true, now: Self.t0) == .send([.data]))
        #expect(machine.replyReceived(Self.reply(452, "4.3.1 full"), now: Self.t0) == .send([.rset]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .complete(.replies([Self.reply(452, "4.3.1 full")]), .release))
    }

    @Test func pipelinedDataRefusedIsAnsweredAfterRSET() {
        var machine = Self.ready()
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data], now: Self.t0)
        _ = machine.replyReceived(Self.ok, now: Self.t0)
        _ = machine.replyReceived(Self.reply(550, "5.1.1 no"), now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(554, "5.5.1 no recipients"), now: Self.t0)
                == .complete(.replies([Self.ok, Self.reply(550, "5.1.1 no"), Self.reply(554, "5.5.1 no recipients")]), .keep)
        )
        #expect(machine.message(Self.bytes, isComplete: true, now: Self.t0) == .send([.rset]))
        #expect(
            machine.replyReceived(Self.reply(500, "eh"), now: Self.t0)
                == .complete(.replies([Self.reply(554, "5.5.1 no recipients")]), .close)
        )
    }

    @Test func pipelinedDataRefusedStandsAfterTheConnectionWent() {
        var machine = Self.ready()
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data], now: Self.t0)
        for reply in [Self.ok, Self.ok, Self.reply(451, "4.3.0 later")] { _ = machine.replyReceived(reply, now: Self.t0) }
        #expect(machine.connectionClosed() == .close)
        #expect(
            machine.message(Self.bytes, isComplete: true, now: Self.t0) == .complete(.replies([Self.reply(451, "4.3.0 later")]), .close)
        )
    }

    @Test func finalReplyOfAnyKindEndsTheTransaction() {
        var machine = Self.open()
        _ = machine.message(Self.bytes, isComplete: true, now: Self.t0)
        _ = machine.replyReceived(Self.go, now: Self.t0)
        #expect(
            machine.replyReceived(Self.reply(451, "4.7.1 greylisted"), now: Self.t0)
                == .complete(.replies([Self.reply(451, "4.7.1 greylisted")]), .release)
        )
    }

    @Test func abortResetsOrCloses() {
        var machine = Self.open()
        #expect(machine.abort(now: Self.t0) == .send([.rset]))
        #expect(machine.replyReceived(Self.ok, now: Self.t0) == .complete(.replies([]), .release))
        #expect(machine.abort(now: Self.t0) == .complete(.replies([]), .release))
        var inData = Self.ready()
        _ = inData.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data], now: Self.t0)
        for reply in [Self.ok, Self.ok, Self.go] { _ = inData.replyReceived(reply, now: Self.t0) }
        #expect(inData.abort(now: Self.t0) == .complete(.replies([]), .close))
        var refused = Self.open()
        _ = refused.abort(now: Self.t0)
        #expect(refused.replyReceived(Self.reply(421, "bye"), now: Self.t0) == .complete(.replies([]), .close))
    }

    @Test func quitAnIdleConnection() {
        var machine = Self.ready()
        #expect(machine.quit(now: Self.t0) == .send([.quit]))
        #expect(machine.deadline == Self.t0 + .seconds(5))
        #expect(machine.replyReceived(Self.reply(221, "bye"), now: Self.t0) == .complete(.replies([Self.reply(221, "bye")]), .close))
    }

    // MARK: Replay

    @Test func deadPooledConnectionAtMailIsReplayedOnce() {
        var machine = Self.ready(reused: true)
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b), .data], now: Self.t0)
        let replay = Machine.Replay(
            envelope: Self.envelope,
            step: .mail(pipelined: [.rcpt(Self.b), .data]),
            mailRetried: true,
            dataReplayed: false
        )
        #expect(machine.connectionClosed() == .complete(.replay(replay), .close))
        var fresh = Self.ready()
        #expect(fresh.replay(replay, now: Self.t0) == .send([Self.mail(), .rcpt(Self.b), .data]))
        #expect(fresh.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
        var pooled = Self.ready(reused: true)
        _ = pooled.replay(replay, now: Self.t0)
        #expect(pooled.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
    }

    @Test func pooledConnectionFoundClosedIsReplayed() {
        var machine = Self.ready(reused: true)
        #expect(machine.connectionClosed() == .close)
        #expect(
            machine.mail(Self.envelope, pipelined: [], now: Self.t0)
                == .complete(
                    .replay(Machine.Replay(envelope: Self.envelope, step: .mail(pipelined: []), mailRetried: true, dataReplayed: false)),
                    .close
                )
        )
    }

    @Test func freshConnectionLostAtMailIsNotReplayed() {
        var machine = Self.ready()
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b)], now: Self.t0)
        #expect(machine.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
    }

    @Test func lostWhileTheClientTalksIsReplayedAtData() {
        var machine = Self.open()
        #expect(machine.connectionClosed() == .close)
        #expect(machine.message(Self.bytes, isComplete: true, now: Self.t0) == .complete(.replay(Self.dataReplay([Self.b])), .close))
        var fresh = Self.ready()
        #expect(fresh.replay(Self.dataReplay([Self.b]), now: Self.t0) == .send([Self.mail(), .rcpt(Self.b), .data]))
        _ = fresh.replyReceived(Self.ok, now: Self.t0)
        _ = fresh.replyReceived(Self.ok, now: Self.t0)
        #expect(fresh.replyReceived(Self.go, now: Self.t0) == .complete(.goAhead, .keep))
        #expect(fresh.message(Self.bytes, isComplete: false, now: Self.t0) == .write(Self.bytes))
        // Once replayed, a second loss is final.
        #expect(fresh.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
    }

    @Test func replayOnAPooledConnectionStartsWithRSETAndMayRetryMail() {
        var pooled = Self.ready(reused: true)
        #expect(pooled.replay(Self.dataReplay([Self.b]), now: Self.t0) == .send([.rset, Self.mail(), .rcpt(Self.b), .data]))
        #expect(pooled.connectionClosed() == .complete(.replay(Self.dataReplay([Self.b], mailRetried: true)), .close))
    }

    @Test func replayWithOtherAnswersIsRefused() {
        var fresh = Self.ready()
        _ = fresh.replay(Self.dataReplay([Self.b, Self.c]), now: Self.t0)
        _ = fresh.replyReceived(Self.ok, now: Self.t0)
        _ = fresh.replyReceived(Self.ok, now: Self.t0)
        _ = fresh.replyReceived(Self.reply(450, "4.2.1 busy"), now: Self.t0)
        #expect(
            fresh.replyReceived(Self.go, now: Self.t0)
                == .complete(
                    .failed(
                        UpstreamError(
                            kind: .replayRefused,
                            detail: "\([Self.ok, Self.ok, Self.reply(450, "4.2.1 busy"), Self.go])"
                        )
                    ),
                    .close
                )
        )
    }

    @Test func lostAwaitingDataGoAheadIsReplayed() {
        var machine = Self.open()
        _ = machine.message(Self.bytes, isComplete: false, now: Self.t0)
        #expect(machine.connectionClosed() == .complete(.replay(Self.dataReplay([Self.b])), .close))
    }

    @Test func lostAfterTheFinalDotIsNeverReplayed() {
        var machine = Self.open()
        _ = machine.message(Self.bytes, isComplete: true, now: Self.t0)
        _ = machine.replyReceived(Self.go, now: Self.t0)
        #expect(machine.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
    }

    @Test func lostBetweenChunksIsReplayedAtTheNextChunk() {
        var machine = Self.open()
        _ = machine.message(Self.bytes, isComplete: false, now: Self.t0)
        _ = machine.replyReceived(Self.go, now: Self.t0)
        _ = machine.messageDataWritten(now: Self.t0)
        #expect(machine.connectionClosed() == .close)
        #expect(machine.messageEnded(Self.bytes, now: Self.t0) == .complete(.replay(Self.dataReplay([Self.b])), .close))
    }

    @Test func lostAtRecipientFailsItButTheMessageMayStillBeReplayed() {
        var machine = Self.open()
        _ = machine.recipient(Self.c, now: Self.t0)
        #expect(machine.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
        #expect(
            machine.recipient(Self.c, now: Self.t0)
                == .complete(.failed(UpstreamError(kind: .closed, detail: "connection lost before RCPT")), .close)
        )
        #expect(machine.message(Self.bytes, isComplete: true, now: Self.t0) == .complete(.replay(Self.dataReplay([Self.b])), .close))
    }

    @Test func unexpectedReplyDropsTheConnection() {
        var machine = Self.ready()
        #expect(machine.replyReceived(Self.reply(421, "4.4.2 idle too long"), now: Self.t0) == .close)
        #expect(machine.isClosed)
        var open = Self.open()
        #expect(open.replyReceived(Self.reply(250, "?"), now: Self.t0) == .close)
        #expect(open.message(Self.bytes, isComplete: true, now: Self.t0) == .complete(.replay(Self.dataReplay([Self.b])), .close))
    }

    // MARK: Deadlines

    @Test func greetingTimeout() {
        var machine = Machine(configuration: Self.configuration())
        _ = machine.connected(now: Self.t0)
        #expect(machine.deadlineReached(now: Self.t0 + .minutes(4)) == .wait)
        #expect(
            machine.deadlineReached(now: Self.t0 + .minutes(5))
                == .complete(.failed(UpstreamError(kind: .timeout, detail: "no reply in time")), .close)
        )
    }

    @Test func commandTimeoutOnAFreshConnectionFails() {
        var machine = Self.ready()
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b)], now: Self.t0)
        #expect(
            machine.deadlineReached(now: Self.t0 + .minutes(5))
                == .complete(.failed(UpstreamError(kind: .timeout, detail: "no reply in time")), .close)
        )
    }

    @Test func commandTimeoutOnAPooledConnectionIsReplayed() {
        var machine = Self.ready(reused: true)
        _ = machine.mail(Self.envelope, pipelined: [], now: Self.t0)
        #expect(
            machine.deadlineReached(now: Self.t0 + .minutes(5))
                == .complete(
                    .replay(Machine.Replay(envelope: Self.envelope, step: .mail(pipelined: []), mailRetried: true, dataReplayed: false)),
                    .close
                )
        )
    }

    @Test func eachCommandRestartsTheDeadline() {
        var machine = Self.ready(ehlo: Self.reply(250, "hi"))
        _ = machine.mail(Self.envelope, pipelined: [.rcpt(Self.b)], now: Self.t0)
        #expect(machine.replyReceived(Self.ok, now: Self.t0 + .minutes(4)) == .send([.rcpt(Self.b)]))
        #expect(machine.deadlineReached(now: Self.t0 + .minutes(5)) == .wait)
        #expect(machine.deadline == Self.t0 + .minutes(9))
    }

    @Test func upstreamThatStopsReadingDataIsReplayed() {
        var machine = Self.open()
        _ = machine.message(Self.bytes, isComplete: false, now: Self.t0)
        _ = machine.replyReceived(Self.go, now: Self.t0)
        #expect(machine.deadlineReached(now: Self.t0 + .minutes(9)) == .wait)
        #expect(machine.deadlineReached(now: Self.t0 + .minutes(10)) == .complete(.replay(Self.dataReplay([Self.b])), .close))
    }

    @Test func finalReplyTimeout() {
        var machine = Self.open()
        _ = machine.message(Self.bytes, isComplete: true, now: Self.t0)
        _ = machine.replyReceived(Self.go, now: Self.t0)
        #expect(
            machine.deadlineReached(now: Self.t0 + .minutes(10))
                == .complete(.failed(UpstreamError(kind: .timeout, detail: "no reply to the final dot in time")), .close)
        )
    }

    @Test func nothingAwaitedNoDeadline() {
        var machine = Self.open()
        #expect(machine.deadline == nil)
        #expect(machine.deadlineReached(now: Self.t0 + .hours(1)) == .wait)
    }

    // MARK: Connection lost in each state

    @Test func lostDuringSetup() {
        var greeting = Machine(configuration: Self.configuration())
        _ = greeting.connected(now: Self.t0)
        #expect(greeting.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
        var ehlo = Machine(configuration: Self.configuration())
        _ = ehlo.connected(now: Self.t0)
        _ = ehlo.replyReceived(Self.reply(220, "hi"), now: Self.t0)
        #expect(
            ehlo.errorCaught(UpstreamError(kind: .tls, detail: "handshake"))
                == .complete(.failed(UpstreamError(kind: .tls, detail: "handshake")), .close)
        )
        #expect(ehlo.connectionClosed() == .wait)
    }

    @Test func lostAtHELOAndSTARTTLS() {
        var helo = Machine(configuration: Self.configuration())
        _ = helo.connected(now: Self.t0)
        _ = helo.replyReceived(Self.reply(220, "hi"), now: Self.t0)
        #expect(helo.replyReceived(Self.reply(500, "no EHLO"), now: Self.t0) == .send([.helo("thugate.test")]))
        #expect(helo.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
        var tls = Machine(configuration: Self.configuration(tls: .may))
        _ = tls.connected(now: Self.t0)
        _ = tls.replyReceived(Self.reply(220, "hi"), now: Self.t0)
        #expect(tls.replyReceived(Self.reply(250, "hi", "STARTTLS"), now: Self.t0) == .send([.starttls]))
        #expect(
            tls.deadlineReached(now: Self.t0 + .minutes(5))
                == .complete(.failed(UpstreamError(kind: .timeout, detail: "no reply in time")), .close)
        )
    }

    @Test func lostInRSETAndQUIT() {
        var reset = Self.open()
        _ = reset.abort(now: Self.t0)
        #expect(reset.connectionClosed() == .complete(.replies([]), .close))
        var quit = Self.ready()
        _ = quit.quit(now: Self.t0)
        #expect(quit.connectionClosed() == .complete(.failed(UpstreamError(kind: .closed, detail: "connection closed")), .close))
    }

    @Test func requestsOutOfSequenceFailTheConnection() {
        var machine = Self.ready()
        #expect(
            machine.message(Self.bytes, isComplete: true, now: Self.t0)
                == .complete(.failed(UpstreamError(kind: .protocolViolation, detail: "DATA asked for out of sequence")), .close)
        )
    }
}

/// Whatever the upstream sends and whenever the connection goes, every request is answered
/// exactly once and nothing is answered that was not asked (random sequences, fixed seeds).
@Suite struct UpstreamMachinePropertyTests {
    typealias Machine = UpstreamMachine

    /// xorshift64*: reproducible sequences.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    static func goodCode(_ machine: Machine) -> Int {
        switch machine.state {
        case .greeting, .startTLS: return 220
        case .dataGoAhead: return 354
        case .mail(_, let exchange):
            return exchange.commands[exchange.replies.count] == .data ? 354 : 250
        case .quit: return 221
        default: return 250
        }
    }

    @Test(arguments: 1...500)
    func everyRequestIsAnsweredOnce(seed: UInt64) {
        var random = Generator(state: seed &* 0x9E37_79B9_7F4A_7C15 | 1)
        let tls: [Machine.TLSPolicy] = [.none, .may, .encrypt]
        let configuration = Machine.Configuration(
            heloName: "thugate.test",
            startTLS: tls.randomElement(using: &random)!,
            pipelining: Bool.random(using: &random),
            timeouts: Machine.Timeouts(command: .seconds(30), data: .seconds(60))
        )
        var machine = Machine(configuration: configuration)
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        // The connection itself is the first request.
        var outstanding = true
        #expect(machine.connected(now: now) == .wait)
        let codes = [220, 221, 250, 251, 354, 421, 450, 451, 452, 500, 501, 502, 503, 530, 550, 552, 553, 554]
        let lines = [["ok"], ["hi", "PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 100", "STARTTLS"], ["hi", "PIPELINING"]]
        let address = MailAddress("b@quangninh.gov.vn")
        let envelope = Envelope(
            heloName: "c",
            esmtp: true,
            sender: MailAddress("a@quangninh.gov.vn"),
            parameters: MailParameters(
                size: 10,
                body: Bool.random(using: &random) ? .eightBitMIME : nil,
                smtpUTF8: Bool.random(using: &random)
            )
        )
        var lastReplay: Machine.Replay?
        for _ in 0..<300 {
            if machine.isClosed && !outstanding && Bool.random(using: &random) {
                // The driver takes a new connection.
                machine = Machine(configuration: configuration)
                outstanding = true
                #expect(machine.connected(now: now) == .wait)
            }
            let action: Machine.Action
            let isRequest: Bool
            switch Int.random(in: 0..<20, using: &random) {
            case 0...11:
                isRequest = false
                // Mostly what a working server would say next, so that every state is reached.
                let code = Int.random(in: 0..<4, using: &random) == 0 ? codes.randomElement(using: &random)! : Self.goodCode(machine)
                action = machine.replyReceived(Reply(code: code, status: nil, lines: lines.randomElement(using: &random)!), now: now)
            case 12:
                isRequest = false
                action =
                    Bool.random(using: &random) ? machine.connectionClosed() : machine.errorCaught(UpstreamError(kind: .tls, detail: "x"))
            case 13:
                isRequest = false
                now = now + .seconds(Int64.random(in: 0...90, using: &random))
                action = machine.deadlineReached(now: now)
            case 14, 15:
                isRequest = false
                action = machine.messageDataWritten(now: now)
            default:
                guard !outstanding else { continue }
                isRequest = true
                let bytes = ByteBuffer(string: "x\r\n")
                switch Int.random(in: 0..<9, using: &random) {
                case 0: action = machine.mail(envelope, pipelined: [.rcpt(address), .data], now: now)
                case 1: action = machine.mail(envelope, pipelined: [], now: now)
                case 2: action = machine.recipient(address, now: now)
                case 3: action = machine.message(bytes, isComplete: Bool.random(using: &random), now: now)
                case 4: action = machine.messageData(bytes, now: now)
                case 5: action = machine.messageEnded(bytes, now: now)
                case 6: action = machine.abort(now: now)
                case 7: action = machine.quit(now: now)
                default: action = lastReplay.map { machine.replay($0, now: now) } ?? machine.abort(now: now)
                }
            }
            switch action {
            case .complete(let outcome, _):
                #expect(isRequest || outstanding, "answered without a request: \(outcome)")
                outstanding = false
                if case .replay(let replay) = outcome {
                    // The driver takes the replay to a new connection.
                    lastReplay = replay
                    #expect(machine.isClosed)
                }
            case .send, .write, .writeLast, .startTLS:
                #expect(isRequest || outstanding)
                outstanding = true
            case .close:
                #expect(!outstanding, "closed with a request outstanding")
            case .wait:
                #expect(!isRequest, "a request left unanswered with nothing sent")
            }
            if machine.isClosed { #expect(!outstanding, "closed with a request outstanding") }
            // Something is awaited from the upstream exactly when a request waits on it (or a write).
            if outstanding { #expect(machine.deadline != nil) }
        }
    }
}
