import SMTPCore

extension Finding.RuleID {
    public static let executable = Finding.RuleID(rawValue: "executable")
}

/// QĐ 40/2022 (Quảng Ninh) Đ2 k7 and Đ15 k6: executable files (`*.exe, *.com, *.dll, *.net`, any
/// file runnable on Windows) are neither sent nor received. Judged by the real type libmagic
/// finds, inside archives too, and by name for scripts and for members that cannot be read
/// (an encrypted archive's file list). The scanner confirms libmagic's executable types by their
/// headers (`Scanning.ExecutableFormat`): a COM program has none, so `*.com` and `*.pif` are
/// judged by name, as the article names `*.com`, never by libmagic's guess from two leading bytes.
public struct ExecutableRule: Rule {
    public static let declaration = RuleDeclaration(
        id: .executable,
        order: 600,
        configKey: "executable",
        defaultAction: .reject,
        needsContentScan: true,
        refusal: Refusal(
            554,
            EnhancedStatus(5, 7, 1),
            vi: "Tệp đính kèm là tệp thực thi",
            en: "Executable attachment",
            article: "Quy chế Đ15 k6"
        ),
        parameters: [
            RuleParameter(key: typesKey, kind: .strings, defaultValue: .strings(defaultTypes)),
            RuleParameter(key: extensionsKey, kind: .strings, defaultValue: .strings(defaultExtensions)),
        ]
    ) { ExecutableRule(types: $0.executableTypes, extensions: $0.executableExtensions) }
    /// `[policy] executable_types`: the real types judged executables.
    public static let typesKey = "executable_types"
    /// `[policy] executable_extensions`: the file name extensions judged executables.
    public static let extensionsKey = "executable_extensions"
    /// Real types (libmagic MIME types) that are executables.
    public var types: Set<String>
    /// File name extensions (lowercase, no dot) that are executables whatever the content.
    public var extensions: Set<String>

    public static let defaultTypes: [String] = [
        "application/vnd.microsoft.portable-executable", "application/x-dosexec", "application/x-msdownload",
        "application/x-ms-ne-executable", "application/x-msi", "application/x-ole-storage-msi",
        "application/x-executable", "application/x-sharedlib", "application/x-pie-executable", "application/x-elf",
        "application/x-mach-binary", "application/x-java-applet", "application/java-archive", "application/x-java-archive",
        "application/x-ms-shortcut",
    ]
    public static let defaultExtensions: [String] = [
        "exe", "com", "dll", "scr", "cpl", "msi", "msp", "pif", "lnk", "jar", "class", "js", "jse", "vbs", "vbe", "wsf",
        "wsh", "wsc", "sct", "hta", "bat", "cmd", "ps1", "reg", "sys", "drv", "ocx", "chm", "msc", "scf", "appx", "msix",
        "appxbundle", "msixbundle",
    ]

    public init(types: [String] = ExecutableRule.defaultTypes, extensions: [String] = ExecutableRule.defaultExtensions) {
        self.types = Set(types.map { $0.lowercased() })
        self.extensions = Set(extensions.map { $0.lowercased().trimmingPrefix(".") }.map(String.init))
    }

    /// Why an object is an executable, or nil.
    public func reason(_ object: ContentReport.Object) -> String? {
        if let type = object.mimeType, types.contains(type) { return type }
        // Windows drops trailing dots and spaces: `invoice.js.` runs as `invoice.js`.
        if let stored = object.name {
            let name = stored.reversed().drop(while: { $0 == "." || $0 == " " }).reversed()
            if let dot = name.lastIndex(of: ".") {
                let ext = String(name[name.index(after: dot)...]).lowercased()
                if extensions.contains(ext) { return "*." + ext }
            }
        }
        return nil
    }

    public func evaluate(_ input: RuleInput) -> [Finding] {
        (input.content?.objects ?? []).compactMap { object in
            reason(object).map { Finding(.executable, detail: "\(object.displayName) is \($0)", part: object.part) }
        }
    }
}

extension RuleParameters {
    /// ``ExecutableRule``'s real types (`executable_types`).
    public var executableTypes: [String] {
        get { self[strings: ExecutableRule.typesKey] }
        set { self[strings: ExecutableRule.typesKey] = newValue }
    }

    /// ``ExecutableRule``'s file name extensions (`executable_extensions`).
    public var executableExtensions: [String] {
        get { self[strings: ExecutableRule.extensionsKey] }
        set { self[strings: ExecutableRule.extensionsKey] = newValue }
    }
}
