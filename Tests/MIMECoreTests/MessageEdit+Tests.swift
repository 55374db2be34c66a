import Foundation
import Testing

@testable import MIMECore

/// What a milter's MTA does with the edits: the message header's fields edited one by one (by
/// name and index, not by offset), the body replaced whole when it changed. Written apart from
/// ``MessageEdits/applied(to:)`` so that the two can be compared.
enum MilterReplay {
    static func apply(_ message: ParsedMessage, header edits: [MessageEdit], body: [UInt8]?) -> [UInt8] {
        let bytes = message.bytes.asArray
        let section = message.parts[0].header
        var fields = section.fields.map { (name: $0.name, bytes: Array(bytes[$0.range])) }
        var inserted: [[UInt8]] = []
        for edit in edits {
            switch edit.kind {
            case .insertHeader:
                inserted.append(edit.bytes)
            case .addHeader(let name, _):
                fields.append((name, edit.bytes))
            case .changeHeader(let name, let index, _):
                let same = fields.indices.filter { fields[$0].name.lowercased() == name.lowercased() }
                fields[same[index - 1]].bytes = edit.bytes
            case .replaceBody:
                Issue.record("a body edit among the header edits")
            }
        }
        let firstField = section.fields.first?.range.lowerBound ?? section.range.lowerBound
        let lastField = section.fields.last?.range.upperBound ?? section.range.lowerBound
        // Each insertion goes on top (index 0), so the last one made comes first.
        return inserted.reversed().flatMap { $0 } + bytes[section.range.lowerBound..<firstField] + fields.flatMap(\.bytes)
            + bytes[lastField..<section.bodyStart] + (body ?? Array(bytes[section.bodyStart...]))
    }
}

@Suite struct MessageEditTests {
    static let multipart = MIMEParser.parse(
        Array(
            """
            From: a@quangninh.gov.vn\r
            Subject: one\r
            Subject: two\r
            Content-Type: multipart/mixed; boundary=b\r
            \r
            --b\r
            Content-Type: text/plain; charset=windows-1258\r
            \r
            old text\r
            --b\r
            Content-Type: application/octet-stream\r
            Content-Disposition: attachment; filename=a.bin\r
            \r
            AAAA\r
            --b--\r

            """.utf8
        )
    )

    @Test func editsNameWhatChangedTheWayAMilterDoes() throws {
        let message = Self.multipart
        var editor = MessageEditor(message)
        try editor.addHeader("X-ThuGate-Normalized", "done")
        try editor.replaceHeader(message.parts[0].header.fields(named: "Subject")[1], with: "hai")
        try editor.replaceContent(of: message.parts[1], with: Array("Kinh gui cac don vi, noi dung mới".utf8), charset: "utf-8")
        try editor.replaceHeader("Content-Description", with: "tệp", of: message.parts[2])
        let edits = editor.edits.edits
        #expect(
            edits.map(\.kind) == [
                .insertHeader(name: "X-ThuGate-Normalized", value: "done"),
                .changeHeader(name: "Subject", index: 2, value: "hai"),
                .changeHeader(name: "Content-Type", index: 1, value: "text/plain; charset=utf-8"),
                .addHeader(name: "Content-Transfer-Encoding", value: "quoted-printable"),
                .replaceBody,
                .addHeader(name: "Content-Description", value: "tệp"),
            ]
        )
        #expect(edits.map(\.part) == ["", "", "1", "1", "1", "2"])
        #expect(edits[0].range == 0..<0 && edits[0].bytes == Array("X-ThuGate-Normalized: done\r\n".utf8))
        #expect(edits[4].bytes == TransferEncoder.quotedPrintable(Array("Kinh gui cac don vi, noi dung mới".utf8)))
    }

    @Test func applyingTheEditsGivesTheSerializedMessageAndTheMilterViewAgrees() throws {
        let message = Self.multipart
        var editor = MessageEditor(message)
        try editor.addHeader("X-ThuGate-Normalized", "done")
        try editor.replaceHeader(message.parts[0].header.fields(named: "subject")[0], with: "một")
        try editor.replaceContent(of: message.parts[1], with: Array("Kinh gui cac don vi, noi dung mới".utf8), charset: "utf-8")
        let serialized = editor.serialized()
        #expect(editor.edits.applied(to: message.bytes) == serialized)
        let (header, body) = editor.edits.milterEdits(of: message)
        #expect(
            header.map(\.kind) == [
                .insertHeader(name: "X-ThuGate-Normalized", value: "done"),
                .changeHeader(name: "Subject", index: 1, value: "một"),
            ]
        )
        #expect(body != nil)
        #expect(MilterReplay.apply(message, header: header, body: body) == serialized)
    }

    @Test func headerOnlyEditsLeaveTheBodyAlone() throws {
        let message = Self.multipart
        var editor = MessageEditor(message)
        try editor.addHeader("X-A", "1")
        try editor.replaceHeader("X-Missing", with: "appended")
        let (header, body) = editor.edits.milterEdits(of: message)
        #expect(body == nil)
        #expect(header.map(\.kind) == [.insertHeader(name: "X-A", value: "1"), .addHeader(name: "X-Missing", value: "appended")])
        #expect(MilterReplay.apply(message, header: header, body: body) == editor.serialized())
    }

    /// A single-part message: its Content-* fields are the message header's, its body the whole body.
    @Test func aSinglePartMessagesContentIsAHeaderChangeAndANewBody() throws {
        let message = MIMEParser.parse(Array("Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nold\r\n".utf8))
        var editor = MessageEditor(message)
        try editor.replaceContent(of: message.parts[0], with: Array("Kinh gui cac don vi, noi dung mới\r\n".utf8), charset: "utf-8")
        let (header, body) = editor.edits.milterEdits(of: message)
        #expect(
            header.map(\.kind) == [
                .changeHeader(name: "Content-Type", index: 1, value: "text/plain; charset=utf-8"),
                .addHeader(name: "Content-Transfer-Encoding", value: "quoted-printable"),
            ]
        )
        #expect(body == TransferEncoder.quotedPrintable(Array("Kinh gui cac don vi, noi dung mới\r\n".utf8)))
        #expect(MilterReplay.apply(message, header: header, body: body) == editor.serialized())
    }

    @Test func everyCorpusMessageWithEditsReplaysTheSame() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: CorpusTests.corpus.path).filter { $0.hasSuffix(".eml") }.sorted()
        for name in names {
            let message = MIMEParser.parse(Array(try Data(contentsOf: CorpusTests.corpus.appendingPathComponent(name))))
            var editor = MessageEditor(message)
            try editor.addHeader("X-ThuGate-Test", "top")
            // The first leaf text part gets new content, wherever it is.
            if let leaf = message.parts.first(where: { $0.children.isEmpty && $0.mediaType.hasPrefix("text/") }) {
                try editor.replaceContent(of: leaf, with: Array("thay thế\r\n".utf8), charset: "utf-8")
            }
            let (header, body) = editor.edits.milterEdits(of: message)
            #expect(editor.edits.applied(to: message.bytes) == editor.serialized(), "\(name)")
            #expect(MilterReplay.apply(message, header: header, body: body) == editor.serialized(), "\(name)")
        }
    }

    @Test func noEditsIsTheOriginal() {
        let message = Self.multipart
        #expect(MessageEdits().applied(to: message.bytes) == message.bytes.asArray)
        #expect(MessageEdits().milterEdits(of: message).header.isEmpty && MessageEdits().milterEdits(of: message).body == nil)
    }
}

