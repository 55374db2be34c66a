import Foundation
import TestFixtures
import Testing

@testable import Archives

extension ArchiveTests {
    @Suite("ZipReader")
    struct ZipReaderTests {
        static let files = [("readme.txt", "hello, world\n"), ("docs/report.txt", String(repeating: "report ", count: 200))]

        @Test func plainZipListsNamesSizesAndDirectories() throws {
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.zipTool,
                ["-r", "-q", "a.zip", "readme.txt", "docs"],
                output: "a.zip",
                files: Self.files
            )
            #expect(ArchiveReader.format(of: bytes) == .zip)
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.format == .zip)
            #expect(!listing.isEncrypted)
            #expect(!listing.truncated)
            #expect(listing.members.map(\.name).sorted() == ["docs/", "docs/report.txt", "readme.txt"])
            let readme = try #require(ArchiveFixture.member(listing, "readme.txt"))
            #expect(readme.size == 13)
            #expect(readme.encryption == nil)
            #expect(!readme.isDirectory)
            let report = try #require(ArchiveFixture.member(listing, "docs/report.txt"))
            #expect(report.size == 1400)
            #expect((report.compressedSize ?? .max) < 1400)
            #expect(ArchiveFixture.member(listing, "docs/")?.isDirectory == true)
        }

        @Test func zipCryptoIsReported() throws {
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.zipTool,
                ["-q", "-P", "secret", "e.zip", "setup.exe", "readme.txt"],
                output: "e.zip",
                files: [("setup.exe", "MZ fake"), ("readme.txt", "hi")]
            )
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.isEncrypted)
            #expect(!listing.headersEncrypted)
            let setup = try #require(ArchiveFixture.member(listing, "setup.exe"))
            #expect(setup.encryption == "ZipCrypto")
            #expect(setup.size == 7)
        }

        @Test func winZipAESStrengthIsReported() throws {
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.sevenZipTool,
                ["a", "-bd", "-y", "-tzip", "-psecret", "-mem=AES256", "w.zip", "setup.exe"],
                output: "w.zip",
                files: [("setup.exe", "MZ fake executable")]
            )
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.members.map(\.name) == ["setup.exe"])
            #expect(listing.members.first?.encryption == "WinZip AES-256")
            #expect(listing.members.first?.size == 18)
        }

        @Test func nestedZipIsListedAsAMember() throws {
            let bytes = try ArchiveFixture.withDirectory { directory in
                try ArchiveFixture.write("MZ", "setup.exe", in: directory)
                try ArchiveFixture.run(ArchiveFixture.zipTool, ["-q", "-P", "x", "inner.zip", "setup.exe"], in: directory)
                try ArchiveFixture.write("note", "note.txt", in: directory)
                try ArchiveFixture.run(ArchiveFixture.zipTool, ["-q", "-0", "outer.zip", "inner.zip", "note.txt"], in: directory)
                return try ArchiveFixture.bytes("outer.zip", in: directory)
            }
            let outer = try #require(ArchiveFixture.list(bytes))
            #expect(!outer.isEncrypted)
            #expect(outer.members.map(\.name).sorted() == ["inner.zip", "note.txt"])
            // Stored (-0), so the inner archive's bytes are in place: its local header is readable too.
            let start = try #require(bytes.offset(of: [0x50, 0x4B, 0x03, 0x04] as [UInt8], from: 4))
            let size = try #require(ArchiveFixture.member(outer, "inner.zip")?.compressedSize)
            let inner = try #require(ArchiveFixture.list(Array(bytes[start..<start + Int(size)])))
            #expect(inner.members.contains { $0.name == "setup.exe" && $0.encryption == "ZipCrypto" })
        }

        @Test func memberLimitTruncates() throws {
            let files = (0..<50).map { ("f\($0).txt", "file \($0)") }
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.zipTool,
                ["-q", "many.zip"] + files.map(\.0),
                output: "many.zip",
                files: files
            )
            var limits = ArchiveLimits()
            limits.maxMembers = 10
            let listing = try #require(ArchiveFixture.list(bytes, limits: limits))
            #expect(listing.members.count == 10)
            #expect(listing.truncated)
            let full = try #require(ArchiveFixture.list(bytes))
            #expect(full.members.count == 50)
            #expect(!full.truncated)
        }

        @Test func hugeDeclaredEntryCountsAreOnlyHints() throws {
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.zipTool,
                ["-q", "a.zip", "a.txt", "b.txt", "c.txt"],
                output: "a.zip",
                files: [("a.txt", "a"), ("b.txt", "b"), ("c.txt", "c")]
            )
            let end = try #require(bytes.lastOffset(of: [0x50, 0x4B, 0x05, 0x06]))

            // Classic record: 65535 entries declared, three present.
            let classic = bytes.writingLE(UInt16.max, at: end + 8).writingLE(UInt16.max, at: end + 10)
            let listing = try #require(ArchiveFixture.list(classic))
            #expect(listing.members.count == 3)
            #expect(listing.truncated)

            // ZIP64 record claiming 2^62 entries, inserted before the classic record.
            let directoryOffset = try #require(bytes.offset(of: [0x50, 0x4B, 0x01, 0x02] as [UInt8], from: 0))
            var zip64: [UInt8] = []
            zip64.appendLE(UInt32(0x0606_4B50))
            zip64.appendLE(UInt64(44))
            zip64.appendLE(UInt16(45))
            zip64.appendLE(UInt16(45))
            zip64.appendLE(UInt32(0))
            zip64.appendLE(UInt32(0))
            zip64.appendLE(UInt64(1) << 62)
            zip64.appendLE(UInt64(1) << 62)
            zip64.appendLE(UInt64(end - directoryOffset))
            zip64.appendLE(UInt64(directoryOffset))
            var locator: [UInt8] = []
            locator.appendLE(UInt32(0x0706_4B50))
            locator.appendLE(UInt32(0))
            locator.appendLE(UInt64(end))
            locator.appendLE(UInt32(1))
            var classicEnd = Array(bytes[end...])
            classicEnd = classicEnd.writingLE(UInt16.max, at: 8).writingLE(UInt16.max, at: 10)
                .writingLE(UInt32.max, at: 12).writingLE(UInt32.max, at: 16)
            let huge = Array(bytes[..<end]) + zip64 + locator + classicEnd
            let hugeListing = try #require(ArchiveFixture.list(huge))
            #expect(hugeListing.members.map(\.name) == ["a.txt", "b.txt", "c.txt"])
            #expect(hugeListing.truncated)
        }

        @Test func missingCentralDirectoryFallsBackToLocalHeaders() throws {
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.zipTool,
                ["-q", "-P", "pw", "a.zip", "one.txt", "two.exe"],
                output: "a.zip",
                files: [("one.txt", "1111"), ("two.exe", "MZ22")]
            )
            let directory = try #require(bytes.offset(of: [0x50, 0x4B, 0x01, 0x02] as [UInt8], from: 0))
            let listing = try #require(ArchiveFixture.list(Array(bytes[..<directory])))
            #expect(listing.members.map(\.name) == ["one.txt", "two.exe"])
            #expect(listing.members.allSatisfy { $0.encryption == "ZipCrypto" })
            #expect(listing.truncated)
        }

        @Test func streamedZipStopsAtTheFirstDataDescriptor() throws {
            // `zip -` from a pipe cannot seek back: sizes go to a data descriptor (bit 3).
            let bytes = try ArchiveFixture.withDirectory { directory in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "printf 'streamed data' | \(ArchiveFixture.zipTool) -q - - | cat > s.zip"]
                process.currentDirectoryURL = directory
                try process.run()
                process.waitUntilExit()
                return try ArchiveFixture.bytes("s.zip", in: directory)
            }
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.members.map(\.name) == ["-"])
            let directory = try #require(bytes.offset(of: [0x50, 0x4B, 0x01, 0x02] as [UInt8], from: 0))
            let local = try #require(ArchiveFixture.list(Array(bytes[..<directory])))
            #expect(local.members.map(\.name) == ["-"])
            #expect(local.members.first?.size == nil)
            #expect(local.truncated)
        }

        @Test func emptyAndSpannedSignatures() throws {
            var empty: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
            empty += [UInt8](repeating: 0, count: 18)
            #expect(ArchiveReader.format(of: empty) == .zip)
            let listing = try #require(ArchiveFixture.list(empty))
            #expect(listing.members.isEmpty)
            #expect(!listing.isEncrypted)
            #expect(ArchiveReader.format(of: [0x50, 0x4B, 0x07, 0x08, 0x50, 0x4B, 0x03, 0x04]) == .zip)
        }

        @Test func namesWithoutTheUTF8FlagUseCP437() throws {
            // One local + central entry named 0x82 0x94 ("éö" in CP437), no bit 11.
            let name: [UInt8] = [0x82, 0x94, 0x2E, 0x65, 0x78, 0x65]
            var local: [UInt8] = []
            local.appendLE(UInt32(0x0403_4B50))
            local.appendLE(UInt16(10))
            local.appendLE(UInt16(0))
            local.appendLE(UInt16(0))
            local.appendLE(UInt32(0))
            local.appendLE(UInt32(0))
            local.appendLE(UInt32(0))
            local.appendLE(UInt32(0))
            local.appendLE(UInt16(name.count))
            local.appendLE(UInt16(0))
            local += name
            var central: [UInt8] = []
            central.appendLE(UInt32(0x0201_4B50))
            central.appendLE(UInt16(10))
            central += Array(local[4..<30])
            central.appendLE(UInt16(0))  // comment
            central.appendLE(UInt16(0))  // disk
            central.appendLE(UInt16(0))  // internal attributes
            central.appendLE(UInt32(0))  // external attributes
            central.appendLE(UInt32(0))  // local header offset
            central += name
            var end: [UInt8] = []
            end.appendLE(UInt32(0x0605_4B50))
            end += [0, 0, 0, 0]
            end.appendLE(UInt16(1))
            end.appendLE(UInt16(1))
            end.appendLE(UInt32(central.count))
            end.appendLE(UInt32(local.count))
            end.appendLE(UInt16(0))
            let listing = try #require(ArchiveFixture.list(local + central + end))
            #expect(listing.members.map(\.name) == ["éö.exe"])
            #expect(ArchiveText.cp437High.count == 128)
        }
    }
}

extension Array where Element == UInt8 {
    func offset(of pattern: [UInt8], from start: Int) -> Int? {
        guard count >= pattern.count, start <= count - pattern.count else { return nil }
        return (start...(count - pattern.count)).first { Array(self[$0..<$0 + pattern.count]) == pattern }
    }
}
