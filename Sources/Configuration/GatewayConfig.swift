import Archives
import Foundation
public import Inspection
public import MIMECore
public import NIOCore
public import Policy
public import SMTPCore
import Scanning
import TOMLKit
import Transforms

/// Everything `thugate serve` reads from its configuration file.
///
/// The built-in values are the defaults shipped in `Config/thugate.toml` (a test keeps the two
/// equal), so `thugate serve` with no file runs the same as with the shipped one.
public struct GatewayConfig: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var listen = HostPort(host: "127.0.0.1", port: 2525)
        public var hostname = "thugate.localdomain"
        public var maxConnections = 1000
        public var maxConnectionsPerIP = 50
        /// Clients exempt from the per-client limits (the main server's own relays hold many
        /// connections open), as Postfix's `smtpd_client_event_limit_exceptions = $mynetworks`.
        public var trustedNetworks = IPNetwork.loopback
        /// `required`: every connection starts with a PROXY header (HAProxy `send-proxy` or
        /// `send-proxy-v2`) from a peer in ``trustedProxies``; the header's client address is the
        /// client's everywhere (logs, `Received:`, limits, reports).
        public var proxyProtocol = ProxyProtocolMode.off
        public var trustedProxies: [IPNetwork] = []
        /// How long a trusted peer has to send a whole header.
        public var proxyProtocolTimeout = TimeAmount.seconds(5)
        public var maxMessageSize = SMTPDefaults.maxMessageSize
        public var maxRecipients = SMTPDefaults.maxRecipients
        public var maxLineLength = SMTPDefaults.maxLineLength
        /// Longest line of message data, CRLF included; longer lines are relayed unchanged.
        public var maxDataLineLength = SMTPDefaults.maxDataLineLength
        public var maxErrors = SMTPDefaults.maxErrors
        /// RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the next command.
        public var commandTimeout = TimeAmount.minutes(5)
        /// RFC 5321 4.5.3.2.5: 3 minutes between data blocks.
        public var dataTimeout = TimeAmount.minutes(3)
        public var bareLineEndings = BareLineEndingPolicy.reject
        /// Messages up to this size stay in memory; larger ones are spooled to a file.
        public var memoryThreshold = 256 * 1024
        public var spoolDirectory = "var/spool"
        /// Where `serve` writes its process ID (read by `thugate reload`).
        public var pidFile = "var/thugate.pid"
        public var shutdownTimeout = TimeAmount.seconds(30)
        public var tlsCertificate = ""
        public var tlsPrivateKey = ""
    }

    public struct Upstream: Sendable, Equatable {
        public var url = UpstreamURL.maildir("var/mail")
        /// Name sent in EHLO to the upstream; empty means the server's hostname.
        public var heloName = ""
        public var connectTimeout = TimeAmount.seconds(30)
        /// RFC 5321 4.5.3.2: 5 minutes for MAIL, RCPT and the other commands.
        public var commandTimeout = TimeAmount.minutes(5)
        /// RFC 5321 4.5.3.2.6: 10 minutes for the reply to the final dot.
        public var dataTimeout = TimeAmount.minutes(10)
        public var startTLS = UpstreamTLS.may
        public var tlsCAFile = ""
        public var pipelining = true
        /// Pass the client on with XFORWARD when the upstream announces it.
        public var xforward = true
        public var maxIdleConnections = 100
        public var idleTimeout = TimeAmount.seconds(60)
    }

    /// `[quarantine]`: the store held messages go to.
    public struct Quarantine: Sendable, Equatable {
        /// The SQLite file (with its `-wal` and `-shm` beside it).
        public var database = "var/quarantine/quarantine.sqlite"
        /// Categories, retention, legal hold and who decides a release (`GatewayConfig+Quarantine.swift`).
        public var lifecycle = QuarantineLifecycle()
        /// Where `thugate quarantine release` delivers; nil: the upstream. In milter mode, a port of
        /// the MTA that calls no milter (Postfix `127.0.0.1:10025` with `-o smtpd_milters=`), so a
        /// released message is not held again.
        public var releaseTo: UpstreamURL?
        /// How long a release's claim on a recipient holds: past it, a recipient left `releasing`
        /// by a process that died is claimed again (by any node) and sent again.
        public var releaseLease = TimeAmount.minutes(15)
    }

    /// `[reports]`: the verdict log behind `thugate report`, kept in the quarantine store's file.
    public struct Reports: Sendable, Equatable {
        /// Days the per-message verdict rows are kept.
        public var verdictDays = 35
        /// Years the daily roll-ups are kept (the regulations ask for reports over months and
        /// half-years; a few years allow comparisons).
        public var rollupYears = 10
    }

    public var server = Server()
    public var upstream = Upstream()
    /// `[policy]`: each rule's action and the rules' parameters.
    public var policy = PolicySettings()
    /// `[scan]`: libclamav, archive limits, scan threads, the crash journal.
    public var scan = ScanSettings()
    public var quarantine = Quarantine()
    public var reports = Reports()
    /// `[text]`: TCVN 6909 normalization.
    public var text = TextSettings()
    /// Limits of the MIME parser (`[mime]`).
    public var mime = MIMELimits()
    /// `[[agency]]`: the agencies whose mail passes through, and the address lookup. None built in.
    /// It carries `[domains]` (``domains``).
    public var agencies = AgencyDirectory()
    /// `[domains]`: the deployment's own domains and the state-issued suffixes (`gov.vn`). Kept in
    /// ``agencies`` (one copy), so every owner it answers is judged by them.
    public var domains: StateDomains {
        get { agencies.domains }
        set { agencies.domains = newValue }
    }
    public var logLevel = "info"
    /// `[notify]`: notices of findings (who, how, the outbox's retries).
    public var notify = NotifySettings()
    /// `[documents]`: reading documents' text (the PDF helpers).
    public var documents = DocumentSettings()
    /// `[milter]`: the milter server (`serve --mode milter|both`).
    public var milter = Milter()
    /// `[management]`: metrics, health checks, the drain.
    public var management = Management()
    /// `[store]`: SQLite (one node) or PostgreSQL (several).
    public var store = Store()

    public init() {}

    /// What the message inspector runs, as this configuration sets it.
    public var inspection: InspectionSettings {
        InspectionSettings(policy: policy, scan: scan, text: text, mime: mime, agencies: agencies)
    }
}

