import MIMECore
import Testing

@testable import Policy

@Suite struct OfficeMacroRuleTests {
    static func inspected(_ content: ContentReport) -> RuleInput {
        RuleInput(envelope: nil, message: MIMEParser.parse(Array("Subject: t\r\n\r\nx\r\n".utf8)), content: content)
    }

    @Test func macrosFoundByTheScannerAreFindings() {
        var content = ContentReport()
        content.macros = [.init(part: "2", detail: "bang.xls: VBA project (OLE2 _VBA_PROJECT)")]
        content.objects = [.init(part: "2", name: "bang.xls", size: 10, mimeType: "application/vnd.ms-excel")]
        let findings = OfficeMacroRule().evaluate(Self.inspected(content))
        #expect(findings == [Finding(.officeMacro, detail: "bang.xls: VBA project (OLE2 _VBA_PROJECT)", part: "2")])
    }

    @Test(arguments: ["hop-dong.docm", "BANG.XLSM", "mau.dotm", "trinh-chieu.pptm", "addin.xlam"])
    func macroEnabledNamesAreFindings(name: String) {
        var content = ContentReport()
        content.objects = [.init(part: "2", name: name, containers: ["ho-so.zip"], size: 10)]
        let findings = OfficeMacroRule().evaluate(Self.inspected(content))
        #expect(findings.count == 1)
        #expect(findings.first?.detail.hasPrefix("ho-so.zip/\(name): macro-enabled Office file") == true)
    }

    @Test func aNameAlreadyFoundByContentIsNotCountedTwice() {
        var content = ContentReport()
        content.macros = [.init(part: "2", detail: "so-lieu.xlsm: VBA project xl/vbaProject.bin")]
        content.objects = [.init(part: "2", name: "so-lieu.xlsm", size: 10)]
        #expect(OfficeMacroRule().evaluate(Self.inspected(content)).count == 1)
    }

    @Test(arguments: ["bao-cao.docx", "bang.xlsx", "so-lieu.xlsb", "ghi-chu.doc", "README"])
    func documentsWithoutMacrosAreNot(name: String) {
        var content = ContentReport()
        content.objects = [.init(part: "2", name: name, size: 10)]
        #expect(OfficeMacroRule().evaluate(Self.inspected(content)).isEmpty)
    }
}
