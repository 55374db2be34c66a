import Foundation
import Testing

@testable import VietText

@Suite struct VietConverterTests {
    static let letters = VietLetters.precomposed.map { String($0) }
    static let legacy: [VietEncoding] = [.tcvn3, .vn1, .vni, .viscii, .vps, .cp1258, .viqr, .nfd, .unicode]

    /// 12 vowels × 6 tones × 2 cases = 144, minus the 12 plain ASCII a e i o u y / A E I O U Y
    /// = 132 precomposed vowels, plus đ and Đ = 134.
    @Test func letterCount() {
        #expect(VietLetters.precomposed.count == 134)
        #expect(Set(VietLetters.precomposed).count == 134)
        #expect(VietLetters.precomposed.allSatisfy { $0.value >= 0x80 })
    }

    @Test(arguments: legacy.filter { $0 != .tcvn3 })
    func everyLetterRoundTrips(_ encoding: VietEncoding) throws {
        for letter in Self.letters {
            let bytes = try #require(VietConverter.fromUnicode(letter, to: encoding), "\(letter) in \(encoding)")
            #expect(VietConverter.toUnicode(bytes, from: encoding).same(letter), "\(letter) via \(encoding): \(bytes)")
        }
    }

    /// VN3 (the lowercase .Vn fonts) has all lowercase letters and Ă Â Ê Ô Ơ Ư Đ, but none of the
    /// 60 toned capitals: those come from the uppercase font, where they round-trip.
    @Test func tcvn3LowercaseAndUppercaseFonts() throws {
        var lacking: [String] = []
        for letter in Self.letters {
            if let bytes = VietConverter.fromUnicode(letter, to: .tcvn3) {
                #expect(bytes.count == 1)
                #expect(VietConverter.toUnicode(bytes, from: .tcvn3).same(letter), "\(letter)")
            } else {
                lacking.append(letter)
                let bytes = try #require(VietConverter.fromUnicode(letter, to: .tcvn3Upper))
                #expect(VietConverter.toUnicode(bytes, from: .tcvn3Upper).same(letter), "\(letter) in .VnTimeH")
                // The uppercase font shows it at the lowercase letter's code.
                #expect(bytes == VietConverter.fromUnicode(letter.lowercased(), to: .tcvn3))
            }
        }
        #expect(lacking.count == 60)
        #expect(lacking.allSatisfy { $0 == $0.uppercased() })
        #expect(VietConverter.fromUnicode("quyết", to: .tcvn3Upper) == nil)
    }

    @Test func tcvn3HeadingsTypedInTheUppercaseFont() {
        // "QUYẾT ĐỊNH" typed with caps in .VnTimeH: capitals around lowercase codes.
        let bytes: [UInt8] = Array("QUY".utf8) + [0xD5] + Array("T ".utf8) + [0xA7, 0xDE] + Array("NH".utf8)
        #expect(VietConverter.toUnicode(bytes, from: .tcvn3).same("QUYẾT ĐỊNH"))
        // Mixed case stays as written: "Hà Nội".
        let hanoi: [UInt8] = [0x48, 0xB5, 0x20, 0x4E, 0xE9, 0x69]
        #expect(VietConverter.toUnicode(hanoi, from: .tcvn3).same("Hà Nội"))
    }

