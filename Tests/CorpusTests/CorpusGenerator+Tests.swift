import Testing
import VietText

@testable import Corpus

@Suite struct CorpusGeneratorTests {
    @Test func theSameSeedGivesTheSameBytes() throws {
        let first = CorpusGenerator(seed: 11, count: 80, mix: try CorpusMix(parsing: "violations=0.2"))
        let second = CorpusGenerator(seed: 11, count: 80, mix: try CorpusMix(parsing: "violations=0.2"))
        #expect(first.kinds == second.kinds)
        for index in 0..<80 {
            let a = first.message(at: index)
            let b = second.message(at: index)
            #expect(a.bytes == b.bytes, "message \(index)")
            #expect(a.entry == b.entry)
        }
        // Message 5 is the same bytes whatever order the messages are made in.
        _ = first.message(at: 40)
        #expect(first.message(at: 5).bytes == second.message(at: 5).bytes)
        let other = CorpusGenerator(seed: 12, count: 80, mix: try CorpusMix(parsing: "violations=0.2"))
        #expect((0..<80).filter { other.message(at: $0).bytes == first.message(at: $0).bytes }.isEmpty)
    }

    @Test func theMixGivesExactCounts() throws {
        let mix = try CorpusMix(parsing: "violations=0.08, legacy=0.09,attachments=0.3,images=0.02,replies=0.1,forwards=0.05,lists=0.01")
        let kinds = CorpusGenerator(seed: 3, count: 1000, mix: mix).kinds
        func count(_ kind: MessageKind) -> Int { kinds.filter { $0 == kind }.count }
        #expect(kinds.count == 1000)
        #expect(kinds.filter(\.isViolation).count == 80)
        // Every violation kind in turn: 80 of 8 kinds is 10 each.
        for kind in MessageKind.violations { #expect(count(kind) == 10, "\(kind)") }
        #expect(count(.legacyTCVN3) + count(.legacyVNI) + count(.legacyCP1258) == 90)
        #expect(count(.legacyTCVN3) == 30 && count(.legacyVNI) == 30)
        #expect(count(.congvan) == 300)
        #expect(count(.scan) == 20)
        #expect(count(.reply) == 100)
        #expect(count(.forward) == 50)
        #expect(count(.list) == 10)
        // From 1,000 messages on, 0.5 % large ones unless the mix says otherwise.
        #expect(count(.large) == 5)
        #expect(count(.notice) + count(.meeting) == 1000 - 80 - 90 - 300 - 20 - 100 - 50 - 10 - 5)
        // Shuffled: the violations are not all at the start.
        #expect(kinds.prefix(80).filter(\.isViolation).count < 40)
    }

    @Test func smallCorporaHaveNoLargeOrOversizeMessagesUnlessAsked() throws {
        let small = CorpusGenerator(seed: 1, count: 40, mix: try CorpusMix(parsing: "violations=0.25"))
        #expect(!small.kinds.contains(.large) && !small.kinds.contains(.oversize))
        #expect(small.kinds.filter(\.isViolation).count == 10)
        let largest = (0..<40).map { small.message(at: $0).bytes.count }.max() ?? 0
        #expect(largest < 1 << 20)
        let asked = CorpusGenerator(seed: 1, count: 40, mix: try CorpusMix(parsing: "violations=0.2,oversize=1,large=0.05"))
        #expect(asked.kinds.filter { $0 == .oversize }.count == 1 && asked.kinds.filter { $0 == .large }.count == 2)
        let noOversize = CorpusGenerator(seed: 1, count: 1000, mix: try CorpusMix(parsing: "oversize=0"))
        #expect(!noOversize.kinds.contains(.oversize) && noOversize.kinds.contains(.large))
    }

    @Test(arguments: ["viruses=0.1", "violations=2", "violations", "legacy=0.6,attachments=0.6"])
    func aBadMixIsRefused(_ text: String) {
        #expect(throws: MixError.self) { try CorpusMix(parsing: text) }
    }

    @Test func theManifestLineIsJSONWithTheExpectedVerdict() throws {
        let generator = CorpusGenerator(seed: 5, count: 60, mix: try CorpusMix(parsing: "violations=0.2"))
        let index = try #require(generator.kinds.firstIndex(of: .encryptedZip))
        let line = generator.message(at: index).entry.jsonLine
        #expect(line.hasPrefix("{\"file\":\"\(CorpusGenerator.fileName(index))\",\"mail_from\":\""))
        #expect(line.hasSuffix(",\"kind\":\"encrypted-zip\",\"expected\":{\"action\":\"quarantine\",\"rules\":[\"encrypted-archive\"]}}"))
        #expect(CorpusGenerator.fileName(0) == "000001.eml" && CorpusGenerator.fileName(123_455) == "123456.eml")
    }

    @Test func messagesAreCRLFWithShortHeaderLines() throws {
        let generator = CorpusGenerator(seed: 9, count: 120, mix: try CorpusMix(parsing: "violations=0.1,oversize=0"))
        for index in 0..<120 {
            let bytes = generator.message(at: index).bytes
            var lineLength = 0
            var inHeader = true
            var previous: UInt8 = 0
            for byte in bytes {
                if byte == 10 {
                    #expect(previous == 13, "bare LF in message \(index)")
                    if inHeader { #expect(lineLength <= 79, "header line of \(lineLength) in message \(index)") }
                    if lineLength == 1 { inHeader = false }
                    lineLength = 0
                } else {
                    lineLength += 1
                }
                previous = byte
            }
        }
    }

    @Test func legacyTextIsInItsEncodingAndDetectedAsIt() {
        let text = "Kính gửi: Các phòng, đơn vị trực thuộc. Đề nghị các đồng chí cập nhật thông tin cá nhân trên phần mềm."
        for encoding in [VietEncoding.tcvn3, .vni, .cp1258] {
            let bytes = MessageBuilder.legacyBytes(text, encoding)
            #expect(VietConverter.toUnicode(bytes, from: encoding) == VietConverter.nfc(text + "\r\n"), "\(encoding)")
            #expect(VietDetector.detect(bytes).kind == .legacy(encoding), "\(encoding)")
        }
        // TCVN3 has no toned capitals: written in lowercase, as with the lowercase font.
        #expect(VietConverter.toUnicode(MessageBuilder.legacyBytes("Ủy ban", .tcvn3), from: .tcvn3) == "ủy ban\r\n")
    }
}
