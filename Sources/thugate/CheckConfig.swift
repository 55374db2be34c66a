import ArgumentParser
import Configuration
import Policy

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; names the bad key and line on error."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        print("\(options.config ?? "built-in defaults"): OK (listen \(config.server.listen), upstream \(config.upstream.url))")
        // One line per agency: what it claims and who is told, so a typo in a domain shows here.
        for agency in config.agencies.agencies {
            print(Self.line(agency))
        }
    }

    /// `agency quangninh "UBND tỉnh Quảng Ninh": quangninh.gov.vn, *.quangninh.gov.vn; officer a@b; notify -`
    static func line(_ agency: Agency) -> String {
        func list(_ items: [String]) -> String { items.isEmpty ? "-" : items.joined(separator: ", ") }
        return "agency \(agency.id) \"\(agency.name)\": \(agency.claims.joined(separator: ", "));"
            + " officer \(list(agency.officer)); notify \(list(agency.notify))"
    }
}
