public import DocumentText
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// How the PDF helpers run (`[documents]`).
public struct PDFHelperSettings: Sendable, Equatable {
    /// Helper processes kept started: one per scan thread, so no scan waits for another's PDF.
    public var helpers = 2
    /// Address space of each helper (RLIMIT_AS), MiB.
    public var memoryMB = 512
    /// CPU seconds a helper may spend on one PDF (RLIMIT_CPU, moved before each request).
    public var cpuSeconds = 10
    /// Wall-clock seconds for one PDF; then the helper is killed (SIGKILL) and replaced.
    public var timeoutSeconds = 20
    /// Pages read of one PDF; a longer one is not fully checked.
    public var maxPages = 50
    /// Pages read with positions, fonts and colours (the stamp's page is the first).
    public var positionedPages = 2
    /// The largest PDF a helper accepts (its frame cap, fixed when it starts); a larger one is
    /// refused before it is sent, whatever `ExtractionLimits.maxInputBytes` allows.
    public var maxInputBytes = ExtractionLimits().maxInputBytes
    /// The helper executable; empty: `thugate-pdftext` beside the running executable.
    public var helperPath = ""
    /// OCR of the top of page 1 when it has no text (a scan), by tesseract with its Vietnamese
    /// model, run by the helper under the helper's limits. Off by default: about a second a PDF.
    public var ocr = false
    public var tesseractPath = "/usr/bin/tesseract"

    public init() {}
}

public struct PDFHelperError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads PDFs in pre-started helper processes (`thugate-pdftext`), one PDF per helper at a time:
/// a PDF engine on hostile input must not be able to take the gateway down.
///
/// Each helper is spawned with `posix_spawn` (no shell, an empty environment, stdin and stdout on
/// pipes, stderr on /dev/null, close-on-exec on every other descriptor, signals at their defaults) and sets
/// its own limits (address space, CPU seconds per PDF, open files, no file written, no core), in a
/// process group of its own (with the OCR process it may start). A
/// read takes a free helper (waiting for one when all are busy), sends the PDF, and waits for the
/// answer until `timeoutSeconds`; a helper that dies, breaks the protocol or runs out of time is
/// killed (SIGKILL), reaped and replaced, and that PDF's result carries a `pdf-helper:` problem:
/// never an empty complete result. A helper that cannot be started is tried again after a
/// growing pause (1 s doubling to 60 s), so a broken installation cannot spin; meanwhile reads
/// answer `pdf-helper: unavailable`.
///
/// Sendable: the helpers and counters sit in a lock; a helper is used by one thread at a time
/// (checked out of the lock while in use).
public final class PDFHelperPool: PDFTextReading {
    public let settings: PDFHelperSettings
    /// The helper executable in use.
    public let helperPath: String
    /// One permit per helper slot: a read holds one while it uses a helper.
    private let slots: DispatchSemaphore
    private let state: NIOLockedValueBox<State>
    private let spawnLock = NIOLock()

    /// Counters for logs and benchmarks.
    public struct Statistics: Sendable, Equatable {
        public var spawned = 0
        public var died = 0
        public var timedOut = 0
        public var spawnFailures = 0
        public var read = 0
    }

    private struct State: Sendable {
        var idle: [Helper] = []
        /// Slots whose helper is gone and not yet replaced.
        var vacant = 0
        var closed = false
        var consecutiveSpawnFailures = 0
        /// Monotonic time (ns) before which no helper is started after a failed start.
        var retryAt: UInt64 = 0
        var statistics = Statistics()
    }

    /// One running helper: its pid and the parent's pipe ends.
    struct Helper: Sendable {
        var pid: pid_t
        /// The helper's stdin (we write requests), non-blocking.
        var input: Int32
        /// The helper's stdout (we read responses), non-blocking.
        var output: Int32
    }

