import Testing

@testable import MIMECore

@Suite struct AddressListTests {
    @Test(arguments: [
        ("a@quangninh.gov.vn", [EmailAddress(address: "a@quangninh.gov.vn")]),
        ("Nguyễn Văn A <a@quangninh.gov.vn>", [EmailAddress(displayName: "Nguyễn Văn A", address: "a@quangninh.gov.vn")]),
        (
            "\"Trần, Thị B\" <b@x.vn>, c@y.vn",
            [EmailAddress(displayName: "Trần, Thị B", address: "b@x.vn"), EmailAddress(address: "c@y.vn")]
        ),
        ("=?utf-8?B?VsSDbiB0aMawIFPhu58=?= <vt@x.gov.vn>", [EmailAddress(displayName: "Văn thư Sở", address: "vt@x.gov.vn")]),
        (
            "Phòng ban: a@x.vn, B <b@x.vn>;, d@y.vn",
            [
                EmailAddress(address: "a@x.vn", group: "Phòng ban"), EmailAddress(displayName: "B", address: "b@x.vn", group: "Phòng ban"),
                EmailAddress(address: "d@y.vn"),
            ]
        ),
        ("Undisclosed recipients:;", []),
        ("a@x.vn (Ông A)", [EmailAddress(displayName: "Ông A", address: "a@x.vn")]),
        ("<@relay.vn:user@host.vn>", [EmailAddress(address: "user@host.vn")]),
        ("\"john doe\"@example.com", [EmailAddress(address: "\"john doe\"@example.com")]),
        ("<a@x.vn> <b@y.vn>", [EmailAddress(address: "a@x.vn"), EmailAddress(address: "b@y.vn")]),
        ("A (comment) <a@x.vn>", [EmailAddress(displayName: "A", address: "a@x.vn")]),
    ])
    func parses(text: String, expected: [EmailAddress]) {
        #expect(AddressList.parse(text) == expected)
    }

    @Test func domains() {
        #expect(EmailAddress(address: "A@QuangNinh.Gov.VN.").domain == "quangninh.gov.vn")
        #expect(EmailAddress(address: "nobody").domain == "")
    }
}

@Suite struct UUEncodeTests {
    @Test func uuencodedFileInATextBodyIsFound() {
        // "Cat" uuencoded by `uuencode`: begin 644 cat.txt / #0V%T / ` / end
        let text = "Subject: old client\r\n\r\nSee the file.\r\n\r\nbegin 644 cat.txt\r\n#0V%T\r\n`\r\nend\r\nBye\r\n"
        let m = MIMEParser.parse(Array(text.utf8))
        #expect(m.parts[0].uuencodedNames == ["cat.txt"])
        #expect(m.uuencodedFiles(in: m.parts[0]) == [UUEncodedFile(name: "cat.txt", mode: "644", content: Array("Cat".utf8), clean: true)])
        #expect(MIMEParser.parse(Array("Subject: x\r\n\r\nbegin the meeting at 9\r\n".utf8)).parts[0].uuencodedNames.isEmpty)
    }

    @Test func addressesOfAMessage() {
        let m = MIMEParser.parse(Array("From: A <a@x.gov.vn>\r\nTo: b@gmail.com,\r\n c@y.gov.vn\r\nTo: d@z.vn\r\n\r\n".utf8))
        #expect(m.addresses("to", of: m.parts[0]).map(\.address) == ["b@gmail.com", "c@y.gov.vn", "d@z.vn"])
        #expect(m.addresses("From", of: m.parts[0]).first?.displayName == "A")
    }
}
