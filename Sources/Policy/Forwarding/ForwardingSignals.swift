public import MIMECore
public import SMTPCore

/// The catalogue of traces that a machine, not a person, re-sent a message: one small predicate
/// per real system's trace, each with its source. Pure: it reads the top-level header section and
/// the envelope, never the body, so a body that merely mentions the header names is nothing.
///
/// An envelope-sender / From mismatch is not a signal at all (bulk mail through an e-mail service
/// provider has one); a person forwarding by hand ("Fwd:", the original quoted or attached) leaves
/// none of these traces, and the subject prefix is deliberately not read.
///
/// - SeeAlso: /work/notes/forwarding-signals.md (what each system writes, with sources).
public enum ForwardingSignals {
    /// At most this many fields of one name are read: a hostile header with thousands of
    /// `Delivered-To` lines costs no more than a real one.
    static let maxFieldsPerName = 32
    /// Values in evidence are cut to this many bytes.
    static let maxValueBytes = 200

    /// Every trace of automatic forwarding, after the exclusions (`exclusions(...)`) took away
    /// what they explain. Empty for a message no machine re-sent.
    ///
    /// - Parameters:
    ///   - sender: MAIL FROM; nil when unknown (`thugate scan` without an envelope). The null
    ///     reverse path is `MailAddress("")`.
    ///   - recipients: every RCPT TO of the transaction.
    ///   - header: the message's top-level header section, read from `bytes`.
    public static func evidence(
        envelopeSender sender: MailAddress?,
        recipients: [MailAddress],
        header: HeaderSection,
        in bytes: UnsafeRawBufferPointer
    ) -> [ForwardingEvidence] {
        let fields = HeaderReader(header: header, bytes: bytes)
        let excluded = exclusions(sender: sender, recipients: recipients, fields: fields)
        return evidence(sender: sender, recipients: recipients, fields: fields, exclusions: excluded)
    }

    /// The same, on a parsed message; calendar replies are found in any part.
    public static func evidence(
        envelopeSender sender: MailAddress?,
        recipients: [MailAddress],
        message: ParsedMessage
    ) -> [ForwardingEvidence] {
        guard let root = message.parts.first else { return [] }
        return message.bytes.withUnsafeBytes { bytes in
            let fields = HeaderReader(header: root.header, bytes: bytes)
            var excluded = exclusions(sender: sender, recipients: recipients, fields: fields)
            if !excluded.contains(.calendarReply), message.parts.contains(where: isCalendarReply) { excluded.append(.calendarReply) }
            return evidence(sender: sender, recipients: recipients, fields: fields, exclusions: excluded)
        }
    }

    /// The traces MAIL FROM alone carries (Gmail's `+caf_=` sender, SRS): known at RCPT, before
    /// any header, and counted after DATA whatever the header shows, so that both stages judge a
    /// sender alike.
    public static func envelopeEvidence(sender: MailAddress) -> [ForwardingEvidence] {
        gmailForwardingSender(sender) + srsSender(sender)
    }

    /// Which negatives of issue 13 the message is (none for most mail). The recipients, when
    /// given, let a VERP envelope sender (one recipient encoded in it) be recognized.
    public static func exclusions(
        envelopeSender sender: MailAddress?,
        recipients: [MailAddress] = [],
        header: HeaderSection,
        in bytes: UnsafeRawBufferPointer
    ) -> [ForwardingExclusion] {
        exclusions(sender: sender, recipients: recipients, fields: HeaderReader(header: header, bytes: bytes))
    }

    /// The same, on a parsed message; calendar replies are found in any part.
    public static func exclusions(
        envelopeSender sender: MailAddress?,
        recipients: [MailAddress] = [],
        message: ParsedMessage
    ) -> [ForwardingExclusion] {
        guard let root = message.parts.first else { return [] }
        var excluded = message.bytes.withUnsafeBytes {
            exclusions(sender: sender, recipients: recipients, fields: HeaderReader(header: root.header, bytes: $0))
        }
        if !excluded.contains(.calendarReply), message.parts.contains(where: isCalendarReply) { excluded.append(.calendarReply) }
        return excluded
    }

    // MARK: - Composition

