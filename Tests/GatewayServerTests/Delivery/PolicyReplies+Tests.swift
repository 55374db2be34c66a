import Policy
import SMTPCore
import Testing

@testable import GatewayServer

/// The refusals as clients see them, byte for byte: each rule's reply, the one for a rule with
/// no declaration of its own, and the tempfail.
@Suite struct PolicyRepliesTests {
    @Test(arguments: [
        ("malformed", "554 5.6.0 Thư sai cấu trúc MIME, không kiểm tra được / Malformed message, cannot be checked: D (part 2)"),
        ("mime-irregular", "554 5.6.0 Thư có cấu trúc MIME bất thường / Irregular MIME structure: D (part 2)"),
        ("mime-ambiguous", "554 5.6.0 Thư có cấu trúc MIME bất thường / Irregular MIME structure: D (part 2)"),
        (
            "encrypted-message",
            "554 5.7.1 Thư được mã hóa, không kiểm tra được nội dung / Encrypted message, content cannot be checked: D (part 2)"
        ),
        ("virus", "554 5.7.0 Thư chứa virus, mã độc (Quy chế Đ15 k5) / Virus found: D (part 2)"),
        ("executable", "554 5.7.1 Tệp đính kèm là tệp thực thi (Quy chế Đ15 k6) / Executable attachment: D (part 2)"),
        ("encrypted-archive", "554 5.7.1 Tệp nén có mật khẩu không được phép (Quy chế Đ15 k6) / Password-protected archive: D (part 2)"),
        ("encrypted-document", "554 5.7.1 Tài liệu có mật khẩu, không kiểm tra được / Password-protected document: D (part 2)"),
        ("archive-limit", "554 5.7.0 Tệp nén vượt giới hạn kiểm tra / Archive exceeds inspection limits: D (part 2)"),
        ("attachment-size", "552 5.3.4 Tệp đính kèm vượt dung lượng cho phép (Quy chế Đ8 k1) / Attachments too large: D"),
        ("office-macro", "554 5.7.1 Tài liệu Office có macro không được phép / Office document with macros: D (part 2)"),
        ("scan-crash", "554 5.7.1 Thư bị từ chối theo quy chế / Message refused by policy: scan-crash (part 2)"),
    ])
    func rejectReplies(rule: String, expected: String) {
        let reply = PolicyReplies.reject(Finding(Finding.RuleID(rawValue: rule), detail: "D", part: "2"))
        #expect(reply.wireText == expected + "\r\n")
    }

    @Test func aFindingAboutTheWholeMessageNamesNoPart() {
        #expect(
            PolicyReplies.reject(Finding(.virus, detail: "Eicar-Signature", part: "")).description
                == "554 5.7.0 Thư chứa virus, mã độc (Quy chế Đ15 k5) / Virus found: Eicar-Signature"
        )
        #expect(
            PolicyReplies.reject(Finding(.malformed, detail: "D")).description
                == "554 5.6.0 Thư sai cấu trúc MIME, không kiểm tra được / Malformed message, cannot be checked: D"
        )
    }

    @Test func tempfailNamesTheRule() {
        #expect(
            PolicyReplies.tempfail(Finding(.encryptedArchive, detail: "D", part: "3")).description
                == "451 4.7.0 Thư tạm thời bị giữ lại / Message deferred by policy: encrypted-archive (part 3)"
        )
    }
}
