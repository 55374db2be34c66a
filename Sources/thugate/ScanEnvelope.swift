import Foundation
import MIMECore
import Policy
import SMTPCore

/// The envelope `thugate scan` judges a message with, and where it was taken from: the rules that
/// care which way a message goes (state-issued mailbox to one that is not) need one, and a file on
/// disk has none of its own.
struct ScanEnvelope {
    enum Source: String {
        /// `--mail-from` / `--rcpt-to`.
        case options
        /// `X-ThuGate-Envelope-From` / `-To`, as the quarantine writes them into an exported message.
        case quarantineFields = "x-thugate-envelope"
        /// `Return-Path` for the sender, `Delivered-To` / `X-Original-To` for the recipients, as a
        /// delivering MTA writes them.
        case traceFields = "return-path/delivered-to"
        /// None found: judged without an envelope.
        case none
    }

    var envelope: Envelope?
    var source: Source

    /// A recipient the rules that judge at RCPT refuse (``RecipientRule``), as the proxy would.
    struct RecipientRefusal {
        var recipient: MailAddress
        var action: PolicyAction
        var finding: Finding
    }

    /// What becomes of a message whose every recipient was refused at RCPT (`refused` by
    /// ``refuseRecipients(ruleSet:agencies:)``): the strongest refusal's action, `reject` or
    /// `tempfail`; nil while a recipient is left.
    func actionWhenAllRefused(_ refused: [RecipientRefusal]) -> String? {
        guard envelope?.recipients.isEmpty == true, let strongest = refused.max(by: { $0.action < $1.action }) else { return nil }
        return strongest.action == .reject ? "reject" : "tempfail"
    }

    /// Takes out of the envelope the recipients the proxy would refuse at RCPT, in the proxy's
    /// order (each judged by MAIL FROM and itself, as the proxy judges it), and returns them.
    mutating func refuseRecipients(ruleSet: RuleSet, agencies: AgencyDirectory) -> [RecipientRefusal] {
        guard var envelope, ruleSet.judgesRecipients else { return [] }
        let asked = envelope.recipients
        envelope.recipients = []
        var refused: [RecipientRefusal] = []
        for recipient in asked {
            if let (action, finding) = ruleSet.judge(recipient: recipient, sender: envelope.sender, agencies: agencies) {
                refused.append(RecipientRefusal(recipient: recipient, action: action, finding: finding))
            } else {
                envelope.recipients.append(recipient)
            }
        }
        self.envelope = envelope
        return refused
    }

    /// From the options when any is given; else from the message's own header section.
    static func make(mailFrom: String?, rcptTo: [String], message bytes: MessageBytes) -> ScanEnvelope {
        if mailFrom != nil || !rcptTo.isEmpty {
            return ScanEnvelope(envelope: envelope(mailFrom ?? "", rcptTo), source: .options)
        }
        let fields = headerFields(bytes)
        func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
        if let from = values("x-thugate-envelope-from").first {
            let to = values("x-thugate-envelope-to").flatMap { $0.split(separator: ",").map(String.init) }
            return ScanEnvelope(envelope: envelope(from, to), source: .quarantineFields)
        }
        let to = values("delivered-to") + values("x-original-to")
        if let from = values("return-path").first ?? (to.isEmpty ? nil : "") {
            // Several Delivered-To fields (an alias chain) name the same message's final mailboxes
            // first; keep each address once.
            var seen = Set<String>()
            return ScanEnvelope(envelope: envelope(from, to.filter { seen.insert(bare($0).lowercased()).inserted }), source: .traceFields)
        }
        return ScanEnvelope(envelope: nil, source: .none)
    }

    /// `<a@b>` or `a@b`, trimmed, without the angle brackets.
    static func bare(_ text: String) -> String {
        var address = Substring(text.trimmingCharacters(in: .whitespaces))
        if address.hasPrefix("<") { address = address.dropFirst() }
        if address.hasSuffix(">") { address = address.dropLast() }
        return String(address.trimmingCharacters(in: .whitespaces))
    }

    static func envelope(_ from: String, _ to: [String]) -> Envelope {
        var envelope = Envelope(heloName: "scan", esmtp: true, sender: MailAddress(bare(from)), parameters: MailParameters())
        envelope.recipients = to.map(bare).filter { !$0.isEmpty }.map(MailAddress.init)
        return envelope
    }

    /// The top header section's fields, lowercased names and unfolded values.
    static func headerFields(_ bytes: MessageBytes) -> [(name: String, value: String)] {
        bytes.withUnsafeBytes { raw in
            var defects: [MIMEDefect] = []
            let section = HeaderSection.parse(raw, from: 0, to: raw.count, limits: MIMELimits(), defects: &defects)
            return section.fields.map { field in
                (field.name.lowercased(), String(decoding: field.unfoldedValue(in: raw), as: UTF8.self))
            }
        }
    }
}