public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, `[v6]:port`.
    public init?(parsing text: String, defaultPort: Int? = nil) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard let port = Int(portText), (0...65535).contains(port) else { return nil }
            self.init(host: String(host), port: port)
        } else {
            guard let defaultPort else { return nil }
            self.init(host: String(host), port: defaultPort)
        }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Where accepted mail goes: a real SMTP server, or a local Maildir for trying ThuGate out.
public enum UpstreamURL: Sendable, Equatable, CustomStringConvertible {
    case smtp(HostPort)
    case maildir(String)

    /// `smtp://host:port`, `host:port` (SMTP) or `maildir:DIR`.
    public init?(parsing text: String) {
        if text.hasPrefix("maildir:") {
            let path = String(text.dropFirst("maildir:".count))
            guard !path.isEmpty else { return nil }
            self = .maildir(path)
        } else {
            let rest = text.hasPrefix("smtp://") ? String(text.dropFirst("smtp://".count)) : text
            guard let hostPort = HostPort(parsing: rest.hasSuffix("/") ? String(rest.dropLast()) : rest, defaultPort: 25) else {
                return nil
            }
            self = .smtp(hostPort)
        }
    }

    public var description: String {
        switch self {
        case .smtp(let hp): return "smtp://\(hp)"
        case .maildir(let dir): return "maildir:\(dir)"
        }
    }
}

/// Whether SMTP connections start with a PROXY protocol header (HAProxy `doc/proxy-protocol.txt`).
public enum ProxyProtocolMode: String, Sendable, CaseIterable {
    /// Clients connect directly.
    case off
    /// Every connection comes from a load balancer in `trusted_proxies` and starts with a header;
    /// one without is closed before the banner (the spec forbids guessing).
    case required
}

/// STARTTLS towards the upstream, named as Postfix's smtp_tls_security_level.
public enum UpstreamTLS: String, Sendable, CaseIterable {
    /// Never.
    case none
    /// When the upstream offers it; certificate not verified unless `tls_ca_file` is set.
    case may
    /// Always; a server that does not offer STARTTLS gets no mail (451 to the client).
    case encrypt
}

