import Foundation
import GRDB
import Quarantine
import Testing

/// The contract every `QuarantineStore` keeps ("The contract": written against the protocol,
/// run here on the SQLite store; a PostgreSQL store is to pass the same), then what only the
/// SQLite store has.
@Suite struct QuarantineStoreTests {
    /// A SQLite store in a fresh directory, removed afterwards.
    static func withSQLiteStore<T>(
        beforeCommit: (@Sendable () throws -> Void)? = nil,
        _ body: (SQLiteQuarantineStore, String) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quarantine-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/var/quarantine/quarantine.sqlite"
        let store = try SQLiteQuarantineStore(
            path: path,
            actor: Actor(user: "thugate", sudoUser: "postmaster"),
            beforeCommit: beforeCommit
        )
        return try await body(store, path)
    }

    static func request(
        queueID: String = "0B1C2D3F4G5H",
        at date: Date = Date(),
        recipients: [String] = ["<a@quangninh.gov.vn>", "<b@quangninh.gov.vn>"]
    ) -> HoldRequest {
        HoldRequest(
            queueID: queueID,
            node: "thugate.test",
            receivedAt: date,
            clientAddress: "192.0.2.7",
            helo: "mail.example.vn",
            sender: "<vanthu@example.vn>",
            recipients: recipients,
            headerFrom: "Văn thư <vanthu@example.vn>",
            subject: "Báo cáo \u{1B}[31mquý\u{7} IV\r\n",
            messageID: "<1@example.vn>",
            findings: [
                HeldFinding(rule: "encrypted-archive", detail: "a.zip: encrypted", part: "2"),
                HeldFinding(rule: "office-macro", detail: "whole message", part: ""),
            ],
            category: "encrypted-archive",
            expiresAt: date.addingTimeInterval(30 * 86400)
        )
    }

    /// Bytes that are not all alike, so a chunk out of order shows.
    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    static func content(of id: String, in store: any QuarantineStore) async throws -> [UInt8] {
        let collected = Collected()
        try await store.readContent(of: id) { chunk in collected.append(chunk) }
        return collected.bytes
    }

