// The fuzzing entry for what an MTA sends ThuGate's milter: the byte stream, drip-fed in random
// chunk sizes through the frame decoder into the session machine, with end-of-message decisions
// picked from the input. Scripts/fuzz builds this target with `-sanitize=fuzzer,address
// -DFUZZING`; built normally it replays files through the same function (FuzzSupport's
// `FuzzMain`) for the regression tests.
import FuzzSupport
import MilterCore
import SMTPCore

/// Byte 0 picks the chunk sizes, the maximum message size and the decisions; the rest is the
/// MTA's stream. Properties: no packet longer than the decoder's maximum; re-encoded, every
/// packet is the bytes it was read from; the machine never keeps more than the maximum size,
/// never sends an action the MTA did not offer, and every reply code it sends is a 4xx or 5xx
/// line the MTA accepts; after a failure it takes nothing more.
func fuzzMilter(_ input: [UInt8]) {
    guard let settings = input.first else { return }
    let stream = Array(input.dropFirst())
    let maximum = 4096
    let maxMessageSize = settings & 0x80 != 0 ? 256 : 1 << 20
    var decoder = MilterFrameDecoder(maximumLength: maximum)
    var machine = MilterSessionMachine(
        configuration: MilterConfiguration(
            maxMessageSize: maxMessageSize,
            asciiReplies: settings & 0x40 != 0 ? true : nil,
            recipientPolicy: RefuseDomain()
        )
    )
    var chunker = Chunker(seed: settings)
    var consumed = 0
    var kept = 0
    var failed = false
    var decisions = 0
    func check(_ packets: [MilterPacket]) {
        guard let negotiation = machine.negotiation else { return }
        for packet in packets {
            precondition(MilterResponse(rawValue: packet.code) != nil || packet.code == MilterCommand.optionNegotiation.rawValue)
            let needs: MilterActions? =
                switch MilterResponse(rawValue: packet.code) {
                case .addHeader?, .insertHeader?: .addHeaders
                case .changeHeader?: .changeHeaders
                case .replaceBody?: .changeBody
                case .deleteRecipient?: .deleteRecipient
                case .quarantine?: .quarantine
                default: nil
                }
            if let needs { precondition(negotiation.actions.contains(needs), "sent \(packet.code) without the action") }
            if packet.code == MilterResponse.replyCode.rawValue { checkReplyCode(packet.payload) }
        }
    }
    for chunk in chunker.split(stream[...]) {
        decoder.append(chunk)
        while true {
            let packet: MilterPacket?
            do {
                packet = try decoder.next()
            } catch {
                return  // the connection is closed here
            }
            guard let packet else { break }
            precondition(packet.payload.count + 1 <= maximum, "packet over the maximum")
            let encoded = packet.encoded
            precondition(Array(stream[consumed..<(consumed + encoded.count)]) == encoded, "packet is not the bytes it came from")
            consumed += encoded.count
            let action = machine.received(packet)
            precondition(!failed || { if case .fail = action { true } else { false } }(), "a packet taken after a failure")
            switch action {
            case .send(let packets), .beginMessage(let packets): check(packets)
            case .append(let bytes, let packets):
                kept += bytes.count
                check(packets)
            case .refusedRecipient(_, _, _, let packets): check(packets)
            case .inspect(let message, let last):
                kept += last.count
                precondition(message.size <= maxMessageSize, "a message past its maximum size inspected")
                let choice = (Int(settings) + decisions) % 4
                decisions += 1
                let edits = MilterEdits(
                    headers: [
                        .insert(index: 0, name: "X-ThuGate-Findings", value: " a\r\n b"), .change(index: 1, name: "Subject", value: " s"),
                    ],
                    body: choice == 0 ? Array(repeating: 0x41, count: 70_000) : nil,
                    deletedRecipients: ["<x@y.vn>"]
                )
                let decision: MilterDecision =
                    switch choice {
                    case 0: .accept(edits)
                    case 1:
                        .reply(
                            Reply(code: settings & 1 == 0 ? 550 : 250, status: nil, lines: ["4 Thư % bị\r\ntừ chối", "x"])
                        )
                    case 2: .hold(reason: "r", edits)
                    default: .discard
                    }
                let end = machine.inspected(decision)
                check(end.packets)
                precondition(end.packets.allSatisfy { $0.payload.count <= 65_535 }, "a packet the MTA cannot read")
            case .abortMessage:
                kept = 0
            case .close, .fail:
                failed = true
            }
            // A new message starts from nothing kept (its packets were checked above).
            if case .beginMessage = action { kept = 0 }
            precondition(kept <= maxMessageSize, "kept more than the maximum message size")
        }
    }
}

/// `ddd-` on each line but the last, `ddd ` on the last, the same 4 or 5 code on every line,
/// CRLF between lines, NUL only at the end, no digit after the code but its class (Postfix's
/// `milter8_valid_smtp_reply`).
func checkReplyCode(_ payload: [UInt8]) {
    precondition(payload.last == 0 && !payload.dropLast().contains(0), "reply code not one NUL-terminated string")
    let text = Array(payload.dropLast())
    var lines: [[UInt8]] = []
    var start = 0
    var index = 0
    while index < text.count {
        if text[index] == 13 {
            precondition(index + 1 < text.count && text[index + 1] == 10, "CR without LF in a reply code")
            lines.append(Array(text[start..<index]))
            index += 2
            start = index
            continue
        }
        precondition(text[index] != 10, "LF without CR in a reply code")
        index += 1
    }
    lines.append(Array(text[start...]))
    for (number, line) in lines.enumerated() {
        precondition(line.count >= 4 && (line[0] == 0x34 || line[0] == 0x35), "reply line not 4xx or 5xx")
        precondition(line[0] == lines[0][0] && line[1] == lines[0][1] && line[2] == lines[0][2], "reply lines with different codes")
        precondition(line[3] == (number == lines.count - 1 ? 0x20 : 0x2D), "reply line separator")
        // Postfix: a digit right after `ddd ` must be the code's class (an enhanced status).
        precondition(line.count == 4 || !(0x30...0x39).contains(line[4]) || line[4] == line[0], "reply text read as a wrong status")
    }
}

/// Refuses any recipient in `refused.vn`, as a rule at RCPT would.
struct RefuseDomain: RecipientPolicy {
    func refusal(of recipient: MailAddress, from sender: MailAddress) -> RecipientRefusal? {
        recipient.domain == "refused.vn" ? RecipientRefusal(Reply(550, EnhancedStatus(5, 7, 1), vi: "Từ chối", en: "refused")) : nil
    }
}

// MARK: - Selection

enum MilterFuzzTarget: String, FuzzTarget {
    case milter

    func run(_ raw: UnsafeRawBufferPointer) {
        fuzzMilter(Array(raw))
    }
}