    @Test func knownSequences() {
        #expect(VietConverter.toUnicode("Vieät Nam".isoLatin1, from: .vni).same("Việt Nam"))
        #expect(VietConverter.toUnicode("caùc ñôn vò".isoLatin1, from: .vni).same("các đơn vị"))
        #expect(VietConverter.toUnicode(Array("Vie^.t Nam ddi ho.c".utf8), from: .viqr).same("Việt Nam đi học"))
        #expect(VietConverter.toUnicode(Array("Ha` No^.i.".utf8), from: .viqr).same("Hà Nội."))
        #expect(
            VietConverter.toUnicode(Array("Hello. What? don't www.example.com".utf8), from: .viqr)
                .same("Hello. What? don't www.example.com")
        )
        #expect(VietConverter.fromUnicode("Hà Nội.", to: .viqr) == Array("Ha` No^.i\\.".utf8))
    }

    /// Positions read from Wikipedia's VPS chart (independent of the Unikey table the VPS
    /// letters were taken from).
    @Test func vpsChart() {
        let chart: [UInt8: String] = [
            0x02: "Ạ", 0x03: "Ậ", 0x04: "Ặ", 0x05: "Ẹ", 0x06: "Ệ", 0x10: "Ị", 0x11: "Ọ", 0x12: "Ộ", 0x13: "Ợ",
            0x14: "Ụ", 0x15: "Ự", 0x19: "Ỵ", 0x1C: "Ẫ", 0x1D: "Ữ", 0x80: "À", 0x81: "Ả", 0x82: "Ã", 0x83: "Ấ",
            0x86: "ọ", 0x87: "ỗ", 0x88: "Ă", 0x89: "ế", 0x90: "Ế", 0x91: "‘", 0x92: "’", 0x9A: "ý", 0x9C: "ỵ",
            0xA1: "ắ", 0xA6: "Ỡ", 0xAD: "Ứ", 0xB0: "ổ", 0xB6: "ộ", 0xBF: "ự", 0xC0: "ầ", 0xC3: "ấ", 0xC7: "đ",
            0xC8: "ẻ", 0xCA: "Ê",
        ]
        for (byte, letter) in chart {
            #expect(VietConverter.toUnicode([byte], from: .vps).same(letter), "VPS \(byte)")
        }
    }

    // MARK: iconv reference

    @Test func tcvn3MatchesIconvVN1() throws {
        let bytes = (0xA0...0xFF).map(UInt8.init).filter { !CodePages.tcvn3Fallback.contains($0) }
        let reference = try #require(iconv(bytes, from: "TCVN5712-1"))
        #expect(VietConverter.toUnicode(bytes, from: .tcvn3).same(reference))
        #expect(bytes.count == 75)
    }

    /// VN1 byte for byte against glibc (TCVN5712-1): every byte on its own, every combining
    /// mark after every letter, and the fixtures both ways.
    @Test func vn1MatchesIconv() throws {
        let combining: [UInt8] = [0xB0, 0xB1, 0xB2, 0xB3, 0xB4]
        let single = (0...255).map(UInt8.init).filter { !combining.contains($0) }
        let reference = try #require(iconv(single, from: "TCVN5712-1"))
        #expect(VietConverter.toUnicode(single, from: .vn1).same(reference))
        var pairs: [UInt8] = []
        for base in Array("aAeEiIoOuUyYbZ".utf8) + [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD] {
            for mark in combining { pairs += [base, mark, 0x20] }
        }
        let pairReference = try #require(iconv(pairs, from: "TCVN5712-1"))
        #expect(VietConverter.toUnicode(pairs, from: .vn1).same(pairReference))
        for text in Fixtures.paragraphs + Fixtures.headings + Self.letters {
            let ours = try #require(VietConverter.fromUnicode(text, to: .vn1))
            #expect(ours == iconvEncode(text, to: "TCVN5712-1"), "\(text.prefix(40))")
            #expect(VietConverter.toUnicode(ours, from: .vn1).same(text))
        }
    }

    @Test func visciiMatchesIconv() throws {
        let bytes = (0...255).map(UInt8.init)
        let reference = try #require(iconv(bytes, from: "VISCII"))
        #expect(VietConverter.toUnicode(bytes, from: .viscii).same(reference))
    }

    @Test func cp1258MatchesIconv() throws {
        let defined = (0...255).map(UInt8.init).filter { ![0x81, 0x8A, 0x8D, 0x8E, 0x8F, 0x90, 0x9A, 0x9D, 0x9E].contains($0) }
        let reference = try #require(iconv(defined, from: "CP1258"))
        #expect(VietConverter.toUnicode(defined, from: .cp1258).same(reference))
        for text in Fixtures.paragraphs {
            let bytes = try #require(VietConverter.fromUnicode(text, to: .cp1258))
            #expect(bytes.contains { [0xCC, 0xEC, 0xD2, 0xDE, 0xF2].contains($0) })
            let reference = try #require(iconv(bytes, from: "CP1258"))
            #expect(VietConverter.toUnicode(bytes, from: .cp1258).same(reference))
            #expect(reference.same(text))
        }
    }

    @Test func fixturesRoundTrip() throws {
        for text in Fixtures.paragraphs + Fixtures.subjects {
            for encoding in [VietEncoding.vn1, .vni, .viscii, .vps, .cp1258, .viqr, .nfd] {
                let bytes = try #require(VietConverter.fromUnicode(text, to: encoding))
                #expect(VietConverter.toUnicode(bytes, from: encoding).same(text), "\(encoding): \(text.prefix(40))")
            }
        }
    }

    @Test func nfcFastPath() {
        #expect(VietConverter.nfc("Việt Nam").same("Việt Nam"))
        #expect(VietConverter.nfc("Vie\u{302}\u{323}t").same("Việt"))
        #expect(VietConverter.isQuickNFC("“Quoted” – €5 Tiếng Việt"))
        #expect(!VietConverter.isQuickNFC("e\u{301}"))
    }
}

extension String {
    var isoLatin1: [UInt8] { unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
}