/// A configuration error naming the key and the line it is on.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let key { text += ": \(key)" }
        return text + ": " + message
    }
}

extension GatewayConfig {
    /// Reads a configuration file's text over `defaults`. Unknown keys and bad values are errors.
    /// Relative paths in the text are resolved against `directory` (the file's own directory)
    /// when it is given, and left as written otherwise.
    public static func parse(
        _ text: String,
        file: String = "<config>",
        directory: String? = nil,
        defaults: GatewayConfig = GatewayConfig()
    ) throws(ConfigError) -> GatewayConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, key: nil, message: "TOML syntax: \(error.description)")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "TOML syntax: \(error)")
        }
        let reader = ConfigReader(file: file, text: text, directory: directory)
        var config = defaults
        try reader.section(
            table,
            "server",
            known: [
                "listen", "hostname", "max_connections", "max_connections_per_ip", "trusted_networks", "proxy_protocol", "trusted_proxies",
                "proxy_protocol_timeout", "max_message_size", "max_recipients",
                "max_line_length", "max_data_line_length", "max_errors", "command_timeout", "data_timeout", "bare_line_endings",
                "memory_threshold",
                "spool_directory", "pid_file", "shutdown_timeout", "tls_certificate", "tls_private_key",
            ]
        ) { (s) throws(ConfigError) in
            if let v = try s.string("listen") {
                guard let hp = HostPort(parsing: v) else { throw s.error("listen", "expected HOST:PORT, e.g. \"127.0.0.1:2525\"") }
                config.server.listen = hp
            }
            if let v = try s.string("hostname") {
                guard !v.isEmpty, !v.contains(" ") else { throw s.error("hostname", "expected a host name") }
                config.server.hostname = v
            }
            if let v = try s.integer("max_connections", min: 1) { config.server.maxConnections = v }
            if let v = try s.integer("max_connections_per_ip", min: 1) { config.server.maxConnectionsPerIP = v }
            if let v = try s.stringList("trusted_networks") {
                config.server.trustedNetworks = try v.map { (text) throws(ConfigError) in
                    guard let network = IPNetwork(text) else {
                        throw s.error("trusted_networks", "\"\(text)\" is not an address or a CIDR network such as \"10.0.0.0/8\"")
                    }
                    return network
                }
            }
            if let v = try s.choice("proxy_protocol", ProxyProtocolMode.self) { config.server.proxyProtocol = v }
            if let v = try s.stringList("trusted_proxies") {
                config.server.trustedProxies = try v.map { (text) throws(ConfigError) in
                    guard let network = IPNetwork(text) else {
                        throw s.error("trusted_proxies", "\"\(text)\" is not an address or a CIDR network such as \"10.0.0.0/8\"")
                    }
                    return network
                }
            }
            if let v = try s.duration("proxy_protocol_timeout") { config.server.proxyProtocolTimeout = v }
            if config.server.proxyProtocol == .required, config.server.trustedProxies.isEmpty {
                throw s.error("trusted_proxies", "proxy_protocol = \"required\" needs the load balancers' addresses here")
            }
            if let v = try s.size("max_message_size", min: 1024) { config.server.maxMessageSize = v }
            if let v = try s.integer("max_recipients", min: 1) { config.server.maxRecipients = v }
            if let v = try s.integer("max_line_length", min: 512) { config.server.maxLineLength = v }
            if let v = try s.size("max_data_line_length", min: 1000) { config.server.maxDataLineLength = v }
            if let v = try s.integer("max_errors", min: 1) { config.server.maxErrors = v }
            if let v = try s.duration("command_timeout") { config.server.commandTimeout = v }
            if let v = try s.duration("data_timeout") { config.server.dataTimeout = v }
            if let v = try s.choice("bare_line_endings", BareLineEndingPolicy.self) { config.server.bareLineEndings = v }
            if let v = try s.size("memory_threshold", min: 0) { config.server.memoryThreshold = v }
            if let v = try s.path("spool_directory") {
                guard !v.isEmpty else { throw s.error("spool_directory", "must not be empty") }
                config.server.spoolDirectory = v
            }
            if let v = try s.path("pid_file") {
                guard !v.isEmpty else { throw s.error("pid_file", "must not be empty") }
                config.server.pidFile = v
            }
            if let v = try s.duration("shutdown_timeout") { config.server.shutdownTimeout = v }
            if let v = try s.path("tls_certificate") { config.server.tlsCertificate = v }
            if let v = try s.path("tls_private_key") { config.server.tlsPrivateKey = v }
            if config.server.tlsCertificate.isEmpty != config.server.tlsPrivateKey.isEmpty {
                throw s.error(
                    config.server.tlsCertificate.isEmpty ? "tls_private_key" : "tls_certificate",
                    "tls_certificate and tls_private_key must be set together"
                )
            }
        }
        try reader.section(
            table,
            "upstream",
            known: [
                "url", "helo_name", "connect_timeout", "command_timeout", "data_timeout", "starttls", "tls_ca_file",
                "pipelining", "xforward", "max_idle_connections", "idle_timeout",
            ]
        ) { (s) throws(ConfigError) in
            if let v = try s.string("url") {
                guard let url = UpstreamURL(parsing: v) else {
                    throw s.error("url", "expected \"smtp://HOST:PORT\" or \"maildir:DIR\"")
                }
                config.upstream.url = url
                if case .maildir(let path) = url, let directory {
                    config.upstream.url = .maildir(ConfigPaths.resolve(path, against: directory))
                }
            }
            if let v = try s.string("helo_name") { config.upstream.heloName = v }
            if let v = try s.duration("connect_timeout") { config.upstream.connectTimeout = v }
            if let v = try s.duration("command_timeout") { config.upstream.commandTimeout = v }
            if let v = try s.duration("data_timeout") { config.upstream.dataTimeout = v }
            if let v = try s.choice("starttls", UpstreamTLS.self) { config.upstream.startTLS = v }
            if let v = try s.path("tls_ca_file") { config.upstream.tlsCAFile = v }
            if let v = try s.bool("pipelining") { config.upstream.pipelining = v }
            if let v = try s.bool("xforward") { config.upstream.xforward = v }
            if let v = try s.integer("max_idle_connections", min: 0) { config.upstream.maxIdleConnections = v }
            if let v = try s.duration("idle_timeout") { config.upstream.idleTimeout = v }
        }
        // The rules' actions and parameters under the keys their declarations name; beside them, the
        // profile, which sets the parameters that declare a value for it (keys in the file override it).
        let parameters = RuleCatalog.all.flatMap(\.parameters)
        let policyKeys = Set(["profile"] + RuleCatalog.all.map(\.configKey) + parameters.map(\.key))
        try reader.section(table, "policy", known: policyKeys) { (s) throws(ConfigError) in
            if let v = try s.choice("profile", PolicyProfile.self) { config.policy.parameters.apply(v, declared: parameters) }
            for rule in RuleCatalog.all {
                if let v = try s.choice(rule.configKey, PolicyAction.self) { config.policy[rule.id] = v }
            }
            for parameter in parameters {
                switch parameter.kind {
                case .size(let min):
                    if let v = try s.size(parameter.key, min: min) { config.policy.parameters[parameter.key] = .size(v) }
                case .strings:
                    if let v = try s.stringList(parameter.key) { config.policy.parameters[parameter.key] = .strings(v) }
                case .mailboxes:
                    if let v = try s.mailboxList(parameter.key) { config.policy.parameters[parameter.key] = .strings(v) }
                }
            }
        }
        try reader.section(
            table,
            "scan",
            known: [
                "signatures", "temporary_directory", "max_scan_size", "max_file_size", "max_recursion", "max_files",
                "max_scan_time", "max_archive_members", "max_expanded_size", "max_expansion_ratio", "threads",
                "crash_journal",
            ]
        ) { (s) throws(ConfigError) in
            if let v = try s.path("signatures") {
                guard !v.isEmpty else { throw s.error("signatures", "must name the signature directory") }
                config.scan.clamav.databaseDirectory = v
            }
            if let v = try s.path("temporary_directory") {
                guard !v.isEmpty else { throw s.error("temporary_directory", "must not be empty") }
                config.scan.clamav.temporaryDirectory = v
            }
            if let v = try s.size("max_scan_size", min: 1024) { config.scan.clamav.maxScanSize = v }
            if let v = try s.size("max_file_size", min: 1024) { config.scan.clamav.maxFileSize = v }
            if let v = try s.integer("max_recursion", min: 1) { config.scan.clamav.maxRecursion = v }
            if let v = try s.integer("max_files", min: 1) { config.scan.clamav.maxFiles = v }
            if let v = try s.duration("max_scan_time") {
                config.scan.clamav.maxScanTime = Int(clamping: v.nanoseconds / 1_000_000)
            }
            if let v = try s.integer("max_archive_members", min: 1) { config.scan.limits.archive.maxMembers = v }
            if let v = try s.size("max_expanded_size", min: 1024) { config.scan.limits.maxExpandedBytes = v }
            if let v = try s.integer("max_expansion_ratio", min: 2) { config.scan.limits.maxRatio = v }
            if let v = try s.integer("threads", min: 0) { config.scan.threads = v }
            if let v = try s.path("crash_journal") {
                guard !v.isEmpty else { throw s.error("crash_journal", "must name a file") }
                config.scan.crashJournal = v
            }
        }
        var internalDomainsGiven = false
        try reader.section(table, "text", known: ["normalize", "dkim_signed", "internal_domains"]) { (s) throws(ConfigError) in
            if let v = try s.bool("normalize") { config.text.normalize = v }
            if let v = try s.choice("dkim_signed", TCVNNormalizer.DKIMSigned.self) { config.text.dkimSigned = v }
            if let v = try s.stringList("internal_domains") {
                config.text.internalDomains = v.map { $0.lowercased() }
                internalDomainsGiven = true
            }
        }
        try reader.section(
            table,
            "quarantine",
            known: [
                "database", "directory", "categories", "retention", "legal_hold", "force_categories", "approval_categories", "keep_refused",
                "release_to", "release_lease",
            ]
        ) { (s) throws(ConfigError) in
            // The Maildir quarantine of earlier versions: held mail now goes only to the store.
            if s.table["directory"] != nil {
                throw s.error(
                    "directory",
                    "held mail now goes to the quarantine store (quarantine.database), not a Maildir; remove this key"
                )
            }
            if let v = try s.path("database") {
                guard !v.isEmpty else { throw s.error("database", "must not be empty") }
                config.quarantine.database = v
            }
            try reader.quarantineLifecycle(s, into: &config.quarantine.lifecycle)
            try reader.quarantineKeepRefused(s, into: &config.quarantine.lifecycle)
            if let v = try s.string("release_to") {
                if v.isEmpty {
                    config.quarantine.releaseTo = nil
                } else {
                    guard let url = UpstreamURL(parsing: v), case .smtp = url else {
                        throw s.error("release_to", "expected \"smtp://HOST:PORT\" (empty: release through the upstream)")
                    }
                    config.quarantine.releaseTo = url
                }
            }
            if let v = try s.duration("release_lease") { config.quarantine.releaseLease = v }
        }
        try reader.section(table, "milter", known: ConfigReader.milterKeys) { (s) throws(ConfigError) in
            try reader.milter(s, into: &config.milter)
        }
        try reader.section(table, "management", known: ConfigReader.managementKeys) { (s) throws(ConfigError) in
            try reader.management(s, into: &config.management)
        }
        try reader.section(table, "store", known: ConfigReader.storeKeys) { (s) throws(ConfigError) in
            try reader.store(s, into: &config.store)
        }
        try reader.section(table, "reports", known: ["verdict_days", "rollup_years"]) { (s) throws(ConfigError) in
            if let v = try s.integer("verdict_days", min: 1) { config.reports.verdictDays = v }
            if let v = try s.integer("rollup_years", min: 1) { config.reports.rollupYears = v }
        }
        try reader.section(table, "mime", known: ["max_depth", "max_parts", "max_header_size", "max_field_size", "max_decoded_size"]) {
            (s) throws(ConfigError) in
            if let v = try s.integer("max_depth", min: 1) { config.mime.maxDepth = v }
            if let v = try s.integer("max_parts", min: 1) { config.mime.maxParts = v }
            if let v = try s.size("max_header_size", min: 1024) { config.mime.maxHeaderSectionBytes = v }
            if let v = try s.size("max_field_size", min: 1000) { config.mime.maxHeaderFieldBytes = v }
            if let v = try s.size("max_decoded_size", min: 1024) { config.mime.maxDecodedBytes = v }
        }
        try reader.section(table, "log", known: ["level"]) { (s) throws(ConfigError) in
            if let v = try s.string("level") {
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                guard levels.contains(v) else { throw s.error("level", "expected one of \(levels.joined(separator: ", "))") }
                config.logLevel = v
            }
        }
        try reader.section(table, "domains", known: ConfigReader.domainKeys) { (s) throws(ConfigError) in
            try reader.domains(s, into: &config.agencies.domains)
        }
        // Not given: the deployment's own domains are its internal ones (`[text] dkim_signed =
        // "normalize-internal"`), kept in one place.
        if !internalDomainsGiven, config.text.internalDomains.isEmpty { config.text.internalDomains = config.agencies.domains.own }
        if let value = table["agency"] { config.agencies = try reader.agencies(value, domains: config.agencies.domains) }
        if let value = table["notify"] { try reader.notify(value, into: &config.notify) }
        try reader.section(table, "documents", known: ConfigReader.documentKeys) { (s) throws(ConfigError) in
            try reader.documents(s, into: &config.documents)
            try reader.documentBudget(s, into: &config.scan.limits.secrecy)
        }
        let sections = [
            "server", "upstream", "policy", "scan", "text", "quarantine", "reports", "mime", "log", "agency", "notify", "documents",
            "domains", "milter", "management", "store",
        ]
        for key in table.keys where !sections.contains(key) {
            throw ConfigError(file: file, line: reader.line(of: key, in: nil), key: key, message: "unknown section or key")
        }
        return config
    }
}

