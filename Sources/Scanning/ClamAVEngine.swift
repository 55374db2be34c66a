import Archives
internal import CClamAV
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Limits and places for libclamav, from `[scan]` in the configuration.
public struct ClamAVSettings: Sendable, Equatable {
    /// Signature directory: `/var/lib/clamav` (kept fresh by freshclam) in production; the
    /// project's own test signatures by default.
    public var databaseDirectory = "Config/signatures"
    /// Where libclamav writes archive members it extracts (even for in-memory scans). It makes
    /// and removes a directory here for every scan: on a tmpfs that costs microseconds, on ext4
    /// it more than halved the small-message throughput (Benchmarks/RESULTS.md).
    public var temporaryDirectory = "/dev/shm/thugate"
    public var maxScanSize = 400 * 1_048_576
    public var maxFileSize = 100 * 1_048_576
    public var maxRecursion = 16
    public var maxFiles = 10_000
    /// Milliseconds one scan may take before libclamav gives up (then the message is deferred).
    public var maxScanTime = 120_000

    public init() {}
}

/// Why libclamav could not do what was asked: the call, the C error code and its text.
public struct ClamAVError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32
    public var message: String

    init(_ call: String, _ code: cl_error_t, detail: String = "") {
        self.call = call
        self.code = Int32(bitPattern: code.rawValue)
        self.message = String(cString: cl_strerror(code)) + (detail.isEmpty ? "" : " (\(detail))")
    }

    public var description: String { "\(call): \(message)" }
}

/// One compiled libclamav engine.
///
/// A compiled engine is read-only and libclamav documents it as safe to scan with from many
/// threads at once (that is why it is `@unchecked Sendable`); it is never changed after
/// `init`. Reload builds a new one (``EngineStore``): `cl_engine_compile` twice on one engine
/// crashes. Freed in `deinit`, when the last scan holding it ends.
public final class ClamAVEngine: @unchecked Sendable {
    private let engine: OpaquePointer
    public let signatureCount: Int
    public let settings: ClamAVSettings

    /// `cl_init` once per process.
    private static let initialised: cl_error_t = cl_init(UInt32(CL_INIT_DEFAULT))

    /// Loads and compiles the signatures in `settings.databaseDirectory`.
    public init(settings: ClamAVSettings) throws(ClamAVError) {
        guard Self.initialised == CL_SUCCESS else { throw ClamAVError("cl_init", Self.initialised) }
        guard let engine = cl_engine_new() else { throw ClamAVError("cl_engine_new", CL_EMEM) }
        func set(_ field: cl_engine_field, _ value: Int) throws(ClamAVError) {
            let rc = cl_engine_set_num(engine, field, Int64(value))
            guard rc == CL_SUCCESS else {
                cl_engine_free(engine)
                throw ClamAVError("cl_engine_set_num", rc, detail: "\(field)")
            }
        }
        try set(CL_ENGINE_MAX_SCANSIZE, settings.maxScanSize)
        try set(CL_ENGINE_MAX_FILESIZE, settings.maxFileSize)
        try set(CL_ENGINE_MAX_RECURSION, settings.maxRecursion)
        try set(CL_ENGINE_MAX_FILES, settings.maxFiles)
        try set(CL_ENGINE_MAX_SCANTIME, settings.maxScanTime)
        // The clean-file cache ignores scan options and would skip the member callback for bytes
        // seen before: every message is looked at afresh.
        try set(CL_ENGINE_DISABLE_CACHE, 1)
        do {
            try Self.prepareTemporaryDirectory(settings.temporaryDirectory)
        } catch {
            cl_engine_free(engine)
            throw error
        }
        let rcTmp = cl_engine_set_str(engine, CL_ENGINE_TMPDIR, settings.temporaryDirectory)
        guard rcTmp == CL_SUCCESS else {
            cl_engine_free(engine)
            throw ClamAVError("cl_engine_set_str", rcTmp, detail: "tmpdir")
        }

        var signatures: UInt32 = 0
        let rcLoad = cl_load(settings.databaseDirectory, engine, &signatures, CClamAV_dbOptions())
        guard rcLoad == CL_SUCCESS else {
            cl_engine_free(engine)
            throw ClamAVError("cl_load", rcLoad, detail: settings.databaseDirectory)
        }
        guard signatures > 0 else {
            cl_engine_free(engine)
            throw ClamAVError("cl_load", CL_EMALFDB, detail: "\(settings.databaseDirectory): no signatures")
        }
        cl_engine_set_clcb_file_inspection(engine, fileInspectionCallback)
        let rcCompile = cl_engine_compile(engine)
        guard rcCompile == CL_SUCCESS else {
            cl_engine_free(engine)
            throw ClamAVError("cl_engine_compile", rcCompile)
        }
        self.engine = engine
        self.signatureCount = Int(signatures)
        self.settings = settings
    }

    deinit {
        cl_engine_free(engine)
    }

