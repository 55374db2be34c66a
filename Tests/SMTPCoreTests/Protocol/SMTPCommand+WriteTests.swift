import NIOCore
import Testing

@testable import SMTPCore

/// Commands as ThuGate writes them to the upstream.
@Suite struct SMTPCommandWriteTests {
    @Test(arguments: [
        (SMTPCommand.ehlo("thugate.test"), "EHLO thugate.test\r\n"),
        (.helo("thugate.test"), "HELO thugate.test\r\n"),
        (.mail(MailAddress("a@quangninh.gov.vn"), MailParameters()), "MAIL FROM:<a@quangninh.gov.vn>\r\n"),
        (.mail(MailAddress(""), MailParameters()), "MAIL FROM:<>\r\n"),
        (
            .mail(MailAddress("nguyễn@quảngninh.gov.vn"), MailParameters(size: 6024, body: .eightBitMIME, smtpUTF8: true)),
            "MAIL FROM:<nguyễn@quảngninh.gov.vn> SIZE=6024 BODY=8BITMIME SMTPUTF8\r\n"
        ),
        (.mail(MailAddress("a@b.vn"), MailParameters(body: .sevenBit)), "MAIL FROM:<a@b.vn> BODY=7BIT\r\n"),
        (.rcpt(MailAddress("\"a b\"@quangninh.gov.vn")), "RCPT TO:<\"a b\"@quangninh.gov.vn>\r\n"),
        (.data, "DATA\r\n"), (.rset, "RSET\r\n"), (.quit, "QUIT\r\n"), (.noop, "NOOP\r\n"),
        (.starttls, "STARTTLS\r\n"), (.help, "HELP\r\n"), (.vrfy("x"), "VRFY x\r\n"),
    ])
    func wireForm(command: SMTPCommand, text: String) {
        #expect(command.wireText == text)
    }

    @Test func writtenCommandsParseBackToThemselves() throws {
        let commands: [SMTPCommand] = [
            .ehlo("thugate.test"), .rcpt(MailAddress("b@quangninh.gov.vn")), .data, .rset, .quit,
            .mail(MailAddress("a@quangninh.gov.vn"), MailParameters(size: 10, body: .eightBitMIME, smtpUTF8: true)),
        ]
        for command in commands {
            #expect(try SMTPCommand.parse(Array(command.wireText.utf8.dropLast(2))) == command)
        }
    }

    @Test func lineEndingsInsideArgumentsAreNeverWritten() {
        #expect(SMTPCommand.ehlo("evil\r\nRCPT TO:<x@y>").wireText == "EHLO evilRCPT TO:<x@y>\r\n")
        #expect(SMTPCommand.rcpt(MailAddress("a@b\n.vn")).wireText == "RCPT TO:<a@b.vn>\r\n")
    }
}