    static func evidence(
        sender: MailAddress?,
        recipients: [MailAddress],
        fields: HeaderReader,
        exclusions: [ForwardingExclusion]
    ) -> [ForwardingEvidence] {
        var found: [ForwardingEvidence] = []
        // A forwarder's own stamps: only an automatic reply explains the Exchange rule headers
        // (Exchange writes them on out-of-office and rule replies too).
        found += gmailForwardedHeaders(fields)
        // MAIL FROM's traces count whatever the header shows, as at RCPT where no header is known:
        // a forwarder rewrote the sender of whatever it sent on (an auto-reply, a list message).
        // SRS names only a domain: it comes last, after the traces that name a mailbox.
        found += gmailForwardingSender(sender)
        if !exclusions.contains(.autoReply) && !exclusions.contains(.nullSender) { found += exchangeInboxRule(fields) }
        found += exchangeForwardingLoop(fields)
        found += exchangeAutoForwarded(fields)
        found += zimbraForwarded(fields)
        found += sieveRedirect(fields)
        // Weak traces: list servers, notifications and bounces carry them as well.
        // Microsoft 365's `bounces+SRS=` sender is also written on plain relays from on-premises
        // servers: it names the forwarder's domain only beside Exchange's own forwarding stamp.
        let exchangeStamped = found.contains { $0.signal == .exchangeForwardingLoop || $0.signal == .exchangeInboxRule }
        if exchangeStamped { found += exchangeSRSSender(sender) }
        if exclusions.isEmpty {
            found += deliveredElsewhere(fields, recipients: recipients)
            found += autoSubmittedForwarded(fields)
            found += resent(fields)
        } else if exclusions.allSatisfy({ $0 == .mailingList || $0 == .bulk }) {
            // A list message or bulk mail that a `.forward` or an alias sent on: a Delivered-To
            // naming a mailbox other than the list's own address or the sender's is where it was
            // delivered before it was forwarded.
            // The list's own addresses, and the sender's (a VERP bounce address `list+rcpt=…@host`
            // is the list's mailbox with a detail).
            var list = listAddresses(fields)
            if let sender, !sender.isNull { list.insert(normalizedMailbox(sender.address)) }
            found += deliveredElsewhere(fields, recipients: recipients).filter { evidence in
                guard let mailbox = evidence.forwarder else { return false }
                return !list.contains(normalizedMailbox(mailbox))
            }
        }
        found += srsSender(sender)
        return found
    }

    // MARK: - Signals

    /// Gmail's automatic forwarding (Settings, Forwarding; or a filter's "Forward it to") adds
    /// `X-Forwarded-To: <target>` and `X-Forwarded-For: <forwarding account> <target>` (space
    /// separated), above the forwarding account's `Delivered-To`.
    ///
    /// - SeeAlso: https://support.google.com/mail/answer/175365 (Google: "add an X-Forwarded-For:
    ///   or X-Forwarded-To: message header"); real blocks in omnivore-app/omnivore#1044 and
    ///   dovecot/pigeonhole#13 (https://github.com/dovecot/pigeonhole/pull/13).
    static func gmailForwardedHeaders(_ fields: HeaderReader) -> [ForwardingEvidence] {
        var found: [ForwardingEvidence] = []
        for value in fields.values("X-Forwarded-For") {
            let mailboxes = mailboxTokens(value)
            guard !mailboxes.isEmpty else { continue }
            found.append(
                ForwardingEvidence(
                    .gmailForwardedHeader,
                    field: "X-Forwarded-For",
                    value: clip(value),
                    forwarder: mailboxes.first,
                    targets: Array(mailboxes.dropFirst())
                )
            )
        }
        for value in fields.values("X-Forwarded-To") {
            let mailboxes = mailboxTokens(value)
            guard !mailboxes.isEmpty else { continue }
            found.append(ForwardingEvidence(.gmailForwardedHeader, field: "X-Forwarded-To", value: clip(value), targets: mailboxes))
        }
        return found
    }

