import MilterCore
import SMTPCore
import Testing

/// Packets as an MTA sends them.
enum MTA {
    static func packet(_ command: MilterCommand, _ payload: [UInt8] = []) -> MilterPacket {
        MilterPacket(code: command.rawValue, payload: payload)
    }

    static func strings(_ command: MilterCommand, _ strings: String...) -> MilterPacket {
        packet(command, strings.flatMap { Array($0.utf8) + [0] })
    }

    static func words(_ values: UInt32...) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values {
            for shift in [24, 16, 8, 0] as [UInt32] { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        return bytes
    }

    /// Postfix 3.7's offer (`milter_protocol = 6`).
    static let postfixOffer = packet(.optionNegotiation, words(6, 0x1FF, 0x1F_FFFF))

    static func connect(host: String = "mail.example.vn", address: String = "203.0.113.7", port: UInt16 = 40123) -> MilterPacket {
        var payload = Array(host.utf8)
        payload += [0, UInt8(ascii: "4"), UInt8(port >> 8), UInt8(port & 0xFF)]
        payload += Array(address.utf8)
        payload.append(0)
        return packet(.connect, payload)
    }

    static func macros(_ command: MilterCommand, _ pairs: (String, String)...) -> MilterPacket {
        var payload = [command.rawValue]
        for (name, value) in pairs {
            payload += Array(name.utf8)
            payload.append(0)
            payload += Array(value.utf8)
            payload.append(0)
        }
        return packet(.macro, payload)
    }
}

/// Refuses one address at RCPT, as the auto-forward and official-only rules do.
struct RefuseOne: RecipientPolicy {
    let address: String
    func refusal(of recipient: MailAddress, from sender: MailAddress) -> RecipientRefusal? {
        guard recipient.address == address else { return nil }
        return RecipientRefusal(
            Reply(550, EnhancedStatus(5, 7, 1), vi: "Người nhận bị từ chối", en: "recipient refused"),
            reason: "550 5.7.1 official-only: test"
        )
    }
}

@Suite struct MilterSessionMachineTests {
    static func machine(_ configuration: MilterConfiguration = MilterConfiguration(maxMessageSize: 1 << 20)) -> MilterSessionMachine {
        MilterSessionMachine(configuration: configuration)
    }

    /// Runs packets through the machine; returns the bytes it asked to keep and its actions.
    static func feed(
        _ machine: inout MilterSessionMachine,
        _ packets: [MilterPacket]
    ) -> (bytes: [UInt8], actions: [MilterSessionMachine.Action]) {
        var bytes: [UInt8] = []
        var actions: [MilterSessionMachine.Action] = []
        for packet in packets {
            let action = machine.received(packet)
            switch action {
            case .append(let kept, _): bytes += kept
            case .inspect(_, let last): bytes += last
            case .beginMessage, .abortMessage: bytes = []
            default: break
            }
            actions.append(action)
        }
        return (bytes, actions)
    }

    static let message: [MilterPacket] = [
        MTA.macros(.mail, ("i", "4ABCD12"), ("{mail_addr}", "a@sender.vn")),
        MTA.strings(.mail, "<a@sender.vn>", "SIZE=120", "BODY=8BITMIME"),
        MTA.strings(.recipient, "<b@quangninh.gov.vn>"),
        MTA.strings(.header, "From", " A <a@sender.vn>"),
        MTA.strings(.header, "Subject", " two\n\tlines"),
        MTA.packet(.endOfHeaders),
        MTA.packet(.body, Array("Xin chào\r\n".utf8)),
        MTA.packet(.endOfMessage),
    ]

    /// Postfix's real offer is narrowed to ThuGate's needs: the actions it uses, every no-reply
    /// flag but RCPT's, the leading space, and macro lists for five stages.
    @Test func postfixOfferIsAnsweredWithWhatThuGateUses() throws {
        var machine = Self.machine()
        guard case .send(let packets) = machine.received(MTA.postfixOffer) else {
            Issue.record("no reply")
            return
        }
        let reply = try #require(packets.first)
        #expect(reply.code == UInt8(ascii: "O"))
        #expect(Array(reply.payload.prefix(12)) == MTA.words(6, 0x13B, 0x1F_7380))
        let lists = String(decoding: reply.payload.dropFirst(12), as: UTF8.self)
        #expect(lists.contains("{client_addr} {client_name}") && lists.contains("i {mail_addr}") && lists.contains("{rcpt_addr}"))
        #expect(lists.contains("{tls_version}"))
        let negotiated = try #require(machine.negotiation)
        #expect(!negotiated.flags.contains(.noReplyRecipient))
        #expect(negotiated.isUnanswered(.header) && negotiated.isUnanswered(.body) && !negotiated.isUnanswered(.endOfMessage))
    }

