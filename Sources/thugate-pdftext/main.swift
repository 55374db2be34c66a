// thugate-pdftext: reads the text of PDFs for the gateway's secrecy check (issue 12), in a process of
// its own, because a PDF engine on hostile input must not be able to take the gateway down.
//
// Started by the gateway's PDFHelperPool with pipes on stdin and stdout: it limits its own
// resources (address space, CPU seconds per request, open files, no files written, no core
// dump), answers a "ready" frame, then reads one framed request after another (DocumentText's
// PDFTextFrames) and answers each with one framed response. It exits at the end of its input.
// A PDF that breaks poppler kills only this process; the pool replaces it.
import CPoppler
import DocumentText
import SecrecyMarks

#if canImport(Glibc)
import Glibc
#endif

/// The limits from the command line (`--memory-mb`, `--cpu-seconds`, `--max-input-bytes`), and
/// `--tesseract PATH` when the top of a page without text is to be read by OCR.
struct HelperOptions {
    var memoryMB = 512
    var cpuSeconds = 10
    var maxInputBytes = 64 << 20
    var openFiles = 32
    var tesseract: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let name = iterator.next() {
            guard let text = iterator.next() else { fail("bad argument \(name)") }
            if name == "--tesseract" {
                tesseract = text
                continue
            }
            guard let value = Int(text), value >= 0 else { fail("bad argument \(name)") }
            switch name {
            case "--memory-mb": memoryMB = value
            case "--cpu-seconds": cpuSeconds = value
            case "--max-input-bytes": maxInputBytes = value
            case "--open-files": openFiles = value
            default: fail("unknown argument \(name)")
            }
        }
    }
}

func fail(_ message: String) -> Never {
    let line = "thugate-pdftext: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func setLimit(_ resource: __rlimit_resource, soft: rlim_t, hard: rlim_t) {
    var value = rlimit(rlim_cur: soft, rlim_max: hard)
    guard setrlimit(__rlimit_resource_t(resource.rawValue), &value) == 0 else { fail("setrlimit \(resource.rawValue): errno \(errno)") }
}

/// The hard limit in force (a process that is not root cannot raise it).
func hardLimit(_ resource: __rlimit_resource) -> rlim_t {
    var value = rlimit()
    getrlimit(__rlimit_resource_t(resource.rawValue), &value)
    return value.rlim_max
}

/// CPU seconds this process has used so far.
func cpuSecondsUsed() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1
}

func writeAll(_ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        // The gateway closed the pipe (it stopped, or gave up on this request): nothing to answer.
        guard n > 0 else { exit(0) }
        offset += n
    }
}

let options = HelperOptions(CommandLine.arguments)
// Descriptors the gateway let through (its own are close-on-exec, a library's may not be): none is
// needed, so every one above stderr is closed, as /proc/self/fd lists them.
func closeInheritedDescriptors() {
    var open = [Int32]()
    if let directory = opendir("/proc/self/fd") {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if let fd = Int32(name), fd > 2 { open.append(fd) }
        }
        closedir(directory)
    } else {
        open = Array(3..<1024)
    }
    for fd in open { close(fd) }
}

closeInheritedDescriptors()
setLimit(RLIMIT_AS, soft: rlim_t(options.memoryMB) << 20, hard: rlim_t(options.memoryMB) << 20)
setLimit(RLIMIT_NOFILE, soft: rlim_t(options.openFiles), hard: rlim_t(options.openFiles))
setLimit(RLIMIT_FSIZE, soft: 0, hard: 0)
setLimit(RLIMIT_CORE, soft: 0, hard: 0)
// RLIMIT_CPU counts the whole life of the process, so it is moved before each request (below):
// each PDF gets `cpuSeconds` more (SIGXCPU at the soft limit ends the process). The hard limit is
// left as inherited; the gateway's wall-clock kill bounds the rest.
let cpuHard = hardLimit(RLIMIT_CPU)
setLimit(RLIMIT_CPU, soft: min(cpuHard, rlim_t(options.cpuSeconds + 1)), hard: cpuHard)

writeAll(PDFTextFrames.readyFrame)
var reader = PDFFrameReader(maxPayload: options.maxInputBytes + 64)
var chunk = [UInt8](repeating: 0, count: 1 << 16)
while true {
    let payload: [UInt8]
    do {
        guard let next = try reader.next() else {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { exit(0) }
            reader.append(chunk[..<n])
            continue
        }
        payload = next
    } catch {
        // The stream cannot be followed past a frame refused unread: answer, then stop.
        writeAll(PDFTextFrames.frame(PDFTextResponse(ExtractedText(problems: ["pdf-request: \(error)"])).encoded()))
        exit(3)
    }
    setLimit(RLIMIT_CPU, soft: min(cpuHard, rlim_t(cpuSecondsUsed() + options.cpuSeconds)), hard: cpuHard)
    let text: ExtractedText
    do {
        text = PDFPageText.read(try PDFTextRequest(decoding: payload), tesseract: options.tesseract)
    } catch {
        text = ExtractedText(problems: ["pdf-request: \(error)"])
    }
    writeAll(PDFTextFrames.frame(PDFTextResponse(text).encoded()))
}