    /// When Gmail forwards into another domain it sends with the envelope sender
    /// `account+caf_=target=targetdomain@gmail.com`: the forwarding account with a `+caf_=` detail
    /// that encodes the target (its `@` written `=`).
    ///
    /// - SeeAlso: rspamd/rspamd rules/misc.lua (the VERP check exempts `'+caf_=' .. verp`, "Google
    ///   Forwarding"); the `envelope-sender <theodore.tso+caf_=tytso=mit.edu@gmail.com>` of a real
    ///   Received field quoted in a public linux-kernel thread.
    static func gmailForwardingSender(_ sender: MailAddress?) -> [ForwardingEvidence] {
        guard let address = sender?.address.lowercased(), let at = address.lastIndex(of: "@") else { return [] }
        let local = address[..<at]
        guard let marker = local.firstRange(of: "+caf_=") else { return [] }
        let account = String(local[..<marker.lowerBound]) + String(address[at...])
        // The target's `@` is the last `=` of the detail (the target's local part may hold `=`).
        let encoded = local[marker.upperBound...]
        var targets: [String] = []
        if let separator = encoded.lastIndex(of: "="), separator != encoded.startIndex,
            encoded.index(after: separator) != encoded.endIndex
        {
            targets = [String(encoded[..<separator]) + "@" + String(encoded[encoded.index(after: separator)...])]
        }
        return [ForwardingEvidence(.gmailForwardingSender, field: "MAIL FROM", value: clip(address), forwarder: account, targets: targets)]
    }

    /// An Exchange / Microsoft 365 inbox rule (forward, redirect, forward as attachment) stamps
    /// `X-MS-Exchange-Inbox-Rules-Loop: <the mailbox whose rule ran>`; the message it generates
    /// also carries `X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent` and
    /// `Auto-Submitted: auto-generated`. Exchange writes the same on out-of-office and rule
    /// replies, so an automatic reply is excluded first.
    ///
    /// - SeeAlso: zammad/zammad spec/models/channel/filter/out_of_office_check_spec.rb (an
    ///   `X-MS-Exchange-Inbox-Rules-Loop` alone is a regular message), the Mailbox Rules Agent block in a public PHP auto-reply test
    ///   (`X-MS-Exchange-Inbox-Rules-Loop: …@selwyn.govt.nz`, `auto-submitted: auto-generated`);
    ///   the agent names (Mailbox Rules Agent, Transport Rule Agent, Journal Agent) in
    ///   Exchange's `CheckAndStampInSubmission` (X-MS-Exchange-Generated-Message-Source).
    static func exchangeInboxRule(_ fields: HeaderReader) -> [ForwardingEvidence] {
        var found: [ForwardingEvidence] = []
        for value in fields.values("X-MS-Exchange-Inbox-Rules-Loop") {
            found.append(
                ForwardingEvidence(
                    .exchangeInboxRule,
                    field: "X-MS-Exchange-Inbox-Rules-Loop",
                    value: clip(value),
                    forwarder: mailboxTokens(value).first
                )
            )
        }
        // Only the Mailbox Rules Agent: transport rules and journaling are the organization's own
        // copies, not a mailbox's forwarding.
        for value in fields.values("X-MS-Exchange-Generated-Message-Source") where value.lowercased() == "mailbox rules agent" {
            found.append(ForwardingEvidence(.exchangeInboxRule, field: "X-MS-Exchange-Generated-Message-Source", value: clip(value)))
        }
        return found
    }

    /// Exchange Online stamps a message forwarded out of a mailbox (mailbox forwarding,
    /// ForwardingSmtpAddress, or a rule's redirect leaving the tenant) with
    /// `X-MS-Exchange-ForwardingLoop: <mailbox>;<tenant id>`, or `ForwardingHandled;<id>`.
    ///
    /// - SeeAlso: real blocks with `X-MS-Exchange-ForwardingLoop: martin.wilck@suse.com;f7a17af6-…`
    ///   (a public lore.kernel.org message stored in a GitHub fixture) and
    ///   `info@doe.com;44d81603-…` beside `X-ExternalRecipientOutboundConnectors`; Microsoft's
    ///   "Configure email forwarding in Microsoft 365"
    ///   (https://learn.microsoft.com/microsoft-365/admin/email/configure-email-forwarding).
    static func exchangeForwardingLoop(_ fields: HeaderReader) -> [ForwardingEvidence] {
        fields.values("X-MS-Exchange-ForwardingLoop").map { value in
            let first = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            return ForwardingEvidence(
                .exchangeForwardingLoop,
                field: "X-MS-Exchange-ForwardingLoop",
                value: clip(value),
                forwarder: mailboxTokens(first).first
            )
        }
    }

