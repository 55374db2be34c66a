/// Limits on what the MIME parser will take apart. Past a limit the parser stops descending
/// and records a defect naming the limit; it never exhausts memory or recursion.
///
/// - SeeAlso: rspamd's `mime_parser` limits, Python's `email` policy `max_line_length`.
public struct MIMELimits: Sendable, Equatable {
    /// Multipart and message/rfc822 nesting (the top-level message is depth 0).
    public var maxDepth = 64
    /// Parts in all, containers included.
    public var maxParts = 10_000
    /// Bytes of one header section.
    public var maxHeaderSectionBytes = 1024 * 1024
    /// Bytes of one header field, folded lines included (`[mime] max_field_size`). RFC 5322 2.1.1
    /// caps a line at 998 octets but not a folded field; real mail has 4–20 KB `To:` lists and
    /// DKIM/ARC fields.
    public var maxHeaderFieldBytes = 64 * 1024
    /// Decoded bytes over all parts, for callers that decode everything.
    public var maxDecodedBytes = 256 * 1024 * 1024

    public init() {}
}
