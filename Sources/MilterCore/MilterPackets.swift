public import SMTPCore

/// The responses a filter sends, with their payloads as libmilter writes them (mfdef.h, and
/// libmilter `smfi.c` for the header and reply formats): strings end in NUL, indexes are 32-bit
/// big-endian words.
extension MilterPacket {
    public static let `continue` = MilterPacket(code: MilterResponse.continue.rawValue)
    public static let accept = MilterPacket(code: MilterResponse.accept.rawValue)
    public static let discard = MilterPacket(code: MilterResponse.discard.rawValue)
    public static let tempfail = MilterPacket(code: MilterResponse.tempfail.rawValue)
    public static let reject = MilterPacket(code: MilterResponse.reject.rawValue)
    /// "Still working": resets the MTA's timeout while end of message is inspected (version 6).
    public static let progress = MilterPacket(code: MilterResponse.progress.rawValue)

    /// `SMFIR_REPLYCODE`: the reply the MTA gives its client, which also ends the stage (a 4xx
    /// defers, a 5xx refuses). Every line is `CODE-STATUS TEXT` but the last (`CODE STATUS TEXT`),
    /// CRLF between them, no CRLF at the end; `%` is written `%%` (Postfix and Sendmail take the
    /// text as a format). With `ascii`, the text has no byte above 0x7F (Vietnamese letters lose
    /// their marks, anything else becomes `?`): for an MTA that passes only ASCII on.
    /// - SeeAlso: Postfix `milter8.c` (`milter8_valid_smtp_reply`), RFC 5321 4.2.1.
    public static func replyCode(_ reply: Reply, ascii: Bool) -> MilterPacket {
        var payload: [UInt8] = []
        // A milter may only send 4xx or 5xx; anything else defers (fail closed).
        let code = (400..<600).contains(reply.code) ? reply.code : 451
        for (index, line) in reply.lines.enumerated() {
            if index > 0 { payload += [13, 10] }
            payload += Array(String(code).utf8)
            payload.append(index == reply.lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            // Always a status of the code's class: Postfix refuses a line whose fifth byte is a
            // digit other than the code's first (`milter8_valid_smtp_reply`), which a text
            // starting with a number would otherwise be.
            let status = reply.status.flatMap { $0.klass == code / 100 ? $0 : nil } ?? EnhancedStatus(code / 100, 0, 0)
            payload += Array(status.description.utf8)
            payload.append(UInt8(ascii: " "))
            let text = ascii ? ASCIIText.folded(line) : line
            for byte in text.utf8 {
                switch byte {
                case 0, 10, 13: payload.append(UInt8(ascii: " "))
                case UInt8(ascii: "%"): payload += [UInt8(ascii: "%"), UInt8(ascii: "%")]
                default: payload.append(byte)
                }
            }
        }
        payload.append(0)
        return MilterPacket(code: MilterResponse.replyCode.rawValue, payload: payload)
    }

    /// `SMFIR_INSHEADER`: the field inserted before the `index`-th field (0: first of all).
    public static func insertHeader(index: UInt32, name: String, value: String) -> MilterPacket {
        var payload: [UInt8] = []
        appendWord(index, to: &payload)
        payload += headerText(name) + [0] + headerText(value) + [0]
        return MilterPacket(code: MilterResponse.insertHeader.rawValue, payload: payload)
    }

    /// `SMFIR_ADDHEADER`: the field added after the last one.
    public static func addHeader(name: String, value: String) -> MilterPacket {
        MilterPacket(code: MilterResponse.addHeader.rawValue, payload: headerText(name) + [0] + headerText(value) + [0])
    }

    /// `SMFIR_CHGHEADER`: the `index`-th field called `name` (from 1) given `value` (empty: deleted).
    public static func changeHeader(index: UInt32, name: String, value: String) -> MilterPacket {
        var payload: [UInt8] = []
        appendWord(index, to: &payload)
        payload += headerText(name) + [0] + headerText(value) + [0]
        return MilterPacket(code: MilterResponse.changeHeader.rawValue, payload: payload)
    }

    /// `SMFIR_REPLBODY`, as many packets as the body needs: the MTAs read at most 65,535 bytes
    /// per packet (`MILTER_CHUNK_SIZE`). An empty body is one empty packet.
    public static func replaceBody(_ body: [UInt8], chunkSize: Int = 65_535) -> [MilterPacket] {
        guard !body.isEmpty else { return [MilterPacket(code: MilterResponse.replaceBody.rawValue)] }
        var packets: [MilterPacket] = []
        var start = 0
        while start < body.count {
            let end = min(start + chunkSize, body.count)
            packets.append(MilterPacket(code: MilterResponse.replaceBody.rawValue, payload: Array(body[start..<end])))
            start = end
        }
        return packets
    }

    /// `SMFIR_DELRCPT`: the recipient as the MTA named it in RCPT (`<a@b>`).
    public static func deleteRecipient(_ address: String) -> MilterPacket {
        MilterPacket(code: MilterResponse.deleteRecipient.rawValue, payload: headerText(address) + [0])
    }

    /// `SMFIR_QUARANTINE`: the message goes to the MTA's hold queue with this reason.
    public static func quarantine(reason: String) -> MilterPacket {
        MilterPacket(code: MilterResponse.quarantine.rawValue, payload: headerText(reason) + [0])
    }

    /// A string as a NUL-terminated field: no NUL inside (it would end the field early).
    private static func headerText(_ text: String) -> [UInt8] {
        text.utf8.map { $0 == 0 ? UInt8(ascii: " ") : $0 }
    }
}

/// Readers of the command payloads (libmilter `engine.c`: `st_connectinfo`, `st_sender`,
/// `st_header`, `st_macros`). A payload that does not have the shape its command needs is nil:
/// the connection is then closed.
public enum MilterPayload {
    /// The NUL-terminated strings of a payload; the bytes after the last NUL are dropped. Nil when
    /// the payload has no NUL at all.
    public static func strings(_ payload: [UInt8]) -> [String]? {
        guard let last = payload.lastIndex(of: 0) else { return nil }
        return payload[..<last].split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `SMFIC_CONNECT`: host name, address family (`4`, `6`, `L` local, `U` unknown), port, address.
    public static func connect(_ payload: [UInt8]) -> MilterClient? {
        guard let nul = payload.firstIndex(of: 0) else { return nil }
        let hostname = String(decoding: payload[..<nul], as: UTF8.self)
        var index = nul + 1
        guard index < payload.count else { return MilterClient(hostname: hostname, family: .unknown, port: nil, address: nil) }
        let family = MilterClient.Family(rawValue: payload[index]) ?? .unknown
        index += 1
        guard family != .unknown else { return MilterClient(hostname: hostname, family: .unknown, port: nil, address: nil) }
        guard index + 2 <= payload.count else { return nil }
        let port = UInt16(payload[index]) << 8 | UInt16(payload[index + 1])
        index += 2
        guard let end = payload[index...].firstIndex(of: 0) else { return nil }
        let address = String(decoding: payload[index..<end], as: UTF8.self)
        return MilterClient(hostname: hostname, family: family, port: port, address: address)
    }

    /// `SMFIC_HEADER`: name and value, as two strings.
    public static func header(_ payload: [UInt8]) -> (name: [UInt8], value: [UInt8])? {
        guard let nul = payload.firstIndex(of: 0), payload.last == 0, nul < payload.count - 1 else { return nil }
        let value = payload[(nul + 1)..<(payload.count - 1)]
        guard !value.contains(0) else { return nil }
        return (Array(payload[..<nul]), Array(value))
    }

    /// `SMFIC_MACRO`: the command the macros are for, then name and value pairs. Names lose their
    /// braces (`{client_addr}` → `client_addr`).
    public static func macros(_ payload: [UInt8]) -> (command: UInt8, values: [(String, String)])? {
        guard let command = payload.first else { return nil }
        let rest = Array(payload.dropFirst())
        guard !rest.isEmpty else { return (command, []) }
        guard let strings = strings(rest), strings.count % 2 == 0 else { return nil }
        var values: [(String, String)] = []
        var index = 0
        while index < strings.count {
            var name = Substring(strings[index])
            if name.hasPrefix("{") && name.hasSuffix("}") && name.count >= 2 { name = name.dropFirst().dropLast() }
            values.append((String(name), strings[index + 1]))
            index += 2
        }
        return (command, values)
    }
}

/// The SMTP client as the MTA describes it in `SMFIC_CONNECT`.
public struct MilterClient: Sendable, Equatable {
    public enum Family: UInt8, Sendable {
        case unknown = 0x55  // 'U'
        case unixSocket = 0x4C  // 'L'
        case inet4 = 0x34  // '4'
        case inet6 = 0x36  // '6'
    }