    /// `X-MS-Exchange-Organization-AutoForwarded: true` is the MIME form of PidTagAutoForwarded
    /// ("TRUE if the client requests an X-MS-Exchange-Organization-AutoForwarded header field").
    /// Organization headers normally stay inside the organization, so ThuGate sees it when it sits
    /// between an on-premises Exchange and the Internet.
    ///
    /// - SeeAlso: [MS-OXPROPS] PidTagAutoForwarded,
    ///   https://learn.microsoft.com/office/client-developer/outlook/mapi/pidtagautoforwarded-canonical-property
    ///   (MicrosoftDocs/office-developer-client-docs); [MS-OXCMAIL] 2.2.3.2.
    static func exchangeAutoForwarded(_ fields: HeaderReader) -> [ForwardingEvidence] {
        fields.values("X-MS-Exchange-Organization-AutoForwarded").filter { $0.lowercased() == "true" }.map {
            ForwardingEvidence(.exchangeAutoForwarded, field: "X-MS-Exchange-Organization-AutoForwarded", value: clip($0))
        }
    }

    /// Zimbra's filter `redirect` (and account forwarding, zimbraPrefMailForwardingAddress) adds
    /// `X-Zimbra-Forwarded: <the account's address>` to detect loops.
    ///
    /// - SeeAlso: Zimbra/zm-mailbox store/src/java/com/zimbra/cs/filter/FilterUtil.java
    ///   (`HEADER_FORWARDED = "X-Zimbra-Forwarded"`, `redirect`); ZBUG-3064,
    ///   https://github.com/Zimbra/zm-mailbox/pull/1425.
    static func zimbraForwarded(_ fields: HeaderReader) -> [ForwardingEvidence] {
        fields.values("X-Zimbra-Forwarded").map {
            ForwardingEvidence(.zimbraForwarded, field: "X-Zimbra-Forwarded", value: clip($0), forwarder: mailboxTokens($0).first)
        }
    }

    /// Dovecot Pigeonhole's Sieve `redirect` adds `X-Sieve-Redirected-From: <the user's address>`
    /// (and refuses to redirect a message that already names the user: loop control, RFC 5228
    /// 4.2).
    ///
    /// - SeeAlso: dovecot/pigeonhole src/lib-sieve/cmd-redirect.c (`act_redirect_send`,
    ///   `hide_headers` = Return-Path, X-Sieve, X-Sieve-Redirected-From);
    ///   roundcube/roundcubemail#8846 (the loop message naming `x-sieve-redirected-from`).
    static func sieveRedirect(_ fields: HeaderReader) -> [ForwardingEvidence] {
        fields.values("X-Sieve-Redirected-From").map {
            ForwardingEvidence(.sieveRedirect, field: "X-Sieve-Redirected-From", value: clip($0), forwarder: mailboxTokens($0).first)
        }
    }

    /// Postfix's local(8) and virtual(8) prepend `Delivered-To: <final recipient>` on delivery
    /// and keep it when a `.forward` file or an alias sends the message on (that is their loop
    /// detection); Gmail and qmail write it the same way. A message in transit whose
    /// `Delivered-To` names none of this transaction's recipients was delivered to that mailbox
    /// before and re-sent.
    ///
    /// - SeeAlso: Postfix local(8) "Delivered-To:" and `prepend_delivered_header`
    ///   (https://www.postfix.org/local.8.html, https://www.postfix.org/postconf.5.html#prepend_delivered_header);
    ///   foxcpp/maddy#79 ("Postfix relies on Delivered-To fields for this purpose").
    static func deliveredElsewhere(_ fields: HeaderReader, recipients: [MailAddress]) -> [ForwardingEvidence] {
        guard !recipients.isEmpty else { return [] }
        let rcpts = recipients.map { normalizedMailbox($0.address) }
        var found: [ForwardingEvidence] = []
        for value in fields.values("Delivered-To") {
            guard let mailbox = mailboxTokens(value).first, !rcpts.contains(normalizedMailbox(mailbox)) else { continue }
            found.append(ForwardingEvidence(.deliveredElsewhere, field: "Delivered-To", value: clip(value), forwarder: mailbox))
        }
        return found
    }

