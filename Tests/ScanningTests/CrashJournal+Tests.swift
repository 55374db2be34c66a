import Foundation
import Testing

@testable import Scanning

@Suite struct CrashJournalTests {
    static func path(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-journal-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: directory)
        return directory.appendingPathComponent("scan-crashes").path
    }

    @Test func digestIsSHA256() {
        let digest = Array("abc".utf8).withUnsafeBytes(CrashJournal.digest)
        #expect(CrashJournal.hex(digest) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// A second journal opened on the file while a scan is in flight sees what a restart after a
    /// crash would see: the hash of the message being scanned.
    @Test func aScanInFlightIsFoundAtTheNextStart() throws {
        let path = Self.path("inflight")
        let journal = try CrashJournal(path: path)
        let digest = Array("message".utf8).withUnsafeBytes(CrashJournal.digest)
        let other = Array("other".utf8).withUnsafeBytes(CrashJournal.digest)
        journal.whileScanning(other) {}
        try journal.whileScanning(digest) {
            let restarted = try CrashJournal(path: path)
            #expect(restarted.foundAtStart == [CrashJournal.hex(digest)])
            #expect(restarted.hasCrashed(digest))
            #expect(!restarted.hasCrashed(other))
        }
        // Kept across later starts (the list), and the journal itself is empty again.
        let later = try CrashJournal(path: path)
        #expect(later.foundAtStart.isEmpty)
        #expect(later.hasCrashed(digest))
        #expect(try String(contentsOfFile: later.crashedListPath, encoding: .utf8) == CrashJournal.hex(digest) + "\n")
    }

    @Test func scansAtOnceUseTheirOwnSlots() throws {
        let path = Self.path("slots")
        let journal = try CrashJournal(path: path)
        let a = Array("a".utf8).withUnsafeBytes(CrashJournal.digest)
        let b = Array("b".utf8).withUnsafeBytes(CrashJournal.digest)
        try journal.whileScanning(a) {
            try journal.whileScanning(b) {
                let restarted = try CrashJournal(path: path)
                #expect(Set(restarted.foundAtStart) == [CrashJournal.hex(a), CrashJournal.hex(b)])
            }
        }
    }

    @Test func unwritablePathIsAnErrorNamingIt() {
        #expect(throws: CrashJournalError.self) { try CrashJournal(path: "/proc/thugate/no/such/journal") }
    }
}
