import Foundation
import MIMECore
import Policy
import Testing

@testable import Scanning

/// The opt-in content-stage clock `thugate bench` reads: off outside ``ContentStageTimes/measuring(_:)``,
/// exclusive times inside it.
@Suite struct ContentStageTimesTests {
    @Test func nestedStagesAreTakenOutOfTheEnclosingOne() {
        let clock = ContinuousClock()
        let started = clock.now
        let (value, times) = ContentStageTimes.measuring { () -> Int in
            ContentStageTimes.time(\.textExtraction) {
                Thread.sleep(forTimeInterval: 0.02)
                ContentStageTimes.time(\.secrecyMatcher) { Thread.sleep(forTimeInterval: 0.03) }
                // Time in a nil stage belongs to nobody, and is not the enclosing stage's either.
                ContentStageTimes.time(nil) { Thread.sleep(forTimeInterval: 0.01) }
            }
            return 7
        }
        let wall = clock.now - started
        #expect(value == 7)
        #expect(times.secrecyMatcher >= .milliseconds(30))
        #expect(times.textExtraction >= .milliseconds(20))
        #expect(times.textExtraction + times.secrecyMatcher + .milliseconds(10) <= wall)
        #expect(times.libmagic == .zero && times.libclamav == .zero && times.archiveHeaders == .zero)
    }

    @Test func outsideMeasuringNothingIsCounted() {
        let result = ContentStageTimes.time(\.libmagic) { 1 + 1 }
        let (_, times) = ContentStageTimes.measuring { () -> Void in }
        #expect(result == 2 && times == ContentStageTimes())
    }

    @Test func aRealScanSplitsIntoLibmagicAndLibclamav() throws {
        let scanner = ContentScanner(engines: try EngineStore(settings: ContentScannerTests.settings()))
        let message = ContentScannerTests.parse(
            """
            From: a@b.vn
            Content-Type: multipart/mixed; boundary=X

            --X
            Content-Type: text/plain

            Hello
            --X
            Content-Type: application/octet-stream; name="eicar.com"

            \(ContentScannerTests.eicar)
            --X--
            """
        )
        let untimed = try scanner.scan(message)
        let (report, times) = try ContentStageTimes.measuring { () throws(ScanError) in try scanner.scan(message) }
        #expect(report == untimed && !report.viruses.isEmpty)
        #expect(times.libclamav > .zero && times.libmagic > .zero)
    }
}
