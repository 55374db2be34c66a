// The executable's entry point. Built normally it replays files through the entries the
// fuzzer runs (FuzzEntry.swift): `SMTPFuzzer TARGET FILE...`, a failed property is a crash
// (Tests/EndToEnd/test_fuzz_replay.py runs it over the kept crashers and seeds). Built by
// Scripts/fuzz with -DFUZZING it hands control to libFuzzer's driver for the target named by
// THUGATE_FUZZ_TARGET (SwiftPM gives every executable its own entry point, so libFuzzer's
// main() cannot be used).
import Foundation

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

nonisolated(unsafe) var fuzzTarget = SMTPFuzzTarget.command
#endif

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: SMTPFuzzer {\(SMTPFuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))} FILE...\n".utf8))
    exit(2)
}

#if FUZZING
guard let name = ProcessInfo.processInfo.environment["THUGATE_FUZZ_TARGET"], let target = SMTPFuzzTarget(rawValue: name) else { usage() }
fuzzTarget = target
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in
    fuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}))
#else
let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let target = SMTPFuzzTarget(rawValue: name) else { usage() }
for path in arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
        exit(2)
    }
    target.run(Array(data))
    print("ok \(path)")
}
#endif
