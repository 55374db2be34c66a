import Foundation

// RuleRegistry --output FILE --rules FOLDER SOURCE...
// Run by RuleRegistryPlugin when the Policy target is built: reads the target's Swift files and
// writes `RuleCatalog.registered` with every rule declared in FOLDER. A problem fails the build
// with `file:line: error: ...` lines.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

var arguments = CommandLine.arguments.dropFirst()
var output: String? = nil
var rulesFolder: String? = nil
var sources: [String] = []
while let argument = arguments.popFirst() {
    switch argument {
    case "--output": output = arguments.popFirst()
    case "--rules": rulesFolder = arguments.popFirst()
    default: sources.append(argument)
    }
}
guard let output, let rulesFolder else { fail("usage: RuleRegistry --output FILE --rules FOLDER SOURCE...") }
let folder = rulesFolder.hasSuffix("/") ? rulesFolder : rulesFolder + "/"

var scanner = RuleScanner()
for path in sources.sorted() {
    guard let data = FileManager.default.contents(atPath: path) else { fail("\(path):1: error: cannot read the file") }
    scanner.scan(String(decoding: data, as: UTF8.self), file: path)
}
switch RuleRegistry.registered(scanner, isRuleFile: { $0.hasPrefix(folder) }, rulesFolder: folder) {
case .failure(let problems):
    fail(problems.errors.map(\.description).joined(separator: "\n"))
case .success(let declarations):
    let text = RuleRegistry.source(declarations)
    // Left alone when unchanged, so nothing downstream sees a new file.
    if FileManager.default.contents(atPath: output) != Data(text.utf8) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            fail("\(output):1: error: cannot write the generated rule catalog: \(error)")
        }
    }
}