    /// An old MTA (version 2, header additions only, no protocol flags): version 2 answered,
    /// only what it offered asked for, every stage answered, no macro lists.
    @Test func minimalOfferIsAnsweredWithinIt() throws {
        var machine = Self.machine()
        guard case .send(let packets) = machine.received(MTA.packet(.optionNegotiation, MTA.words(2, 0x01, 0))) else {
            Issue.record("no reply")
            return
        }
        #expect(packets == [MilterPacket(code: UInt8(ascii: "O"), payload: MTA.words(2, 0x01, 0))])
        #expect(machine.received(MTA.connect()) == .send([.continue]))
        #expect(machine.received(MTA.strings(.helo, "client.example")) == .send([.continue]))
    }

    @Test func aVersionBeforeTwoOrAShortOfferClosesTheConnection() {
        var old = Self.machine()
        guard case .fail = old.received(MTA.packet(.optionNegotiation, MTA.words(1, 0x1, 0))) else {
            Issue.record("version 1 accepted")
            return
        }
        var short = Self.machine()
        guard case .fail = short.received(MTA.packet(.optionNegotiation, [0, 0, 0, 6])) else {
            Issue.record("short offer accepted")
            return
        }
        var early = Self.machine()
        guard case .fail = early.received(MTA.connect()) else {
            Issue.record("connect before negotiation accepted")
            return
        }
        #expect(early.state == .closed)
    }

    /// With `SMFIP_HDR_LEADSPC` each value keeps its own white space: the rebuilt header section
    /// is byte-exact, folded lines back to CRLF.
    @Test func messageIsRebuiltExactlyWithLeadingSpace() throws {
        var machine = Self.machine()
        _ = machine.received(MTA.postfixOffer)
        _ = machine.received(MTA.macros(.connect, ("v", "Postfix 3.7.11"), ("{client_addr}", "203.0.113.7")))
        #expect(machine.received(MTA.connect()) == .send([]))
        _ = machine.received(MTA.strings(.helo, "client.example"))
        let (bytes, actions) = Self.feed(&machine, Self.message)
        #expect(bytes == Array("From: A <a@sender.vn>\r\nSubject: two\r\n\tlines\r\n\r\nXin chào\r\n".utf8))
        guard case .inspect(let message, _)? = actions.last else {
            Issue.record("no inspection at end of message: \(actions)")
            return
        }
        #expect(message.exactHeaders)
        #expect(message.queueID == "4ABCD12")
        #expect(message.envelope.sender == MailAddress("a@sender.vn"))
        #expect(message.envelope.recipients == [MailAddress("b@quangninh.gov.vn")])
        #expect(message.envelope.heloName == "client.example")
        #expect(message.envelope.parameters.body == .eightBitMIME)
        #expect(message.client?.address == "203.0.113.7" && message.client?.port == 40123)
        #expect(message.macros["client_addr"] == "203.0.113.7")
        #expect(message.size == bytes.count)
        // Headers and body were negotiated without replies; RCPT is answered.
        #expect(actions[2] == .send([.continue]))
        #expect(actions[3] == .append(Array("From: A <a@sender.vn>\r\n".utf8), []))
        #expect(machine.progress == .progress)
        #expect(!machine.asciiReplies)
    }

    /// Without it the MTA ate one space after each colon: one is put back, and the message says
    /// its header section is not byte-exact.
    @Test func withoutLeadingSpaceOneSpaceIsAssumedAndMarked() throws {
        var machine = Self.machine()
        _ = machine.received(MTA.packet(.optionNegotiation, MTA.words(6, 0x1FF, 0x0F_FFFF)))
        let packets = Self.message.map { packet -> MilterPacket in
            guard packet.code == MilterCommand.header.rawValue else { return packet }
            // The MTA drops the space itself.
            var payload = packet.payload
            if let nul = payload.firstIndex(of: 0), payload[nul + 1] == 0x20 { payload.remove(at: nul + 1) }
            return MilterPacket(code: packet.code, payload: payload)
        }
        let (bytes, actions) = Self.feed(&machine, packets)
        #expect(bytes == Array("From: A <a@sender.vn>\r\nSubject: two\r\n\tlines\r\n\r\nXin chào\r\n".utf8))
        guard case .inspect(let message, _)? = actions.last else {
            Issue.record("no inspection")
            return
        }
        #expect(!message.exactHeaders)
        #expect(machine.asciiReplies, "no Postfix version macro: ASCII replies")
    }

