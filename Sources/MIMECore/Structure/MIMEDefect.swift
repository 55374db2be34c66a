/// Something wrong found while parsing, recorded on the part where it occurs (as rspamd and
/// Python's `email` package do).
public struct MIMEDefect: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        // Cannot be checked, or abuse: `malformed` findings (default: reject).
        case limitExceeded = "limit-exceeded"
        case headerSectionUnterminated = "header-section-unterminated"
        case messagePartial = "message-partial"
        // Every reader recovers them the same way, and ThuGate reads them that way too:
        // `mime-irregular` findings (default: tag).
        case missingFinalBoundary = "missing-final-boundary"
        case textAfterBase64 = "text-after-base64"
        case base64Padding = "base64-padding"
        case invalidQuotedPrintable = "invalid-quoted-printable"
        // Readers may take them in different ways; ThuGate scans every reading it knows:
        // `mime-ambiguous` findings (default: tag).
        case multipartWithoutBoundary = "multipart-without-boundary"
        case boundaryNotFound = "boundary-not-found"
        case invalidBase64 = "invalid-base64"
        case conflictingFields = "conflicting-fields"
        case fieldsAfterLineWithoutColon = "fields-after-line-without-colon"
        // Details shown by `thugate scan`.
        case headerLineWithoutColon = "header-line-without-colon"
        case eightBitHeader = "8bit-header"
        case nulByte = "nul-byte"
        case bareLineEnding = "bare-line-ending"
        case obsoleteHeaderSyntax = "obsolete-header-syntax"
    }

    /// How much a defect matters to the policy.
    public enum Severity: Sendable, Comparable {
        /// Shown by `thugate scan`, no finding.
        case detail
        /// Recovered the same way by every reader: `mime-irregular`.
        case irregular
        /// Readers may differ; every reading ThuGate knows was scanned: `mime-ambiguous`.
        case ambiguous
        /// A limit passed or a structure that cannot be read: `malformed`.
        case malformed
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public var severity: Severity {
        switch kind {
        case .limitExceeded, .headerSectionUnterminated, .messagePartial:
            return .malformed
        case .missingFinalBoundary, .textAfterBase64, .base64Padding, .invalidQuotedPrintable:
            return .irregular
        case .multipartWithoutBoundary, .boundaryNotFound, .invalidBase64, .conflictingFields, .fieldsAfterLineWithoutColon:
            return .ambiguous
        case .headerLineWithoutColon, .eightBitHeader, .nulByte, .bareLineEnding, .obsoleteHeaderSyntax:
            return .detail
        }
    }

    /// Whether the message cannot be checked reliably (policy: `malformed`).
    public var isMalformation: Bool { severity == .malformed }

    public var description: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue): \(detail)" }
}
