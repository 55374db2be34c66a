import MIMECore
import Testing

@testable import Policy

@Suite struct EncryptedMessageRuleTests {
    @Test func envelopedSMIMEIsAFinding() {
        let message = RuleFixture.message([
            "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m",
            "Content-Transfer-Encoding: base64", "", "MIAGCSqGSIb3DQEHA6CAMIACAQA=", "",
        ])
        #expect(
            EncryptedMessageRule().evaluate(RuleFixture.input(message)) == [
                Finding(
                    .encryptedMessage,
                    detail: "S/MIME enveloped-data (application/pkcs7-mime): content cannot be inspected",
                    part: "1"
                )
            ]
        )
    }

    @Test func signedSMIMEIsNot() {
        let message = RuleFixture.message([
            "Content-Type: application/pkcs7-mime; smime-type=signed-data", "Content-Transfer-Encoding: base64", "", "MIAG", "",
        ])
        #expect(EncryptedMessageRule().evaluate(RuleFixture.input(message)).isEmpty)
    }

    /// A PGP/MIME message is one finding, and what the scanner found inside it is not another.
    @Test func pgpMIMEIsOneFinding() {
        let message = RuleFixture.message([
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b", "",
            "--b", "Content-Type: application/pgp-encrypted", "", "Version: 1",
            "--b", "Content-Type: application/octet-stream", "", "-----BEGIN PGP MESSAGE-----", "x", "-----END PGP MESSAGE-----",
            "--b--", "",
        ])
        var content = ContentReport()
        content.encryptedMessages = [.init(part: "2", detail: "inline PGP message")]
        let findings = EncryptedMessageRule().evaluate(RuleFixture.input(message, content: content))
        #expect(findings.map(\.part) == ["0"])
        #expect(findings.first?.detail.hasPrefix("PGP/MIME or other multipart/encrypted (application/pgp-encrypted)") == true)
    }

    @Test func encryptedBytesFoundByTheScannerAreFindings() {
        var content = ContentReport()
        content.encryptedMessages = [.init(part: "2", detail: "thu.gpg: OpenPGP encrypted data")]
        #expect(
            EncryptedMessageRule().evaluate(RuleFixture.input(content: content))
                == [Finding(.encryptedMessage, detail: "thu.gpg: OpenPGP encrypted data", part: "2")]
        )
        #expect(EncryptedMessageRule().evaluate(RuleFixture.input()).isEmpty)
    }
}
