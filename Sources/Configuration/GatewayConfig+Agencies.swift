import Foundation
import Policy
import SMTPCore
import TOMLKit

extension ConfigReader {
    /// `[[agency]]` tables: each needs `id`, `name` and `domains`; `local_part_suffixes`, `addresses`,
    /// `officer` and `notify` are optional. Ids are unique, and no address is claimed by two agencies.
    /// The directory carries `domains` (`[domains]`).
    func agencies(_ value: any TOMLValueConvertible, domains: StateDomains) throws(ConfigError) -> AgencyDirectory {
        guard let array = value.array else {
            throw ConfigError(file: file, line: line(of: "agency", in: nil), key: "agency", message: "expected [[agency]] tables")
        }
        var agencies: [Agency] = []
        var sections: [Section] = []
        for index in 0..<array.count {
            guard let table = array[index].table else {
                throw ConfigError(
                    file: file,
                    line: line(of: nil, inArray: "agency", at: index),
                    key: "agency[\(index)]",
                    message: "expected a table"
                )
            }
            let s = Section(reader: self, name: "agency", table: table, index: index)
            for key in table.keys where !["id", "name", "domains", "local_part_suffixes", "addresses", "officer", "notify"].contains(key) {
                throw s.error(key, "unknown key")
            }
            guard let id = try s.string("id") else { throw s.error("id", "missing: each [[agency]] needs an id") }
            guard Agency.isValidID(id) else { throw s.error("id", "expected 1-64 of a-z, 0-9, \"-\" and \"_\", e.g. \"quangninh\"") }
            if let other = agencies.first(where: { $0.id == id }) {
                throw s.error("id", "\"\(id)\" is also the id of agency \"\(other.name)\"")
            }
            guard let name = try s.string("name"), !name.isEmpty else { throw s.error("name", "missing: each [[agency]] needs a name") }
            guard let domainTexts = try s.stringList("domains"), !domainTexts.isEmpty else {
                throw s.error("domains", "missing: list the agency's domains, e.g. [\"quangninh.gov.vn\", \"*.quangninh.gov.vn\"]")
            }
            let domains = try domainTexts.map { (text) throws(ConfigError) in
                guard let pattern = DomainPattern(text) else {
                    throw s.error(
                        "domains",
                        "\"\(text)\" is not a domain (ASCII labels, at least two; \"*.\" for the subdomains; an IDN as its xn-- form)"
                    )
                }
                return pattern
            }
            let suffixes = try s.stringList("local_part_suffixes") ?? []
            for suffix in suffixes where !Agency.isValidSuffix(suffix) {
                throw s.error(
                    "local_part_suffixes",
                    "\"\(suffix)\" cannot end a local part (letters, digits, dots and atext, no \"@\"), e.g. \".q4\""
                )
            }
            let mailboxes = try addresses(s, "addresses")
            let officer = try addresses(s, "officer")
            let notify = try addresses(s, "notify")
            agencies.append(
                Agency(
                    id: id,
                    name: name,
                    domains: domains,
                    localPartSuffixes: suffixes,
                    addresses: mailboxes,
                    officer: officer,
                    notify: notify
                )
            )
            sections.append(s)
        }
        do {
            return try AgencyDirectory(agencies, domains: domains)
        } catch {
            let key: String
            switch error.kind {
            case .domain: key = "domains"
            case .localPartSuffix: key = "local_part_suffixes"
            case .address: key = "addresses"
            }
            throw sections[error.index].error(key, error.description)
        }
    }

    static let domainKeys: Set<String> = ["own", "state_suffixes"]

    /// `[domains]`: `own` (the deployment's own domains) and `state_suffixes` (`gov.vn` unless
    /// set), each a list of lowercase domains without `*.` (each covers its subdomains). A key
    /// not in the file keeps its value in `domains`.
    func domains(_ s: Section, into domains: inout StateDomains) throws(ConfigError) {
        func entries(_ key: String, example: String) throws(ConfigError) -> [String]? {
            guard let list = try s.stringList(key) else { return nil }
            for text in list where !StateDomains.isValidEntry(text) {
                let why: String
                if text.hasPrefix("*.") {
                    why = "write \"\(text.dropFirst(2))\": a domain here covers its subdomains already"
                } else if StateDomains.isValidEntry(text.lowercased()) {
                    why = "write it in lowercase, \"\(text.lowercased())\""
                } else if text.hasSuffix("."), StateDomains.isValidEntry(String(text.dropLast())) {
                    why = "write it without the final dot, \"\(text.dropLast())\""
                } else {
                    why =
                        "expected a domain of at least two labels (ASCII letters, digits, inner hyphens; an IDN as its xn-- form),"
                        + " e.g. \"\(example)\""
                }
                throw s.error(key, "\"\(text)\" is not a domain: \(why)")
            }
            return list
        }
        let own = try entries("own", example: "hoabinh.gov.vn") ?? domains.own
        let suffixes = try entries("state_suffixes", example: "gov.vn") ?? domains.stateSuffixes
        // Both lists hold only entries checked above, so this never fails.
        if let read = StateDomains(own: own, stateSuffixes: suffixes) { domains = read }
    }

    /// Notification addresses: each a mailbox with a domain, as a RCPT TO path would take it.
    private func addresses(_ s: Section, _ key: String) throws(ConfigError) -> [String] {
        let list = try s.stringList(key) ?? []
        for text in list {
            let valid: Bool
            if case .rcpt(let address)? = try? SMTPCommand.parse(Array("RCPT TO:<\(text)>".utf8)), address.address == text {
                valid = DomainPattern(address.domain) != nil
            } else {
                valid = false
            }
            guard valid else { throw s.error(key, "\"\(text)\" is not a mail address such as \"antoan@quangninh.gov.vn\"") }
        }
        return list
    }

    /// The line of `key` in the `index`-th `[[name]]` table (from 0), or of its header when `key` is
    /// nil or not found there.
    func line(of key: String?, inArray name: String, at index: Int) -> Int? {
        var seen = -1
        var header: Int?
        for (number, raw) in lines.enumerated() {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("[") {
                if header != nil { break }
                let inner = line.hasPrefix("[[") ? line.dropFirst(2).prefix(while: { $0 != "]" }) : nil
                if let inner, inner.trimmingCharacters(in: .whitespaces) == name {
                    seen += 1
                    if seen == index { header = number + 1 }
                }
                continue
            }
            guard header != nil, let key else { continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            var found = line[..<eq].trimmingCharacters(in: .whitespaces)
            if found.hasPrefix("\""), found.hasSuffix("\""), found.count >= 2 { found = String(found.dropFirst().dropLast()) }
            if found == key { return number + 1 }
        }
        return header ?? line(of: name, in: nil)
    }
}