    /// The list's own mailboxes: `List-Post: <mailto:list@host>` and `List-Id: <list.host>` read
    /// as `list@host` (RFC 2369, RFC 2919), normalized like a Delivered-To mailbox.
    static func listAddresses(_ fields: HeaderReader) -> Set<String> {
        var addresses = Set<String>()
        for value in fields.values("List-Post") {
            for token in value.split(whereSeparator: { $0 == "<" || $0 == ">" || $0 == "," || $0 == " " }) {
                let lower = token.lowercased()
                guard lower.hasPrefix("mailto:") else { continue }
                let mailbox = lower.dropFirst("mailto:".count).prefix { $0 != "?" }
                if mailbox.contains("@") { addresses.insert(normalizedMailbox(String(mailbox))) }
            }
        }
        for value in fields.values("List-Id") {
            guard let open = value.lastIndex(of: "<"), let close = value.lastIndex(of: ">"), open < close else { continue }
            let id = value[value.index(after: open)..<close]
            guard let dot = id.firstIndex(of: ".") else { continue }
            addresses.insert(normalizedMailbox("\(id[..<dot])@\(id[id.index(after: dot)...])"))
        }
        return addresses
    }

    /// SRS (Sender Rewriting Scheme) replaces the envelope sender of a forwarded message with
    /// `SRS0=hash=tt=origdomain=origlocal@forwarder` (`SRS1=` after a second hop); postsrsd and
    /// libsrs2 allow `+` or `-` after `SRS0`. Only the forwarder's domain is known.
    ///
    /// - SeeAlso: roehling/postsrsd README (`SRS0+xxxx=yy=example.com=alice@yourdomain.org`);
    ///   https://www.libsrs2.net/srs/srs.pdf (Shevek, the scheme).
    static func srsSender(_ sender: MailAddress?) -> [ForwardingEvidence] {
        guard let address = sender?.address, let at = address.lastIndex(of: "@") else { return [] }
        let local = address[..<at].lowercased()
        guard ["srs0=", "srs0+", "srs0-", "srs1=", "srs1+", "srs1-"].contains(where: { local.hasPrefix($0) }) else { return [] }
        return [srsEvidence(address, at: at)]
    }

    /// Microsoft 365 writes `bounces+SRS=hash=tt@tenant` (the tenant's onmicrosoft.com or own
    /// domain) when a mailbox, an inbox rule or a transport rule forwards, but also on ordinary
    /// mail relayed from on-premises servers whose sender domain the tenant has not accepted:
    /// alone it is no evidence, so it is read only beside Exchange's forwarding stamps.
    ///
    /// - SeeAlso: https://learn.microsoft.com/exchange/reference/sender-rewriting-scheme; a human
    ///   patch relayed with `X-MailFrom: bounces+SRS=…@amdcloud.onmicrosoft.com` and
    ///   `X-MS-Exchange-CrossTenant-FromEntityHeader: HybridOnPrem` in a public alsa-devel archive
    ///   (/work/notes/exchange-samples.md, S5).
    static func exchangeSRSSender(_ sender: MailAddress?) -> [ForwardingEvidence] {
        guard let address = sender?.address, let at = address.lastIndex(of: "@"), address[..<at].lowercased().contains("+srs=") else {
            return []
        }
        return [srsEvidence(address, at: at)]
    }

    /// An SRS sender as evidence: the forwarder is known by its domain only, `@domain`.
    static func srsEvidence(_ address: String, at: String.Index) -> ForwardingEvidence {
        ForwardingEvidence(
            .srsSender,
            field: "MAIL FROM",
            value: clip(address),
            forwarder: "@" + address[address.index(after: at)...].lowercased()
        )
    }

    /// `Auto-Submitted: auto-forwarded`: not registered by RFC 3834 (which defines `no`,
    /// `auto-generated`, `auto-replied`; RFC 5436 adds `auto-notified`) but written by forwarding
    /// software as an extension keyword. List servers write it on their fan-out too, so a list
    /// excludes it. `auto-generated` alone is not forwarding (every notification has it); it is
    /// what Exchange's Mailbox Rules Agent writes beside its own stamp.
    ///
    /// - SeeAlso: RFC 3834 5 (https://www.rfc-editor.org/rfc/rfc3834#section-5, extension
    ///   keywords); IANA "Auto-Submitted header field keywords"; forwarders writing it in public
    ///   code (workflow forward copies, `X-Hail-Forward-Hops` plus `Auto-Submitted: auto-forwarded`).
    static func autoSubmittedForwarded(_ fields: HeaderReader) -> [ForwardingEvidence] {
        fields.values("Auto-Submitted").filter { autoSubmittedKeyword($0) == "auto-forwarded" }.map {
            ForwardingEvidence(.autoSubmittedForwarded, field: "Auto-Submitted", value: clip($0))
        }
    }