    /// End-of-message packets from a decision: headers in order, the body in 65,535-byte chunks,
    /// then accept; the leading space kept only when negotiated.
    @Test func editsBecomePacketsInOrder() throws {
        var machine = Self.machine()
        _ = machine.received(MTA.postfixOffer)
        _ = Self.feed(&machine, Self.message)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 200_000)
        let end = machine.inspected(
            .accept(
                MilterEdits(
                    headers: [
                        .insert(index: 0, name: "X-ThuGate-Findings", value: " tcvn-6909: converted"),
                        .change(index: 1, name: "Subject", value: " =?UTF-8?B?VGjGsA==?="),
                    ],
                    body: body
                )
            )
        )
        #expect(end.skipped.isEmpty)
        #expect(end.packets.map(\.code) == Array("imbbbba".utf8))
        #expect(end.packets[0].encoded == [0, 0, 0, 46, 0x69, 0, 0, 0, 0] + Array("X-ThuGate-Findings\0 tcvn-6909: converted\0".utf8))
        #expect(end.packets[1].payload == [0, 0, 0, 1] + Array("Subject\0 =?UTF-8?B?VGjGsA==?=\0".utf8))
        #expect(end.packets[2...5].map(\.payload.count) == [65_535, 65_535, 65_535, 3_395])
        #expect(end.packets[2...5].flatMap(\.payload) == body)
        #expect(machine.state == .ready)
        #expect(machine.progress == nil)
    }

    /// An action the MTA did not offer is never sent: header additions only were offered.
    @Test func unofferedActionsAreNeverSent() {
        var machine = Self.machine()
        _ = machine.received(MTA.packet(.optionNegotiation, MTA.words(6, 0x01, 0x1F_FFFF)))
        _ = Self.feed(&machine, Self.message)
        let end = machine.inspected(
            .accept(
                MilterEdits(
                    headers: [.insert(index: 0, name: "X-A", value: " 1"), .change(index: 1, name: "Subject", value: " s")],
                    body: [1, 2],
                    deletedRecipients: ["<b@quangninh.gov.vn>"]
                )
            )
        )
        #expect(end.packets.map(\.code) == Array("ia".utf8))
        #expect(end.skipped == ["change header Subject", "replace body", "delete recipient <b@quangninh.gov.vn>"])
        // The hold queue was not offered: the message is deferred, not let through.
        _ = Self.feed(&machine, Self.message)
        #expect(machine.inspected(.hold(reason: "held", MilterEdits())).packets == [.tempfail])
    }