@Suite struct SignedPartsTests {
    @Test func signedPartsAndEverythingUnderThem() {
        let message = MIMEParser.parse(
            Array(
                """
                Content-Type: multipart/mixed; boundary=o\r
                \r
                --o\r
                Content-Type: text/plain\r
                \r
                free\r
                --o\r
                Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=s\r
                \r
                --s\r
                Content-Type: text/plain\r
                \r
                signed\r
                --s\r
                Content-Type: application/pkcs7-signature\r
                \r
                AAAA\r
                --s--\r
                --o\r
                Content-Type: application/x-pkcs7-mime; smime-type=signed-data\r
                Content-Transfer-Encoding: base64\r
                \r
                AAAA\r
                --o--\r

                """.utf8
            )
        )
        #expect(message.parts.map(\.path) == ["", "1", "2", "2.1", "2.2", "3"])
        #expect(message.signedPartIndices == [2, 3, 4, 5])
        #expect(MIMEParser.parse(Array("Subject: x\r\n\r\nplain\r\n".utf8)).signedPartIndices.isEmpty)
    }
}

@Suite struct FileNameParameterTests {
    @Test func dispositionGetsRFC2231AndTypeGetsAnEncodedWord() {
        let disposition = HeaderParameters(value: "attachment", parameters: ["filename": "old.doc", "size": "12", "x-note": "a b"])
        #expect(
            disposition.writing(fileName: "báo cáo.docx", as: "filename")
                == "attachment; size=12; x-note=\"a b\"; filename*=UTF-8''b%C3%A1o%20c%C3%A1o.docx"
        )
        let type = HeaderParameters(value: "application/msword", parameters: ["name": "old.doc"])
        let written = type.writing(fileName: "báo cáo.docx", as: "name")
        #expect(written.hasPrefix("application/msword; name=\"=?UTF-8?B?"))
        #expect(HeaderParameters.parse(written)["name"] == "báo cáo.docx")
        #expect(HeaderParameters.parse(disposition.writing(fileName: "báo cáo.docx", as: "filename"))["filename"] == "báo cáo.docx")
    }

    @Test func asciiNamesAndValuesAreQuotedWhereNeeded() {
        let disposition = HeaderParameters(value: "attachment", parameters: ["creation-date": "Tue, 1 Dec 2026 10:00:00 +0700"])
        #expect(
            disposition.writing(fileName: "a \"b\".txt", as: "filename")
                == "attachment; creation-date=\"Tue, 1 Dec 2026 10:00:00 +0700\"; filename=\"a \\\"b\\\".txt\""
        )
        #expect(HeaderParameters.percentEncoded("a~b!c%d/é") == "a~b!c%25d%2F%C3%A9")
    }
}