    /// Starts `settings.helpers` helpers. Throws when the executable is missing or the first one
    /// cannot be started (the gateway then refuses to start rather than pass PDFs unread).
    public init(settings: PDFHelperSettings) throws(PDFHelperError) {
        self.settings = settings
        let path = settings.helperPath.isEmpty ? Self.besideExecutable : settings.helperPath
        guard access(path, X_OK) == 0 else {
            throw PDFHelperError("PDF helper \(path) is missing or not executable (set [documents] pdf_helper)")
        }
        helperPath = path
        if settings.ocr {
            guard access(settings.tesseractPath, X_OK) == 0 else {
                throw PDFHelperError("OCR is on but \(settings.tesseractPath) is missing (Debian: tesseract-ocr tesseract-ocr-vie)")
            }
        }
        let count = max(1, settings.helpers)
        slots = DispatchSemaphore(value: count)
        state = NIOLockedValueBox(State())
        // A helper that dies while a request is being written must give EPIPE, not kill the gateway.
        signal(SIGPIPE, SIG_IGN)
        var started = [Helper]()
        for index in 0..<count {
            do {
                started.append(try spawn())
            } catch {
                if index == 0 {
                    throw error
                }
                state.withLockedValue { $0.vacant += 1 }
            }
        }
        state.withLockedValue {
            $0.idle = started
            $0.statistics.spawned = started.count
        }
    }

    deinit { shutdown() }