/// Reads typed values out of one TOML table and finds the line of a key for error messages
/// (TOMLKit reports lines only for syntax errors).
struct ConfigReader {
    let file: String
    let lines: [Substring]
    /// The file's directory, against which its relative paths are resolved.
    let directory: String?

    init(file: String, text: String, directory: String? = nil) {
        self.file = file
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        self.directory = directory
    }

    struct Section {
        let reader: ConfigReader
        let name: String
        let table: TOMLTable
        /// The table's place in an array of tables (`[[agency]]`), from 0.
        var index: Int? = nil

        func error(_ key: String, _ message: String) -> ConfigError {
            guard let index else {
                return ConfigError(file: reader.file, line: reader.line(of: key, in: name), key: "\(name).\(key)", message: message)
            }
            return ConfigError(
                file: reader.file,
                line: reader.line(of: key, inArray: name, at: index),
                key: "\(name)[\(index)].\(key)",
                message: message
            )
        }

        func string(_ key: String) throws(ConfigError) -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string else { throw error(key, "expected a string") }
            return s
        }

        /// A file or directory: relative to the configuration file's directory. Every path
        /// setting is read with this and listed in `GatewayConfig.resolvePaths`.
        func path(_ key: String) throws(ConfigError) -> String? {
            guard let value = try string(key) else { return nil }
            guard let directory = reader.directory, !value.isEmpty else { return value }
            return ConfigPaths.resolve(value, against: directory)
        }

