import Foundation
import MIMECore
import Policy
import SMTPCore
import Scanning
import Testing
import Transforms
import VietText

@testable import Inspection

/// The inspection path without libclamav: content rules off, the other rules and the TCVN 6909
/// transform on, as `serve` and `scan` run them.
@Suite struct MessageInspectorTests {
    static let text = "Kính gửi các đơn vị trực thuộc, đề nghị báo cáo tình hình thực hiện kế hoạch năm nay."

    /// Default settings with every rule that needs content scanning off.
    static func settings() -> InspectionSettings {
        var settings = InspectionSettings()
        for rule in RuleCatalog.all where rule.needsContentScan { settings.policy[rule.id] = .off }
        return settings
    }

    static let legacy = MessageBytes(
        Array("From: a@quangninh.gov.vn\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n".utf8)
            + VietConverter.fromUnicode(text, to: .tcvn3)! + Array("\r\n".utf8)
    )
    static let envelope = Envelope(heloName: "client", esmtp: true, sender: MailAddress("a@quangninh.gov.vn"), parameters: MailParameters())

    @Test func aDeliveredMessageIsTransformedAndTheResultCarriesTheEdits() throws {
        let inspector = try MessageInspector(settings: Self.settings())
        #expect(inspector.scanner == nil)
        let (result, message) = try inspector.inspectBlocking(Self.legacy, envelope: nil)
        #expect(result.verdict == .pass)
        #expect(result.content == nil)
        #expect(result.findings.map(\.rule) == [.legacyEncoding])
        #expect(result.transforms.map(\.name) == ["tcvn-6909"])
        #expect(result.transforms.first?.summary == "tcvn3→utf-8 (part 1)")
        let edits = try #require(result.transforms.first?.edits)
        #expect(result.rewritten == edits.applied(to: Self.legacy))
        #expect(result.rewritten == TCVNNormalizer().transform(message).rewritten(message))
        let out = MIMEParser.parse(try #require(result.rewritten))
        #expect(String(decoding: out.decodedBody(of: out.parts[0]).bytes, as: UTF8.self) == Self.text + "\r\n")
    }

    @Test func aRefusedMessageIsNotTransformed() throws {
        var settings = Self.settings()
        settings.policy.parameters.maxAttachmentsSize = 1
        let attached = MessageBytes(
            Self.legacy.asArray.replacing(
                Array("Content-Type: text/plain".utf8),
                with: Array("Content-Disposition: attachment; filename=a.txt\r\nContent-Type: text/plain".utf8)
            )
        )
        let (result, _) = try MessageInspector(settings: settings).inspectBlocking(attached, envelope: nil)
        #expect(result.verdict.action == "reject")
        #expect(result.findings.map(\.rule) == [.attachmentSize])
        #expect(result.transforms.isEmpty && result.rewritten == nil)
    }

    @Test func withoutNormalizationNothingIsRewritten() throws {
        var settings = Self.settings()
        settings.text.normalize = false
        let inspector = try MessageInspector(settings: settings)
        #expect(inspector.transforms.isEmpty)
        let (result, _) = try inspector.inspectBlocking(Self.legacy, envelope: nil)
        #expect(result.verdict == .pass && result.findings.isEmpty && result.rewritten == nil)
    }

    /// The proxy's call: the same result, off the event loop; nothing on means nothing done.
    @Test func theProxysInspectGivesTheSameResult() async throws {
        let inspector = try MessageInspector(settings: Self.settings())
        let proxied = try await inspector.inspect(Self.legacy, envelope: Self.envelope, large: false)
        #expect(proxied == (try inspector.inspectBlocking(Self.legacy, envelope: Self.envelope).result))
        let large = try await inspector.inspect(Self.legacy, envelope: Self.envelope, large: true)
        #expect(large == proxied)

        var nothing = Self.settings()
        nothing.text.normalize = false
        for rule in RuleCatalog.all { nothing.policy[rule.id] = .off }
        #expect(try await MessageInspector(settings: nothing).inspect(Self.legacy, envelope: Self.envelope, large: false) == .uninspected)
    }

    /// A transform of another kind after TCVN 6909: it sees the first one's output, its edits are
    /// on that output, and the message delivered is the last one's.
    struct Stamp: MessageTransform {
        var name: String { "stamp" }
        func transform(_ message: ParsedMessage) -> TransformResult {
            var editor = MessageEditor(message)
            let normalized = message.headerValue("X-ThuGate-Normalized", of: message.parts[0]) != nil
            do { try editor.addHeader("X-Stamp", normalized ? "after tcvn" : "alone") } catch { return TransformResult() }
            return TransformResult(edits: editor.edits, summary: "stamped")
        }
    }

    @Test func transformsRunInOrderEachOnThePreviousOutput() throws {
        let settings = Self.settings()
        let inspector = try MessageInspector(settings: settings, transforms: settings.transforms + [Stamp()])
        let (result, message) = try inspector.inspectBlocking(Self.legacy, envelope: nil)
        #expect(result.transforms.map(\.name) == ["tcvn-6909", "stamp"])
        let normalized = try #require(TCVNNormalizer().transform(message).rewritten(message))
        let stamped = try #require(result.transforms.last?.edits.applied(to: MessageBytes(normalized)))
        #expect(result.rewritten == stamped)
        #expect(String(decoding: stamped, as: UTF8.self).hasPrefix("X-Stamp: after tcvn\r\nX-ThuGate-Normalized: "))

        let alone = try MessageInspector(settings: settings, transforms: [Stamp()]).inspectBlocking(Self.legacy, envelope: nil).result
        #expect(alone.rewritten == Array("X-Stamp: alone\r\n".utf8) + Self.legacy.asArray)
        #expect(alone.findings.isEmpty)
    }

    @Test func aMessageThatCrashedTheGatewayIsHeldUnread() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "thugate-inspection-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var settings = Self.settings()
        settings.scan.crashJournal = directory.appendingPathComponent("journal").path
        let hex = CrashJournal.hex(Self.legacy.withUnsafeBytes(CrashJournal.digest))
        try (hex + "\n").write(toFile: settings.scan.crashJournal + ".crashed", atomically: true, encoding: .utf8)

        let (result, message) = try MessageInspector(settings: settings, useCrashJournal: true).inspectBlocking(Self.legacy, envelope: nil)
        #expect(result.findings.map(\.rule) == [.scanCrash])
        #expect(result.verdict == .quarantine(result.findings[0]))
        #expect(result.rewritten == nil && message.bytes.count == 0)
        // Without the journal (`thugate scan`) it is inspected as any other.
        #expect(try MessageInspector(settings: settings).inspectBlocking(Self.legacy, envelope: nil).result.verdict == .pass)
    }
}