    /// Resent fields (RFC 5322 3.6.6) are added when a message is reintroduced into transport:
    /// `Resent-From` / `Resent-Sender` name who re-sent it, `Resent-To` / `-Cc` / `-Bcc` the new
    /// recipients. Procmail/formail, Sendmail-era forwarders and mail clients' "bounce" write them.
    ///
    /// - SeeAlso: RFC 5322 3.6.6 (https://www.rfc-editor.org/rfc/rfc5322#section-3.6.6).
    static func resent(_ fields: HeaderReader) -> [ForwardingEvidence] {
        let by = (fields.values("Resent-Sender") + fields.values("Resent-From")).flatMap { AddressList.parse($0) }
        let to = (fields.values("Resent-To") + fields.values("Resent-Cc") + fields.values("Resent-Bcc")).flatMap { AddressList.parse($0) }
        guard let who = by.first else { return [] }
        let value = (fields.values("Resent-Sender") + fields.values("Resent-From")).first ?? ""
        return [
            ForwardingEvidence(
                .resent,
                field: fields.values("Resent-Sender").isEmpty ? "Resent-From" : "Resent-Sender",
                value: clip(value),
                forwarder: who.address.lowercased(),
                targets: to.map { $0.address.lowercased() }
            )
        ]
    }

    // MARK: - Exclusions

    static func exclusions(sender: MailAddress?, recipients: [MailAddress], fields: HeaderReader) -> [ForwardingExclusion] {
        var found: [ForwardingExclusion] = []
        if isAutoReply(fields) { found.append(.autoReply) }
        if sender?.isNull == true { found.append(.nullSender) }
        let type = fields.values("Content-Type").first.map(HeaderParameters.parse)
        if type?.value.lowercased() == "multipart/report" { found.append(.report) }
        if let type, type.value.lowercased() == "text/calendar", type["method"]?.uppercased() == "REPLY" { found.append(.calendarReply) }
        if isMailingList(fields) { found.append(.mailingList) }
        if isBulk(fields, sender: sender, recipients: recipients) { found.append(.bulk) }
        return found
    }

    /// RFC 3834 5: `auto-replied`; also the older markers vacation programs and Exchange write
    /// (`Precedence: auto_reply`, `X-Autoreply`, `X-Autorespond`), and a reply made by an Exchange
    /// inbox rule: generated by the Mailbox Rules Agent, From the rule's own mailbox, and answering
    /// a message (`In-Reply-To`). A rule that redirects keeps the original From; one that
    /// forwards starts a new message without `In-Reply-To`.
    ///
    /// - SeeAlso: RFC 3834 5.2; zammad/zammad app/models/channel/filter/out_of_office_check.rb
    ///   (its Exchange test, `X-Auto-Response-Suppress: All` with the Rules-Loop stamp, is not taken:
    ///   rule forwards can carry that pair too).
    static func isAutoReply(_ fields: HeaderReader) -> Bool {
        if fields.values("Auto-Submitted").contains(where: { autoSubmittedKeyword($0) == "auto-replied" }) { return true }
        if fields.values("Precedence").contains(where: { $0.lowercased() == "auto_reply" }) { return true }
        if !fields.values("X-Autoreply").isEmpty || !fields.values("X-Autorespond").isEmpty { return true }
        let ruleMade = fields.values("X-MS-Exchange-Generated-Message-Source").contains { $0.lowercased() == "mailbox rules agent" }
        if ruleMade, answersAMessage(fields) {
            let from = fields.values("From").flatMap { AddressList.parse($0) }.map { $0.address.lowercased() }
            let loops = fields.values("X-MS-Exchange-Inbox-Rules-Loop").flatMap(mailboxTokens)
            if let from = from.first, loops.isEmpty || loops.contains(from) { return true }
        }
        return false
    }

