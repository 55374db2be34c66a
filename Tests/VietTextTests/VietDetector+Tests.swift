import Foundation
import Testing
@testable import VietText

@Suite struct VietDetectorTests {
    static let encodings: [VietEncoding] = [.tcvn3, .vni, .viscii, .vps, .cp1258, .viqr, .nfd]

    /// Right when the verdict names the encoding; TCVN3 lowercase/uppercase fonts count as one.
    /// Short texts whose bytes read the same in two encodings only need the same text.
    func check(_ text: String, _ encoding: VietEncoding, label: String? = nil, short: Bool) throws {
        let bytes = try #require(encoding == .tcvn3Upper ? VietConverter.fromUnicode(text, to: .tcvn3Upper)
                                    : Fixtures.encode(text, encoding))
        let d = VietDetector.detect(bytes, declaredCharset: label)
        let expected = VietConverter.toUnicode(bytes, from: encoding)
        if case .legacy(let got) = d.kind, got == encoding || (got == .tcvn3Upper && encoding == .tcvn3) {
            #expect(d.text.same(expected))
            #expect(d.encodingName == got.rawValue)
        } else {
            #expect(short && d.text.same(expected), "\(encoding) \(label ?? "-"): \(text) → \(d.kind)")
        }
    }

    @Test(arguments: encodings)
    func labelledParagraphs(_ encoding: VietEncoding) throws {
        for text in Fixtures.paragraphs {
            try check(text, encoding, short: false)
            try check(text, encoding, label: "iso-8859-1", short: false)
        }
    }

    @Test(arguments: encodings)
    func shortSubjects(_ encoding: VietEncoding) throws {
        for text in Fixtures.subjects { try check(text, encoding, label: "windows-1252", short: true) }
    }

    @Test func uppercaseFontHeadings() throws {
        for text in Fixtures.headings {
            let bytes = try #require(VietConverter.fromUnicode(text, to: .tcvn3Upper))
            let d = VietDetector.detect(bytes)
            #expect(d.kind == .legacy(.tcvn3Upper), "\(text)")
            #expect(d.text.same(text))
        }
    }

    @Test func mislabelledUTF8IsStillJudged() throws {
        let bytes = try #require(Fixtures.encode("Giấy mời họp giao ban", .vni))
        #expect(VietDetector.detect(bytes, declaredCharset: "utf-8").kind == .legacy(.vni))
    }

    @Test func unicodeAndNFD() {
        let nfc = "Kính gửi anh Hùng"
        let d = VietDetector.detect(Array(nfc.utf8), declaredCharset: "utf-8")
        #expect(d.kind == .unicode && d.text.same(nfc) && d.encodingName == "utf-8")
        let nfd = nfc.decomposedStringWithCanonicalMapping
        let e = VietDetector.detect(Array(nfd.utf8))
        #expect(e.kind == .legacy(.nfd) && e.text.same(nfc))
    }

    // MARK: Negatives: never converted

    static func negatives() -> [(name: String, bytes: [UInt8], genuine: String, label: String?)] {
        var out: [(String, [UInt8], String, String?)] = []
        func lines(_ path: String) -> [String] { Fixtures.read(path).split(separator: "\n").map(String.init) + [Fixtures.read(path)] }
        for s in lines("negative/english.txt") { out.append(("english", Array(s.utf8), s, nil)) }
        for s in lines("negative/french.txt") {
            if let d = s.data(using: .windowsCP1252) {
                out.append(("french-1252", [UInt8](d), s, nil))
                out.append(("french-latin1", [UInt8](d), s, "iso-8859-1"))
            }
            out.append(("french-utf8", Array(s.utf8), s, "utf-8"))
            out.append(("french-nfd", Array(s.decomposedStringWithCanonicalMapping.utf8), s.decomposedStringWithCanonicalMapping, nil))
        }
        for s in lines("negative/german.txt") {
            if let d = s.data(using: .isoLatin1) { out.append(("german-latin1", [UInt8](d), s, "iso-8859-1")) }
            if let d = s.data(using: .isoLatin1) { out.append(("german-unlabelled", [UInt8](d), s, nil)) }
        }
        for s in lines("negative/curly.txt") {
            if let d = s.data(using: .windowsCP1252) { out.append(("curly-1252", [UInt8](d), s, "windows-1252")) }
        }
        for s in lines("negative/vietnamese-utf8.txt") + Fixtures.paragraphs { out.append(("vi-utf8", Array(s.utf8), s, nil)) }
        for s in ["Hello. What?", "don't", "I'm on it.", "See https://example.com/a.b?c=d", "mail john.doe@example.org",
                  "Meet at 10 a.m., e.g. Room 4.", "No. So? To do.", "Re: Fw: invoice", "Café", "Grüße", "naïve",
                  "São Paulo", "più così", "Müller & Söhne", "“ok” – fine…"] {
            out.append(("short", Array(s.utf8), s, nil))
            if let d = s.data(using: .windowsCP1252) { out.append(("short-1252", [UInt8](d), s, nil)) }
        }
        return out
    }

    @Test func negativesAreNeverConverted() {
        var falseConversions: [String] = []
        for n in Self.negatives() {
            let d = VietDetector.detect(n.bytes, declaredCharset: n.label)
            if case .legacy = d.kind, n.name != "vi-utf8" { falseConversions.append("\(n.name): \(n.genuine.prefix(40))") }
            if case .legacy = d.kind, n.name == "vi-utf8" { falseConversions.append("\(n.name): \(n.genuine.prefix(40))") }
            if !d.text.same(n.genuine) { falseConversions.append("changed \(n.name): \(n.genuine.prefix(40)) → \(d.text.prefix(40))") }
        }
        #expect(falseConversions.isEmpty, "\(falseConversions)")
    }

    @Test func notVietnameseNamesItsCharset() {
        let latin = [UInt8]("Grüße aus Köln".data(using: .isoLatin1)!)
        #expect(VietDetector.detect(latin).encodingName == "windows-1252")
        #expect(VietDetector.detect(latin, declaredCharset: "ISO-8859-1").encodingName == "iso-8859-1")
        #expect(VietDetector.detect(Array("plain".utf8)).encodingName == "utf-8")
    }

    // MARK: Fuzz

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix(seed: 6909)
        let alphabet = Array(Fixtures.encode("Việt Nam đơn vị quyết định", .vni)!) + Array("^(+'`?~.-\\ dd".utf8)
        for round in 0..<3000 {
            let n = Int(rng.next() % 200)
            let bytes: [UInt8] = (0..<n).map { _ in
                round % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            _ = VietDetector.detect(bytes, declaredCharset: round % 3 == 0 ? "utf-8" : nil)
            for e in VietEncoding.allCases { _ = VietConverter.toUnicode(bytes, from: e) }
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
