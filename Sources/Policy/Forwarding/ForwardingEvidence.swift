/// One trace, left by a machine, that the message was re-sent automatically: a header a
/// forwarding system writes, or the envelope a forwarding system rewrites. A finding of the
/// `auto-forward` rule (issue 13) names the signals it saw and the mailboxes on each side.
///
/// - SeeAlso: QĐ 40/2022 (Quảng Ninh) Đ14 k8; /work/notes/forwarding-signals.md (the research,
///   with the sources of every signal).
public struct ForwardingEvidence: Sendable, Equatable, CustomStringConvertible {
    /// The kinds of traces. The raw value is the short name a finding and the logs use.
    public enum Signal: String, Sendable, CaseIterable {
        /// Gmail / Google Workspace automatic forwarding: `X-Forwarded-To`, `X-Forwarded-For`.
        case gmailForwardedHeader = "gmail-x-forwarded"
        /// Gmail forwarding into another domain: envelope sender `user+caf_=target=domain@...`.
        case gmailForwardingSender = "gmail-caf-sender"
        /// Exchange / Microsoft 365 inbox rule: `X-MS-Exchange-Inbox-Rules-Loop`,
        /// `X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent`.
        case exchangeInboxRule = "exchange-inbox-rule"
        /// Exchange Online mailbox forwarding (ForwardingSmtpAddress, outbound):
        /// `X-MS-Exchange-ForwardingLoop`.
        case exchangeForwardingLoop = "exchange-forwarding-loop"
        /// Exchange's own marker of an auto-forwarded message (PidTagAutoForwarded):
        /// `X-MS-Exchange-Organization-AutoForwarded: true`.
        case exchangeAutoForwarded = "exchange-autoforwarded"
        /// Zimbra filter `redirect`: `X-Zimbra-Forwarded`.
        case zimbraForwarded = "zimbra-forwarded"
        /// Dovecot Pigeonhole Sieve `redirect`: `X-Sieve-Redirected-From`.
        case sieveRedirect = "sieve-redirect"
        /// Postfix / Sendmail local delivery (`.forward`, aliases) followed by a new relay:
        /// `Delivered-To` names a mailbox that is none of this transaction's recipients.
        case deliveredElsewhere = "delivered-to-elsewhere"
        /// Sender Rewriting Scheme: `SRS0=`/`SRS1=` (postsrsd, libsrs2, Exim, Forward Email) or
        /// Microsoft 365's `bounces+SRS=` envelope sender.
        case srsSender = "srs-sender"
        /// `Auto-Submitted: auto-forwarded`.
        case autoSubmittedForwarded = "auto-submitted-forwarded"
        /// RFC 5322 3.6.6 resent fields: `Resent-From`/`Resent-Sender` with `Resent-To`/`-Cc`/`-Bcc`.
        case resent = "resent-fields"
    }

    public var signal: Signal
    /// Where it was seen: a header field name as written, or `MAIL FROM` / `RCPT TO`.
    public var field: String
    /// The value seen, unfolded and sanitized (control characters removed, at most 200 bytes).
    public var value: String
    /// The mailbox that forwarded (lowercased `local@domain`), when the signal names it. For SRS
    /// only the forwarder's domain is known; it is given as `@domain`.
    public var forwarder: String?
    /// The mailboxes it was forwarded to (lowercased), when the signal names them; empty when
    /// only the envelope knows (the rule then takes the RCPT TO addresses).
    public var targets: [String]

    public init(_ signal: Signal, field: String, value: String, forwarder: String? = nil, targets: [String] = []) {
        self.signal = signal
        self.field = field
        self.value = value
        self.forwarder = forwarder
        self.targets = targets
    }

    public var description: String {
        var text = "\(signal.rawValue) (\(field): \(value))"
        if let forwarder { text += " from \(forwarder)" }
        if !targets.isEmpty { text += " to \(targets.joined(separator: ", "))" }
        return text
    }
}

/// Why a message is not automatic forwarding even though it may carry some of the traces: what
/// the issue lists as "what is not". A weak trace (a `Delivered-To` elsewhere, `Resent-*`,
/// `Auto-Submitted: auto-forwarded`) is also what list servers, bounces and notifications carry,
/// so any exclusion removes it (a list's or bulk mail's `Delivered-To` elsewhere survives); a
/// forwarder's own stamp (Gmail, Exchange, Zimbra, Sieve) is removed only by what explains that
/// stamp (an Exchange automatic reply carries the inbox-rule headers too). MAIL FROM's traces
/// (Gmail's `+caf_=`, SRS) are never removed: the RCPT stage, which sees no header, judges them
/// alike.
public enum ForwardingExclusion: String, Sendable, CaseIterable {
    /// An automatic reply (vacation, out of office): `Auto-Submitted: auto-replied`,
    /// `Precedence: auto_reply`, `X-Autoreply`, `X-Autorespond`, or an Exchange rule-made reply.
    ///
    /// - SeeAlso: RFC 3834 5.
    case autoReply = "auto-reply"
    /// The null reverse path `<>`: bounces, DSNs, MDNs, vacation replies.
    ///
    /// - SeeAlso: RFC 5321 4.5.5, RFC 3834 3.3.
    case nullSender = "null-sender"
    /// A delivery status or disposition notification: `multipart/report`.
    ///
    /// - SeeAlso: RFC 6522, RFC 3464, RFC 8098.
    case report = "report"
    /// An attendee's answer to an invitation: `text/calendar; method=REPLY`.
    ///
    /// - SeeAlso: RFC 5546 3.2.3, RFC 6047.
    case calendarReply = "calendar-reply"
    /// Mailing-list traffic: `List-Id` or `Precedence: list`.
    ///
    /// - SeeAlso: RFC 2919, RFC 2369, RFC 3834 2.
    case mailingList = "mailing-list"
    /// Bulk mail: `Precedence: bulk` / `junk`, or an e-mail service provider's bounce (VERP)
    /// envelope sender. Its envelope sender differs from From, which alone is never evidence.
    case bulk = "bulk"
}
