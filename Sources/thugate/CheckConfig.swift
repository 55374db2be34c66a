import ArgumentParser
import Configuration

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; names the bad key and line on error."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        print("\(options.config ?? "built-in defaults"): OK (listen \(config.server.listen), upstream \(config.upstream.url))")
    }
}
