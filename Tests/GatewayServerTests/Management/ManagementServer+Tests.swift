import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayServer

/// The three routes, the readiness checks and their JSON, and the handler on an EmbeddedChannel.
@Suite struct ManagementServerTests {
    static func readiness(signatures: String? = nil, maxAge: TimeAmount = .hours(168)) -> Readiness {
        let readiness = Readiness(listeners: ["smtp"], signatureDirectory: signatures, maxSignatureAge: maxAge)
        readiness.listener("smtp", bound: true)
        readiness.storeProbed(.init(ok: true, detail: "writable"))
        readiness.upstreamProbed(.init(ok: true, detail: "reached 1 s ago"))
        return readiness
    }

    static func routes(_ readiness: Readiness) -> ManagementRoutes {
        ManagementRoutes(readiness: readiness, metrics: { "# HELP x y\n# TYPE x counter\nx 1\n" })
    }

    @Test func routesAnswer() {
        let routes = Self.routes(Self.readiness())
        #expect(routes.respond(method: .GET, uri: "/livez") == .init(status: .ok, contentType: "text/plain; charset=utf-8", body: "ok\n"))
        #expect(routes.respond(method: .GET, uri: "/metrics?x=1").body == "# HELP x y\n# TYPE x counter\nx 1\n")
        #expect(routes.respond(method: .GET, uri: "/metrics").contentType.hasPrefix("text/plain; version=0.0.4"))
        #expect(routes.respond(method: .GET, uri: "/readyz").status == .ok)
        #expect(routes.respond(method: .GET, uri: "/other").status == .notFound)
        #expect(routes.respond(method: .POST, uri: "/readyz").status == .methodNotAllowed)
        #expect(routes.respond(method: .HEAD, uri: "/livez").status == .ok)
    }

    @Test func eachFailingCheckMakes503AndIsNamed() throws {
        let readiness = Self.readiness()
        readiness.listener("smtp", bound: false)
        var response = Self.routes(readiness).respond(method: .GET, uri: "/readyz")
        #expect(response.status == .serviceUnavailable)
        let body = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        #expect(body?["ready"] as? Bool == false)
        let checks = body?["checks"] as? [String: [String: Any]]
        #expect(checks?["listeners"]?["ok"] as? Bool == false)
        #expect(checks?["listeners"]?["detail"] as? String == "not bound: smtp")
        #expect(checks?["store"]?["ok"] as? Bool == true)

        let draining = Self.readiness()
        draining.beginDrain()
        response = Self.routes(draining).respond(method: .GET, uri: "/readyz")
        #expect(response.status == .serviceUnavailable)
        #expect(draining.checks().map(\.name) == ["listeners", "signatures", "store", "upstream", "draining"])
        #expect(draining.checks().filter { !$0.ok }.map(\.name) == ["draining"])

        let store = Self.readiness()
        store.storeProbed(.init(ok: false, detail: "quarantine store: \"read-only\"\n"))
        #expect(Self.routes(store).respond(method: .GET, uri: "/readyz").body.contains(#""detail":"quarantine store: \"read-only\"\n""#))
    }

    @Test func signaturesMissingOrStale() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signatureCheck = { (readiness: Readiness) in readiness.checks().first { $0.name == "signatures" }! }
        #expect(!signatureCheck(Self.readiness(signatures: directory)).ok)
        let file = directory + "/daily.cld"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(signatureCheck(Self.readiness(signatures: directory)).ok)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-8 * 86400)], ofItemAtPath: file)
        let stale = signatureCheck(Self.readiness(signatures: directory))
        #expect(!stale.ok && stale.detail.contains("192 h old"))
        #expect(signatureCheck(Self.readiness(signatures: directory, maxAge: .hours(24 * 9))).ok)
        try FileManager.default.removeItem(atPath: directory)
        #expect(!signatureCheck(Self.readiness(signatures: directory)).ok)
        #expect(signatureCheck(Self.readiness(signatures: nil)).ok)
    }

    @Test func theHandlerWritesOneResponseAndCloses() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(ManagementHTTPHandler(routes: Self.routes(Self.readiness())))
        try channel.writeInbound(ByteBuffer(string: "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"))
        var written = ""
        while var part = try channel.readOutbound(as: ByteBuffer.self) { written += part.readString(length: part.readableBytes) ?? "" }
        #expect(written.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(written.contains("content-type: application/json\r\n") || written.contains("Content-Type: application/json\r\n"))
        #expect(written.hasSuffix(#""draining":{"ok":true,"detail":"no"}}}"# + "\n"))
        #expect(!channel.isActive)
    }

    @Test func aProbeThatHangsIsReportedWithoutWaitingForIt() async {
        let slow = Task { () -> Int in
            try? await Task.sleep(for: .seconds(5))
            return 1
        }
        #expect(await HealthProber.value(of: slow, within: .milliseconds(50)) == nil)
        slow.cancel()
        #expect(await HealthProber.value(of: Task { 7 }, within: .seconds(5)) == 7)
    }
}