        func bool(_ key: String) throws(ConfigError) -> Bool? {
            guard let value = table[key] else { return nil }
            guard let b = value.bool else { throw error(key, "expected true or false") }
            return b
        }

        func integer(_ key: String, min: Int) throws(ConfigError) -> Int? {
            guard let value = table[key] else { return nil }
            guard let i = value.int else { throw error(key, "expected an integer") }
            guard i >= min else { throw error(key, "must be at least \(min)") }
            return i
        }

        /// A byte count: an integer, or a string such as "35MiB", "20 MB", "512KiB".
        func size(_ key: String, min: Int) throws(ConfigError) -> Int? {
            guard let value = table[key] else { return nil }
            let bytes: Int
            if let i = value.int {
                bytes = i
            } else if let s = value.string, let parsed = ConfigReader.parseSize(s) {
                bytes = parsed
            } else {
                throw error(key, "expected a size in bytes, e.g. 36700160 or \"35MiB\"")
            }
            guard bytes >= min else { throw error(key, "must be at least \(min) bytes") }
            return bytes
        }

        /// A duration: seconds as an integer, or a string such as "300s", "5m", "1h", "500ms";
        /// 0 only where `allowZero` says it means "none".
        func duration(_ key: String, allowZero: Bool = false) throws(ConfigError) -> TimeAmount? {
            guard let value = table[key] else { return nil }
            let amount: TimeAmount
            if let i = value.int {
                guard (0..<1_000_000_000).contains(i) else { throw error(key, "must be at most 7 days") }
                amount = .seconds(Int64(i))
            } else if let s = value.string, let parsed = ConfigReader.parseDuration(s) {
                amount = parsed
            } else {
                throw error(key, "expected a duration, e.g. 300 or \"5m\"")
            }
            guard amount > .zero || (allowZero && amount == .zero) else { throw error(key, "must be positive") }
            guard amount <= .hours(24 * 7) else { throw error(key, "must be at most 7 days") }
            return amount
        }

