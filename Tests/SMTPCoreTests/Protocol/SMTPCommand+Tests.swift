import Testing

@testable import SMTPCore

@Suite struct SMTPCommandTests {
    private func parse(_ line: String) throws(SMTPCommandError) -> SMTPCommand {
        try SMTPCommand.parse(Array(line.utf8))
    }

    @Test(arguments: [
        ("EHLO client.example", SMTPCommand.ehlo("client.example")),
        ("helo [127.0.0.1]", .helo("[127.0.0.1]")),
        ("MAIL FROM:<a@b.gov.vn>", .mail(MailAddress("a@b.gov.vn"), MailParameters())),
        (
            "mail from: <a@b.gov.vn> SIZE=1000 BODY=8bitmime",
            .mail(MailAddress("a@b.gov.vn"), MailParameters(size: 1000, body: .eightBitMIME))
        ),
        ("MAIL FROM:<>", .mail(MailAddress(""), MailParameters())),
        ("MAIL FROM:<nguyễn@b.gov.vn> SMTPUTF8", .mail(MailAddress("nguyễn@b.gov.vn"), MailParameters(smtpUTF8: true))),
        ("RCPT TO:<@relay.example:c@d.gov.vn>", .rcpt(MailAddress("c@d.gov.vn"))),
        ("RCPT TO:<\"quoted name\"@d.gov.vn>", .rcpt(MailAddress("\"quoted name\"@d.gov.vn"))),
        ("RCPT TO:<Postmaster>", .rcpt(MailAddress("Postmaster"))),
        ("DATA", .data), ("rset", .rset), ("NOOP anything", .noop), ("QUIT", .quit), ("HELP", .help),
        ("VRFY user", .vrfy("user")), ("EXPN list", .expn("list")), ("STARTTLS", .starttls),
        ("BDAT 100 LAST", .notImplemented("BDAT")), ("AUTH PLAIN", .notImplemented("AUTH")),
    ])
    func accepted(line: String, command: SMTPCommand) throws {
        #expect(try parse(line) == command)
    }

    @Test(arguments: [
        ("FOO", SMTPCommandError.Kind.unknownCommand),
        ("EHLO", .syntax),
        ("MAIL FROM:<a@b", .syntax),
        ("MAIL TO:<a@b.c>", .syntax),
        ("MAIL FROM:<no-at-sign>", .badSenderAddress),
        ("MAIL FROM:<a b@c.d>", .badSenderAddress),
        ("RCPT TO:<a@b..c>", .badRecipientAddress),
        ("MAIL FROM:<a@b.c> SIZE=abc", .badParameterValue("SIZE")),
        ("MAIL FROM:<a@b.c> BODY=BINARYMIME", .badParameterValue("BODY")),
        ("MAIL FROM:<a@b.c> AUTH=<>", .unknownParameter("AUTH")),
        ("RCPT TO:<>", .badRecipientAddress),
        ("RCPT TO:<a@b.c> NOTIFY=NEVER", .unknownParameter("NOTIFY")),
        ("DATA now", .syntax),
    ])
    func refused(line: String, kind: SMTPCommandError.Kind) {
        #expect(throws: SMTPCommandError(kind)) { try parse(line) }
    }

    @Test func invalidUTF8IsASyntaxError() {
        #expect(throws: SMTPCommandError(.syntax)) { try SMTPCommand.parse([0x4D, 0x41, 0x49, 0x4C, 0x20, 0xFF]) }
    }

    /// Found by `Scripts/fuzz command` (FuzzRegressions/command-crash-*): an unbracketed path
    /// whose quoted local part held a bare quote parsed, and relayed as `<path>` read otherwise.
    /// A quoted local part is now one Quoted-string, and an address literal cannot hold `>`.
    @Test(arguments: [
        "RCPT TO:\"q<ql<\"u\"@DAT",
        "RCPT TO:<\"a\"b\"@example.vn>",
        "RCPT TO:<\"a\\\"@example.vn>",
        "RCPT TO:x@[a>b]",
        "RCPT TO:<x@[a\\]>",
        "RCPT TO:<@relay.vn,v:@.user@example.vn>",
    ])
    func pathsThatWouldReadOtherwiseWhenRelayed(line: String) {
        #expect(throws: SMTPCommandError.self) { try parse(line) }
    }

    @Test func quotedPairsAndAddressLiteralsStillParse() throws {
        #expect(try parse("RCPT TO:<\"a\\\"b c\"@example.vn>") == .rcpt(MailAddress("\"a\\\"b c\"@example.vn")))
        #expect(try parse("RCPT TO:<u@[IPv6:2001:db8::1]>") == .rcpt(MailAddress("u@[IPv6:2001:db8::1]")))
        #expect(try parse("MAIL FROM:<\"\"@[192.0.2.1]>") == .mail(MailAddress("\"\"@[192.0.2.1]"), MailParameters()))
    }

    /// SRS senders of VERP addresses pass RFC 5321's 64-octet local part, and Postfix takes them:
    /// so does ThuGate, up to the whole path's 256 octets.
    @Test func localPartsPastSixtyFourOctetsAreTakenAsPostfixTakesThem() throws {
        let srs = "SRS0=HHbQ=TT=em1234.example.com=bounces+4711-ab12-nguyenvana=hoabinh.gov.vn@hoabinh.gov.vn"
        #expect(try parse("MAIL FROM:<\(srs)>") == .mail(MailAddress(srs), MailParameters()))
        let local = String(repeating: "a", count: 256)
        #expect(try parse("RCPT TO:<\(local)@hoabinh.gov.vn>") == .rcpt(MailAddress("\(local)@hoabinh.gov.vn")))
        #expect(throws: SMTPCommandError(.badRecipientAddress)) { try parse("RCPT TO:<a\(local)@hoabinh.gov.vn>") }
    }
}