    /// `thugate-pdftext` in the directory of the running executable.
    public static var besideExecutable: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("thugate-pdftext").path
    }

    public var statistics: Statistics { state.withLockedValue { $0.statistics } }

    /// The pids of the idle helpers (tests kill them to see them replaced).
    public var idleHelperPIDs: [Int32] { state.withLockedValue { $0.idle.map { Int32($0.pid) } } }

    /// Kills every idle helper and makes later reads answer `pdf-helper: stopped`; a helper in use
    /// is killed when its read ends.
    public func shutdown() {
        let helpers = state.withLockedValue { state -> [Helper] in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        for helper in helpers { Self.kill(helper) }
    }

    public func read(_ bytes: UnsafeRawBufferPointer, limits: ExtractionLimits) -> ExtractedText {
        let maxInput = min(limits.maxInputBytes, settings.maxInputBytes)
        guard bytes.count <= maxInput else {
            return ExtractedText(problems: ["input-too-large: PDF of \(bytes.count) bytes, at most \(maxInput) read"])
        }
        slots.wait()
        defer { slots.signal() }
        enum Checkout {
            case helper(Helper)
            case vacant
            case closed
        }
        let checkout = state.withLockedValue { state -> Checkout in
            if state.closed { return .closed }
            if let helper = state.idle.popLast() { return .helper(helper) }
            state.vacant -= 1
            return .vacant
        }
        let helper: Helper
        switch checkout {
        case .closed:
            return ExtractedText(problems: ["pdf-helper: stopped, PDF not read"])
        case .helper(let h) where Self.isWaiting(h):
            helper = h
        case .helper(let dead):
            // Died while idle (killed from outside, or the limits of an earlier PDF caught up with
            // it): not this PDF's doing, so it is replaced before the PDF is sent.
            Self.kill(dead)
            state.withLockedValue { $0.statistics.died += 1 }
            switch replacement() {
            case .success(let h): helper = h
            case .failure(let error):
                state.withLockedValue { $0.vacant += 1 }
                return ExtractedText(problems: ["pdf-helper: unavailable (\(error)), PDF not read"])
            }
        case .vacant:
            switch replacement() {
            case .success(let h): helper = h
            case .failure(let error):
                state.withLockedValue { $0.vacant += 1 }
                return ExtractedText(problems: ["pdf-helper: unavailable (\(error)), PDF not read"])
            }
        }

        let request = PDFTextRequest.encode(
            pdf: bytes,
            maxPages: settings.maxPages,
            positionedPages: settings.positionedPages,
            maxTextBytes: limits.maxTextBytes,
            maxUnits: limits.maxUnits
        )
        let deadline = Self.now + UInt64(max(1, settings.timeoutSeconds)) * 1_000_000_000
        let outcome = Self.exchange(helper, send: request, deadline: deadline, maxResponse: Self.maxResponse(limits))
        let result: ExtractedText
        switch outcome {
        case .answered(let payload):
            do {
                result = try PDFTextResponse(decoding: payload).text
            } catch {
                // A helper that answers garbage is not trusted again.
                return replace(helper, failure: "broke the protocol (\(error))", timedOut: false)
            }
        case .timedOut:
            return replace(helper, failure: "timed out after \(max(1, settings.timeoutSeconds)) s", timedOut: true)
        case .died(let how):
            return replace(helper, failure: how, timedOut: false)
        }
        let keep = state.withLockedValue { state -> Bool in
            state.statistics.read += 1
            guard !state.closed else { return false }
            state.idle.append(helper)
            return true
        }
        if !keep { Self.kill(helper) }
        return result
    }

    /// Kills and reaps `helper`, starts its replacement (or leaves the slot vacant), and gives the
    /// PDF's result: a `pdf-helper:` problem saying what went wrong, with the helper's exit status.
    private func replace(_ helper: Helper, failure: String, timedOut: Bool) -> ExtractedText {
        let status = Self.kill(helper)
        let detail = "pdf-helper: \(failure)" + (timedOut ? "" : " (\(Self.describe(status)))") + ", PDF not read"
        state.withLockedValue {
            if timedOut { $0.statistics.timedOut += 1 } else { $0.statistics.died += 1 }
        }
        switch replacement() {
        case .success(let fresh):
            let keep = state.withLockedValue { state -> Bool in
                guard !state.closed else { return false }
                state.idle.append(fresh)
                return true
            }
            if !keep { Self.kill(fresh) }
        case .failure:
            state.withLockedValue { $0.vacant += 1 }
        }
        return ExtractedText(problems: [detail])
    }

    /// A new helper, unless the last start failed less than the back-off ago.
    private func replacement() -> Result<Helper, PDFHelperError> {
        let now = Self.now
        let wait = state.withLockedValue { state -> UInt64 in state.retryAt > now ? state.retryAt - now : 0 }
        guard wait == 0 else {
            return .failure(PDFHelperError("restarting after a failed start, next try in \(wait / 1_000_000_000 + 1) s"))
        }
        do {
            let helper = try spawn()
            state.withLockedValue {
                $0.consecutiveSpawnFailures = 0
                $0.retryAt = 0
                $0.statistics.spawned += 1
            }
            return .success(helper)
        } catch {
            state.withLockedValue {
                $0.consecutiveSpawnFailures += 1
                $0.statistics.spawnFailures += 1
                let pause = UInt64(min(60, 1 << min(6, $0.consecutiveSpawnFailures - 1)))
                $0.retryAt = Self.now + pause * 1_000_000_000
            }
            return .failure(error)
        }
    }

    /// The largest response accepted: the text cap, a few dozen bytes per unit, the problems.
    static func maxResponse(_ limits: ExtractionLimits) -> Int {
        limits.maxTextBytes + limits.maxUnits * 300 + (1 << 20)
    }

    // MARK: Processes

    /// Starts one helper and waits for its "ready" frame.
    func spawn() throws(PDFHelperError) -> Helper {
        // pipe2(O_CLOEXEC) and addclosefrom_np are not visible to Swift (they need _GNU_SOURCE):
        // close-on-exec is set right after pipe(), spawns are serialised so no helper of this pool
        // is started between the two, and the helper closes every descriptor above 2 itself.
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { throw PDFHelperError("pipe: errno \(errno)") }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            throw PDFHelperError("pipe: errno \(errno)")
        }
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The gateway's ignored signals (SIGPIPE, SIGHUP) and mask are not the helper's: SIGXCPU
        // must end it at its CPU limit.
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        // A process group of its own: the wall-clock kill reaches the OCR process the helper starts.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let arguments =
            [
                helperPath, "--memory-mb", "\(settings.memoryMB)", "--cpu-seconds", "\(settings.cpuSeconds)",
                "--max-input-bytes", "\(settings.maxInputBytes)",
            ] + (settings.ocr ? ["--tesseract", settings.tesseractPath] : [])
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, helperPath, &actions, &attributes, &argv, &envp)
        close(toChild[0])
        close(fromChild[1])
        guard spawned == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw PDFHelperError("cannot start \(helperPath): errno \(spawned)")
        }
        _ = fcntl(toChild[1], F_SETFL, fcntl(toChild[1], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fromChild[0], F_SETFL, fcntl(fromChild[0], F_GETFL) | O_NONBLOCK)
        let helper = Helper(pid: pid, input: toChild[1], output: fromChild[0])
        // The helper answers once its limits are set: a binary that cannot run fails here, at
        // start, not on a message.
        switch Self.exchange(helper, send: [], deadline: Self.now + 10_000_000_000, maxResponse: 64) {
        case .answered(let payload) where (try? PDFTextResponse(decoding: payload)) == PDFTextResponse(ExtractedText()):
            return helper
        case .answered:
            let status = Self.kill(helper)
            throw PDFHelperError("\(helperPath) did not answer the handshake (\(Self.describe(status)))")
        case .timedOut:
            Self.kill(helper)
            throw PDFHelperError("\(helperPath) did not answer within 10 s of its start")
        case .died(let how):
            let status = Self.kill(helper)
            throw PDFHelperError("\(helperPath) did not start: \(how) (\(Self.describe(status)))")
        }
    }

    enum Outcome {
        case answered([UInt8])
        case timedOut
        /// What went wrong, as a phrase: `died while reading the PDF`.
        case died(String)
    }

    /// Writes `send` to the helper and reads one response frame, both before `deadline`
    /// (monotonic ns), without blocking on either pipe.
    static func exchange(_ helper: Helper, send: [UInt8], deadline: UInt64, maxResponse: Int) -> Outcome {
        var reader = PDFFrameReader(maxPayload: maxResponse)
        var written = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let now = self.now
            guard now < deadline else { return .timedOut }
            var fds = [pollfd(fd: helper.output, events: Int16(POLLIN), revents: 0)]
            if written < send.count { fds.append(pollfd(fd: helper.input, events: Int16(POLLOUT), revents: 0)) }
            let waitMS = Int32(clamping: (deadline - now) / 1_000_000 + 1)
            let ready = poll(&fds, nfds_t(fds.count), waitMS)
            if ready < 0 {
                if errno == EINTR { continue }
                return .died("could not be waited for (poll errno \(errno))")
            }
            if ready == 0 { continue }
            if fds.count > 1, fds[1].revents != 0 {
                let n = send.withUnsafeBytes { write(helper.input, $0.baseAddress! + written, $0.count - written) }
                if n > 0 {
                    written += n
                } else if n < 0, errno != EAGAIN, errno != EINTR {
                    return .died("died while the PDF was sent")
                }
            }
            if fds[0].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(helper.output, $0.baseAddress, $0.count) }
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    return .died("died while reading the PDF")
                }
                if n > 0 {
                    reader.append(chunk[..<n])
                    do {
                        if let payload = try reader.next() {
                            // An answer before the whole request was taken is out of step.
                            guard written == send.count else {
                                return .died("answered before the request was sent")
                            }
                            return .answered(payload)
                        }
                    } catch {
                        return .died("broke the protocol (\(error))")
                    }
                }
            }
        }
    }

    /// True when an idle helper is alive: nothing to read on its stdout and no hang-up.
    static func isWaiting(_ helper: Helper) -> Bool {
        var fds = [pollfd(fd: helper.output, events: Int16(POLLIN), revents: 0)]
        return poll(&fds, 1, 0) == 0
    }

    /// SIGKILL to the helper's process group (the helper and its OCR process), reap, close the
    /// pipes; the helper's wait status.
    @discardableResult
    static func kill(_ helper: Helper) -> Int32 {
        _ = Glibc.kill(-helper.pid, SIGKILL)
        _ = Glibc.kill(helper.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(helper.pid, &status, 0) < 0 && errno == EINTR {}
        close(helper.input)
        close(helper.output)
        return status
    }

    /// A wait status in words (`signal 6`, `exit status 3`).
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exit status \((status >> 8) & 0xff)" }
        let names: [Int32: String] = [
            SIGABRT: "SIGABRT", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGXCPU: "SIGXCPU: CPU limit",
            SIGXFSZ: "SIGXFSZ", SIGFPE: "SIGFPE", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
        ]
        return "signal \(signal)" + (names[signal].map { " \($0)" } ?? "")
    }

    /// Monotonic nanoseconds.
    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
}
