/// The `Received:` trace header ThuGate prepends to every message.
///
/// - SeeAlso: RFC 5321 4.4, RFC 3848 (ESMTPS, ESMTPSA), RFC 6531 3.7.3 (UTF8SMTP, UTF8SMTPS).
public struct ReceivedHeader: Sendable {
    public var heloName: String
    public var clientAddress: String
    public var hostname: String
    public var esmtp: Bool
    public var tls: Bool
    public var smtpUTF8: Bool
    public var queueID: String
    public var recipients: [MailAddress]
    /// RFC 5322 3.3 date-time, e.g. `Mon, 23 Nov 2026 21:00:00 +0000`.
    public var date: String

    public init(
        heloName: String,
        clientAddress: String,
        hostname: String,
        esmtp: Bool,
        tls: Bool,
        smtpUTF8: Bool,
        queueID: String,
        recipients: [MailAddress],
        date: String
    ) {
        self.heloName = heloName
        self.clientAddress = clientAddress
        self.hostname = hostname
        self.esmtp = esmtp
        self.tls = tls
        self.smtpUTF8 = smtpUTF8
        self.queueID = queueID
        self.recipients = recipients
        self.date = date
    }

    public var withProtocol: String {
        switch (smtpUTF8, esmtp, tls) {
        case (true, _, true): return "UTF8SMTPS"
        case (true, _, false): return "UTF8SMTP"
        case (false, true, true): return "ESMTPS"
        case (false, true, false): return "ESMTP"
        case (false, false, true): return "SMTPS"
        case (false, false, false): return "SMTP"
        }
    }

    /// The folded header field with its CRLF. The HELO name is the client's word: it is
    /// cleaned so that it cannot break the header.
    public var field: String {
        // Appended into one string sized up front: this runs for every message relayed.
        var text = ""
        text.reserveCapacity(
            160 + min(heloName.utf8.count, 4 * 255) + clientAddress.utf8.count + hostname.utf8.count + queueID.utf8.count
                + date.utf8.count + (recipients.count == 1 ? recipients[0].address.utf8.count : 0)
        )
        text += "Received: from "
        var kept = 0
        for scalar in heloName.unicodeScalars where scalar.value > 0x20 && scalar.value != 0x7F && scalar != "(" && scalar != ")" {
            guard kept < 255 else { break }
            text.unicodeScalars.append(scalar)
            kept += 1
        }
        if kept == 0 { text += "unknown" }
        text += " (["
        text += clientAddress
        text += "])\r\n\tby "
        text += hostname
        text += " (ThuGate) with "
        text += withProtocol
        text += " id "
        text += queueID
        // Like Postfix, name the recipient only when there is exactly one (privacy of Bcc).
        if recipients.count == 1 {
            text += "\r\n\tfor <"
            text += recipients[0].address
            text += ">"
        }
        text += "; "
        text += date
        text += "\r\n"
        return text
    }
}
