// Replays files through the code the fuzzer runs (FuzzEntry.swift): `ArchiveFuzzer TARGET
// FILE...`, a failed property is a crash (Tests/EndToEnd/test_fuzz_replay.py runs it over the
// kept crashers and seeds). The fuzzer itself is built by Scripts/fuzz.
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let target = ArchiveFuzzTarget(rawValue: name) else {
    FileHandle.standardError.write(Data("usage: ArchiveFuzzer {\(ArchiveFuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))} FILE...\n".utf8))
    exit(2)
}
for path in arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
        exit(2)
    }
    data.withUnsafeBytes { target.run($0) }
    print("ok \(path)")
}
