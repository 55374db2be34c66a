// The fuzzing entry point for content scanning: libclamav, libmagic and ThuGate's archive
// readers over one attachment. Scripts/fuzz builds this target with `-sanitize=fuzzer
// -DFUZZING`; built normally it replays files through the same code (FuzzSupport's `FuzzMain`).
import Foundation
import FuzzSupport
import MIMECore
import Policy
import Scanning

enum ScanFuzzTarget: String, FuzzTarget {
    case scan

    func run(_ input: UnsafeRawBufferPointer) {
        scanForFuzzing(input)
    }
}

/// One scanner for the whole run: loading and compiling the signatures per input would be
/// all the fuzzer does. Signatures from `THUGATE_SIGNATURES` or `Config/signatures`.
let fuzzScanner: ContentScanner = {
    var settings = ClamAVSettings()
    settings.databaseDirectory = ProcessInfo.processInfo.environment["THUGATE_SIGNATURES"] ?? "Config/signatures"
    settings.temporaryDirectory = "/dev/shm/thugate-fuzz-\(getpid())"
    // Bounded like the gateway, but tighter: a slow input is a finding of its own (-timeout).
    settings.maxScanTime = 5_000
    settings.maxScanSize = 64 * 1_048_576
    settings.maxFileSize = 32 * 1_048_576
    do {
        return ContentScanner(engines: try EngineStore(settings: settings))
    } catch {
        fatalError("cannot load the scanner: \(error)")
    }
}()

/// The input as the decoded body of an attachment (binary transfer encoding keeps it byte for
/// byte), run through the same `ContentScanner.scan` the gateway runs.
func scanForFuzzing(_ input: UnsafeRawBufferPointer) {
    let header = Array(
        "Content-Type: application/octet-stream; name=\"f.bin\"\r\nContent-Disposition: attachment; filename=\"f.bin\"\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            .utf8
    )
    var bytes = header
    bytes += input
    let message = MIMEParser.parse(bytes)
    do {
        let report = try fuzzScanner.scan(message)
        // Every object found belongs to a part the parser made, named as everywhere (a single-part
        // body is "1"); member paths have no empty step.
        let parts = Set(message.parts.map { message.partNumber(of: $0) })
        for object in report.objects {
            precondition(parts.contains(object.part) && object.size >= 0)
            precondition(!object.containers.contains(""))
        }
    } catch {
        // A scan error (libclamav gave up, out of time) is an answer, not a crash.
    }
}
