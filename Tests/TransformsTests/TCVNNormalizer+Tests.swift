import Foundation
import MIMECore
import Policy
import Testing
import VietText

@testable import Transforms

extension TCVNNormalizer {
    /// The transform's result and the message it wrote, as these tests read them.
    func normalize(_ message: ParsedMessage) -> (bytes: [UInt8]?, findings: [Finding], summary: String?, edits: MessageEdits) {
        let result = transform(message)
        return (result.rewritten(message), result.findings, result.summary, result.edits)
    }
}

/// The TCVN 6909 transform on whole messages: what changes, and that nothing else does.
@Suite struct TCVNNormalizerTests {
    static let text = "Kính gửi các đơn vị trực thuộc, đề nghị báo cáo tình hình thực hiện kế hoạch năm nay."

    static func tcvn3(_ s: String) -> [UInt8] { VietConverter.fromUnicode(s, to: .tcvn3)! }

    static func message(_ parts: [[UInt8]]) -> ParsedMessage {
        MIMEParser.parse(parts.flatMap { $0 })
    }

    @Test func convertsABodyAndKeepsEveryOtherByte() throws {
        let head = Array(
            "From: a@quangninh.gov.vn\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                .utf8
        )
        let outcome = TCVNNormalizer().normalize(Self.message([head, Self.tcvn3(Self.text), Array("\r\n".utf8)]))
        let bytes = try #require(outcome.bytes)
        let out = MIMEParser.parse(bytes)
        #expect(out.parts[0].charset == "utf-8")
        #expect(String(decoding: out.decodedBody(of: out.parts[0]).bytes, as: UTF8.self) == Self.text + "\r\n")
        #expect(outcome.summary == "tcvn3→utf-8 (part 1)")
        #expect(outcome.findings.map(\.rule) == [.legacyEncoding])
        let header = try #require(out.headerValue("X-ThuGate-Normalized", of: out.parts[0]))
        #expect(header == "tcvn3→utf-8 (part 1)")
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("X-ThuGate-Normalized: =?UTF-8?B?"))
        // The added header, then the original header section byte for byte.
        #expect(
            String(decoding: bytes, as: UTF8.self).contains(
                "?=\r\nFrom: a@quangninh.gov.vn\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
            )
        )
    }

    @Test func subjectAndDisplayNamesBecomeUTF8Words() throws {
        let name = Self.tcvn3("Nguyễn Văn Thành")
        let head: [UInt8] =
            Array("From: ".utf8) + name + Array(" <thanh@quangninh.gov.vn>\r\nSubject: ".utf8) + Self.tcvn3("Báo cáo tình hình")
            + Array("\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nok\r\n".utf8)
        let outcome = TCVNNormalizer().normalize(Self.message([head]))
        let out = MIMEParser.parse(try #require(outcome.bytes))
        #expect(EncodedWords.decode(try #require(out.headerValue("Subject", of: out.parts[0]))) == "Báo cáo tình hình")
        let from = try #require(out.headerValue("From", of: out.parts[0]))
        #expect(from.hasSuffix(" <thanh@quangninh.gov.vn>"))
        #expect(EncodedWords.decode(from) == "Nguyễn Văn Thành <thanh@quangninh.gov.vn>")
    }

    @Test func viqrSubjectIsConvertedButEnglishIsNot() {
        #expect(TCVNNormalizer.normalizeHeaderValue(Array("Ba'o ca'o ti`nh hi`nh thu+.c hie^.n".utf8), phrases: false)?.1 == .viqr)
        #expect(TCVNNormalizer.normalizeHeaderValue(Array("Re: Hello. What's new? Meeting at 10.30".utf8), phrases: false) == nil)
    }

    @Test func signedPartsAreNeverTouched() {
        let body = Self.tcvn3(Self.text)
        let raw: [UInt8] =
            Array(
                "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
                    .utf8
            )
            + body + Array("\r\n--b\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--b--\r\n".utf8)
        let outcome = TCVNNormalizer().normalize(MIMEParser.parse(raw))
        #expect(outcome.bytes == nil && outcome.findings.isEmpty)
    }

    @Test func dkimSignedIsReportedUnlessInternal() {
        let raw: [UInt8] =
            Array(
                "DKIM-Signature: v=1; d=quangninh.gov.vn; b=x\r\nFrom: a@quangninh.gov.vn\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
                    .utf8
            )
            + Self.tcvn3(Self.text)
        let report = TCVNNormalizer().normalize(MIMEParser.parse(raw))
        #expect(report.bytes == nil && report.findings.first?.detail == "tcvn3 found, not converted (signed message)")
        let normalizedInternal = TCVNNormalizer(dkimSigned: .normalizeInternal, internalDomains: ["quangninh.gov.vn"]).normalize(
            MIMEParser.parse(raw)
        )
        #expect(normalizedInternal.bytes != nil)
    }

    @Test func htmlMetaCharsetSaysUTF8() {
        #expect(
            TCVNNormalizer.declareUTF8(inHTML: "<META http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><p>x</p>")
                == "<META http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><p>x</p>"
        )
        #expect(TCVNNormalizer.declareUTF8(inHTML: "<meta charset='windows-1252'/>") == "<meta charset='utf-8'/>")
        #expect(TCVNNormalizer.declareUTF8(inHTML: "<p>no meta</p>") == "<p>no meta</p>")
    }

    @Test func attachmentNamesAreWrittenAgainInUTF8() throws {
        let name = Self.tcvn3("báo cáo.docx").map { String(format: "%%%02X", $0) }.joined()
        let raw = Array(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=iso-8859-1''\(name)\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n"
                .utf8
        )
        let outcome = TCVNNormalizer().normalize(MIMEParser.parse(raw))
        let out = MIMEParser.parse(try #require(outcome.bytes))
        #expect(out.parts[2].filename == "báo cáo.docx")
        #expect(outcome.summary == "tcvn3→utf-8 (file name, part 2)")
    }

    @Test func frenchLatin1IsLeftAlone() {
        let raw =
            Array("Content-Type: text/plain; charset=iso-8859-1\r\n\r\n".utf8)
            + Array("Le comité a décidé de reporter la réunion à jeudi. Où est le café?".data(using: .isoLatin1)!)
        let outcome = TCVNNormalizer().normalize(MIMEParser.parse(raw))
        #expect(outcome.bytes == nil && outcome.findings.isEmpty)
    }

    @Test func undecodableCharsetIsPassedUnchangedWithAFinding() {
        let raw =
            Array("Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n".utf8)
            + Array("Le comité a décidé de reporter la réunion à jeudi.".data(using: .isoLatin1)!)
        let outcome = TCVNNormalizer().normalize(MIMEParser.parse(raw))
        #expect(outcome.bytes == nil)
        #expect(outcome.findings.map(\.rule) == [.unknownCharset])
        #expect(outcome.findings.first?.detail == "charset \"x-no-such-charset\" cannot be decoded: part left unchanged")
    }

    // MARK: Western mail is never rewritten (issue 9 item 4)

    static func latin1(_ s: String) -> [UInt8] { [UInt8](s.data(using: .isoLatin1)!) }

    /// The shapes the issue saw rewritten: "N°" in a Latin-1 Subject and attachment name (read
    /// as VISCII "Nồ"), a Latin-1 body whose no-break spaces became "Õ", and ISO-8859-1 patch mail
    /// with =A0 in quoted-printable.
    static let westernMessages: [(name: String, raw: [UInt8])] = [
        (
            "subject N°",
            Array(
                "From: a@example.fr\r\nSubject: =?iso-8859-1?Q?Facture_N=B0_1467829?=\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nhi\r\n"
                    .utf8
            )
        ),
        (
            "raw subject N°",
            Array("From: a@example.fr\r\nSubject: ".utf8) + latin1("Facture N° 1467829")
                + Array("\r\nContent-Type: text/plain\r\n\r\nhi\r\n".utf8)
        ),
        (
            "display name",
            Array("From: ".utf8) + latin1("Société Générale · Service N°3") + Array(" <a@example.fr>\r\nSubject: x\r\n\r\nhi\r\n".utf8)
        ),
        (
            "attachment N°",
            Array(
                "Subject: =?iso-8859-1?Q?Facture_N=B0_1467829?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf; name=\"=?iso-8859-1?Q?Facture_N=B0_1467829.pdf?=\"\r\nContent-Disposition: attachment; filename*=iso-8859-1''Facture%20N%B0%201467829.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
                    .utf8
            )
        ),
        (
            "NBSP body",
            Array("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".utf8)
                + latin1(
                    "Bonjour,\r\n\u{A0}\r\nVeuillez trouver ci-joint la facture N°\u{A0}1467829.\r\n\u{A0}\r\nCordialement,\r\n\u{A0}\r\n"
                )
        ),
        (
            "NBSP html",
            Array("Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".utf8)
                + latin1("<html><body><p>\u{A0}</p><p>Bonjour\u{A0}!</p><p>\u{A0}</p></body></html>\r\n")
        ),
        (
            "patch =A0",
            Array(
                "Subject: [PATCH] fix the parser\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n--- a/src/main.c\r\n+++ b/src/main.c\r\n@@ -1,3 +1,4 @@\r\n+=A0=A0=A0=A0/* keep the buffer */\r\n+=A0\r\n int x;\r\n-=A0\r\n"
                    .utf8
            )
        ),
        (
            "windows-1252 quotes",
            Array("Content-Type: text/plain; charset=windows-1252\r\n\r\n".utf8)
                + [UInt8]("«\u{A0}Citation\u{A0}» – “ok” © 2024, 25\u{A0}°C, Straße · Köln".data(using: .windowsCP1252)!)
        ),
    ]

    @Test(arguments: westernMessages.indices)
    func westernMailIsNeverRewritten(_ index: Int) {
        let (name, raw) = Self.westernMessages[index]
        let outcome = TCVNNormalizer().normalize(MIMEParser.parse(raw))
        #expect(outcome.bytes == nil, "\(name): \(outcome.summary ?? "")")
        #expect(outcome.findings.isEmpty, "\(name): \(outcome.findings)")
    }

    /// A label the platform (or iconv) decodes, other than the Western ones legacy fonts hide
    /// behind, is believed: KOI8-R Russian is not VISCII.
    @Test func otherCharsetsAreBelieved() {
        let russian: [UInt8] = [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, 0x20, 0xCD, 0xC9, 0xD2, 0x21]  // "Привет мир!" in KOI8-R
        let raw = Array("Content-Type: text/plain; charset=koi8-r\r\n\r\n".utf8) + russian + Array("\r\n".utf8)
        let outcome = TCVNNormalizer().normalize(MIMEParser.parse(raw))
        #expect(outcome.bytes == nil)
    }
}
