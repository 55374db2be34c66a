import DocumentText
import SecrecyMarks
import Testing

@Suite struct PDFTextFramesTests {
    static let units = [
        TextUnit(
            "TỐI MẬT",
            container: .pdfLine,
            page: 1,
            region: .topLeft,
            style: [.bold, .red],
            fontName: "TimesNewRomanPS-BoldMT",
            fontSize: 14,
            index: 5
        ),
        TextUnit("plain line", container: .pdfLine, page: 3, region: .other, index: 0),
        TextUnit("", container: .documentBody),
        TextUnit(String(repeating: "ệ", count: 10_000), container: .pdfLine, page: 2, fontName: String(repeating: "ấ", count: 200)),
    ]

    @Test func responseRoundTrips() throws {
        let text = ExtractedText(units: Self.units, problems: ["pdf-pages: 80 pages, the first 50 read", "encrypted: x"])
        let decoded = try PDFTextResponse(decoding: PDFTextResponse(text).encoded()).text
        #expect(decoded.units.count == 4)
        #expect(Array(decoded.units.prefix(3)) == Array(text.units.prefix(3)))
        #expect(decoded.problems == text.problems)
        // A font name past 255 bytes is cut on a character boundary, never inside a UTF-8 sequence.
        let font = try #require(decoded.units[3].fontName)
        #expect(font.utf8.count <= 255 && font.utf8.count > 250)
        #expect(font.allSatisfy { $0 == "ấ" })
        #expect(decoded.units[3].text == text.units[3].text)
    }

    @Test func requestRoundTrips() throws {
        let request = PDFTextRequest(
            pdf: Array("%PDF-1.7 body".utf8),
            maxPages: 50,
            positionedPages: 2,
            maxTextBytes: 1 << 20,
            maxUnits: 1000
        )
        let framed = PDFTextFrames.frame(request.encoded())
        var reader = PDFFrameReader(maxPayload: 1 << 20)
        reader.append(framed)
        #expect(try PDFTextRequest(decoding: #require(try reader.next())) == request)
        // The encoder that frames straight from the caller's buffer writes the same bytes.
        let direct = request.pdf.withUnsafeBytes {
            PDFTextRequest.encode(pdf: $0, maxPages: 50, positionedPages: 2, maxTextBytes: 1 << 20, maxUnits: 1000)
        }
        #expect(direct == framed)
    }

    /// Frames cut anywhere (one byte at a time, headers split, several frames in one read) come out whole and in order.
    @Test(arguments: [1, 2, 3, 5, 7, 64, 100_000])
    func framesSurviveSplitReads(chunk: Int) throws {
        let payloads: [[UInt8]] = [
            PDFTextResponse(ExtractedText(units: Self.units)).encoded(), [], Array("x".utf8),
            PDFTextResponse(ExtractedText(problems: ["pdf-broken: y"])).encoded(),
        ]
        let stream = payloads.flatMap(PDFTextFrames.frame)
        var reader = PDFFrameReader(maxPayload: 1 << 20)
        var out = [[UInt8]]()
        var offset = 0
        while offset < stream.count {
            reader.append(stream[offset..<min(stream.count, offset + chunk)])
            offset += chunk
            while let payload = try reader.next() { out.append(payload) }
        }
        #expect(out == payloads)
        #expect(reader.buffered == 0)
    }

    /// A header that declares more than the cap is refused as soon as its four bytes are in: no payload is waited for
    /// or made room for.
    @Test func oversizeFrameRefusedAtItsHeader() {
        var reader = PDFFrameReader(maxPayload: 1 << 20)
        reader.append([0x40, 0, 0])
        #expect((try? reader.next()) == .some(nil))
        reader.append([0])
        #expect(throws: PDFTextFrames.Error.self) { try reader.next() }
        // At the cap exactly is accepted (and waited for).
        var exact = PDFFrameReader(maxPayload: 16)
        exact.append([0, 0, 0, 16])
        #expect((try? exact.next()) == .some(nil))
    }

    @Test(arguments: [
        // A unit count the payload cannot hold.
        [0x7f, 0xff, 0xff, 0xff] as [UInt8],
        // One unit whose text length runs past the end.
        [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff] + [UInt8](repeating: 0, count: 20),
        // Truncated inside the problem count.
        [0, 0, 0, 0, 0, 0],
        // Trailing bytes after the problems.
        [0, 0, 0, 0, 0, 0, 0, 0, 9],
    ])
    func hostileResponsesAreRefused(payload: [UInt8]) {
        #expect(throws: PDFTextFrames.Error.self) { try PDFTextResponse(decoding: payload) }
    }

    @Test func unknownContainerIsRefused() {
        var payload = PDFTextResponse(ExtractedText(units: [TextUnit("a", container: .pdfLine)])).encoded()
        // The container name "pdf-line" starts after the count (4) and the text (4 + 1) and its length byte.
        payload[10] = UInt8(ascii: "X")
        #expect(throws: PDFTextFrames.Error.self) { try PDFTextResponse(decoding: payload) }
    }

    @Test func readyFrameIsAnEmptyResponse() throws {
        var reader = PDFFrameReader(maxPayload: 64)
        reader.append(PDFTextFrames.readyFrame)
        #expect(try PDFTextResponse(decoding: #require(try reader.next())) == PDFTextResponse(ExtractedText()))
    }
}
