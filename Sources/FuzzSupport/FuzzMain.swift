import Foundation

/// One entry a fuzz executable offers: named on its command line and in `THUGATE_FUZZ_TARGET`.
public protocol FuzzTarget: RawRepresentable, CaseIterable, Sendable where RawValue == String {
    /// Runs one input through the parser and checks the entry's properties; a failed property
    /// is a crash (`precondition`), which is what libFuzzer and the replay tests look for.
    func run(_ input: UnsafeRawBufferPointer)
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The entry libFuzzer's callback runs: a C function pointer captures nothing, so it is a
/// global, set once before the driver starts and only read after.
nonisolated(unsafe) private var fuzzEntry: ((UnsafeRawBufferPointer) -> Void)?
#endif

/// The whole `main` of every fuzz executable (Sources/*Fuzzer/main.swift).
public enum FuzzMain {
    /// Built by Scripts/fuzz with `-DFUZZING`: hands control to libFuzzer's driver, running the
    /// target named by `THUGATE_FUZZ_TARGET` (SwiftPM gives every executable its own entry
    /// point, so libFuzzer's own `main()` cannot be used). Built normally: `PROGRAM TARGET
    /// FILE...` replays each file through the same entry and prints `ok FILE`
    /// (Tests/EndToEnd/test_fuzz_replay.py runs it over the kept crashers and seeds).
    public static func run<Target: FuzzTarget>(_: Target.Type) -> Never {
        let program = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "fuzzer"
        func usage() -> Never {
            FileHandle.standardError.write(
                Data(
                    "usage: \(program) {\(Target.allCases.map(\.rawValue).joined(separator: "|"))} FILE...\n".utf8
                )
            )
            exit(2)
        }
        #if FUZZING
        guard let name = ProcessInfo.processInfo.environment["THUGATE_FUZZ_TARGET"], let target = Target(rawValue: name)
        else { usage() }
        fuzzEntry = target.run
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(
            LLVMFuzzerRunDriver(
                &argc,
                &argv,
                { data, size in
                    fuzzEntry?(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
                    return 0
                }
            )
        )
        #else
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = Target(rawValue: name) else { usage() }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            data.withUnsafeBytes { target.run($0) }
            FileHandle.standardOutput.write(Data("ok \(path)\n".utf8))
        }
        exit(0)
        #endif
    }
}
