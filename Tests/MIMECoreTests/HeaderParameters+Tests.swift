import Testing

@testable import MIMECore

@Suite struct HeaderParametersTests {
    @Test func contentTypeWithQuotedAndCommentedParameters() {
        let p = HeaderParameters.parse("Text/Plain (comment); charset=\"UTF-8\"; format=flowed")
        #expect(p.value == "text/plain")
        #expect(p["charset"] == "UTF-8")
        #expect(p["format"] == "flowed")
    }

    @Test func rfc2231ContinuationsAndCharset() {
        let p = HeaderParameters.parse("attachment; filename*0*=utf-8''C%C3%B4ng%20v%C4%83n; filename*1*=%20s%E1%BB%91%2012.pdf")
        #expect(p.value == "attachment")
        #expect(p["filename"] == "Công văn số 12.pdf")
        // Windows-1258 writes the tone as a combining mark (NFC is the TCVN 6909 step, issue 5).
        let q = HeaderParameters.parse("attachment; filename*=windows-1258''v%E3n%20ba%D2n.doc")
        #expect(q["filename"] == "văn ba\u{0309}n.doc")
        let plain = HeaderParameters.parse("attachment; filename*0=\"long\"; filename*1=\"name.txt\"")
        #expect(plain["filename"] == "longname.txt")
    }

    @Test func rfc2047WordsInQuotedFilenames() {
        let p = HeaderParameters.parse("attachment; filename=\"=?UTF-8?B?QuG6o25nIGzGsMahbmcueGxzeA==?=\"")
        #expect(p["filename"] == "Bảng lương.xlsx")
    }

    @Test func encodedWordsJoinAndKeepPlainText() {
        #expect(EncodedWords.decode("=?utf-8?q?C=C3=B4ng_v=C4=83n?= =?utf-8?q?_s=E1=BB=91?= 12") == "Công văn số 12")
        #expect(EncodedWords.decode("Re: =?iso-8859-1?q?caf=E9?=") == "Re: café")
        #expect(EncodedWords.decode("=?windows-1258?Q?Vi=D2=EAt?=") == "Vi\u{0309}êt")
        #expect(EncodedWords.decode("=?unknown-charset?B?QUJD?=") == "=?unknown-charset?B?QUJD?=")
        // Charsets beyond ThuGate's own tables come from the platform's converters.
        #expect(EncodedWords.decode("=?windows-1251?Q?=CF=F0=E8?=") == "При")
        #expect(EncodedWords.decode("=?iso-8859-2?Q?=B1?=") == "ą")
        #expect(EncodedWords.decode("=?utf-8?B?not base64?=") == "=?utf-8?B?not base64?=")
    }

    @Test func aBoundaryIsNeverDecoded() {
        // Readers match the boundary byte for byte (issue 9 item 2).
        let p = HeaderParameters.parse(#"multipart/mixed; boundary="=?utf-8?q?b?="; name="=?utf-8?q?a=2Eexe?=""#)
        #expect(p["boundary"] == "=?utf-8?q?b?=")
        #expect(p["name"] == "a.exe")
    }
}
