import MIMECore
import Policy
import SMTPCore
import Testing

@testable import Inspection

/// The opt-in stage timing `thugate bench` reads: filled when asked, the same result either way.
@Suite struct StageTimesTests {
    @Test func askedForTimesFillTheStagesThatRanAndChangeNothingElse() throws {
        let inspector = try MessageInspector(settings: MessageInspectorTests.settings())
        let untimed = try inspector.inspectBlocking(MessageInspectorTests.legacy, envelope: MessageInspectorTests.envelope)
        var times: StageTimes? = StageTimes()
        let timed = try inspector.inspectBlocking(MessageInspectorTests.legacy, envelope: MessageInspectorTests.envelope, times: &times)
        #expect(timed.result == untimed.result)
        let stages = try #require(times)
        #expect(stages.parse > .zero)
        #expect(stages.rules > .zero)
        // The legacy-encoded text is delivered, so the TCVN 6909 transform ran.
        #expect(stages.transforms > .zero)
        // Content rules are off in these settings: no scanner, and its stage stays at zero.
        #expect(stages.contentScan == .zero)
    }

    @Test func withoutTimesNothingIsMeasured() throws {
        let inspector = try MessageInspector(settings: MessageInspectorTests.settings())
        var times: StageTimes? = nil
        _ = try inspector.inspectBlocking(MessageInspectorTests.legacy, envelope: MessageInspectorTests.envelope, times: &times)
        #expect(times == nil)
    }

    @Test func sumsAddEveryStage() {
        var one = StageTimes()
        one.parse = .milliseconds(1)
        one.contentScan = .milliseconds(2)
        var two = StageTimes()
        two.rules = .milliseconds(3)
        two.transforms = .milliseconds(4)
        two.parse = .milliseconds(5)
        let sum = one + two
        #expect(sum.named.map(\.name) == ["parse", "content_scan", "rules", "transforms"])
        #expect(sum.named.map(\.duration) == [.milliseconds(6), .milliseconds(2), .milliseconds(3), .milliseconds(4)])
    }
}
