import DocumentText
import Foundation
import SecrecyMarks
import Testing

@testable import Scanning

/// The real helper (`thugate-pdftext`, built beside the test bundle) driven through the pool, on PDFs made by
/// LibreOffice and fpdf2 (PDFFixtures/make.py) and on hand-written hostile ones.
@Suite(.serialized) struct PDFHelperPoolTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "pdf", subdirectory: "PDFFixtures"))
        return try Array(Data(contentsOf: url))
    }

    static func pool(_ configure: (inout PDFHelperSettings) -> Void = { _ in }) throws -> PDFHelperPool {
        var settings = PDFHelperSettings()
        settings.helpers = 1
        configure(&settings)
        return try PDFHelperPool(settings: settings)
    }

    static func read(_ pool: PDFHelperPool, _ name: String, limits: ExtractionLimits = ExtractionLimits()) throws -> ExtractedText {
        try fixture(name).withUnsafeBytes { pool.read($0, limits: limits) }
    }

    static func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    @Test func helperIsFoundBesideTheRunningExecutable() throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        #expect(pool.helperPath.hasSuffix("/thugate-pdftext"))
        #expect(FileManager.default.isExecutableFile(atPath: pool.helperPath))
    }

    @Test(arguments: [
        ("libreoffice-stamped", SecrecyLevel.secret),
        ("fpdf2-stamped", SecrecyLevel.topSecret),
    ])
    func stampAtTheTopLeftOfPageOneIsStrong(name: String, level: SecrecyLevel) throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        let text = try Self.read(pool, name)
        #expect(text.isComplete, "\(text.problems)")
        let stamp = try #require(text.units.first { $0.text == level.vietnamese })
        #expect(stamp.container == .pdfLine)
        #expect(stamp.page == 1)
        #expect(stamp.region == .topLeft)
        #expect(stamp.style.contains(.bold) && stamp.style.contains(.red))
        #expect(stamp.fontSize == 14)
        #expect(stamp.fontName?.contains("Bold") == true)
        let report = SecrecyMatcher.match(text.units)
        #expect(report.findings.count == 1, "\(report.findings)")
        let finding = try #require(report.findings.first)
        #expect(finding.level == level)
        #expect(finding.strength == .strong)
        #expect(finding.placement == .upperLeft)
        #expect(finding.page == 1)
        // The body's trap words (mật khẩu, bảo mật, "Tuyệt mật, Tối mật và Mật" in running text) are read, and
        // give nothing.
        #expect(text.units.contains { $0.text.contains("mật khẩu") })
        #expect(report.weak.isEmpty, "\(report.weak)")
    }

    @Test func fpdf2LetterHasItsCirculationNoteTopRightAndLaterPagesAsPlainText() throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        let text = try Self.read(pool, "fpdf2-stamped")
        let note = try #require(text.units.first { $0.text == "Tài liệu thu hồi" })
        #expect(note.region == .topRight)
        #expect(text.units.first { $0.text.hasPrefix("CỘNG HÒA") }?.region == .topRight)
        let page3 = try #require(text.units.first { $0.page == 3 })
        #expect(page3.text.hasPrefix("Trang 3"))
        #expect(page3.fontName == nil && page3.style.isEmpty && page3.index == 0)
        // Page 2 is positioned too.
        #expect(text.units.first { $0.page == 2 }?.fontName != nil)
    }

    @Test(arguments: ["libreoffice-traps", "fpdf2-traps"])
    func trapWordsGiveNothing(name: String) throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        let text = try Self.read(pool, name)
        #expect(text.isComplete, "\(text.problems)")
        #expect(text.units.contains { $0.text == "MẬT KHẨU" && $0.region == .topLeft && $0.style.contains(.bold) })
        let report = SecrecyMatcher.match(text.units)
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.weak.isEmpty, "\(report.weak)")
    }

    @Test func pageCapIsAProblem() throws {
        let pool = try Self.pool { $0.maxPages = 2 }
        defer { pool.shutdown() }
        let text = try Self.read(pool, "fpdf2-stamped")
        #expect(text.problems == ["pdf-pages: 3 pages, the first 2 read"])
        #expect(!text.units.contains { $0.page == 3 })
        #expect(SecrecyMatcher.match(text.units).findings.count == 1)
    }

    @Test func encryptedBrokenAndCyclicPDFsAreProblemsAndTheHelperGoesOn() throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        let pid = try #require(pool.idleHelperPIDs.first)
        let encrypted = try Self.read(pool, "encrypted")
        #expect(encrypted.units.isEmpty)
        #expect(encrypted.problems.count == 1 && encrypted.problems[0].hasPrefix("encrypted: "), "\(encrypted.problems)")
        let broken = try Self.read(pool, "broken")
        #expect(broken.problems.count == 1 && broken.problems[0].hasPrefix("pdf-broken: "), "\(broken.problems)")
        // The page tree lists itself: poppler stops at the loop; the page it cannot reach is a problem.
        let cyclic = try Self.read(pool, "cyclic-pages")
        #expect(!cyclic.isComplete)
        #expect(cyclic.problems.contains { $0.hasPrefix("pdf-broken: ") }, "\(cyclic.problems)")
        let empty = [UInt8]().withUnsafeBytes { pool.read($0, limits: ExtractionLimits()) }
        #expect(empty.problems == ["pdf-broken: empty"])
        // All in the same helper: none of these is worth a process.
        #expect(pool.idleHelperPIDs == [pid])
        #expect(pool.statistics.died == 0)
        #expect(try Self.read(pool, "libreoffice-stamped").isComplete)
    }

    /// A PDF whose font file inflates to 1 GiB: the helper passes its address-space limit and dies; the PDF gets
    /// a problem, never a complete result; the helper is replaced and the next PDF is read.
    @Test func helperPastItsMemoryLimitIsReplaced() throws {
        let pool = try Self.pool { $0.memoryMB = 256 }
        defer { pool.shutdown() }
        let first = try #require(pool.idleHelperPIDs.first)
        let bomb = try Self.read(pool, "memory-bomb")
        #expect(bomb.units.isEmpty)
        #expect(bomb.problems.count == 1 && bomb.problems[0].hasPrefix("pdf-helper: died while reading the PDF"), "\(bomb.problems)")
        #expect(!Self.alive(first))
        #expect(pool.statistics.died == 1)
        let replacement = try #require(pool.idleHelperPIDs.first)
        #expect(replacement != first)
        let next = try Self.read(pool, "libreoffice-stamped")
        #expect(next.isComplete)
        #expect(SecrecyMatcher.match(next.units).findings.count == 1)
    }

    /// The same PDF with memory to spare costs seconds of CPU: past `cpuSeconds` the kernel ends the helper
    /// (SIGXCPU), past `timeoutSeconds` of wall clock the pool kills it.
    @Test func cpuLimitEndsTheHelper() throws {
        let pool = try Self.pool {
            $0.memoryMB = 4096
            $0.cpuSeconds = 1
            $0.timeoutSeconds = 60
        }
        defer { pool.shutdown() }
        let bomb = try Self.read(pool, "memory-bomb")
        #expect(bomb.problems.count == 1 && bomb.problems[0].contains("SIGXCPU"), "\(bomb.problems)")
        #expect(try Self.read(pool, "fpdf2-stamped").isComplete)
    }

    @Test func wallClockKill() throws {
        let pool = try Self.pool {
            $0.memoryMB = 4096
            $0.cpuSeconds = 60
            $0.timeoutSeconds = 1
        }
        defer { pool.shutdown() }
        let first = try #require(pool.idleHelperPIDs.first)
        let started = Date()
        let bomb = try Self.read(pool, "memory-bomb")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(bomb.problems == ["pdf-helper: timed out after 1 s, PDF not read"])
        #expect(!Self.alive(first))
        #expect(pool.statistics.timedOut == 1)
        #expect(try Self.read(pool, "fpdf2-stamped").isComplete)
    }

    /// A helper killed while idle is replaced before the next PDF is sent: that PDF is read completely.
    @Test func helperKilledWhileIdleIsReplacedUnseen() throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        let first = try #require(pool.idleHelperPIDs.first)
        kill(first, SIGKILL)
        usleep(50_000)
        let text = try Self.read(pool, "fpdf2-stamped")
        #expect(text.isComplete, "\(text.problems)")
        #expect(pool.idleHelperPIDs.first != first)
    }

    @Test func concurrentReadsShareTheHelpers() throws {
        let pool = try Self.pool { $0.helpers = 2 }
        defer { pool.shutdown() }
        #expect(pool.idleHelperPIDs.count == 2)
        let pdfs = try ["libreoffice-stamped", "fpdf2-stamped", "libreoffice-traps", "fpdf2-traps"].map(Self.fixture)
        let results = NIOLockedResults(count: 16)
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let text = pdfs[index % 4].withUnsafeBytes { pool.read($0, limits: ExtractionLimits()) }
            results.set(index, SecrecyMatcher.match(text.units).findings.count + (text.isComplete ? 0 : 100))
        }
        #expect(results.values == (0..<16).map { $0 % 4 < 2 ? 1 : 0 })
        #expect(pool.idleHelperPIDs.count == 2)
        #expect(pool.statistics.read == 16)
    }

    @Test func limitsReachTheHelper() throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        var limits = ExtractionLimits()
        limits.maxUnits = 3
        let capped = try Self.read(pool, "libreoffice-stamped", limits: limits)
        #expect(capped.units.count == 3)
        #expect(capped.problems.count == 1 && capped.problems[0].hasPrefix("text-cap-reached: "))
        limits = ExtractionLimits()
        limits.maxInputBytes = 1000
        let large = try Self.read(pool, "libreoffice-stamped", limits: limits)
        #expect(large.units.isEmpty && large.problems[0].hasPrefix("input-too-large: "))
        // The helper's frame cap (set when it starts) is a bound of the pool too: nothing is sent that it would refuse.
        let small = try Self.pool { $0.maxInputBytes = 2_000 }
        defer { small.shutdown() }
        let refused = try Self.read(small, "libreoffice-stamped")
        #expect(refused.problems == ["input-too-large: PDF of 26344 bytes, at most 2000 read"])
        #expect(try Self.read(small, "broken").problems.first?.hasPrefix("pdf-broken: ") == true)
    }

    @Test func shutdownKillsTheHelpers() throws {
        let pool = try Self.pool { $0.helpers = 2 }
        let pids = pool.idleHelperPIDs
        #expect(pids.count == 2 && pids.allSatisfy(Self.alive))
        pool.shutdown()
        #expect(!pids.contains(where: Self.alive))
        let text = try Self.read(pool, "fpdf2-stamped")
        #expect(text.problems == ["pdf-helper: stopped, PDF not read"])
    }

    /// A scanned letter (page 1 an image): without OCR it has no text and is not fully checked; with OCR the
    /// top of page 1 is read by tesseract and its stamp is found where it stands.
    @Test func scannedFirstPageIsReadByOCROnlyWhenOCRIsOn() throws {
        let plain = try Self.pool()
        defer { plain.shutdown() }
        let unread = try Self.read(plain, "scanned-stamped")
        #expect(unread.units.isEmpty)
        #expect(unread.problems == ["pdf-no-text: no text on the pages read (a scanned image?)"])

        let pool = try Self.pool { $0.ocr = true }
        defer { pool.shutdown() }
        let text = try Self.read(pool, "scanned-stamped")
        #expect(text.problems == ["pdf-no-text: no text on the pages read (a scanned image?), the top of page 1 read by OCR"])
        let stamp = try #require(text.units.first { $0.text == "TỐI MẬT" })
        #expect(stamp.page == 1 && stamp.region == .topLeft && stamp.container == .pdfLine)
        let report = SecrecyMatcher.match(text.units)
        #expect(report.findings.map(\.level) == [.secret])
        #expect(report.findings.first?.placement == .upperLeft)
        // The scanned trap words are read too, and give nothing.
        let traps = try Self.read(pool, "scanned-traps")
        #expect(traps.units.contains { $0.text == "MẬT KHẨU" })
        #expect(SecrecyMatcher.match(traps.units).findings.isEmpty)
        // A PDF with text is not sent to OCR.
        let letter = try Self.read(pool, "libreoffice-stamped")
        #expect(letter.isComplete)
    }

    /// The wall-clock kill reaches the OCR process too (the helper's process group): here a tesseract that sleeps
    /// first, started by a shell, so two processes below the helper are running at the deadline.
    @Test func wallClockKillReachesTheOCRProcess() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-ocr-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let slow = directory.appendingPathComponent("tesseract").path
        try "#!/bin/sh\n/bin/sleep 30\nexec /usr/bin/tesseract \"$@\"\n".write(toFile: slow, atomically: true, encoding: .utf8)
        chmod(slow, 0o755)
        let pool = try Self.pool {
            $0.ocr = true
            $0.tesseractPath = slow
            $0.timeoutSeconds = 1
        }
        defer { pool.shutdown() }
        let helper = try #require(pool.idleHelperPIDs.first)
        let started = Date()
        let text = try Self.read(pool, "scanned-stamped")
        #expect(text.problems == ["pdf-helper: timed out after 1 s, PDF not read"])
        #expect(Date().timeIntervalSince(started) < 5)
        usleep(200_000)
        #expect(Self.liveMembers(ofGroup: helper).isEmpty)
        // The replacement reads the next PDF.
        #expect(try Self.read(pool, "fpdf2-stamped").isComplete)
    }

    /// Live (not zombie) processes of process group `group`.
    static func liveMembers(ofGroup group: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> Int32? in
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 3, fields[0] != "Z", Int32(fields[2]) == group else { return nil }
            return pid
        }
    }

    /// A helper that cannot be started any more (here: a wrapper that fails once a flag file exists) is not tried
    /// again on every PDF: after a failed start the pool waits (1 s, doubling) and meanwhile answers "unavailable".
    @Test func failedStartsBackOff() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-backoff-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let flag = directory.appendingPathComponent("broken").path
        let wrapper = directory.appendingPathComponent("thugate-pdftext").path
        let real = PDFHelperPool.besideExecutable
        try "#!/bin/sh\nif [ -e \(flag) ]; then exit 1; fi\nexec \(real) \"$@\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        let pool = try Self.pool { $0.helperPath = wrapper }
        defer { pool.shutdown() }
        #expect(try Self.read(pool, "fpdf2-stamped").isComplete)
        FileManager.default.createFile(atPath: flag, contents: Data())
        kill(try #require(pool.idleHelperPIDs.first), SIGKILL)
        usleep(50_000)
        let first = try Self.read(pool, "fpdf2-stamped")
        #expect(first.units.isEmpty)
        #expect(first.problems.first?.hasPrefix("pdf-helper: unavailable (") == true, "\(first.problems)")
        #expect(first.problems.first?.contains("did not start") == true, "\(first.problems)")
        // Within the pause: no new start.
        let second = try Self.read(pool, "fpdf2-stamped")
        #expect(second.problems.first?.contains("restarting after a failed start") == true, "\(second.problems)")
        #expect(pool.statistics.spawnFailures == 1)
        // Repaired, and the pause over: the next PDF starts a helper and is read.
        try FileManager.default.removeItem(atPath: flag)
        usleep(1_100_000)
        #expect(try Self.read(pool, "fpdf2-stamped").isComplete)
        #expect(pool.idleHelperPIDs.count == 1)
    }

    @Test func missingOrBrokenHelperIsAnErrorAtStart() {
        #expect(throws: PDFHelperError.self) {
            try Self.pool { $0.helperPath = "/nonexistent/thugate-pdftext" }
        }
        // A program that exits at once never says it is ready.
        #expect(throws: PDFHelperError.self) {
            try Self.pool { $0.helperPath = "/bin/false" }
        }
    }
}

/// Results written from concurrent iterations.
final class NIOLockedResults: @unchecked Sendable {
    // Guarded by `lock`.
    private var storage: [Int]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: -1, count: count) }
    func set(_ index: Int, _ value: Int) { lock.withLock { storage[index] = value } }
    var values: [Int] { lock.withLock { storage } }
}
