import Atomics
public import Foundation
import NIOConcurrencyHelpers
public import NIOCore
import Reports

/// What `/readyz` answers: whether this node should get connections now. Each check is cheap
/// and synchronous (the store and the upstream are probed off the request path, by
/// ``HealthProber``), so a load balancer's check every two seconds costs nothing.
public final class Readiness: Sendable {
    /// One named check and why it failed.
    public struct Check: Sendable, Equatable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    /// What the prober last saw of a dependency.
    public struct Probe: Sendable, Equatable {
        public var ok: Bool
        public var detail: String
        public init(ok: Bool, detail: String) {
            self.ok = ok
            self.detail = detail
        }
    }

    /// The signature directory libclamav loaded, nil when no content scanner runs.
    let signatureDirectory: String?
    let maxSignatureAge: TimeAmount
    /// The listeners this node must have bound (`smtp`, `milter`), and those it has.
    private let listeners: NIOLockedValueBox<[String: Bool]>
    private let draining = ManagedAtomic<Bool>(false)
    private let store = NIOLockedValueBox(Probe(ok: false, detail: "not probed yet"))
    private let upstream = NIOLockedValueBox(Probe(ok: false, detail: "not probed yet"))

    public init(listeners: [String], signatureDirectory: String?, maxSignatureAge: TimeAmount) {
        self.listeners = NIOLockedValueBox(Dictionary(uniqueKeysWithValues: listeners.map { ($0, false) }))
        self.signatureDirectory = signatureDirectory
        self.maxSignatureAge = maxSignatureAge
    }

    public func listener(_ name: String, bound: Bool) { listeners.withLockedValue { $0[name] = bound } }

    /// SIGTERM: `/readyz` fails from now on, whatever else holds.
    public func beginDrain() { draining.store(true, ordering: .relaxed) }
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    func storeProbed(_ probe: Probe) {
        store.withLockedValue { $0 = probe }
        GatewayMetrics.store(up: probe.ok)
    }

    func upstreamProbed(_ probe: Probe) { upstream.withLockedValue { $0 = probe } }

    /// Every check, in a fixed order; ready when all pass.
    public func checks(now: Date = Date()) -> [Check] {
        var checks: [Check] = []
        let bound = listeners.withLockedValue { $0 }
        let missing = bound.filter { !$0.value }.map(\.key).sorted()
        checks.append(
            Check(
                name: "listeners",
                ok: missing.isEmpty,
                detail: missing.isEmpty
                    ? "bound: \(bound.keys.sorted().joined(separator: ", "))" : "not bound: \(missing.joined(separator: ", "))"
            )
        )
        checks.append(signatureCheck(now: now))
        let store = store.withLockedValue { $0 }
        checks.append(Check(name: "store", ok: store.ok, detail: store.detail))
        let upstream = upstream.withLockedValue { $0 }
        checks.append(Check(name: "upstream", ok: upstream.ok, detail: upstream.detail))
        let draining = isDraining
        checks.append(Check(name: "draining", ok: !draining, detail: draining ? "SIGTERM received: leaving the rotation" : "no"))
        return checks
    }

    private func signatureCheck(now: Date) -> Check {
        guard let directory = signatureDirectory else { return Check(name: "signatures", ok: true, detail: "no content scanner") }
        guard let newest = Self.newestSignatureFile(in: directory) else {
            return Check(name: "signatures", ok: false, detail: "\(directory): no signature files (removed?)")
        }
        GatewayMetrics.signatures(writtenAt: newest.timeIntervalSince1970)
        let age = now.timeIntervalSince(newest)
        let limit = Double(maxSignatureAge.nanoseconds) / 1e9
        let hours = Int(age / 3600)
        guard age <= limit else {
            return Check(name: "signatures", ok: false, detail: "\(directory): newest file is \(hours) h old (max_signature_age)")
        }
        return Check(name: "signatures", ok: true, detail: "\(directory): newest file \(hours) h old")
    }

    /// The modification time of the newest signature database file (`.cvd`, `.cld`, `.cud`,
    /// `.ndb`, `.hdb`, ...: every regular file but freshclam's own state) in `directory`.
    static func newestSignatureFile(in directory: String) -> Date? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        var newest: Date?
        for name in names where !name.hasPrefix(".") && name != "freshclam.dat" && name != "mirrors.dat" {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let modified = attributes[.modificationDate] as? Date
            else { continue }
            if newest.map({ modified > $0 }) ?? true { newest = modified }
        }
        return newest
    }

    /// The `/readyz` body: `{"ready": BOOL, "checks": {NAME: {"ok": BOOL, "detail": TEXT}}}`.
    static func json(_ checks: [Check]) -> String {
        let ready = checks.allSatisfy(\.ok)
        let body = checks.map { "\"\($0.name)\":{\"ok\":\($0.ok),\"detail\":\(jsonString($0.detail))}" }.joined(separator: ",")
        return "{\"ready\":\(ready),\"checks\":{\(body)}}\n"
    }

    static func jsonString(_ text: String) -> String { JSONRenderer.quoted(text) }
}
