import Foundation
import Inspection
import Policy
import Scanning
import Testing

@testable import Configuration

/// `[documents]`: the PDF helpers' number, limits and executable.
@Suite struct DocumentSettingsConfigTests {
    @Test func keysSetThePDFHelpers() throws {
        let config = try GatewayConfig.parse(
            """
            [documents]
            pdf_helpers = 4
            pdf_memory_mb = 256
            pdf_cpu_seconds = 5
            pdf_timeout_seconds = 8
            pdf_max_pages = 10
            pdf_helper = "bin/thugate-pdftext"
            ocr = true
            """,
            directory: "/etc/thugate"
        )
        var expected = PDFHelperSettings()
        expected.helpers = 4
        expected.memoryMB = 256
        expected.cpuSeconds = 5
        expected.timeoutSeconds = 8
        expected.maxPages = 10
        // Relative to the file's directory, like every path.
        expected.helperPath = "/etc/thugate/bin/thugate-pdftext"
        expected.ocr = true
        #expect(config.documents.pdf == expected)
    }

    @Test func defaultsLookBesideTheExecutable() throws {
        let config = try GatewayConfig.parse("", directory: "/etc/thugate", defaults: .defaults(installation: "/opt/thugate"))
        #expect(config.documents.pdf == PDFHelperSettings())
        #expect(config.documents.pdf.helperPath.isEmpty)
        #expect(PDFHelperPool.besideExecutable.hasSuffix("/thugate-pdftext"))
    }

    @Test(arguments: [
        ("[documents]\npdf_helpers = 0\n", "documents.pdf_helpers", "must be at least 1"),
        ("[documents]\npdf_memory_mb = 100\n", "documents.pdf_memory_mb", "must be at least 128"),
        ("[documents]\npdf_timeout_seconds = \"20\"\n", "documents.pdf_timeout_seconds", "expected an integer"),
        ("[documents]\npdf_ocr = true\n", "documents.pdf_ocr", "unknown key"),
        ("[documents]\nocr = \"yes\"\n", "documents.ocr", "expected true or false"),
        ("documents = 1\n", "documents", "expected a [documents] table"),
    ])
    func badValuesAreErrors(text: String, key: String, message: String) {
        do {
            _ = try GatewayConfig.parse(text, file: "t.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == key)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    /// No content rule: no helper is started.
    @Test func noHelpersWithoutContentScanning() throws {
        var policy = PolicySettings()
        for key in Array(policy.actions.keys) { policy.actions[key] = .off }
        #expect(!policy.needsContentScan)
        #expect(try DocumentSettings().pdfReader(for: policy) == nil)
        // With one, the pool starts (the helper is built beside the test bundle).
        let pool = try #require(try DocumentSettings().pdfReader(for: PolicySettings()))
        #expect(pool.idleHelperPIDs.count == 2)
        pool.shutdown()
    }
}
