import Foundation
import Quarantine
import Testing

/// Reports in the outbox: the row carries the rendered report whole, is claimed and sent as any
/// notice but never with a digest, and the store refuses one too large or to a non-address
/// without writing anything.
@Suite struct ReportMailStoreTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let report = ReportMail(period: "2026-Q4", text: "Báo cáo\nday  handled\n", html: "<!DOCTYPE html>\n<p>Quý IV — \"a\"/b</p>\r\n")

    @Test(arguments: StoreKind.allCases) func aReportRowCarriesItsReportAndIsClaimedAlone(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            let digest = NoticeRequest(
                recipient: "lanhdao@quangninh.gov.vn",
                role: .officer,
                mode: .digest,
                event: OutboxTests.event,
                dueAt: Self.start
            )
            _ = try await store.enqueueNotices([digest], messageID: nil)
            let queued = try await store.enqueueNotices(
                ["lanhdao@quangninh.gov.vn", "vanthu@quangninh.gov.vn"].map { NoticeRequest.report(Self.report, to: $0, now: Self.start) },
                messageID: nil
            )
            #expect(queued.map(\.request.recipient) == ["lanhdao@quangninh.gov.vn", "vanthu@quangninh.gov.vn"])
            #expect(queued.allSatisfy { $0.kind == .report && $0.request.report == Self.report && $0.digestAt == nil })
            #expect(queued.allSatisfy { $0.request.mode == .immediate && $0.request.event.rule == "report" && $0.messageID == nil })
            let listed = try await store.notices(NoticeQuery())
            #expect(listed.map(\.kind) == [.report, .report, .event])
            // The digest notice to the same address is claimed with its digest, the report on its own.
            let claimed = try await store.claimDueNotices(now: Self.start, owner: "a", lease: 600, limit: 100)
            #expect(claimed.count == 3)
            #expect(claimed.filter { $0.kind == .report }.allSatisfy { $0.request.report == Self.report })
        }
    }

    @Test(arguments: StoreKind.allCases) func aReportTooLargeOrToANonAddressIsRefusedAndNothingIsWritten(kind: StoreKind) async throws {
        try await QuarantineStoreTests.withStore(kind) { (store, _) async throws in
            let large = ReportMail(period: "2026", text: "", html: String(repeating: "x", count: ReportMail.maxBytes))
            let good = NoticeRequest.report(Self.report, to: "lanhdao@quangninh.gov.vn", now: Self.start)
            await #expect(throws: QuarantineError.self) {
                try await store.enqueueNotices([good, .report(large, to: "vanthu@quangninh.gov.vn", now: Self.start)], messageID: nil)
            }
            await #expect(throws: QuarantineError.self) {
                try await store.enqueueNotices([good, .report(Self.report, to: "a@b.vn\r\nBcc: c@d.vn", now: Self.start)], messageID: nil)
            }
            #expect(try await store.notices(NoticeQuery()).isEmpty)
        }
    }
}
