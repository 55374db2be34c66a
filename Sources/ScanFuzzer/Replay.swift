// Replays inputs through the same code the fuzzer runs (FuzzEntry.swift): every file named on
// the command line is scanned; a crash is a failure. Used by the regression tests for inputs
// the fuzzer once crashed on. The fuzzer itself is built by Scripts/fuzz-scan.
#if !FUZZING
import Foundation

@main struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            data.withUnsafeBytes { scanForFuzzing($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
            print("ok \(path)")
        }
    }
}
#endif
