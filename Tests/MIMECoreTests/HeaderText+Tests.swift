import Foundation
import Testing

@testable import MIMECore

@Suite struct HeaderTextTests {
    @Test func controlCharactersBecomeSpaces() {
        #expect(
            HeaderText.sanitized("executable(2): a.zip/x\u{0}y\r\n\tz.exe is *.exe\u{7F}") == "executable(2): a.zip/x y   z.exe is *.exe "
        )
        #expect(HeaderText.sanitized("plain ASCII stays") == "plain ASCII stays")
    }

    @Test func longTextIsCutAndNonASCIITravelsAsFoldedWords() {
        let long = HeaderText.sanitized(String(repeating: "tệp ", count: 400))
        let lines = long.components(separatedBy: "\r\n ")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.utf8.count < 78 && $0.allSatisfy(\.isASCII) })
        let decoded = EncodedWords.decode(lines.joined(separator: " "))
        #expect(decoded.utf8.count <= 900 && decoded.hasSuffix(" …") && !decoded.contains("\u{FFFD}"))
        // Cut on a character boundary: the three-byte "ệ" is never split.
        #expect(decoded.hasPrefix("tệp tệp "))
    }

    @Test func shortNonASCIIIsOneLineOfWords() {
        let text = HeaderText.sanitized("legacy-encoding(1): tcvn3→utf-8 (part 1)")
        #expect(!text.contains("\r\n") && text.hasPrefix("=?UTF-8?B?"))
        #expect(EncodedWords.decode(text) == "legacy-encoding(1): tcvn3→utf-8 (part 1)")
    }
}