    /// Whether a message the Mailbox Rules Agent made answers another: `In-Reply-To` (an
    /// out-of-office reply), or Exchange's `X-MS-Exchange-Parent-Message-Id` on a message that
    /// is not a forward (a rule's template reply has no `In-Reply-To`, and may go with the
    /// mailbox as envelope sender; a rule's forward starts a new message, "FW: …", from the same
    /// parent). The subject is read only to keep a forward's stamp, never as evidence itself.
    ///
    /// - SeeAlso: /work/notes/exchange-samples.md: S1 (Exchange Online OOF, null sender,
    ///   In-Reply-To), S3 (on-premises Exchange 2013 template reply, `Return-Path` the mailbox, no
    ///   In-Reply-To, parent id), camilord utilus EmailUtilusTest.php.
    static func answersAMessage(_ fields: HeaderReader) -> Bool {
        if !fields.values("In-Reply-To").isEmpty { return true }
        guard !fields.values("X-MS-Exchange-Parent-Message-Id").isEmpty else { return false }
        return !(fields.values("Subject").first.map(isForwardSubject) ?? false)
    }

    /// `FW:`, `Fwd:` and the prefixes Outlook and Exchange write for a forward in other languages
    /// (a space before the colon allowed, as French typography writes it): Vietnamese `CT:`
    /// (chuyển tiếp) and `Chuyển tiếp:`, French `TR:`, German `WG:`, Spanish `RV:`, Portuguese
    /// `ENC:`, Italian `I:`, Dutch `Doorst:`, Danish/Norwegian `VS:`, Swedish `VB:`, Finnish `VL:`,
    /// Polish `PD:`, Hungarian `TOV:`, Turkish `İLT:`, Russian `Пересл:`, Chinese `转发:`/`轉寄:`,
    /// Japanese `転送:`, Korean `전달:`. A miss only lets a rule's forward pass as a reply.
    ///
    /// The list is gathered from mail clients' localizations and not checked against each: a
    /// prefix wrongly listed only keeps a template reply's stamp (a false refusal of an
    /// automatic reply with that subject), one missing lets a rule's forward pass.
    /// - SeeAlso: /work/notes/review-13b.md, point 7.
    static func isForwardSubject(_ subject: String) -> Bool {
        let head = subject.drop(while: { $0 == " " || $0 == "\t" }).prefix(16).lowercased()
        let prefixes = [
            "fw", "fwd", "ct", "chuyển tiếp", "tr", "wg", "rv", "enc", "i", "doorst", "vs", "vb", "vl", "pd", "tov", "i̇lt", "ilt",
            "пересл", "转发", "轉寄", "転送", "전달",
        ]
        return prefixes.contains { prefix in
            guard head.hasPrefix(prefix) else { return false }
            let rest = head.dropFirst(prefix.count).drop(while: { $0 == " " || $0 == "\u{00A0}" })
            return rest.hasPrefix(":") || rest.hasPrefix("：")
        }
    }

    /// RFC 2919 `List-Id`, RFC 2369 `List-Post`, or `Precedence: list` (RFC 3834 2 asks
    /// responders to treat it as list mail).
    static func isMailingList(_ fields: HeaderReader) -> Bool {
        if !fields.values("List-Id").isEmpty || !fields.values("List-Post").isEmpty { return true }
        return fields.values("Precedence").contains { $0.lowercased() == "list" }
    }

    /// `Precedence: bulk` / `junk`, or an envelope sender that is a bounce address: VERP or an
    /// e-mail service provider's return path (`bounces+…`, `bounce-…`, `prvs=` BATV, `msprvs1=`).
    /// Such mail's envelope sender differs from From, which alone is never evidence.
    ///
    /// - SeeAlso: rspamd/rspamd rules/misc.lua (the `ENVFROM_VERP` check, exempting SRS and
    ///   Google's `+caf_=`); https://datatracker.ietf.org/doc/html/draft-levine-smtp-batv-01.
    static func isBulk(_ fields: HeaderReader, sender: MailAddress?, recipients: [MailAddress]) -> Bool {
        if fields.values("Precedence").contains(where: { ["bulk", "junk"].contains($0.lowercased()) }) { return true }
        guard let sender else { return false }
        return isBounceAddress(sender) || isVERP(sender, recipients: recipients)
    }