        func stringList(_ key: String) throws(ConfigError) -> [String]? {
            guard let value = table[key] else { return nil }
            guard let array = value.array else { throw error(key, "expected a list of strings") }
            var out: [String] = []
            for item in array {
                guard let s = item.string, !s.isEmpty else { throw error(key, "expected a list of non-empty strings") }
                out.append(s)
            }
            return out
        }

        /// Mailboxes `local@domain` or `@domain`, lowercased.
        func mailboxList(_ key: String) throws(ConfigError) -> [String]? {
            guard let list = try stringList(key) else { return nil }
            return try list.map { (entry) throws(ConfigError) in
                let parts = entry.split(separator: "@", omittingEmptySubsequences: false)
                let domain = parts.last ?? ""
                guard parts.count == 2, domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."),
                    entry.allSatisfy({ !$0.isWhitespace && $0 != "<" && $0 != ">" })
                else { throw error(key, "\"\(entry)\" is not a mailbox (local@domain) or a domain (@domain)") }
                return entry.lowercased()
            }
        }

        func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(ConfigError) -> E? where E.RawValue == String {
            guard let s = try string(key) else { return nil }
            guard let v = E(rawValue: s) else {
                throw error(key, "expected one of: \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            return v
        }
    }

    func section(_ root: TOMLTable, _ name: String, known: Set<String>, _ body: (Section) throws(ConfigError) -> Void) throws(ConfigError) {
        guard let value = root[name] else { return }
        guard let table = value.table else {
            throw ConfigError(file: file, line: line(of: name, in: nil), key: name, message: "expected a [\(name)] table")
        }
        for key in table.keys where !known.contains(key) {
            throw ConfigError(file: file, line: line(of: key, in: name), key: "\(name).\(key)", message: "unknown key")
        }
        try body(Section(reader: self, name: name, table: table))
    }

    /// The 1-based line where `key` is assigned inside `[table]` (or at top level).
    func line(of key: String, in table: String?) -> Int? {
        var current: String? = nil
        for (index, raw) in lines.enumerated() {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("[") {
                let name = line.dropFirst().prefix(while: { $0 != "]" }).trimmingSpaces
                current = String(name)
                if table == nil && name == key { return index + 1 }
                continue
            }
            guard current == table, let eq = line.firstIndex(of: "=") else { continue }
            var name = line[..<eq].trimmingSpaces
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = name.dropFirst().dropLast() }
            if name == key { return index + 1 }
        }
        return nil
    }

    static func parseSize(_ text: String) -> Int? {
        let t = text.replacingOccurrences(of: " ", with: "")
        let digits = t.prefix(while: { $0.isNumber })
        guard let n = Int(digits) else { return nil }
        let units: [String: Int] = [
            "": 1, "B": 1, "K": 1024, "KB": 1000, "KIB": 1024, "M": 1 << 20, "MB": 1_000_000, "MIB": 1 << 20,
            "G": 1 << 30, "GB": 1_000_000_000, "GIB": 1 << 30,
        ]
        guard let unit = units[t.dropFirst(digits.count).uppercased()] else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }

    static func parseDuration(_ text: String) -> TimeAmount? {
        let t = text.replacingOccurrences(of: " ", with: "")
        let digits = t.prefix(while: { $0.isNumber })
        // Bounded so that no unit can overflow TimeAmount; the caller checks the real range.
        guard let n = Int64(digits), n < 1_000_000 else { return nil }
        switch t.dropFirst(digits.count) {
        case "ms": return .milliseconds(n)
        case "", "s": return .seconds(n)
        case "m": return .minutes(n)
        case "h": return .hours(n)
        default: return nil
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        Substring(trimmingCharacters(in: .whitespaces))
    }
}
