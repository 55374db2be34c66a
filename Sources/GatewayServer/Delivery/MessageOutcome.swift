public import Policy
public import SMTPCore

/// What happened to one message: who sent it, what it held, what the rules found, and where it
/// went. The log line and every header ThuGate adds (``AddedHeaders``) are made from it; the
/// quarantine (``QuarantineSink``) receives it with the message.
public struct MessageOutcome: Sendable, Equatable {
    /// The SMTP client that sent the message.
    public struct Client: Sendable, Equatable {
        /// The name it gave in HELO/EHLO (its word, not checked).
        public var heloName: String
        /// Its IP address.
        public var address: String
        /// Whether the session ran over TLS (STARTTLS).
        public var tls: Bool

        public init(heloName: String, address: String, tls: Bool) {
            self.heloName = heloName
            self.address = address
            self.tls = tls
        }
    }

    /// Where the message went, with the reply its client got.
    public enum Disposition: Sendable, Equatable {
        /// Sent upstream; the upstream's reply to the final dot (which may refuse it).
        case relayed(Reply)
        /// Refused by a rule.
        case refused(Reply)
        /// Written to the quarantine under this id.
        case held(id: String, Reply)
        /// The client is to try again later: a tempfail rule, a scan that failed, a quarantine
        /// that could not be written.
        case deferred(Reply)

        public var reply: Reply {
            switch self {
            case .relayed(let reply), .refused(let reply), .held(_, let reply), .deferred(let reply): return reply
            }
        }
    }

    public var queueID: String
    public var client: Client
    /// This gateway's name, as in the greeting and the `Received:` header.
    public var hostname: String
    /// The envelope: the recipients are those the upstream accepted.
    public var envelope: Envelope
    /// The agencies of the envelope sender and of each recipient, whether each is state-issued, and
    /// the message's direction (`in`, `out`, `internal`, `transit`), resolved when the message is seen.
    public var parties: MessageParties
    /// Octets of the message as it went on (after any transform).
    public var size: Int
    /// Nil until the message is inspected.
    public var verdict: Verdict?
    public var findings: [Finding]
    /// The transforms that rewrote the message, by name (`AppliedTransform.name`, e.g. `tcvn-6909`).
    public var transforms: [String]
    /// Nil until the message is relayed, refused, held or deferred.
    public var disposition: Disposition?
    /// Milliseconds from the final dot to the disposition.
    public var milliseconds: Int64
    /// The message is one of ThuGate's own notices (its `X-ThuGate-Notice` MAC verified): no
    /// notice is written about it, and only the malware rules may stop it (``NoticeSignature``).
    public var isOwnNotice = false
    /// The quarantine id of the copy kept of a refused message (`[quarantine] keep_refused`); its
    /// notices were written with the copy, in the same transaction.
    public var keptCopy: String?
    /// The header `From:` and decoded `Subject:` (control characters stripped), read only for a
    /// message refused while notices are on: a refusal's notice names them and checks the sender.
    public var headerFrom: String?
    public var subject: String?

    public init(
        queueID: String,
        client: Client,
        hostname: String,
        envelope: Envelope,
        parties: MessageParties? = nil,
        size: Int = 0,
        verdict: Verdict? = nil,
        findings: [Finding] = [],
        transforms: [String] = [],
        disposition: Disposition? = nil,
        milliseconds: Int64 = 0
    ) {
        self.queueID = queueID
        self.client = client
        self.hostname = hostname
        self.envelope = envelope
        // Without the configured agencies, only the state domains are known.
        self.parties = parties ?? AgencyDirectory().parties(sender: envelope.sender, recipients: envelope.recipients)
        self.size = size
        self.verdict = verdict
        self.findings = findings
        self.transforms = transforms
        self.disposition = disposition
        self.milliseconds = milliseconds
    }

    /// The log line for the message, e.g. `ID: client=c[127.0.0.1], from=<a@b>, to=<c@d>,
    /// size=123, result=sent, reply="250 2.0.0 Ok", ms=4`. `result` says what the client was
    /// told (a held message is `sent`: the client's part is done).
    public var logLine: String {
        // Appended piece by piece into one string: it is built for every message, and each
        // `+` or nested interpolation would be a string of its own.
        var line = ""
        line.reserveCapacity(192 + envelope.sender.address.utf8.count + 48 * envelope.recipients.count)
        line += queueID
        line += ": client="
        line += envelope.heloName
        line += "["
        line += client.address
        line += "], from=<"
        line += envelope.sender.address
        line += ">, to="
        for (index, recipient) in envelope.recipients.enumerated() {
            if index > 0 { line += "," }
            line += "<"
            line += recipient.address
            line += ">"
        }
        line += ", size="
        line += String(size)
        line += ", result="
        let reply = disposition?.reply
        line += reply.map { $0.isPositive ? "sent" : $0.isTransientFailure ? "deferred" : "rejected" } ?? "deferred"
        if let keptCopy {
            line += ", kept="
            line += keptCopy
        }
        if !findings.isEmpty {
            line += ", findings=\""
            line += findings.map { $0.description }.joined(separator: "; ")
            line += "\""
        }
        line += ", reply=\""
        reply?.appendDescription(to: &line)
        line += "\", ms="
        line += String(milliseconds)
        return line
    }
}
