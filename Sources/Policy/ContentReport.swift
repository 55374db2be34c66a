public import SecrecyMarks

/// What content inspection (libclamav, libmagic, archive headers) found in a message: the facts
/// the content rules judge. Built by the `Scanning` module; rules only read it.
public struct ContentReport: Sendable, Equatable {
    /// An attachment, a body part, or a file inside an archive (at any depth).
    public struct Object: Sendable, Equatable {
        /// MIME part the object is (or is inside of).
        public var part: String
        /// The part's declared file name, or the member's name inside its archive.
        public var name: String?
        /// Names of the archives around a member, outermost first; empty for the part itself.
        public var containers: [String]
        public var size: Int
        /// The real type, from libmagic (`application/vnd.microsoft.portable-executable`).
        public var mimeType: String?
        /// libclamav's type for the layer (`CL_TYPE_MSEXE`), when libclamav extracted it.
        public var clamavType: String?
        /// Set for an archive member that cannot be read without the password.
        public var encryption: String?

        public init(
            part: String,
            name: String?,
            containers: [String] = [],
            size: Int,
            mimeType: String? = nil,
            clamavType: String? = nil,
            encryption: String? = nil
        ) {
            self.part = part
            self.name = name
            self.containers = containers
            self.size = size
            self.mimeType = mimeType
            self.clamavType = clamavType
            self.encryption = encryption
        }

        /// `report.zip/bin/setup.exe`: where the object is, for findings and logs.
        public var displayName: String {
            (containers + [name ?? (containers.isEmpty ? "(body)" : "(member)")]).joined(separator: "/")
        }
    }

    public struct Virus: Sendable, Equatable {
        public var part: String
        public var signature: String
        public init(part: String, signature: String) {
            self.part = part
            self.signature = signature
        }
    }

    /// A password-protected archive: which one, and what is hidden.
    public struct EncryptedArchive: Sendable, Equatable {
        public var part: String
        public var name: String
        public var format: String
        /// The file list itself is encrypted (7z `-mhe=on`, RAR `-hp`).
        public var headersEncrypted: Bool
        public var encryptedMembers: [String]
        public var method: String
        public init(part: String, name: String, format: String, headersEncrypted: Bool, encryptedMembers: [String], method: String) {
            self.part = part
            self.name = name
            self.format = format
            self.headersEncrypted = headersEncrypted
            self.encryptedMembers = encryptedMembers
            self.method = method
        }
    }

    public struct Note: Sendable, Equatable {
        public var part: String
        public var detail: String
        public init(part: String, detail: String) {
            self.part = part
            self.detail = detail
        }
    }

    /// What the secrecy matcher found in one document (an attachment, an archive member, a
    /// document inside an attached message) or in one message's own text (its Subject and text
    /// bodies), and whether its text could be read completely.
    public struct SecrecyDocument: Sendable, Equatable {
        /// The MIME part the document is (or is inside of).
        public var part: String
        /// `report.zip/cong-van.docx`, or `(message)` for a message's own Subject and bodies.
        public var name: String
        /// `docx`, `pdf`, `mail`, ...
        public var format: String
        public var report: SecrecyReport
        /// Why the text could not be read completely (empty: it was): such a document is "not fully
        /// checked", never clean.
        public var problems: [String]

        public init(part: String, name: String, format: String, report: SecrecyReport, problems: [String] = []) {
            self.part = part
            self.name = name
            self.format = format
            self.report = report
            self.problems = problems
        }
    }

    public var objects: [Object] = []
    /// Every document and message text the secrecy matcher read, in the order met.
    public var secrecy: [SecrecyDocument] = []
    public var viruses: [Virus] = []
    public var encryptedArchives: [EncryptedArchive] = []
    /// Password-protected PDF or Office documents.
    public var encryptedDocuments: [Note] = []
    /// Archives too deep, too many members, or expanding past the limits: not fully checked.
    public var limitsExceeded: [Note] = []
    /// Encrypted content found in a part's bytes (inline PGP, an OpenPGP or CMS file): unreadable.
    public var encryptedMessages: [Note] = []
    /// Office documents with macros: OLE2 files with a VBA project or Excel 4 macros (libclamav's
    /// `Heuristics.OLE2.ContainsMacros`), OOXML packages with a `vbaProject.bin` or a
    /// macro-enabled content type.
    public var macros: [Note] = []

    public init() {}
}
