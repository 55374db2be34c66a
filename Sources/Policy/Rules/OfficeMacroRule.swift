import SMTPCore

extension Finding.RuleID {
    public static let officeMacro = Finding.RuleID(rawValue: "office-macro")
}

/// Office documents with macros, the most common way malware arrives by mail: a Word or Excel
/// file whose VBA (or Excel 4) code runs when it is opened and enabled. QĐ 40/2022 (Quảng Ninh)
/// Đ15 k5 asks that mail be checked for malware; a macro is not malware by itself, so by default
/// the message is only tagged, and the rule can hold or refuse it.
///
/// Found by libclamav in OLE2 files (.doc, .xls, .ppt, also inside archives:
/// `Heuristics.OLE2.ContainsMacros`), by the package structure of OOXML files (a
/// `vbaProject.bin` part or a macro-enabled content type in `[Content_Types].xml`), and by the
/// macro-enabled OOXML names (`.docm`, `.xlsm`, `.pptm`, ...) for files that cannot be read.
/// - SeeAlso: [MS-OVBA] 2.2 (the VBA storage), ECMA-376 Part 2 (OPC content types), [MS-OFFMACRO2].
public struct OfficeMacroRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .officeMacro,
        order: 1100,
        configKey: "office_macro",
        defaultAction: .tag,
        needsContentScan: true,
        refusal: Refusal(554, EnhancedStatus(5, 7, 1), vi: "Tài liệu Office có macro không được phép", en: "Office document with macros")
    ) { _ in OfficeMacroRule() }

    /// Names Office gives only to macro-enabled documents, templates and add-ins.
    public static let macroEnabledExtensions: Set<String> = [
        "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm", "ppam", "sldm",
    ]

    public init() {}

    public func evaluate(_ input: RuleInput) -> [Finding] {
        guard let content = input.content else { return [] }
        var findings = content.macros.map { Finding(.officeMacro, detail: $0.detail, part: $0.part) }
        for object in content.objects {
            guard let name = object.name, let dot = name.lastIndex(of: ".") else { continue }
            let ext = name[name.index(after: dot)...].lowercased()
            guard Self.macroEnabledExtensions.contains(ext) else { continue }
            let where_ = object.displayName
            // Already named by its content (libclamav or the package structure).
            if findings.contains(where: { $0.part == object.part && $0.detail.hasPrefix(where_ + ":") }) { continue }
            findings.append(Finding(.officeMacro, detail: "\(where_): macro-enabled Office file (*.\(ext))", part: object.part))
        }
        return findings
    }
}
