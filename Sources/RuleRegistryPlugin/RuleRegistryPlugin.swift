import PackagePlugin

/// Generates `RuleCatalog.registered`, the declarations of every rule in `Sources/Policy/Rules/`,
/// when the Policy target is built: the rule files are the input, so adding a rule's file is
/// enough for it to be in the catalog. The `RuleRegistry` tool does the work; this only passes it
/// the target's Swift files and says where the generated file goes.
@main
struct RuleRegistryPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        guard let target = target as? any SourceModuleTarget else { return [] }
        let rules = target.directoryURL.appending(path: "Rules").path()
        // Every Swift file of the target, so that a rule written outside Rules/ fails the build
        // instead of silently staying out of the catalog.
        let sources = target.sourceFiles(withSuffix: "swift").map(\.url)
        let output = context.pluginWorkDirectoryURL.appending(path: "RuleCatalog+Registered.swift")
        return [
            .buildCommand(
                displayName: "Registering the rules in \(rules)",
                executable: try context.tool(named: "RuleRegistry").url,
                arguments: ["--output", output.path(), "--rules", rules] + sources.map { $0.path() },
                inputFiles: sources,
                outputFiles: [output]
            )
        ]
    }
}
