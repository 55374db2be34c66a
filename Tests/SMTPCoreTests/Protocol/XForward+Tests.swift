import Testing

@testable import SMTPCore

/// The XFORWARD lines as Postfix's smtpd reads them: attributes it offered, xtext values, IPv6
/// marked, lines within 512 bytes.
@Suite struct XForwardTests {
    static let all: Set<String> = ["NAME", "ADDR", "PORT", "PROTO", "HELO", "SOURCE", "IDENT"]

    static func envelope(helo: String = "mail.example.vn", esmtp: Bool = true) -> Envelope {
        Envelope(heloName: helo, esmtp: esmtp, sender: MailAddress("a@example.vn"), parameters: MailParameters())
    }

    @Test func everyOfferedAttributeOnOneLine() {
        let commands = XForward.commands(
            origin: ClientOrigin(address: "203.0.113.9", port: 40000),
            envelope: Self.envelope(),
            offered: Self.all
        )
        #expect(
            commands.map(\.wireText) == [
                "XFORWARD NAME=[UNAVAILABLE] ADDR=203.0.113.9 PORT=40000 PROTO=ESMTP HELO=mail.example.vn SOURCE=REMOTE\r\n"
            ]
        )
    }

    @Test func onlyWhatTheServerOffered() {
        let commands = XForward.commands(
            origin: ClientOrigin(address: "2001:db8::7", port: nil, name: "mx.example.vn"),
            envelope: Self.envelope(esmtp: false),
            offered: ["ADDR", "NAME", "PROTO", "PORT"]
        )
        #expect(commands.map(\.wireText) == ["XFORWARD NAME=mx.example.vn ADDR=IPV6:2001:db8::7 PORT=[UNAVAILABLE] PROTO=SMTP\r\n"])
        #expect(XForward.commands(origin: ClientOrigin(address: "192.0.2.1", port: 1), envelope: Self.envelope(), offered: []).isEmpty)
    }

    @Test func hostileHeloIsXtextAndLinesStayShort() {
        // What a client may say in HELO: spaces, '=', '+', non-ASCII, as long as a command line allows.
        let helo = "a=b+c d\u{7F}" + String(repeating: "ế", count: 200)
        let commands = XForward.commands(
            origin: ClientOrigin(address: "unknown", port: 25, name: String(repeating: "n", count: 400)),
            envelope: Self.envelope(helo: helo),
            offered: Self.all
        )
        let lines = commands.map(\.wireText)
        #expect(lines.count == 2)
        for line in lines {
            #expect(line.utf8.count <= 512)
            #expect(line.hasPrefix("XFORWARD "))
            #expect(line.dropLast(2).allSatisfy { $0.isASCII && $0 != "\r" && $0 != "\n" })
        }
        #expect(lines[0].hasPrefix("XFORWARD NAME=" + String(repeating: "n", count: 255) + " ADDR=[UNAVAILABLE] PORT=25 PROTO=ESMTP\r\n"))
        #expect(lines[1].hasPrefix("XFORWARD HELO=a+3Db+2Bc+20d+7F+E1+BA+BF"))
        // Cut at a character boundary: 16 bytes of xtext for the ASCII, then 26 characters of 9.
        #expect(lines[1].ranges(of: "+E1+BA+BF").count == 26)
        #expect(lines[1].hasSuffix("+E1+BA+BF SOURCE=REMOTE\r\n"))
    }
}
