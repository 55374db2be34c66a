import Crypto
public import Foundation
import Logging
public import MIMECore
public import Policy
public import Quarantine
import SMTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The secret that marks ThuGate's own notices: 32 random bytes, written as hex in a file of its
/// own (`[notify] key_file`, mode 0600), never in the configuration file, so the TOML can be shown
/// and versioned. Every node of a site shares the file, so each one recognises the others' notices.
public struct NoticeKey: Sendable {
    private let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Why the key file cannot be used; one line naming the file.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the key at `path`; when there is no file, creates it (0600, 32 bytes from the system's
    /// random source) and says so. A file that group or others may read, or that holds less than
    /// 32 bytes of hex, is refused: a key anyone can read forges notices.
    public static func loadOrCreate(path: String) throws(Failure) -> (key: NoticeKey, created: Bool) {
        if !FileManager.default.fileExists(atPath: path) {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let text = Array((bytes.hexDigits + "\n").utf8)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw Failure(
                    description: "notify.key_file \(path): cannot create it (\(String(cString: strerror(errno)))); "
                        + "make one: head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > \(path); chmod 600 \(path)"
                )
            }
            defer { close(fd) }
            fchmod(fd, 0o600)
            let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == text.count, fsync(fd) == 0 else {
                unlink(path)
                throw Failure(description: "notify.key_file \(path): cannot write: \(String(cString: strerror(errno)))")
            }
            return (NoticeKey(bytes: bytes), true)
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw Failure(description: "notify.key_file \(path): \(String(cString: strerror(errno)))") }
        guard info.st_mode & 0o077 == 0 else {
            throw Failure(
                description: "notify.key_file \(path): readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it"
            )
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4096 else {
            throw Failure(description: "notify.key_file \(path): cannot read it")
        }
        let hex = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard hex.count >= 64, hex.count % 2 == 0, let bytes = Self.bytes(hex: hex) else {
            throw Failure(description: "notify.key_file \(path): expected at least 64 hex digits (32 bytes)")
        }
        return (NoticeKey(bytes: bytes), false)
    }

    static func bytes(hex: String) -> [UInt8]? {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = nibble(high), let l = nibble(low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}

/// `X-ThuGate-Notice: v=1; id=ID; t=SECONDS; mac=HEX`, the header on ThuGate's own notices:
/// HMAC-SHA256 under the ``NoticeKey`` over the version, the notice id, its time and a hash of
/// its body with every space and line break taken out (the body is base64, which a relay may
/// rewrap). A copied header on another body, or a changed id or time, does not verify; the
/// comparison is constant-time.
///
/// What a verified header gains is narrow (``MessageOutcome/isOwnNotice``): no notice about a
/// notice (no loops), and no hold or refusal by a content rule (a notice about a state secret
/// names the finding, which a marking rule would catch again). The message is still inspected
/// in full, and virus and executable findings keep their action: ThuGate writes neither into a
/// notice, so one there means the key leaked. A header that does not verify is ignored, the
/// message treated as anyone's (and the log says so): refusing it would give anyone who copies a
/// notice's header a way to have mail refused, and it gains nothing.
/// - SeeAlso: RFC 2104 (HMAC), RFC 3834 (Auto-Submitted).
public enum NoticeSignature {
    public static let fieldName = "X-ThuGate-Notice"
    /// A notice is small, a mailed report at most ``ReportMail/maxBytes`` before base64; a
    /// larger body is not ThuGate's and is not hashed.
    static let maxBody = 8 << 20

    /// The header fields the MAC covers besides the body: who it is from and to, what it says it
    /// is, when and which. Compared without their whitespace (a relay may refold them).
    static let signedFields = ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "Auto-Submitted"]
    /// The other fields a verified notice may carry: what ThuGate writes on it and what relays add
    /// on the way (trace, authentication results). Any other field is text nobody signed: the
    /// message is then not taken for a notice.
    static let unsignedFields: Set<String> = [
        "x-thugate-notice", "x-auto-response-suppress", "mime-version", "content-transfer-encoding", "received", "return-path",
        "delivered-to", "x-original-to", "dkim-signature", "arc-seal", "arc-message-signature", "arc-authentication-results",
        "authentication-results", "received-spf", "x-thugate-findings", "x-thugate-normalized",
    ]
    /// How old a notice may be and still pass as one: retries end after `give_up_after` (48 h by
    /// default), and a copy kept for later is not a notice being delivered.
    static let maxAge: Int64 = 7 * 86400

    /// The header field, CRLF included, for a notice whose other header fields are `header`
    /// (CRLF-terminated, as sent).
    public static func field(key: NoticeKey, id: String, time: Int64, header: String, body: [UInt8]) -> String {
        let headerBytes = Array((header + "\r\n").utf8)
        let signed = headerBytes.withUnsafeBytes { raw -> String in
            var defects: [MIMEDefect] = []
            let section = HeaderSection.parse(raw, from: 0, to: raw.count, limits: MIMELimits(), defects: &defects)
            return signedHeaders(section, raw) ?? ""
        }
        let mac = mac(key: key, id: id, time: time, headers: signed, body: body)
        return "\(fieldName): v=1; id=\(id); t=\(time); mac=\(mac.hexDigits)\r\n"
    }

    static func mac(key: NoticeKey, id: String, time: Int64, headers: String, body: some Collection<UInt8>) -> [UInt8] {
        Array(
            HMAC<Crypto.SHA256>.authenticationCode(for: Array(input(id: id, time: time, headers: headers, body: body).utf8), using: key.key)
        )
    }

    /// `name:value` lines of ``signedFields``, values unfolded and without whitespace; nil when
    /// one of them appears twice (which one a reader shows is then anyone's guess).
    static func signedHeaders(_ section: HeaderSection, _ bytes: UnsafeRawBufferPointer) -> String? {
        var lines = ""
        for name in signedFields {
            let fields = section.fields(named: name)
            guard fields.count <= 1 else { return nil }
            let value = fields.first.map { String(decoding: $0.unfoldedValue(in: bytes), as: UTF8.self) } ?? ""
            lines += name.lowercased() + ":" + value.filter { !$0.isWhitespace } + "\n"
        }
        return lines
    }

    private static func input(id: String, time: Int64, headers: String, body: some Collection<UInt8>) -> String {
        var hasher = Crypto.SHA256()
        var chunk: [UInt8] = []
        chunk.reserveCapacity(4096)
        for byte in body where byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A {
            chunk.append(byte)
            if chunk.count == 4096 {
                hasher.update(data: chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        hasher.update(data: chunk)
        let headerHash = Array(Crypto.SHA256.hash(data: Array(headers.utf8))).hexDigits
        return "v=1;id=\(id);t=\(time);hh=\(headerHash);bh=\(Array(hasher.finalize()).hexDigits)"
    }

    public enum Check: Sendable, Equatable {
        /// No such header.
        case absent
        /// The MAC verified: ThuGate's own notice `id`.
        case valid(id: String)
        /// A header that does not verify (forged, copied onto another body, several of them).
        case invalid(String)
    }

    /// Checks the message `bytes` (header section and body, as received) at `now`: the MAC over
    /// the signed fields and the body, its age, and no field outside the signed and the expected.
    /// With `envelope`, a notice must also come as the notice service sends one: from the null
    /// sender, to the one address its signed `To:` names.
    public static func check(
        _ bytes: UnsafeRawBufferPointer,
        key: NoticeKey?,
        now: Date = Date(),
        envelope: (sender: String, recipients: [String])? = nil
    ) -> Check {
        var defects: [MIMEDefect] = []
        let section = HeaderSection.parse(bytes, from: 0, to: bytes.count, limits: MIMELimits(), defects: &defects)
        let fields = section.fields(named: fieldName)
        guard !fields.isEmpty else { return .absent }
        guard let key else { return .invalid("no notify key configured") }
        guard fields.count == 1 else { return .invalid("\(fields.count) \(fieldName) fields") }
        guard bytes.count - section.bodyStart <= maxBody else { return .invalid("body too large for a notice") }
        let value = String(decoding: fields[0].unfoldedValue(in: bytes), as: UTF8.self)
        var parameters: [String: String] = [:]
        for piece in value.split(separator: ";") {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, parameters[pair[0]] == nil else { return .invalid("malformed field") }
            parameters[pair[0]] = pair[1]
        }
        guard parameters["v"] == "1", let id = parameters["id"], !id.isEmpty, let timeText = parameters["t"], let time = Int64(timeText),
            let macText = parameters["mac"], let given = NoticeKey.bytes(hex: macText), given.count == 32
        else { return .invalid("malformed field") }
        let age = Int64(now.timeIntervalSince1970) - time
        guard age <= maxAge, age >= -3600 else { return .invalid("t=\(time) is not a notice being delivered now") }
        guard let headers = signedHeaders(section, bytes) else { return .invalid("a signed field appears twice") }
        let signed = Set(signedFields.map { $0.lowercased() })
        for field in section.fields {
            let name = field.name.lowercased()
            guard signed.contains(name) || unsignedFields.contains(name) else { return .invalid("unsigned field \(name.prefix(40))") }
        }
        if let envelope {
            let to = section.fields(named: "To").first.map { String(decoding: $0.unfoldedValue(in: bytes), as: UTF8.self) } ?? ""
            let address = to.filter { !$0.isWhitespace && $0 != "<" && $0 != ">" }.lowercased()
            guard envelope.sender.isEmpty, envelope.recipients.map({ $0.lowercased() }) == [address] else {
                return .invalid("not sent as a notice (from <>, to its one To: address)")
            }
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[section.bodyStart...])
        let authenticated = HMAC<Crypto.SHA256>.isValidAuthenticationCode(
            given,
            authenticating: Array(input(id: id, time: time, headers: headers, body: body).utf8),
            using: key.key
        )
        return authenticated ? .valid(id: id) : .invalid("MAC does not verify")
    }
}

extension Collection<UInt8> {
    var hexDigits: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension NoticeSignature {
    /// The rules that keep their action on a verified notice: ThuGate never writes malware into a
    /// notice, so a finding of these means the key is known to someone else (and `scan-crash`
    /// means nothing was checked at all).
    static let malwareRules: Set<String> = ["virus", "executable", "scan-crash"]

    /// Whether `message` is one of ThuGate's own notices; a header that does not verify is logged.
    static func isOwnNotice(_ message: MessageBytes, key: NoticeKey, envelope: Envelope, logger: Logger, queueID: String) -> Bool {
        let sent = (sender: envelope.sender.address, recipients: envelope.recipients.map(\.address))
        switch message.withUnsafeBytes({ check($0, key: key, envelope: sent) }) {
        case .absent: return false
        case .valid(let id):
            logger.info("\(queueID): ThuGate's own notice \(id) (MAC verified): no notice about it, only malware findings stop it")
            return true
        case .invalid(let why):
            logger.warning("\(queueID): \(fieldName) header ignored (\(why)); the message is inspected as any other")
            return false
        }
    }

    /// The verdict on a verified notice: a content rule's hold or refusal becomes a tag (the notice
    /// is delivered, with its findings in `X-ThuGate-Findings`); a malware finding keeps its verdict.
    public static func verdictForOwnNotice(_ verdict: Verdict, findings: [Finding]) -> Verdict {
        guard !findings.contains(where: { malwareRules.contains($0.rule.rawValue) }) else { return verdict }
        switch verdict {
        case .quarantine(let finding), .reject(let finding), .tempfail(let finding): return .tag(finding)
        case .pass, .tag: return verdict
        }
    }
}

/// What the proxy needs for notices: who is told of a hold or a refusal, the key that recognises
/// ThuGate's own notices, and the notice service's wake-up.
public struct NoticeSetup: Sendable {
    public var planner: NoticePlanner
    public var key: NoticeKey
    public var wake: @Sendable () -> Void

    public init(planner: NoticePlanner, key: NoticeKey, wake: @escaping @Sendable () -> Void) {
        self.planner = planner
        self.key = key
        self.wake = wake
    }
}