    @Test func withoutLeadingSpaceTheEditsLoseTheirs() {
        var machine = Self.machine()
        _ = machine.received(MTA.packet(.optionNegotiation, MTA.words(6, 0x1FF, 0)))
        _ = Self.feed(&machine, Self.message)
        let end = machine.inspected(.hold(reason: "ThuGate: held", MilterEdits(headers: [.add(name: "X-A", value: " a\r\n\tb")])))
        #expect(
            end.packets == [
                MilterPacket(code: UInt8(ascii: "h"), payload: Array("X-A\0a\n\tb\0".utf8)), .quarantine(reason: "ThuGate: held"), .accept,
            ]
        )
    }

    /// A refusal is the reply code itself (it ends the stage): each line coded, CRLF between,
    /// `%` doubled, NUL at the end; folded to ASCII where the MTA needs it.
    @Test func replyCodesAreWrittenAsTheMTAReadsThem() {
        let reply = Reply(code: 550, status: EnhancedStatus(5, 7, 1), lines: ["Thư bị từ chối 100%", "đã lưu / held"])
        #expect(
            MilterPacket.replyCode(reply, ascii: false).payload
                == Array("550-5.7.1 Thư bị từ chối 100%%\r\n550 5.7.1 đã lưu / held\0".utf8)
        )
        #expect(
            MilterPacket.replyCode(reply, ascii: true).payload == Array("550-5.7.1 Thu bi tu choi 100%%\r\n550 5.7.1 da luu / held\0".utf8)
        )
        // CR and LF in a text cannot add lines; a 2xx is never sent as a milter reply.
        let odd = Reply(code: 250, status: EnhancedStatus(2, 0, 0), lines: ["a\r\n250 b"])
        #expect(MilterPacket.replyCode(odd, ascii: true).payload == Array("451 4.0.0 a  250 b\0".utf8))
        // Without a status of its own a text starting with a digit could read as one: x.0.0 goes first.
        let bare = Reply(code: 550, status: nil, lines: ["4 attachments refused"])
        #expect(MilterPacket.replyCode(bare, ascii: false).payload == Array("550 5.0.0 4 attachments refused\0".utf8))
    }

    /// A recipient the policy refuses gets its reply and is left out of the envelope; the others
    /// go on.
    @Test func recipientRefusedAloneAtRCPT() {
        var machine = Self.machine(MilterConfiguration(maxMessageSize: 1 << 20, recipientPolicy: RefuseOne(address: "x@gmail.com")))
        _ = machine.received(MTA.postfixOffer)
        _ = machine.received(MTA.macros(.connect, ("v", "Postfix 3.7.11")))
        _ = machine.received(MTA.strings(.mail, "<a@quangninh.gov.vn>"))
        let refused = machine.received(MTA.strings(.recipient, "<x@gmail.com>"))
        guard case .refusedRecipient(let address, _, let reason, let packets) = refused else {
            Issue.record("not refused: \(refused)")
            return
        }
        #expect(address == MailAddress("x@gmail.com") && reason.contains("official-only"))
        #expect(
            packets == [MilterPacket(code: UInt8(ascii: "y"), payload: Array("550 5.7.1 Người nhận bị từ chối / recipient refused\0".utf8))]
        )
        #expect(machine.received(MTA.strings(.recipient, "<b@quangninh.gov.vn>")) == .send([.continue]))
        let (_, actions) = Self.feed(&machine, Array(Self.message[3...]))
        guard case .inspect(let message, _)? = actions.last else {
            Issue.record("no inspection")
            return
        }
        #expect(message.envelope.recipients == [MailAddress("b@quangninh.gov.vn")])
    }

    /// Abort between two messages on one connection: the first one's bytes are dropped, the
    /// second is rebuilt on its own; quit ends the session.
    @Test func abortThenASecondMessage() {
        var machine = Self.machine()
        _ = machine.received(MTA.postfixOffer)
        _ = Self.feed(&machine, Array(Self.message.prefix(5)))
        #expect(machine.received(MTA.packet(.abort)) == .abortMessage)
        #expect(machine.state == .ready)
        let (bytes, actions) = Self.feed(&machine, Self.message)
        guard case .inspect? = actions.last else {
            Issue.record("second message not inspected")
            return
        }
        #expect(bytes.count == 58)
        _ = machine.inspected(.discard)
        #expect(machine.received(MTA.packet(.abort)) == .abortMessage)
        #expect(machine.received(MTA.packet(.quit)) == .close)
        guard case .fail = machine.received(MTA.packet(.abort)) else {
            Issue.record("packet after quit accepted")
            return
        }
    }

    /// Past the maximum size nothing more is kept, and end of message is refused 552 5.3.4 without
    /// an inspection.
    @Test func oversizedMessageIsRefusedAtEndOfMessage() {
        var machine = Self.machine(MilterConfiguration(maxMessageSize: 64, asciiReplies: true))
        _ = machine.received(MTA.postfixOffer)
        let big =
            [MTA.strings(.mail, "<a@b.vn>"), MTA.strings(.recipient, "<c@d.vn>"), MTA.packet(.endOfHeaders)]
            + Array(repeating: MTA.packet(.body, [UInt8](repeating: 0x41, count: 40)), count: 3) + [MTA.packet(.endOfMessage)]
        let (bytes, actions) = Self.feed(&machine, big)
        #expect(bytes.count == 42)
        guard case .send(let packets)? = actions.last, packets.first?.code == UInt8(ascii: "y") else {
            Issue.record("not refused: \(String(describing: actions.last))")
            return
        }
        #expect(String(decoding: packets[0].payload, as: UTF8.self).hasPrefix("552 5.3.4 "))
        #expect(machine.state == .ready)
    }

    @Test func outOfOrderPacketsCloseTheConnection() {
        for bad in [
            MTA.strings(.header, "From", " a"), MTA.packet(.body, [1]), MTA.packet(.endOfMessage), MTA.strings(.recipient, "<a@b>"),
            MTA.postfixOffer, MilterPacket(code: 0x7A), MTA.packet(.header, [0x41]),
        ] {
            var machine = Self.machine()
            _ = machine.received(MTA.postfixOffer)
            guard case .fail = machine.received(bad) else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(machine.state == .closed)
        }
        // While end of message is being answered, only abort and quit are taken.
        var machine = Self.machine()
        _ = machine.received(MTA.postfixOffer)
        _ = Self.feed(&machine, Self.message)
        guard case .fail = machine.received(MTA.strings(.mail, "<a@b>")) else {
            Issue.record("MAIL accepted while inspecting")
            return
        }
    }

    /// Seeded random packets, many malformed: the machine never traps and is closed or usable.
    @Test func randomPacketsNeverTrap() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let codes = Array("ABCDEHKLMNOQRTUz".utf8)
        for _ in 0..<2_000 {
            var machine = Self.machine(MilterConfiguration(maxMessageSize: 512))
            _ = machine.received(MTA.postfixOffer)
            for _ in 0..<40 {
                let code = codes[Int(next() % UInt64(codes.count))]
                let payload = (0..<Int(next() % 24)).map { _ in [0, 0x20, 0x41, 0x3C, 0x3E, 0x0A][Int(next() % 6)] as UInt8 }
                if case .fail = machine.received(MilterPacket(code: code, payload: payload)) { break }
                if case .inspecting = machine.state { _ = machine.inspected(.accept(MilterEdits())) }
            }
        }
    }

    /// The message's macros (queue id, addresses) do not outlive it; the connection's do.
    @Test func messageMacrosEndWithTheMessage() {
        var machine = Self.machine()
        _ = machine.received(MTA.postfixOffer)
        _ = machine.received(MTA.macros(.connect, ("v", "Postfix 3.7.11"), ("{client_addr}", "203.0.113.7")))
        _ = Self.feed(&machine, Self.message)
        _ = machine.inspected(.discard)
        #expect(machine.macros["i"] == nil && machine.macros["mail_addr"] == nil)
        #expect(machine.macros["client_addr"] == "203.0.113.7" && machine.macros["v"] == "Postfix 3.7.11")
        // A second message without its own `i` has no queue id, not the first one's.
        let second = Self.message.filter { $0.code != MilterCommand.macro.rawValue }
        let (_, actions) = Self.feed(&machine, second)
        guard case .inspect(let message, _)? = actions.last else {
            Issue.record("no inspection")
            return
        }
        #expect(message.queueID == nil)
        _ = machine.received(MTA.packet(.abort))
        #expect(machine.macros["i"] == nil)
    }

    /// Bounded per connection: macro values and HELO names are cut, recipients past the maximum
    /// are deferred at RCPT.
    @Test func macrosHeloAndRecipientsAreBounded() {
        var machine = Self.machine(MilterConfiguration(maxMessageSize: 1 << 20, asciiReplies: true, maxRecipients: 2))
        _ = machine.received(MTA.postfixOffer)
        let long = String(repeating: "ệ", count: 10_000)
        _ = machine.received(MTA.macros(.connect, ("{cert_subject}", long)))
        _ = machine.received(MTA.strings(.helo, long))
        #expect(machine.macros["cert_subject"]!.utf8.count <= 2048 && machine.macros["cert_subject"]!.hasPrefix("ệệ"))
        #expect(machine.helo.utf8.count == 2046 && machine.helo.unicodeScalars.allSatisfy { $0 == "ệ" })
        _ = machine.received(MTA.strings(.mail, "<a@b.vn>"))
        #expect(machine.received(MTA.strings(.recipient, "<c1@d.vn>")) == .send([.continue]))
        #expect(machine.received(MTA.strings(.recipient, "<c2@d.vn>")) == .send([.continue]))
        guard case .send(let packets) = machine.received(MTA.strings(.recipient, "<c3@d.vn>")) else {
            Issue.record("third recipient not answered")
            return
        }
        let text = String(decoding: packets.first?.payload ?? [], as: UTF8.self)
        #expect(text.hasPrefix("452 4.5.3 "))
    }

    /// A changed field given a blank value keeps one space without the leading-space option: an
    /// empty value would delete it.
    @Test func aBlankChangeIsNotADeletion() {
        var machine = Self.machine()
        _ = machine.received(MTA.packet(.optionNegotiation, MTA.words(6, 0x1FF, 0)))
        _ = Self.feed(&machine, Self.message)
        let end = machine.inspected(.accept(MilterEdits(headers: [.change(index: 1, name: "Subject", value: " ")])))
        #expect(end.packets.first == .changeHeader(index: 1, name: "Subject", value: " "))
    }
}