    /// `sha256sum`'s answer, the reference the stored hash must equal.
    static func sha256sum(_ bytes: [UInt8]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    // MARK: The contract

    @Test(arguments: StoreKind.allCases) func aHeldMessageReadsBackWholeWithItsRows(kind: StoreKind) async throws {
        try await Self.withStore(kind) { store, _ in
            // Three chunks and a bit: the last one short.
            let bytes = Self.bytes(3 * SQLiteQuarantineStore.chunkSize + 1234)
            let request = Self.request()
            let held = try await store.hold(request, content: HeldBytes(bytes))
            #expect(held.size == bytes.count)
            #expect(held.sha256 == (try Self.sha256sum(bytes)))
            #expect(held.id.count == 18)

            let read = try await store.message(held.id)
            #expect(read == held)
            #expect(read.request.subject == "Báo cáo quý IV  ")
            #expect(read.recipients.map(\.state) == [.held, .held])
            #expect(read.request.findings == request.findings)
            #expect(try await Self.content(of: held.id, in: store) == bytes)
        }
    }

    @Test(arguments: StoreKind.allCases) func anEmptyAndAOneByteMessageAreHeldToo(kind: StoreKind) async throws {
        try await Self.withStore(kind) { store, _ in
            for bytes in [[], [0x41]] as [[UInt8]] {
                let held = try await store.hold(Self.request(), content: HeldBytes(bytes))
                #expect(held.sha256 == (try Self.sha256sum(bytes)))
                #expect(try await Self.content(of: held.id, in: store) == bytes)
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func idsAreTimeOrderedAndListedNewestFirst(kind: StoreKind) async throws {
        try await Self.withStore(kind) { store, _ in
            let start = Date()
            var ids: [String] = []
            for i in 0..<5 {
                ids.append(
                    try await store.hold(Self.request(queueID: "Q\(i)", at: start.addingTimeInterval(Double(i))), content: HeldBytes([1]))
                        .id
                )
            }
            #expect(ids == ids.sorted())
            #expect(try await store.messages(MessageQuery()).map(\.id) == ids.reversed())
            #expect(try await store.messages(MessageQuery(limit: 2)).map(\.request.queueID) == ["Q4", "Q3"])
        }
    }

    @Test(arguments: StoreKind.allCases) func aUniquePrefixNamesAMessageAsInGit(kind: StoreKind) async throws {
        try await Self.withStore(kind) { store, _ in
            let date = Date()
            let a = try await store.hold(Self.request(at: date), content: HeldBytes([1])).id
            let b = try await store.hold(Self.request(at: date), content: HeldBytes([2])).id
            // Same millisecond: the ids share their first 10 characters.
            let common = a.commonPrefix(with: b)
            #expect(common.count >= 10)
            #expect(try await store.message(String(a.prefix(common.count + 1))).id == a)
            #expect(try await store.message(a.uppercased()).id == a)
            await #expect(throws: QuarantineError.self) { try await store.message(common) }
            do {
                _ = try await store.message(common)
            } catch let error as QuarantineError {
                #expect(error.kind == .ambiguous)
            }
            for unknown in ["zzzzzzzzzz", "", "a%", "' OR 1=1 --"] {
                do {
                    _ = try await store.message(unknown)
                    Issue.record("\(unknown) found a message")
                } catch let error as QuarantineError {
                    #expect(error.kind == .notFound)
                }
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func everyHoldIsAuditedInAChain(kind: StoreKind) async throws {
        try await Self.withStore(kind) { store, _ in
            var ids: [String] = []
            for i in 0..<3 { ids.append(try await store.hold(Self.request(queueID: "Q\(i)"), content: HeldBytes([UInt8(i)])).id) }
            let audit = try await store.audit(messageID: nil)
            #expect(audit.map(\.action) == ["hold", "hold", "hold"])
            #expect(audit.map(\.messageID) == ids)
            #expect(audit.allSatisfy { $0.actor == "thugate" && $0.sudoUser == "postmaster" })
            #expect(audit.first?.previousHash == AuditEntry.genesis)
            for (previous, entry) in zip([nil] + audit.dropLast(), audit) {
                #expect(entry.previousHash == previous?.hash ?? AuditEntry.genesis)
                let recomputed = AuditEntry.chainHash(
                    previousHash: entry.previousHash,
                    sequence: entry.sequence,
                    atMilliseconds: Int64((entry.at.timeIntervalSince1970 * 1000).rounded()),
                    actor: entry.actor,
                    sudoUser: entry.sudoUser,
                    action: entry.action,
                    messageID: entry.messageID,
                    detail: entry.detail
                )
                #expect(entry.hash == recomputed)
            }
            #expect(try await store.audit(messageID: ids[1]).map(\.sequence) == [2])
            #expect(audit[0].detail.contains("encrypted-archive(2): a.zip: encrypted"))
        }
    }

    @Test(arguments: StoreKind.allCases) func holdersRunConcurrentlyWithAReader(kind: StoreKind) async throws {
        try await Self.withStore(kind) { store, fixture in
            let holders = 8
            let each = 20
            let reader = try await fixture.other(Self.testActor)
            let held = try await withThrowingTaskGroup(of: [(String, [UInt8])].self) { group in
                for h in 0..<holders {
                    group.addTask {
                        var out: [(String, [UInt8])] = []
                        for i in 0..<each {
                            let bytes = Self.bytes(1000 + h * 7919 + i * 3571, seed: UInt64(h * 1000 + i))
                            out.append((try await store.hold(Self.request(queueID: "H\(h)-\(i)"), content: HeldBytes(bytes)).id, bytes))
                        }
                        return out
                    }
                }
                group.addTask {
                    // Lists while they write: never a busy error, never a half-written message.
                    var seen = 0
                    while seen < holders * each {
                        let messages = try await reader.messages(MessageQuery())
                        for message in messages.prefix(3) {
                            #expect(try await Self.content(of: message.id, in: reader).count == message.size)
                        }
                        seen = messages.count
                    }
                    return []
                }
                var all: [(String, [UInt8])] = []
                for try await batch in group { all += batch }
                return all
            }
            #expect(held.count == holders * each)
            #expect(Set(held.map(\.0)).count == held.count)
            for (id, bytes) in held.prefix(40) {
                #expect(try await Self.content(of: id, in: reader) == bytes)
            }
            #expect(try await store.audit(messageID: nil).count == holders * each)
        }
    }

    @Test(arguments: StoreKind.allCases) func aFailureBeforeTheCommitLeavesNothing(kind: StoreKind) async throws {
        struct Injected: Error {}
        let failing: @Sendable () throws -> Void = { throw Injected() }
        try await Self.withStore(kind, beforeCommit: failing) { (store, fixture) async throws in
            await #expect(throws: (any Error).self) {
                try await store.hold(Self.request(), content: HeldBytes(Self.bytes(600_000)))
            }
            #expect(try await store.messages(MessageQuery()).isEmpty)
            #expect(try await store.audit(messageID: nil).isEmpty)
            for table in ["messages", "recipients", "chunks", "findings", "audit", "notices"] {
                #expect(try await fixture.count(table) == 0, "\(table)")
            }
        }
    }

    // MARK: The SQLite store

    @Test func synchronousIsFullOnEveryConnection() async throws {
        try await Self.withSQLiteStore { store, path in
            _ = try await store.hold(Self.request(), content: HeldBytes([1]))
            let settings = try await store.synchronousSettings(readers: 4)
            #expect(settings.count == 5)
            #expect(settings.allSatisfy { $0 == 2 }, "\(settings)")
            let reader = try SQLiteQuarantineStore(path: path, readOnly: true)
            #expect(try await reader.synchronousSettings(readers: 3).dropFirst().allSatisfy { $0 == 2 })
            let mode = try await DatabasePool(path: path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
        }
    }

    @Test func chunksAreStoredWithTheirOwnHashes() async throws {
        try await Self.withSQLiteStore { store, path in
            let bytes = Self.bytes(2 * SQLiteQuarantineStore.chunkSize + 10)
            let held = try await store.hold(Self.request(), content: HeldBytes(bytes))
            let rows = try await DatabasePool(path: path).read { db in
                try Row.fetchAll(db, sql: "SELECT seq, data, sha256 FROM chunks WHERE message_id = ? ORDER BY seq", arguments: [held.id])
                    .map { ($0["seq"] as Int, [UInt8]($0["data"] as Data), $0["sha256"] as String) }
            }
            #expect(rows.map(\.0) == [0, 1, 2])
            #expect(rows.map(\.1.count) == [SQLiteQuarantineStore.chunkSize, SQLiteQuarantineStore.chunkSize, 10])
            for row in rows { #expect(row.2 == (try Self.sha256sum(row.1))) }
            #expect(rows.flatMap(\.1) == bytes)

            // A changed chunk is caught on read.
            try await DatabasePool(path: path).write { db in
                try db.execute(sql: "UPDATE chunks SET data = zeroblob(10) WHERE message_id = ? AND seq = 2", arguments: [held.id])
            }
            do {
                _ = try await Self.content(of: held.id, in: store)
                Issue.record("a changed chunk was read back")
            } catch let error as QuarantineError {
                #expect(error.kind == .corrupt)
            }
        }
    }

    @Test func theStoreIsNotWorldReadable() async throws {
        try await Self.withSQLiteStore { store, path in
            _ = try await store.hold(Self.request(), content: HeldBytes([1]))
            for file in [path, path + "-wal"] {
                let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
                #expect(mode == 0o640, "\(file)")
            }
        }
    }

    @Test func aReadOnlyStoreNeverWrites() async throws {
        try await Self.withSQLiteStore { store, path in
            _ = try await store.hold(Self.request(), content: HeldBytes([1, 2, 3]))
            let reader = try SQLiteQuarantineStore(path: path, readOnly: true)
            #expect(try await reader.messages(MessageQuery()).count == 1)
            await #expect(throws: QuarantineError.self) { try await reader.hold(Self.request(), content: HeldBytes([1])) }
            do {
                _ = try SQLiteQuarantineStore(path: path + ".missing", readOnly: true)
                Issue.record("opened a missing store")
            } catch let error as QuarantineError {
                #expect(error.kind == .unavailable)
            }
            #expect(!FileManager.default.fileExists(atPath: path + ".missing"))
        }
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256MatchesTheStandardVectors(input: String, digest: String) {
        #expect(Array(input.utf8).withUnsafeBytes { SHA256.hex($0) } == digest)
        // Fed one byte at a time, the same.
        var hasher = SHA256()
        for byte in input.utf8 { hasher.update([byte]) }
        #expect(hasher.finalize().hex == digest)
    }

    @Test func aLinkWhereTheStoreShouldBeIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("link-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/elsewhere"
        FileManager.default.createFile(atPath: target, contents: Data())
        try FileManager.default.createSymbolicLink(atPath: directory + "/q.sqlite", withDestinationPath: target)
        #expect(throws: QuarantineError.self) { try SQLiteQuarantineStore(path: directory + "/q.sqlite") }
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int != 0o640)
    }
}

/// Chunks collected from a `@Sendable` reader callback.
final class Collected: @unchecked Sendable {
    // Only the store's read closure appends, and the caller reads after it returned.
    var bytes: [UInt8] = []
    func append(_ chunk: UnsafeRawBufferPointer) { bytes.append(contentsOf: chunk) }
}
