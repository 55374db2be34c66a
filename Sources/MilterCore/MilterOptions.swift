/// What a filter may do to a message (mfdef.h `SMFIF_*`): the MTA offers a set in
/// `SMFIC_OPTNEG`, the filter asks for a subset, and may then send only those modifications.
public struct MilterActions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `SMFIR_ADDHEADER` (and, from version 6, `SMFIR_INSHEADER`).
    public static let addHeaders = MilterActions(rawValue: 0x001)
    /// `SMFIR_REPLBODY`.
    public static let changeBody = MilterActions(rawValue: 0x002)
    /// `SMFIR_ADDRCPT`.
    public static let addRecipient = MilterActions(rawValue: 0x004)
    /// `SMFIR_DELRCPT`.
    public static let deleteRecipient = MilterActions(rawValue: 0x008)
    /// `SMFIR_CHGHEADER`.
    public static let changeHeaders = MilterActions(rawValue: 0x010)
    /// `SMFIR_QUARANTINE` (the MTA's hold queue).
    public static let quarantine = MilterActions(rawValue: 0x020)
    /// `SMFIR_CHGFROM`.
    public static let changeSender = MilterActions(rawValue: 0x040)
    /// `SMFIR_ADDRCPT_PAR`.
    public static let addRecipientWithParameters = MilterActions(rawValue: 0x080)
    /// Macro name lists in the negotiation reply (`SMFIR_SETSYMLIST`'s effect).
    public static let setSymbolList = MilterActions(rawValue: 0x100)
}

/// Which events the MTA sends and which of them the filter answers (mfdef.h `SMFIP_*`). The MTA
/// offers the bits it understands; the filter sets those it wants among them.
public struct MilterProtocolFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let noConnect = MilterProtocolFlags(rawValue: 1 << 0)
    public static let noHelo = MilterProtocolFlags(rawValue: 1 << 1)
    public static let noMail = MilterProtocolFlags(rawValue: 1 << 2)
    public static let noRecipient = MilterProtocolFlags(rawValue: 1 << 3)
    public static let noBody = MilterProtocolFlags(rawValue: 1 << 4)
    public static let noHeaders = MilterProtocolFlags(rawValue: 1 << 5)
    public static let noEndOfHeaders = MilterProtocolFlags(rawValue: 1 << 6)
    public static let noReplyHeader = MilterProtocolFlags(rawValue: 1 << 7)
    public static let noUnknown = MilterProtocolFlags(rawValue: 1 << 8)
    public static let noData = MilterProtocolFlags(rawValue: 1 << 9)
    /// The MTA understands `SMFIR_SKIP`.
    public static let skip = MilterProtocolFlags(rawValue: 1 << 10)
    /// The MTA also sends recipients it refused.
    public static let rejectedRecipients = MilterProtocolFlags(rawValue: 1 << 11)
    public static let noReplyConnect = MilterProtocolFlags(rawValue: 1 << 12)
    public static let noReplyHelo = MilterProtocolFlags(rawValue: 1 << 13)
    public static let noReplyMail = MilterProtocolFlags(rawValue: 1 << 14)
    public static let noReplyRecipient = MilterProtocolFlags(rawValue: 1 << 15)
    public static let noReplyData = MilterProtocolFlags(rawValue: 1 << 16)
    public static let noReplyUnknown = MilterProtocolFlags(rawValue: 1 << 17)
    public static let noReplyEndOfHeaders = MilterProtocolFlags(rawValue: 1 << 18)
    public static let noReplyBody = MilterProtocolFlags(rawValue: 1 << 19)
    /// Header values are sent with the space after the colon, and taken back that way.
    public static let headerLeadingSpace = MilterProtocolFlags(rawValue: 1 << 20)
}

/// The stages a filter can name macros for in its negotiation reply (mfdef.h `SMFIM_*`).
public enum MilterMacroStage: UInt32, Sendable, CaseIterable {
    case connect = 0
    case helo = 1
    case mail = 2
    case recipient = 3
    case data = 4
    case endOfMessage = 5
    case endOfHeaders = 6
}

/// What a filter negotiation failed on; the connection is closed.
public enum MilterNegotiationError: Error, Equatable, Sendable {
    /// The payload is not three 32-bit words.
    case malformed
    /// Versions before 2 have no negotiation ThuGate can follow.
    case unsupportedVersion(UInt32)
}

/// The options one milter connection runs with: the MTA's offer narrowed to what ThuGate needs.
///
/// - SeeAlso: libmilter `engine.c` (`st_optionneg`), Postfix `milter8.c` (`milter8_connect`: a
///   filter version above the MTA's, or an action or event the MTA did not offer, is an error).
public struct MilterNegotiation: Sendable, Equatable {
    /// The highest version ThuGate speaks.
    public static let version: UInt32 = 6

