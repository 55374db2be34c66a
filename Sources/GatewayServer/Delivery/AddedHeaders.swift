import MIMECore
import Policy
import SMTPCore

/// Every header ThuGate adds to a message, made from its ``MessageOutcome``: the `Received:`
/// trace header on everything it passes on, `X-ThuGate-Findings` on a delivered message with
/// findings. A held message gets none: the quarantine store keeps its original bytes, with its
/// envelope and findings in rows.
///
/// `X-ThuGate-Normalized` is the TCVN 6909 transform's own edit of the message (it is part of
/// what the transform rewrote), not added here.
/// - SeeAlso: RFC 5321 4.4 (trace information), RFC 5322 2.1.1 (998 octets per line),
///   RFC 2047 (non-ASCII in header text).
struct AddedHeaders {
    var outcome: MessageOutcome
    /// RFC 5322 3.3 date-time for the trace header (``rfc5322Date()``).
    var date: String

    init(_ outcome: MessageOutcome, date: String) {
        self.outcome = outcome
        self.date = date
    }

    /// The `Received:` header.
    var received: String {
        let envelope = outcome.envelope
        return ReceivedHeader(
            heloName: envelope.heloName,
            clientAddress: outcome.client.address,
            hostname: outcome.hostname,
            esmtp: envelope.esmtp,
            tls: outcome.client.tls,
            smtpUTF8: envelope.parameters.smtpUTF8,
            queueID: outcome.queueID,
            recipients: envelope.recipients,
            date: date
        ).field
    }

    /// What goes above a message sent upstream: the trace header, then the findings of a
    /// passed or tagged message, if any.
    var relayed: String {
        var header = received
        switch outcome.verdict {
        case .pass?, .tag?, nil:
            if !outcome.findings.isEmpty {
                header += "X-ThuGate-Findings:\(Self.findings(outcome.findings))\r\n"
            }
        case .quarantine?, .tempfail?, .reject?:
            break
        }
        return header
    }

    /// The `X-ThuGate-Findings` value, with its leading space. Findings are built from message
    /// content: no CR or LF may end the header early.
    static func findings(_ findings: [Finding]) -> String {
        " " + text(findings.map(\.description).joined(separator: "; "))
    }

    /// A header value built from what the sender chose (file and member names, addresses): no
    /// control characters, and short enough that the line stays under 998 octets.
    static func text(_ text: String) -> String { HeaderText.sanitized(text) }
}

/// The one header a message released from the quarantine gets, above its original bytes:
/// `X-ThuGate-Released: ID by USER DATE`. The user name is the OS's (or `SUDO_USER`, which anyone
/// may set): CR, LF and every control character become spaces, non-ASCII travels as RFC 2047
/// words, so it is one field whatever the name.
/// - SeeAlso: RFC 5322 2.2 (field bodies), RFC 2047.
public enum ReleasedHeader {
    public static func field(id: String, by user: String, date: String) -> String {
        "X-ThuGate-Released: \(HeaderText.sanitized("\(id) by \(user) \(date)"))\r\n"
    }
}
