import Testing
@testable import MIMECore

private func parse(_ text: String, limits: MIMELimits = MIMELimits()) -> ParsedMessage {
    MIMEParser.parse(Array(text.utf8), limits: limits)
}

private func body(_ message: ParsedMessage, _ path: String) -> String {
    let part = message.parts.first { $0.path == path }!
    return String(decoding: message.decodedBody(of: part).bytes, as: UTF8.self)
}

@Suite struct MIMEParserTests {
    @Test func simpleMessageHeadersFoldedAndDuplicated() {
        let m = parse("Subject: one\r\n two\r\nReceived: a\r\nreceived: b\r\nX-Empty:\r\n\r\nBody\r\n")
        let root = m.parts[0]
        #expect(m.parts.count == 1)
        #expect(m.headerValue("subject", of: root) == "one two")
        #expect(root.header.fields(named: "RECEIVED").count == 2)
        #expect(m.headerValue("X-Empty", of: root) == "")
        #expect(root.mediaType == "text/plain")
        #expect(body(m, "") == "Body\r\n")
        #expect(root.defects.isEmpty)
    }

    @Test func lfOnlyMessageAndObsoleteSpaceBeforeColon() {
        let m = parse("Subject : hi\nFrom: a@b\n\nbody\n")
        #expect(m.headerValue("Subject", of: m.parts[0]) == "hi")
        #expect(body(m, "") == "body\n")
        #expect(m.parts[0].defects.map(\.kind) == [.obsoleteHeaderSyntax])
    }

    @Test func lineWithoutColonStartsTheBody() {
        let m = parse("Subject: x\r\nthis is not a header\r\nmore\r\n")
        #expect(m.parts[0].header.fields.count == 1)
        #expect(body(m, "") == "this is not a header\r\nmore\r\n")
        #expect(m.parts[0].defects.map(\.kind) == [.headerLineWithoutColon])
    }

    @Test func nestedMultipartWithPreambleEpilogueAndAttachment() {
        let m = parse("""
            Content-Type: multipart/mixed; boundary="outer"\r
            \r
            This is the preamble.\r
            --outer\r
            Content-Type: multipart/alternative; boundary=inner\r
            \r
            --inner\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            plain\r
            --inner\r
            Content-Type: text/html\r
            \r
            <p>html</p>\r
            --inner--\r
            --outer\r
            Content-Type: application/pdf; name="cv.pdf"\r
            Content-Disposition: attachment; filename="van ban.pdf"\r
            Content-Transfer-Encoding: base64\r
            \r
            JVBERi0xLjQK\r
            --outer--\r
            epilogue\r
            """)
        #expect(m.parts.map(\.path) == ["", "1", "1.1", "1.2", "2"])
        #expect(m.parts.map(\.mediaType) == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"])
        #expect(body(m, "1.1") == "plain")
        #expect(body(m, "1.2") == "<p>html</p>")
        #expect(body(m, "2") == "%PDF-1.4\n")
        #expect(m.parts[4].filename == "van ban.pdf")
        #expect(m.parts[2].charset == "utf-8")
        #expect(m.defects.isEmpty)
        #expect(m.parts[0].children == [1, 4])
    }

    @Test func boundaryLookalikesAreContent() {
        let m = parse("""
            Content-Type: multipart/mixed; boundary=abc\r
            \r
            --abc\r
            \r
            --abcdef is not a delimiter\r
             --abc is not at line start\r
            --abc\r
            \r
            second\r
            --abc--\r
            """)
        #expect(m.parts.count == 3)
        #expect(body(m, "1") == "--abcdef is not a delimiter\r\n --abc is not at line start")
        #expect(body(m, "2") == "second")
    }

    @Test func missingFinalBoundaryAndMissingBoundaryParameter() {
        let m = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nunterminated\r\n")
        #expect(m.parts.count == 2)
        #expect(body(m, "1") == "unterminated\r\n")
        #expect(m.parts[0].defects.map(\.kind) == [.missingFinalBoundary])
        #expect(m.parts[0].defects[0].isMalformation)
        let n = parse("Content-Type: multipart/mixed\r\n\r\n--b\r\n")
        #expect(n.parts.count == 1)
        #expect(n.parts[0].defects.map(\.kind) == [.multipartWithoutBoundary])
    }

    @Test func messageRFC822IsOpened() {
        let m = parse("""
            Content-Type: multipart/mixed; boundary=b\r
            \r
            --b\r
            \r
            see attached\r
            --b\r
            Content-Type: message/rfc822\r
            \r
            Subject: =?utf-8?B?VGjGsCBn4butaQ==?=\r
            Content-Type: multipart/mixed; boundary=c\r
            \r
            --c\r
            \r
            inner body\r
            --c--\r
            --b--\r
            """)
        #expect(m.parts.map(\.path) == ["", "1", "2", "2", "2.1"])
        let inner = m.parts[3]
        #expect(m.headerValue("Subject", of: inner) == "Thư gửi")
        #expect(body(m, "2.1") == "inner body")
    }

