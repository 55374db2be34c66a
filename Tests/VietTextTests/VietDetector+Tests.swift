import Foundation
import FuzzSupport
import Testing

@testable import VietText

@Suite struct VietDetectorTests {
    static let encodings: [VietEncoding] = [.tcvn3, .vn1, .vni, .viscii, .vps, .cp1258, .viqr, .nfd]

    /// Right when the verdict names the encoding; TCVN3 lowercase/uppercase fonts count as one.
    /// Short texts whose bytes read the same in two encodings only need the same text.
    func check(_ text: String, _ encoding: VietEncoding, label: String? = nil, short: Bool) throws {
        let bytes = try #require(
            encoding == .tcvn3Upper
                ? VietConverter.fromUnicode(text, to: .tcvn3Upper)
                : Fixtures.encode(text, encoding)
        )
        let d = VietDetector.detect(bytes, declaredCharset: label)
        let expected = VietConverter.toUnicode(bytes, from: encoding)
        // VN1 text without VN1's own codes is byte for byte VN3 text, read by TCVN3's rules
        // (a capitals line is the uppercase font's).
        let vn3 = encoding == .vn1 && bytes == Fixtures.encode(text, .tcvn3)
        if case .legacy(let got) = d.kind,
            got == encoding || (got == .tcvn3Upper && encoding == .tcvn3)
                || (vn3 && (got == .tcvn3 || got == .tcvn3Upper))
        {
            #expect(vn3 || d.text.same(expected))
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

    /// Letters on their own are Vietnamese words: an alphabet, a list of tones, a key of
    /// abbreviations (issue 9 item 10).
    static let letterLists = [
        "a à ả ã ạ á",
        "a à ả ã ạ á ă ằ ẳ ẵ ặ ắ â ầ ẩ ẫ ậ ấ e è ẻ ẽ ẹ é ê ề ể ễ ệ ế",
        "Bảng chữ cái: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y",
        "Các thanh: ngang a, huyền à, hỏi ả, ngã ã, sắc á, nặng ạ",
        "Ký hiệu viết tắt: ô = ông, b = bà, đ/c = đồng chí, ư = ủy ban",
    ]

    /// VN1 text with its own codes (toned capitals in C0 and 0x80–0x9F) is VN1, read exactly as
    /// glibc's TCVN5712-1 reads it, labelled or not (issue 9 item 10).
    @Test func vn1IsDetectedAndReadAsGlibcDoes() throws {
        var vn1Only = 0
        for text in Fixtures.paragraphs + Fixtures.headings + ["ỦY BAN NHÂN DÂN TỈNH QUẢNG NINH", "QUYẾT ĐỊNH VỀ VIỆC BAN HÀNH QUY CHẾ"] {
            let bytes = try #require(iconvEncode(text, to: "TCVN5712-1"))
            guard bytes != Fixtures.encode(text, .tcvn3) else { continue }
            vn1Only += 1
            for label in [nil, "windows-1252", "iso-8859-1", "tcvn5712-1"] {
                let d = VietDetector.detect(bytes, declaredCharset: label)
                #expect(d.kind == .legacy(.vn1), "\(label ?? "-"): \(text.prefix(40)) → \(d.kind)")
                #expect(d.text.same(try #require(iconv(bytes, from: "TCVN5712-1"))))
                #expect(d.text.same(text))
            }
        }
        #expect(vn1Only >= 5)
    }

    /// Vietnamese lines above an English signature: the signature's words are not the context
    /// of the Vietnamese ones.
    @Test(arguments: [VietEncoding.tcvn3, .vni, .viscii, .vps, .cp1258])
    func vietnameseAboveAnEnglishSignature(_ encoding: VietEncoding) throws {
        let text =
            "Kính gửi anh Hùng, em gửi báo cáo tháng này.\n\n--\nBest regards, John Smith\n"
            + "Senior Software Engineer, Example Corporation Ltd.\nhttps://www.example.com/contact | phone +84 90 123 4567\n"
        try check(text, encoding, short: false)
        // And a file name whose first word reads the same in Latin-1.
        try check("Hà Nội.doc", encoding, short: true)
    }

    @Test(arguments: [VietEncoding.tcvn3, .vn1, .vni, .viscii, .vps, .cp1258])
    func lettersOnTheirOwn(_ encoding: VietEncoding) throws {
        // The text must come out right; a short list may read the same in two encodings. The
        // six VPS bytes of "a à ả ã ạ á" are also a VISCII list of a-letters ("a à ả ã ă á"),
        // which wins the tie: only its detection is checked.
        for text in Self.letterLists {
            if encoding == .vps && text == Self.letterLists[0] {
                #expect(VietDetector.detect(try #require(Fixtures.encode(text, encoding))).kind != .notVietnamese)
                continue
            }
            try check(text, encoding, short: true)
            try check(text, encoding, label: "iso-8859-1", short: true)
            #expect(VietDetector.detect(try #require(Fixtures.encode(text, encoding))).kind != .notVietnamese, "\(encoding): \(text)")
        }
    }

    // MARK: Negatives: never converted

    /// Western text the issue saw converted: "N°" read as VISCII "Nồ", NBSP as "Õ", patch mail
    /// with =A0 called VISCII, guillemets read as VPS letters.
    static let westernShapes = [
        "Facture N° 1467829", "N°", "N°\u{A0}1467829", "Re: Dossier N°1467829", "Commande n°\u{A0}12 du 3 mars",
        "Facture_N°_1467829.pdf", "\u{A0}", "Bonjour,\n\u{A0}\nVoici le document.\n\u{A0}\nCordialement\n\u{A0}",
        "Prix\u{A0}: 12\u{A0}€ «\u{A0}net\u{A0}»", "© 2024 Société Générale", "25\u{A0}°C à Paris", "Köln · Bonn · Düsseldorf",
        "--- a/main.c\n+++ b/main.c\n@@ -1,3 +1,4 @@\n+\u{A0}\u{A0}\u{A0}\u{A0}/* fixed */\n+\u{A0}\n int x;\n",
        "«%s» non è un carattere valido", "Nom : « %s »", "Si è già su '%s'", "più di un %s",
        "klarte ikke å allokere bildebuffer på %u byte",
        "só pode especificar um dispositivo", "deán", "poäng", "Re: doá", "thé", "né à Lyon", "São João", "Señor Muñoz", "Ça va ?",
    ]

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
        for s in Self.westernShapes {
            for (name, encoding, label) in [
                ("shape-latin1", String.Encoding.isoLatin1, "iso-8859-1"), ("shape-1252", .windowsCP1252, "windows-1252"),
            ] {
                if let d = s.data(using: encoding) {
                    out.append((name, [UInt8](d), s, label))
                    out.append((name + "-unlabelled", [UInt8](d), s, nil))
                }
            }
        }
        for s in [
            "Hello. What?", "don't", "I'm on it.", "See https://example.com/a.b?c=d", "mail john.doe@example.org",
            "Meet at 10 a.m., e.g. Room 4.", "No. So? To do.", "Re: Fw: invoice", "Café", "Grüße", "naïve",
            "São Paulo", "più così", "Müller & Söhne", "“ok” – fine…",
        ] {
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

    /// Real Western words (Debian's word lists, which Scripts/setup installs) in Latin-1, alone
    /// and as short subjects: none is converted. Benchmarks/western_corpus.py measures many more.
    @Test func westernWordListsAreNeverConverted() throws {
        var rng = SplitMix64(state: 1252)
        var falseConversions: [String] = []
        var samples = 0
        for list in ["french", "ngerman", "spanish", "portuguese", "italian"] {
            let path = "/usr/share/dict/\(list)"
            let text = try #require(try? String(contentsOfFile: path, encoding: .utf8), "\(path) missing: apt-get install w\(list)")
            let words = text.split(separator: "\n").map(String.init).filter { $0.unicodeScalars.contains { $0.value >= 0x80 } }
            try #require(words.count > 1000)
            for k in 0..<4000 {
                let sample =
                    k % 2 == 0
                    ? words[Int(rng.next() % UInt64(words.count))]
                    : (0..<3).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
                guard let bytes = sample.data(using: .isoLatin1).map({ [UInt8]($0) }) else { continue }
                samples += 1
                for label in ["iso-8859-1", nil] {
                    let d = VietDetector.detect(bytes, declaredCharset: label)
                    if case .legacy(let e) = d.kind { falseConversions.append("\(e): \(sample) → \(d.text)") }
                }
            }
        }
        #expect(samples > 15000)
        #expect(falseConversions.isEmpty, "\(falseConversions.prefix(20))")
    }

    @Test func notVietnameseNamesItsCharset() {
        let latin = [UInt8]("Grüße aus Köln".data(using: .isoLatin1)!)
        #expect(VietDetector.detect(latin).encodingName == "windows-1252")
        #expect(VietDetector.detect(latin, declaredCharset: "ISO-8859-1").encodingName == "iso-8859-1")
        #expect(VietDetector.detect(Array("plain".utf8)).encodingName == "utf-8")
    }

    // MARK: Fuzz

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(state: 6909)
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
