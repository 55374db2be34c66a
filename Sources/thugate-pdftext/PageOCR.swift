import CPoppler
import SecrecyMarks

#if canImport(Glibc)
import Glibc
#endif

/// OCR of the top of a page that has no text (a scanned document carries its stamp as an image):
/// poppler renders the top third of the page through cairo at 300 dpi, the PNG goes to
/// `tesseract - - -l vie tsv` (a process of its own, started by this helper, so it runs under the
/// helper's limits and dies with its process group), and its words become lines by tesseract's
/// own block, paragraph and line numbers, each with its region from where it starts.
///
/// Only when `[documents] ocr` is on: it costs about a second a page (Benchmarks/RESULTS.md).
enum PageOCR {
    /// The top part of the page that is read: where Phụ lục I puts the stamp and the circulation notes.
    static let topFraction = 1.0 / 3
    static let dpi = 300.0
    /// Pixels of the rendered image (a hostile MediaBox cannot ask for more).
    static let maxPixels = 4_000 * 2_000
    /// Bytes of tesseract's output read.
    static let maxOutput = 1 << 20

    struct Failure: Error { var reason: String }

    static func read(_ page: OpaquePointer, number: Int, tesseract: String) -> Result<[TextUnit], Failure> {
        var width = 0.0
        var height = 0.0
        poppler_page_get_size(page, &width, &height)
        guard width > 0, height > 0 else { return .failure(Failure(reason: "the page has no size")) }
        var scale = dpi / 72
        let area = width * height * topFraction * scale * scale
        if area > Double(maxPixels) { scale *= (Double(maxPixels) / area).squareRoot() }
        let pixelsWide = Int32(max(1, (width * scale).rounded(.down)))
        let pixelsHigh = Int32(max(1, (height * topFraction * scale).rounded(.down)))
        guard let png = render(page, scale: scale, width: pixelsWide, height: pixelsHigh) else {
            return .failure(Failure(reason: "the page could not be rendered"))
        }
        return run(tesseract, input: png).map { parse($0, page: number, imageWidth: Int(pixelsWide)) }
    }

    /// The PNG of the page's top, white behind it.
    static func render(_ page: OpaquePointer, scale: Double, width: Int32, height: Int32) -> [UInt8]? {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let context = cairo_create(surface) else { return nil }
        cairo_set_source_rgb(context, 1, 1, 1)
        cairo_paint(context)
        cairo_scale(context, scale, scale)
        poppler_page_render(page, context)
        cairo_destroy(context)
        cairo_surface_flush(surface)
        final class Sink {
            var bytes: [UInt8] = []
        }
        let sink = Sink()
        let status = cairo_surface_write_to_png_stream(
            surface,
            { closure, data, length in
                guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
                let sink = Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
                return CAIRO_STATUS_SUCCESS
            },
            Unmanaged.passUnretained(sink).toOpaque()
        )
        return status == CAIRO_STATUS_SUCCESS ? sink.bytes : nil
    }

    /// Runs tesseract on `input` (stdin) and returns its stdout. Its stderr goes to /dev/null; it
    /// gets one OpenMP thread (the helper's address space is shared by none, but its limit is
    /// inherited) and no other environment.
    static func run(_ tesseract: String, input: [UInt8]) -> Result<String, Failure> {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { return .failure(Failure(reason: "pipe: errno \(errno)")) }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            return .failure(Failure(reason: "pipe: errno \(errno)"))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        for fd in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, fd) }
        let arguments = [tesseract, "-", "-", "-l", "vie", "tsv"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = [strdup("OMP_THREAD_LIMIT=1"), nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, tesseract, &actions, nil, &argv, &envp)
        close(toChild[0])
        close(fromChild[1])
        guard spawned == 0 else {
            close(toChild[1])
            close(fromChild[0])
            return .failure(Failure(reason: "cannot start \(tesseract): errno \(spawned)"))
        }
        // tesseract reads all of its input before it writes: write, close, then read.
        var offset = 0
        while offset < input.count {
            let n = input.withUnsafeBytes { write(toChild[1], $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
        }
        close(toChild[1])
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while output.count < maxOutput {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fromChild[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            output += chunk[..<n]
        }
        close(fromChild[0])
        if output.count >= maxOutput { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { return .failure(Failure(reason: "tesseract ended with status \(status)")) }
        return .success(String(decoding: output, as: UTF8.self))
    }

    /// tesseract's TSV (level, page, block, paragraph, line, word, left, top, width, height,
    /// confidence, text): words (level 5) joined into lines by their block, paragraph and line.
    static func parse(_ tsv: String, page: Int, imageWidth: Int) -> [TextUnit] {
        struct Line {
            var key: [Substring]
            var left: Int
            var words: [Substring]
        }
        var lines: [Line] = []
        for row in tsv.split(separator: "\n").dropFirst() {
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 12, fields[0] == "5", let left = Int(fields[6]) else { continue }
            let word = fields[11].trimmingWhitespace
            guard !word.isEmpty else { continue }
            let key = Array(fields[1...4])
            if let last = lines.indices.last, lines[last].key == key {
                lines[last].words.append(Substring(word))
                lines[last].left = min(lines[last].left, left)
            } else {
                lines.append(Line(key: key, left: left, words: [Substring(word)]))
            }
        }
        return lines.enumerated().map { index, line in
            TextUnit(
                line.words.joined(separator: " "),
                container: .pdfLine,
                page: page,
                region: line.left < imageWidth / 2 ? .topLeft : .topRight,
                index: index
            )
        }
    }
}