    /// VERP: the one recipient, its `@` written `=`, inside the sender's local part
    /// (`list-bounces+nvb=hoabinh.gov.vn@lists.example`). Gmail's `+caf_=` and SRS encode an
    /// address the same way and are signals, not bounces.
    ///
    /// - SeeAlso: rspamd/rspamd rules/misc.lua `ENVFROM_VERP`; https://cr.yp.to/proto/verp.txt.
    static func isVERP(_ sender: MailAddress, recipients: [MailAddress]) -> Bool {
        // VERP is one envelope per recipient.
        guard recipients.count == 1, let at = sender.address.lastIndex(of: "@") else { return false }
        let local = sender.address[..<at].lowercased()
        let verp = recipients[0].address.lowercased().replacing("@", with: "=")
        guard !verp.isEmpty, local.contains(verp) else { return false }
        return !local.contains("+caf_=") && !local.hasPrefix("srs0") && !local.hasPrefix("srs1") && !local.contains("+srs=")
    }

    /// An ESP/VERP bounce address (never SRS or Gmail forwarding, which are signals).
    public static func isBounceAddress(_ sender: MailAddress) -> Bool {
        guard let at = sender.address.lastIndex(of: "@") else { return false }
        let local = sender.address[..<at].lowercased()
        if local.contains("+caf_=") || local.hasPrefix("srs0") || local.hasPrefix("srs1") || local.contains("+srs=") { return false }
        let prefixes = ["bounce", "bounces", "prvs=", "msprvs1=", "btv1==", "return-", "mailer-daemon"]
        return prefixes.contains { local.hasPrefix($0) } || local.contains("-bounces") || local.contains("+bounces")
    }

    static func isCalendarReply(_ part: MIMEPart) -> Bool {
        part.mediaType == "text/calendar" && part.contentType["method"]?.uppercased() == "REPLY"
    }

    // MARK: - Reading values

    /// The first keyword of an `Auto-Submitted` value, lowercased, without comments or parameters.
    static func autoSubmittedKeyword(_ value: String) -> String {
        var text = value
        while let open = text.firstIndex(of: "("), let close = text[open...].firstIndex(of: ")") {
            text.removeSubrange(open...close)
        }
        let word = text.split(whereSeparator: { $0 == ";" || $0 == " " || $0 == "\t" }).first ?? ""
        return word.lowercased()
    }

    /// The `local@domain` tokens in a value (space, comma or semicolon separated, angle brackets
    /// and quotes removed), lowercased; display-name words and anything else are dropped.
    static func mailboxTokens(_ value: String) -> [String] {
        let tokens = value.split(whereSeparator: { " \t,;".contains($0) }).lazy.compactMap { token -> String? in
            let trimmed = stripping(token, "<>\"'()[]")
            // RFC 5321 4.5.3.1.3: a path is at most 256 octets; anything longer is not a mailbox.
            guard trimmed.utf8.count <= 256, let at = trimmed.lastIndex(of: "@"), at != trimmed.startIndex,
                trimmed.index(after: at) != trimmed.endIndex
            else { return nil }
            return trimmed.lowercased()
        }
        return Array(tokens.prefix(maxFieldsPerName))
    }

    /// Lowercased, with a `+detail` of the local part removed: `Delivered-To` names the mailbox a
    /// subaddress was delivered to.
    static func normalizedMailbox(_ address: String) -> String {
        let lower = address.lowercased()
        guard let at = lower.lastIndex(of: "@") else { return lower }
        let local = lower[..<at]
        let base = local.firstIndex(of: "+").map { local[..<$0] } ?? local
        return String(base) + String(lower[at...])
    }

    /// `text` without the characters of `set` at either end.
    static func stripping(_ text: Substring, _ set: String) -> Substring {
        var lower = text.startIndex
        var upper = text.endIndex
        while lower < upper, set.contains(text[lower]) { lower = text.index(after: lower) }
        while upper > lower, set.contains(text[text.index(before: upper)]) { upper = text.index(before: upper) }
        return text[lower..<upper]
    }

    static func clip(_ value: String) -> String { HeaderText.sanitized(value, maxBytes: maxValueBytes) }
}

/// The top-level header fields of one message, unfolded, RFC 2047 decoded, read lazily by name.
struct HeaderReader {
    let header: HeaderSection
    let bytes: UnsafeRawBufferPointer

    func values(_ name: String) -> [String] {
        header.fields(named: name).prefix(ForwardingSignals.maxFieldsPerName).map { field in
            // The value is bounded by MIMELimits.maxHeaderFieldBytes already; decoding is lenient.
            EncodedWords.decode(lenientText(field.unfoldedValue(in: bytes)))
        }
    }
}