    @Test func digestPartsDefaultToMessages() {
        let m = parse("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: a\r\n\r\nA\r\n--d--\r\n")
        #expect(m.parts[1].mediaType == "message/rfc822")
        #expect(m.parts.count == 3)
    }

    @Test func transferEncodingsAndTheirDefects() {
        let m = parse("""
            Content-Type: multipart/mixed; boundary=b\r
            \r
            --b\r
            Content-Transfer-Encoding: Quoted-Printable\r
            \r
            C=C3=B4ng v=C4=83n =\r
            s=E1=BB=91 12  \r
            --b\r
            Content-Transfer-Encoding: base64\r
            \r
            SGVs\r
            bG8h*\r
            --b--\r
            """)
        #expect(body(m, "1") == "Công văn số 12")
        #expect(body(m, "2") == "Hello!")
        #expect(m.parts[1].defects.isEmpty)
        #expect(m.parts[2].defects.map(\.kind) == [.invalidBase64])
    }

    @Test func deepNestingStopsAtTheLimitQuickly() {
        // 100,000 levels of multipart: bounded by maxDepth, no recursion, no blow-up.
        var text = ""
        for i in 0..<100_000 { text += "Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n" }
        text += "\r\nleaf\r\n"
        let m = parse(text)
        #expect(m.parts.count == MIMELimits().maxDepth + 1)
        #expect(m.defects.contains { $0.defect.kind == .limitExceeded })
    }

    @Test func hugeGarbageBase64IsCheckedWithoutDecodingIt() {
        // 64 MB of junk in a base64 part: parsing only scans it.
        let head = Array("Content-Transfer-Encoding: base64\r\n\r\n".utf8)
        let message = MIMEParser.parse(head + [UInt8](repeating: UInt8(ascii: "!"), count: 64 << 20))
        #expect(message.parts[0].defects.map(\.kind) == [.invalidBase64])
    }

    @Test func decodedSizesBareLineEndingsAndTheDecodedLimit() {
        let text = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVs\r\nbG8=\r\n"
            + "--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nC=C3=B4ng =\r\nv\r\n--b\r\n\r\nbare\nline\r\n--b--\r\n"
        let m = parse(text)
        #expect(m.parts[1].decodedSize == 5)
        #expect(m.parts[2].decodedSize == Array("Công v".utf8).count)
        #expect(m.parts[3].decodedSize == 9)
        #expect(m.parts[3].defects.map(\.kind) == [.bareLineEnding])
        #expect(m.parts[1].defects.isEmpty && m.parts[2].defects.isEmpty)
        // A message that uses LF throughout (read from a Unix file) has no bare line endings.
        #expect(parse("Subject: x\n\nline\nline\n").parts[0].defects.isEmpty)
        var limits = MIMELimits()
        limits.maxDecodedBytes = 6
        #expect(parse(text, limits: limits).defects.contains { $0.defect.kind == .limitExceeded })
    }

    @Test func partCountLimit() {
        var limits = MIMELimits()
        limits.maxParts = 10
        var text = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        for _ in 0..<50 { text += "--b\r\n\r\nx\r\n" }
        text += "--b--\r\n"
        let m = parse(text, limits: limits)
        #expect(m.parts.count == 10)
        #expect(m.parts[0].defects.contains { $0.kind == .limitExceeded })
    }

    @Test func hugeHeaderSectionIsCut() {
        var limits = MIMELimits()
        limits.maxHeaderSectionBytes = 4096
        let text = String(repeating: "X-Filler: 0123456789012345678901234567890123456789\r\n", count: 1000) + "\r\nbody\r\n"
        let m = parse(text, limits: limits)
        #expect(m.parts[0].header.range.count <= 4096)
        #expect(m.parts[0].defects.contains { $0.kind == .limitExceeded })
    }

    @Test func fiftyMegabyteHeaderIsCutAtTheLimit() {
        // One header field of 50 MB: the section stops at max_header_size, the rest is body.
        let huge = Array("X-Huge: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 50 << 20) + Array("\r\n\r\nbody\r\n".utf8)
        let m = MIMEParser.parse(huge)
        #expect(m.parts.count == 1)
        #expect(m.parts[0].header.fields.isEmpty)
        #expect(m.parts[0].defects.contains { $0.kind == .limitExceeded })
    }

    @Test func eightBitHeadersAndNulBytesAreRecorded() {
        let m = MIMEParser.parse(Array("Subject: C\u{F4}ng v\u{0103}n\r\n\r\nA".utf8) + [0] + Array("B\r\n".utf8))
        #expect(m.parts[0].defects.map(\.kind) == [.eightBitHeader, .nulByte])
    }
}