    /// libclamav makes a directory per scan and writes the members it extracts there. The
    /// directory must be ThuGate's own: created 0700, not a symlink, owned by this user (it may
    /// sit in a shared tmpfs such as /dev/shm).
    static func prepareTemporaryDirectory(_ path: String) throws(ClamAVError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw ClamAVError("temporary directory", CL_ETMPDIR, detail: "\(path): \(error.localizedDescription)")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ClamAVError("temporary directory", CL_ETMPDIR, detail: "\(path) is not a directory")
        }
        guard info.st_uid == geteuid() else {
            throw ClamAVError("temporary directory", CL_ETMPDIR, detail: "\(path) belongs to another user")
        }
        if info.st_mode & 0o077 != 0 && chmod(path, 0o700) != 0 {
            throw ClamAVError("temporary directory", CL_ETMPDIR, detail: "\(path): cannot make it private")
        }
    }

    public static var libraryVersion: String { String(cString: cl_retver()) }

    /// libclamav's own warnings and errors (it prints them to stderr otherwise): sent to
    /// `handler` instead, to reach the gateway's log. Process-wide, like libclamav's callback.
    public static func setMessageHandler(_ handler: @escaping @Sendable (_ isError: Bool, _ message: String) -> Void) {
        messageHandler.withLockedValue { $0 = handler }
        cl_set_clcb_msg(clamavMessageCallback)
    }

    /// One layer libclamav looked at: the scanned bytes themselves (depth 0) or a file it
    /// extracted from them (an archive member, an embedded object).
    public struct Layer {
        public var depth: Int
        public var type: String
        public var name: String?
        public var ancestors: [String]
        public var size: Int
        /// The layer's bytes, valid only during the callback.
        public var bytes: UnsafeRawBufferPointer?
        public var normalized: Bool
    }

    public enum Outcome: Sendable, Equatable {
        case clean
        case virus(String)
    }

    /// Scans bytes in memory; `inspect` is called for every layer, on this thread.
    public func scan(_ bytes: UnsafeRawBufferPointer, name: String, inspect: (Layer) -> Void) throws(ClamAVError) -> Outcome {
        try withoutActuallyEscaping(inspect) { (inspect) throws(ClamAVError) -> Outcome in
            let box = CallbackBox(inspect)
            return try withExtendedLifetime(box) { () throws(ClamAVError) -> Outcome in
                // An empty buffer cannot be mapped; there is nothing in it to find.
                guard bytes.count > 0, let base = bytes.baseAddress else { return .clean }
                guard let map = cl_fmap_open_memory(base, bytes.count) else { throw ClamAVError("cl_fmap_open_memory", CL_EMEM) }
                defer { cl_fmap_close(map) }
                var options = cl_scan_options(
                    general: UInt32(CL_SCAN_GENERAL_HEURISTICS),
                    // Every parser, mail too: ThuGate parses the message itself, but a mail can
                    // sit inside an archive and TNEF (winmail.dat) is opened by the mail parser.
                    // (Its old crash in tableInsert was ThuGate's fault: a `tableCreate` of our
                    // own replaced libclamav's; see Scripts/linker/private-symbols.map.)
                    parse: ~UInt32(CL_SCAN_PARSE_IMAGE_FUZZY_HASH),
                    // Macros are reported as Heuristics.OLE2.ContainsMacros, which the scanner
                    // records for the office-macro rule, not as a virus. Heuristics do not stop
                    // the scan (no CL_SCAN_GENERAL_HEURISTIC_PRECEDENCE): a signature found
                    // later wins.
                    heuristic: UInt32(
                        CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC
                            | CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_MACROS
                    ),
                    mail: 0,
                    dev: 0
                )
                var virus: UnsafePointer<CChar>? = nil
                var scanned: UInt = 0
                let context = Unmanaged.passUnretained(box).toOpaque()
                let rc = ContentStageTimes.time(\.libclamav) { cl_scanmap_callback(map, name, &virus, &scanned, engine, &options, context) }
                switch rc {
                case CL_CLEAN: return .clean
                case CL_VIRUS: return .virus(virus.map { String(cString: $0) } ?? "unknown")
                default: throw ClamAVError("cl_scanmap_callback", rc)
                }
            }
        }
    }
}

private let messageHandler = NIOLockedValueBox<(@Sendable (Bool, String) -> Void)?>(nil)

/// libclamav's message callback; its context argument is the scan's, so it is not used.
private func clamavMessageCallback(
    severity: cl_msg,
    fullMessage: UnsafePointer<CChar>?,
    message: UnsafePointer<CChar>?,
    context: UnsafeMutableRawPointer?
) {
    guard severity != CL_MSG_INFO_VERBOSE, let message, let handler = messageHandler.withLockedValue({ $0 }) else { return }
    handler(severity == CL_MSG_ERROR, String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines))
}

private final class CallbackBox {
    let inspect: (ClamAVEngine.Layer) -> Void
    init(_ inspect: @escaping (ClamAVEngine.Layer) -> Void) { self.inspect = inspect }
}

/// libclamav calls this for every new layer; it captures nothing (a C function pointer): the
/// per-scan state comes through `context`.
private func fileInspectionCallback(
    fd: Int32,
    type: UnsafePointer<CChar>?,
    ancestors: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
    parentSize: Int,
    fileName: UnsafePointer<CChar>?,
    fileSize: Int,
    buffer: UnsafePointer<CChar>?,
    recursionLevel: UInt32,
    attributes: UInt32,
    context: UnsafeMutableRawPointer?
) -> cl_error_t {
    guard let context else { return CL_CLEAN }
    let box = Unmanaged<CallbackBox>.fromOpaque(context).takeUnretainedValue()
    var names: [String] = []
    if let ancestors, recursionLevel > 0 {
        for i in 0..<Int(recursionLevel) { names.append(ancestors[i].map(ArchiveText.memberName) ?? "") }
    }
    let layer = ClamAVEngine.Layer(
        depth: Int(recursionLevel),
        type: type.map { String(cString: $0) } ?? "CL_TYPE_ANY",
        name: fileName.map(ArchiveText.memberName),
        ancestors: names,
        size: fileSize,
        bytes: buffer.map { UnsafeRawBufferPointer(start: UnsafeRawPointer($0), count: fileSize) },
        normalized: attributes & UInt32(LAYER_ATTRIBUTES_NORMALIZED) != 0
    )
    // What the scanner does with the layer is not libclamav's time (`thugate bench`).
    ContentStageTimes.time(nil) { box.inspect(layer) }
    return CL_CLEAN
}