    /// What ThuGate can use: header edits, a body replacement (TCVN 6909), the hold queue, the
    /// recipient deletion of per-recipient decisions, and macro lists.
    public static let wantedActions: MilterActions = [
        .addHeaders, .changeHeaders, .changeBody, .quarantine, .deleteRecipient, .setSymbolList,
    ]

    /// Stages ThuGate never answers but end of message and RCPT (where a recipient may be refused
    /// alone): each flag is asked for only when the MTA offered it.
    public static let wantedFlags: MilterProtocolFlags = [
        .noUnknown, .noData, .noReplyConnect, .noReplyHelo, .noReplyMail, .noReplyData, .noReplyUnknown,
        .noReplyHeader, .noReplyEndOfHeaders, .noReplyBody, .headerLeadingSpace,
    ]

    /// The macros ThuGate reads at each stage, asked for when the MTA lets a filter name them: the
    /// client's address and name, the queue id, the envelope addresses, the TLS session, the MTA.
    public static let wantedMacros: [(MilterMacroStage, String)] = [
        (.connect, "j {daemon_name} {client_addr} {client_name} {client_port} v"),
        (.helo, "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"),
        (.mail, "i {mail_addr} {auth_authen}"),
        (.recipient, "i {rcpt_addr}"),
        (.endOfMessage, "i"),
    ]

    public var version: UInt32
    public var actions: MilterActions
    public var flags: MilterProtocolFlags
    /// What the MTA offered, for the log.
    public var offeredActions: MilterActions = []
    public var offeredFlags: MilterProtocolFlags = []

    public init(version: UInt32, actions: MilterActions, flags: MilterProtocolFlags) {
        self.version = version
        self.actions = actions
        self.flags = flags
    }

    /// `version 6, actions 0x13b of 0x1ff, flags 0x1f7380 of 0x1fffff`.
    public var description: String {
        "version \(version), actions 0x\(String(actions.rawValue, radix: 16)) of 0x\(String(offeredActions.rawValue, radix: 16)),"
            + " flags 0x\(String(flags.rawValue, radix: 16)) of 0x\(String(offeredFlags.rawValue, radix: 16))"
    }

    /// Narrows the MTA's `SMFIC_OPTNEG` payload (version, actions, protocol flags) to what
    /// ThuGate wants; `needs` may take actions away (no quarantine action in `store` mode).
    public static func answering(
        offer payload: [UInt8],
        actions needs: MilterActions = wantedActions
    ) throws(MilterNegotiationError) -> MilterNegotiation {
        guard payload.count >= 12 else { throw .malformed }
        let offered = MilterNegotiation(
            version: word(payload, 0),
            actions: MilterActions(rawValue: word(payload, 4)),
            flags: MilterProtocolFlags(rawValue: word(payload, 8))
        )
        guard offered.version >= 2 else { throw .unsupportedVersion(offered.version) }
        // Sendmail 8.13 and older offer no protocol flags beyond the "no event" ones; the
        // no-reply flags exist only from version 6.
        var answer = MilterNegotiation(
            version: min(offered.version, version),
            actions: offered.actions.intersection(needs),
            flags: offered.flags.intersection(wantedFlags)
        )
        answer.offeredActions = offered.actions
        answer.offeredFlags = offered.flags
        return answer
    }

    /// The reply packet: version, actions, flags, then (when macro lists may be set) each stage's
    /// macro names.
    public var reply: MilterPacket {
        var payload: [UInt8] = []
        appendWord(version, to: &payload)
        appendWord(actions.rawValue, to: &payload)
        appendWord(flags.rawValue, to: &payload)
        if actions.contains(.setSymbolList) {
            for (stage, names) in Self.wantedMacros {
                appendWord(stage.rawValue, to: &payload)
                payload += Array(names.utf8) + [0]
            }
        }
        return MilterPacket(code: MilterCommand.optionNegotiation.rawValue, payload: payload)
    }

    /// Whether the MTA expects no answer to this command.
    public func isUnanswered(_ command: MilterCommand) -> Bool {
        switch command {
        case .connect: flags.contains(.noReplyConnect)
        case .helo: flags.contains(.noReplyHelo)
        case .mail: flags.contains(.noReplyMail)
        case .recipient: flags.contains(.noReplyRecipient)
        case .data: flags.contains(.noReplyData)
        case .unknown: flags.contains(.noReplyUnknown)
        case .header: flags.contains(.noReplyHeader)
        case .endOfHeaders: flags.contains(.noReplyEndOfHeaders)
        case .body: flags.contains(.noReplyBody)
        // Never answered: macros, abort, quit. Always answered: negotiation, end of message.
        case .macro, .abort, .quit, .quitNewConnection: true
        case .optionNegotiation, .endOfMessage: false
        }
    }
}

func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}

func appendWord(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes += [
        UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
    ]
}
