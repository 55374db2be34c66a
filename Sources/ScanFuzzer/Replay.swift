// The executable's entry point. Built normally it replays inputs through the code the fuzzer
// runs (FuzzEntry.swift): every file named on the command line is scanned, a crash is a
// failure (the regression tests use it). Built by Scripts/fuzz-scan with -DFUZZING, it hands
// control to libFuzzer's driver (SwiftPM gives every executable its own entry point, so
// libFuzzer's main() cannot be used).
import Foundation

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

@main struct ScanFuzzerMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzContentScan(data, size) }))
        #else
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            data.withUnsafeBytes { scanForFuzzing($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
            print("ok \(path)")
        }
        #endif
    }
}
