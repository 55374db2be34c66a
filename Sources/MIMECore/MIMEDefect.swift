/// Something wrong found while parsing, recorded on the part where it occurs (as rspamd and
/// Python's `email` package do).
public struct MIMEDefect: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        // Change how the message can be read: these become `malformed` findings.
        case multipartWithoutBoundary = "multipart-without-boundary"
        case missingFinalBoundary = "missing-final-boundary"
        case invalidBase64 = "invalid-base64"
        case invalidQuotedPrintable = "invalid-quoted-printable"
        case limitExceeded = "limit-exceeded"
        case headerSectionUnterminated = "header-section-unterminated"
        // Details shown by `thugate scan`.
        case headerLineWithoutColon = "header-line-without-colon"
        case eightBitHeader = "8bit-header"
        case nulByte = "nul-byte"
        case bareLineEnding = "bare-line-ending"
        case boundaryNotFound = "boundary-not-found"
        case obsoleteHeaderSyntax = "obsolete-header-syntax"
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    /// Whether the defect changes how the message can be read (policy: `malformed`).
    public var isMalformation: Bool {
        switch kind {
        case .multipartWithoutBoundary, .missingFinalBoundary, .invalidBase64, .invalidQuotedPrintable,
             .limitExceeded, .headerSectionUnterminated:
            return true
        default:
            return false
        }
    }

    public var description: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue): \(detail)" }
}
