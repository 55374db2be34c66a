import Foundation
import FuzzSupport
import TestFixtures
import Testing

@testable import Archives

extension ArchiveTests {
    /// Untrusted input: prefixes, flipped bytes and noise must never trap.
    @Suite("ArchiveReader robustness")
    struct ArchiveReaderRobustnessTests {
        static func realArchives() throws -> [(String, [UInt8])] {
            var archives: [(String, [UInt8])] = []
            let files = [("sub/a.exe", "MZ executable-ish"), ("b.txt", String(repeating: "b", count: 300))]
            // zip and 7z come from Scripts/setup: a missing tool fails here, it does not skip.
            archives.append(
                (
                    "zip",
                    try ArchiveFixture.archive(
                        ArchiveFixture.zipTool,
                        ["-q", "-r", "-P", "pw", "a.zip", "sub", "b.txt"],
                        output: "a.zip",
                        files: files
                    )
                )
            )
            archives.append(
                (
                    "7z",
                    try ArchiveFixture.archive(
                        ArchiveFixture.sevenZipTool,
                        ["a", "-bd", "-y", "a.7z", "sub", "b.txt"],
                        output: "a.7z",
                        files: files
                    )
                )
            )
            archives.append(
                (
                    "7z-aes",
                    try ArchiveFixture.archive(
                        ArchiveFixture.sevenZipTool,
                        ["a", "-bd", "-y", "-ppw", "-mhc=off", "a.7z", "sub", "b.txt"],
                        output: "a.7z",
                        files: files
                    )
                )
            )
            archives.append(("rar4", RAR4Builder.archive(files: ArchiveTests.RAR4ReaderTests.plainFiles)))
            archives.append(("rar5", RAR5Builder.archive(files: ArchiveTests.RAR5ReaderTests.plainFiles)))
            return archives
        }

        @Test func everyPrefixIsSafe() throws {
            for (_, bytes) in try Self.realArchives() {
                for length in 0...bytes.count {
                    let prefix = Array(bytes[..<length])
                    if let listing = ArchiveFixture.list(prefix) {
                        #expect(listing.members.count <= 3)
                    }
                    _ = ArchiveReader.isEncryptedPDF(prefix)
                    _ = ArchiveReader.encryptedOfficeDocument(prefix)
                }
            }
        }

        @Test func everySuffixAfterTheSignatureIsSafe() throws {
            for (_, bytes) in try Self.realArchives() {
                for start in 1..<bytes.count {
                    _ = ArchiveFixture.list(Array(bytes[..<min(8, bytes.count)]) + Array(bytes[start...]))
                }
            }
        }

        @Test func flippedBytesAreSafe() throws {
            var random = SplitMix64(state: 0x7468_7567_6174_65)
            for (_, bytes) in try Self.realArchives() {
                for _ in 0..<2_000 {
                    var mutated = bytes
                    for _ in 0..<Int.random(in: 1...4, using: &random) {
                        let index = Int.random(in: 0..<mutated.count, using: &random)
                        mutated[index] = UInt8.random(in: 0...255, using: &random)
                    }
                    _ = ArchiveFixture.list(mutated)
                }
            }
        }

        @Test func noiseAfterEachSignatureIsSafe() {
            var random = SplitMix64(state: 42)
            let signatures: [[UInt8]] = [
                [0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x05, 0x06], [0x50, 0x4B, 0x07, 0x08],
                SevenZipReader.signature, RAR4Reader.signature, RAR5Reader.signature,
            ]
            for signature in signatures {
                for _ in 0..<500 {
                    let noise = (0..<Int.random(in: 0..<600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                    _ = ArchiveFixture.list(signature + noise)
                }
            }
            for _ in 0..<500 {
                let noise = (0..<Int.random(in: 0..<600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                if ArchiveReader.format(of: noise) == nil { #expect(ArchiveFixture.list(noise) == nil) }
            }
            #expect(ArchiveFixture.list([]) == nil)
            #expect(ArchiveFixture.list(Array("not an archive".utf8)) == nil)
        }

        @Test func hostile7zCountsAreCapped() throws {
            // kHeader, kMainStreamsInfo, kUnpackInfo, kFolder, 2^56 folders: refused before any allocation.
            var header: [UInt8] = [0x01, 0x04, 0x07, 0x0B, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00]
            var bytes = sevenZip(header: header)
            var listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.truncated)
            #expect(listing.members.isEmpty)

            // kHeader, kFilesInfo with 2^56 files and no room for their properties: nothing sized by the count.
            header = [0x01, 0x05, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x0E, 0x02, 0xFF, 0xFF, 0x00, 0x00]
            bytes = sevenZip(header: header)
            #expect(ArchiveFixture.list(bytes).map { $0.truncated && $0.members.isEmpty } ?? true)

            // 20 empty directories, 5 listed.
            header = [0x01, 0x05, 20, 0x0E, 3, 0xFF, 0xFF, 0xF0, 0x11, 1 + 20 * 4, 0x00]
            for i in 0..<20 { header += [UInt8(ascii: "a") + UInt8(i), 0, 0, 0] }
            header += [0x00, 0x00]
            bytes = sevenZip(header: header)
            var limits = ArchiveLimits()
            limits.maxMembers = 5
            listing = try #require(ArchiveFixture.list(bytes, limits: limits))
            #expect(listing.truncated)
            #expect(listing.members.map(\.name) == ["a", "b", "c", "d", "e"])
            #expect(listing.members.allSatisfy { $0.isDirectory })
            let all = try #require(ArchiveFixture.list(bytes))
            #expect(all.members.count == 20)

            // kEncodedHeader declaring a 2^40-byte LZMA header: inflation is capped, nothing trapped.
            header = [
                0x17, 0x06, 0x00, 0x01, 0x09, 0x04, 0x00, 0x07, 0x0B, 0x01, 0x00,
                0x01, 0x23, 0x03, 0x01, 0x01, 0x05, 0x5D, 0x00, 0x00, 0x00, 0x40,
                0x0C, 0xF8, 0, 0, 0, 0, 0x01, 0x00, 0x00,
            ]
            bytes = sevenZip(header: header, packed: [0x00, 0x00, 0x80, 0x00])
            limits = ArchiveLimits()
            limits.maxHeaderBytes = 1 << 16
            listing = try #require(ArchiveFixture.list(bytes, limits: limits))
            #expect(listing.truncated)
        }

        /// A 7z signature header pointing at `header`, placed after `packed`.
        func sevenZip(header: [UInt8], packed: [UInt8] = []) -> [UInt8] {
            var bytes = SevenZipReader.signature + [0, 4]
            bytes.appendLE(UInt32(0))  // start header CRC (not checked)
            bytes.appendLE(UInt64(packed.count))
            bytes.appendLE(UInt64(header.count))
            bytes.appendLE(UInt32(0))
            return bytes + packed + header
        }
    }
}
