internal import CMagic

/// One libmagic cookie. libmagic handles are not safe to share between threads (a shared one
/// corrupted the heap here), so each scan worker owns one; `@unchecked Sendable` because the
/// ``MagicPool`` hands a cookie to one thread at a time.
public final class MagicCookie: @unchecked Sendable {
    private let cookie: magic_t

    public init() throws(ScanError) {
        guard let cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR) else { throw ScanError("magic_open failed") }
        guard magic_load(cookie, nil) == 0 else {
            let why = magic_error(cookie).map { String(cString: $0) } ?? "unknown"
            magic_close(cookie)
            throw ScanError("magic_load: \(why)")
        }
        self.cookie = cookie
    }

    deinit { magic_close(cookie) }

    /// The MIME type of `bytes` (the string libmagic returns is overwritten by the next call,
    /// so it is copied at once).
    public func mimeType(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return "application/x-empty" }
        return ContentStageTimes.time(\.libmagic) { magic_buffer(cookie, base, bytes.count).map { String(cString: $0) } }
    }
}
