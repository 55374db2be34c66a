import ArgumentParser
import Configuration
import Foundation
import GatewayServer
import Inspection
import Policy
import Transforms

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; names the bad key and line on error."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        print("\(options.config ?? "built-in defaults"): OK (listen \(config.server.listen), upstream \(config.upstream.url))")
        // `[domains]` when it says more than the built-in gov.vn, then one line per agency: what it
        // claims and who is told, so a typo in a domain shows here.
        if config.domains != StateDomains() { print(Self.line(config.domains)) }
        for agency in config.agencies.agencies {
            print(Self.line(agency))
        }
        // Whose DKIM-signed mail the text conversion rewrites, when it is asked to.
        if config.text.dkimSigned == .normalizeInternal {
            let list = config.text.internalDomains.isEmpty ? "-" : config.text.internalDomains.joined(separator: ", ")
            print("text: DKIM-signed mail converted when From is under \(list)")
        }
        // The mailboxes that refuse senders outside the state system at RCPT, when the rule runs.
        let official = config.policy.parameters.officialOnlyMailboxes
        if !official.isEmpty, config.policy[.officialOnly] != .off {
            print("official-only (\(config.policy[.officialOnly].rawValue)): \(official.joined(separator: ", "))")
        }
        // `[milter]` (read by `serve --mode milter|both`) when it is not the built-in one.
        let milter = config.milter
        if milter != GatewayConfig.Milter() || config.quarantine.releaseTo != nil {
            print(
                "milter: listen \(milter.listen.map(\.description).joined(separator: ", ")); quarantine \(milter.quarantine.rawValue)"
                    + "; releases through \(config.quarantine.releaseTo ?? config.upstream.url)"
            )
        }
        // What `serve` reads besides the file when notices are on: the templates, an existing key.
        guard NoticePlanner(settings: config.notify, agencies: config.agencies).isActive else { return }
        do {
            _ = try NoticeTemplates.load(directory: config.notify.templates)
            if FileManager.default.fileExists(atPath: config.notify.keyFile) { _ = try NoticeKey.loadOrCreate(path: config.notify.keyFile) }
        } catch {
            printError("thugate: \(error)")
            throw ExitCode(78)
        }
    }

    /// `domains: own hoabinh.gov.vn; state-issued gov.vn, hoabinh.vn`
    static func line(_ domains: StateDomains) -> String {
        func list(_ items: [String]) -> String { items.isEmpty ? "-" : items.joined(separator: ", ") }
        return "domains: own \(list(domains.own)); state-issued \(list(domains.stateSuffixes))"
    }

    /// `agency quangninh "UBND tỉnh Quảng Ninh": quangninh.gov.vn, *.quangninh.gov.vn; officer a@b; notify -`
    static func line(_ agency: Agency) -> String {
        func list(_ items: [String]) -> String { items.isEmpty ? "-" : items.joined(separator: ", ") }
        return "agency \(agency.id) \"\(agency.name)\": \(agency.claims.joined(separator: ", "));"
            + " officer \(list(agency.officer)); notify \(list(agency.notify))"
    }
}