    /// The name the MTA found for it (`[1.2.3.4]` when it has none).
    public var hostname: String
    public var family: Family
    public var port: UInt16?
    /// The address as text (an IPv6 one may come as `IPv6:...`).
    public var address: String?

    public init(hostname: String, family: Family, port: UInt16?, address: String?) {
        self.hostname = hostname
        self.family = family
        self.port = port
        self.address = address
    }
}

/// Vietnamese text for an ASCII-only channel: each letter loses its marks (`Thư bị từ chối` →
/// `Thu bi tu choi`), `đ` is `d`, and any other non-ASCII character becomes `?`.
enum ASCIIText {
    private static let groups: [(Character, String)] = [
        ("a", "àáảãạăằắẳẵặâầấẩẫậ"), ("e", "èéẻẽẹêềếểễệ"), ("i", "ìíỉĩị"), ("o", "òóỏõọôồốổỗộơờớởỡợ"),
        ("u", "ùúủũụưừứửữự"), ("y", "ỳýỷỹỵ"), ("d", "đ"),
    ]

    private static let table: [Character: Character] = {
        var table: [Character: Character] = [:]
        for (base, letters) in groups {
            for letter in letters {
                table[letter] = base
                table[Character(letter.uppercased())] = Character(base.uppercased())
            }
        }
        return table
    }()

    static func folded(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            if character.isASCII {
                out.append(character)
            } else if let base = table[character] {
                out.append(base)
            } else {
                out.append("?")
            }
        }
        return out
    }
}
