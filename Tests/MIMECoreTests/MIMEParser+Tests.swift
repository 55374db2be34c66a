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
        let m = parse(
            """
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
            """
        )
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
        let m = parse(
            """
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
            """
        )
        #expect(m.parts.count == 3)
        #expect(body(m, "1") == "--abcdef is not a delimiter\r\n --abc is not at line start")
        #expect(body(m, "2") == "second")
    }

    @Test func missingFinalBoundaryAndMissingBoundaryParameter() {
        let m = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nunterminated\r\n")
        #expect(m.parts.count == 2)
        #expect(body(m, "1") == "unterminated\r\n")
        #expect(m.parts[0].defects.map(\.kind) == [.missingFinalBoundary])
        // Every reader lets the last part run to the end: irregular, not malformed.
        #expect(m.parts[0].defects[0].severity == .irregular)
        // No boundary parameter: the body's own `--b` line is used, as readers that show the parts do.
        let n = parse("Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nhello\r\n")
        #expect(n.parts.count == 2)
        #expect(n.parts[0].defects.map(\.description) == ["multipart-without-boundary: split at --b", "missing-final-boundary"])
        #expect(body(n, "1") == "hello\r\n")
        #expect(n.uncoveredRanges().isEmpty)
    }

    @Test func messageRFC822IsOpened() {
        let m = parse(
            """
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
            """
        )
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
        let m = parse(
            """
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
            """
        )
        #expect(body(m, "1") == "Công văn số 12")
        // Base64 stops at the first line that is not base64; that line is kept as text, and the
        // lenient reading (junk skipped, RFC 2045 6.8) is there for the scanner.
        #expect(body(m, "2") == "Hel")
        #expect(m.parts[2].segments.map(\.kind) == [.textAfterBase64])
        #expect(m.bytes[m.parts[2].segments[0].range] == Array("bG8h*".utf8)[...])
        #expect(m.lenientBase64Body(of: m.parts[2]) == Array("Hello!".utf8))
        #expect(m.parts[1].defects.isEmpty)
        #expect(m.parts[2].defects.map(\.kind) == [.textAfterBase64])
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
        #expect(message.parts[0].defects.map(\.kind) == [.textAfterBase64])
    }

    @Test func decodedSizesBareLineEndingsAndTheDecodedLimit() {
        let text =
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVs\r\nbG8=\r\n"
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

/// Issue 9 item 2: no MIME shape hides bytes from the scanner. Every byte of a message is in a
/// header section, a leaf body or a segment that the scanner reads.
@Suite struct MIMECoverageTests {
    static let shapes: [(String, String)] = [
        ("preamble and epilogue", "Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b--\r\npost\r\n"),
        ("junk after the close delimiter", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b-- junk\r\nmore\r\n"),
        (
            "boundary never occurs",
            "Content-Type: multipart/mixed; boundary=nothere\r\n\r\n--real\r\nContent-Type: text/plain\r\n\r\nx\r\n--real--\r\n"
        ),
        ("no delimiter at all", "Content-Type: multipart/mixed; boundary=b\r\n\r\njust text\r\n"),
        ("no boundary parameter", "Content-Type: multipart/mixed\r\n\r\n--q\r\n\r\nx\r\n--q--\r\n"),
        (
            "boundary too long",
            "Content-Type: multipart/mixed; boundary=\(String(repeating: "a", count: 300))\r\n\r\n--\(String(repeating: "a", count: 300))\r\n\r\nx\r\n"
        ),
        (
            "inner boundary a prefix of the outer",
            "Content-Type: multipart/mixed; boundary=abcdef\r\n\r\n--abcdef\r\nContent-Type: multipart/mixed; boundary=abc\r\n\r\n--abc\r\n\r\ninner\r\n--abc--\r\n--abcdef--\r\n"
        ),
        (
            "outer boundary a prefix of the inner",
            "Content-Type: multipart/mixed; boundary=abc\r\n\r\n--abc\r\nContent-Type: multipart/mixed; boundary=abcdef\r\n\r\n--abcdef\r\n\r\ninner\r\n--abcdef--\r\n--abc--\r\n"
        ),
        (
            "the same boundary nested",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--b--\r\n"
        ),
        ("close before open", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n--b\r\n\r\nx\r\n--b--\r\n"),
        (
            "missing final boundary, nested",
            "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n--o\r\n\r\nb\r\n"
        ),
        ("base64 then a list footer", "Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n\r\n___\r\nList footer\r\n"),
        (
            "message/rfc822 in base64",
            "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQp5DQo=\r\n"
        ),
        ("header line without colon", "Content-Type: text/plain\r\nnot a header\r\nbody\r\n"),
        ("part with headers only", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b--\r\n"),
        (
            "duplicated Content-Type",
            "Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
        ),
    ]

    @Test(arguments: shapes.map(\.0))
    func everyByteIsCovered(_ name: String) {
        let text = Self.shapes.first { $0.0 == name }!.1
        let m = MIMEParser.parse(Array(text.utf8))
        #expect(m.uncoveredRanges().isEmpty, "\(name): \(m.uncoveredRanges())")
    }

    @Test func limitsLeaveTheRestAsScannedText() {
        var limits = MIMELimits()
        limits.maxParts = 3
        var text = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        for i in 0..<10 { text += "--b\r\n\r\npart \(i)\r\n" }
        text += "--b--\r\n"
        let parts = MIMEParser.parse(Array(text.utf8), limits: limits)
        #expect(parts.parts.count == 3)
        #expect(parts.uncoveredRanges().isEmpty)
        let notParsed = parts.parts[0].segments.filter { $0.kind == .notParsed }
        #expect(notParsed.count == 1)
        #expect(String(decoding: parts.bytes[notParsed[0].range], as: UTF8.self).hasPrefix("\r\npart 2"))
        #expect(String(decoding: parts.bytes[notParsed[0].range], as: UTF8.self).contains("part 9"))

        limits = MIMELimits()
        limits.maxDepth = 2
        var nested = ""
        for i in 0..<5 { nested += "Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n" }
        nested += "\r\nleaf\r\n"
        let deep = MIMEParser.parse(Array(nested.utf8), limits: limits)
        #expect(deep.uncoveredRanges().isEmpty)
        #expect(deep.parts.last!.isUnsplitMultipart)
    }

    @Test func headerFieldOverTheLimitEndsTheSection() {
        var limits = MIMELimits()
        limits.maxHeaderFieldBytes = 2000
        let long = "X-Long: " + String(repeating: "a", count: 3000) + "\r\nSubject: x\r\n\r\nbody\r\n"
        let m = MIMEParser.parse(Array(long.utf8), limits: limits)
        #expect(m.parts[0].defects.map(\.description) == ["limit-exceeded: header field over 2000 bytes"])
        #expect(m.uncoveredRanges().isEmpty)
        // A 4 KB line is within the default 64 KiB.
        let ok = MIMEParser.parse(Array(("X-Long: " + String(repeating: "a", count: 4000) + "\r\n\r\nbody\r\n").utf8))
        #expect(ok.defects.isEmpty)
    }

    @Test func preambleEpilogueAndPaddingAreSegments() {
        let m = MIMEParser.parse(
            Array("Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b-- pad\r\npost\r\n".utf8)
        )
        let kinds = m.parts[0].segments.map(\.kind)
        #expect(kinds == [.preamble, .delimiter, .delimiter, .epilogue])
        let text = m.parts[0].segments.map { String(decoding: m.bytes[$0.range], as: UTF8.self) }
        #expect(text == ["pre", "\r\n--b\r\n", "\r\n--b-- ", "pad\r\npost\r\n"])
        #expect(m.defects.isEmpty)
    }

    @Test func aBoundaryThatNeverOccursIsInferredFromTheBody() {
        let m = MIMEParser.parse(
            Array(
                """
                Content-Type: multipart/mixed; boundary="declared"\r
                \r
                --used\r
                Content-Type: text/plain\r
                \r
                hello\r
                --used\r
                Content-Type: application/octet-stream; name=a.bin\r
                Content-Transfer-Encoding: base64\r
                \r
                SGVsbG8=\r
                --used--\r
                """.utf8
            )
        )
        #expect(m.parts.map(\.path) == ["", "1", "2"])
        #expect(m.parts[0].defects.map(\.description) == ["boundary-not-found: split at --used"])
        #expect(m.parts[0].defects[0].severity == .ambiguous)
        #expect(m.decodedBody(of: m.parts[2]).bytes == Array("Hello".utf8))
        // Nothing delimiter-like: one opaque leaf, read as text.
        let opaque = MIMEParser.parse(Array("Content-Type: multipart/mixed; boundary=x\r\n\r\n-- \r\nsignature\r\n".utf8))
        #expect(opaque.parts.count == 1 && opaque.parts[0].isUnsplitMultipart)
        #expect(opaque.parts[0].defects.map(\.description) == ["boundary-not-found: scanned as one part"])
        // PGP armor lines are not boundaries.
        #expect(
            MIMEParser.embeddedMultipart(Array("-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n".utf8)[...])
                == nil
        )
    }

    @Test func conflictingFieldsGiveTheOtherReading() {
        let text =
            "Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n--b--\r\n"
        let m = MIMEParser.parse(Array(text.utf8))
        #expect(m.parts.count == 1 && m.parts[0].mediaType == "text/plain")
        #expect(m.parts[0].defects.map(\.description) == ["conflicting-fields: Content-Type given 2 ways"])
        let other = MIMEParser.parse(m.lastFieldReading(of: m.parts[0])!)
        #expect(other.parts.map(\.mediaType) == ["multipart/mixed", "application/octet-stream"])
        // The same value twice is no conflict.
        #expect(MIMEParser.parse(Array("Content-Type: text/plain\r\ncontent-type: TEXT/PLAIN\r\n\r\nx\r\n".utf8)).defects.isEmpty)
    }

    @Test func fieldsAfterALineWithoutColonGiveTheOtherReading() {
        let text = "Content-Type: application/octet-stream\r\njunk line\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n"
        let m = MIMEParser.parse(Array(text.utf8))
        #expect(m.parts[0].defects.map(\.kind) == [.headerLineWithoutColon, .fieldsAfterLineWithoutColon])
        let other = MIMEParser.parse(m.readingPastLineWithoutColon(of: m.parts[0])!)
        #expect(other.parts[0].transferEncoding == "base64")
        #expect(other.decodedBody(of: other.parts[0]).bytes == Array("Hello".utf8))
        // A line without colon followed by text only: the body starts there, nothing else to read.
        let plain = MIMEParser.parse(Array("Subject: x\r\nthis is not a header\r\nmore\r\n".utf8))
        #expect(plain.otherReadings(of: plain.parts[0]).isEmpty)
    }

    @Test func uuencodeTransferEncodingIsDecoded() {
        let text =
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n%2&5L;&\\`\r\n`\r\nend\r\n"
        let m = MIMEParser.parse(Array(text.utf8))
        #expect(m.decodedBody(of: m.parts[0]).bytes == Array("Hello".utf8))
    }

    @Test func messagePartialCannotBeChecked() {
        let m = MIMEParser.parse(Array("Content-Type: message/partial; id=x; number=2; total=3\r\n\r\nrest\r\n".utf8))
        #expect(m.parts[0].defects.map(\.description) == ["message-partial: fragment 2 of 3: the whole cannot be checked"])
        #expect(m.parts[0].defects[0].isMalformation)
    }

    @Test func signedDataOfAnythingElseIsNil() {
        #expect(SignedData.content(of: Array("not DER at all".utf8)) == nil)
        // ContentInfo of id-data (1.2.840.113549.1.7.1), not signed data.
        let data: [UInt8] = [0x30, 0x0F, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01, 0xA0, 0x02, 0x04, 0x00]
        #expect(SignedData.content(of: data) == nil)
        // Lengths past the end, and endless indefinite nesting, are refused without a crash.
        #expect(SignedData.content(of: [0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x06]) == nil)
        #expect(
            SignedData.content(of: [UInt8](repeating: 0x30, count: 10_000).enumerated().map { $0.offset % 2 == 0 ? 0x30 : 0x80 }) == nil
        )
    }
}
