import Testing

@testable import Archives

extension ArchiveTests {
    @Suite("RAR4Reader")
    struct RAR4ReaderTests {
        static let plainFiles: [RAR4Builder.File] = [
            .init(name: Array("readme.txt".utf8), data: Array("hello".utf8)),
            .init(name: Array("sub".utf8), flags: 0x00E0, attributes: 0x10),
            .init(name: Array("sub\\setup.exe".utf8), data: Array("MZ\u{90}\u{00}".utf8)),
        ]

        @Test func plainArchive() throws {
            let bytes = RAR4Builder.archive(files: Self.plainFiles)
            #expect(ArchiveReader.format(of: bytes) == .rar4)
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.format == .rar4)
            #expect(!listing.isEncrypted)
            #expect(!listing.truncated)
            #expect(listing.members.map(\.name) == ["readme.txt", "sub", "sub\\setup.exe"])
            #expect(listing.members.map(\.isDirectory) == [false, true, false])
            #expect(listing.members[0].size == 5)
            #expect(listing.members[2].size == 5)
            #expect(listing.members[2].compressedSize == 5)
        }

        @Test func encryptedFile() throws {
            var files = Self.plainFiles
            files[2].flags |= 0x0004
            let listing = try #require(ArchiveFixture.list(RAR4Builder.archive(files: files)))
            #expect(listing.isEncrypted)
            #expect(!listing.headersEncrypted)
            #expect(listing.members[2].encryption == "RAR 3.x AES")
            #expect(listing.members[0].encryption == nil)
        }

        @Test func encryptedHeaders() throws {
            // MHD_PASSWORD: what follows the main header is ciphertext.
            var bytes = RAR4Builder.archive(mainFlags: 0x0080, files: [])
            bytes += [UInt8](repeating: 0xA7, count: 80)
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.headersEncrypted)
            #expect(listing.headerEncryption == "RAR 3.x AES")
            #expect(listing.members.isEmpty)
            #expect(listing.isEncrypted)
        }

        @Test func unicodeAndLargeNames() throws {
            let unicode = RAR4Builder.File(
                name: RAR4Builder.unicodeName(ascii: "t?p tin.exe", "tệp tin.exe"),
                data: [1, 2, 3],
                flags: 0x0200
            )
            let listing = try #require(ArchiveFixture.list(RAR4Builder.archive(files: [unicode])))
            #expect(listing.members.map(\.name) == ["tệp tin.exe"])
            #expect(listing.members.first?.size == 3)
        }

        @Test func missingEndAndMemberLimit() throws {
            var bytes = RAR4Builder.archive(files: Self.plainFiles, end: false)
            let open = try #require(ArchiveFixture.list(bytes))
            #expect(open.members.count == 3)
            #expect(open.truncated)

            var limits = ArchiveLimits()
            limits.maxMembers = 2
            bytes = RAR4Builder.archive(files: Self.plainFiles)
            let capped = try #require(ArchiveFixture.list(bytes, limits: limits))
            #expect(capped.members.count == 2)
            #expect(capped.truncated)
        }

        @Test func declaredPackSizeBeyondTheData() throws {
            var files = Self.plainFiles
            files[0].data = Array("hello".utf8)
            let bytes = RAR4Builder.archive(files: files)
            // PACK_SIZE of the first file header (7-byte marker + 13-byte main + 7-byte block header).
            let damaged = bytes.writingLE(UInt32.max, at: 7 + 13 + 7)
            let listing = try #require(ArchiveFixture.list(damaged))
            #expect(listing.members.map(\.name) == ["readme.txt"])
            #expect(listing.truncated)
        }
    }
}

extension ArchiveTests {
    @Suite("RAR5Reader")
    struct RAR5ReaderTests {
        static let plainFiles: [RAR5Builder.File] = [
            .init(name: "readme.txt", data: Array("hello".utf8)),
            .init(name: "sub", isDirectory: true),
            .init(name: "sub/setup.exe", data: Array("MZ fake exe".utf8)),
        ]

        @Test func plainArchive() throws {
            let bytes = RAR5Builder.archive(files: Self.plainFiles)
            #expect(ArchiveReader.format(of: bytes) == .rar5)
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.format == .rar5)
            #expect(!listing.isEncrypted)
            #expect(!listing.truncated)
            #expect(listing.members.map(\.name) == ["readme.txt", "sub", "sub/setup.exe"])
            #expect(listing.members.map(\.isDirectory) == [false, true, false])
            #expect(listing.members[2].size == 11)
            #expect(listing.members[2].compressedSize == 11)
        }

        @Test func encryptedFile() throws {
            var files = Self.plainFiles
            files[2].encrypted = true
            let listing = try #require(ArchiveFixture.list(RAR5Builder.archive(files: files)))
            #expect(listing.isEncrypted)
            #expect(!listing.headersEncrypted)
            #expect(listing.members[2].encryption == "RAR 5 AES-256")
            #expect(listing.members[2].name == "sub/setup.exe")
            #expect(listing.members[0].encryption == nil)
        }

        @Test func encryptedHeaders() throws {
            let listing = try #require(ArchiveFixture.list(RAR5Builder.archive(files: [], encryptedHeaders: true)))
            #expect(listing.headersEncrypted)
            #expect(listing.headerEncryption == "RAR 5 AES-256")
            #expect(listing.members.isEmpty)
        }

        @Test func memberLimitAndTruncation() throws {
            let bytes = RAR5Builder.archive(files: Self.plainFiles)
            var limits = ArchiveLimits()
            limits.maxMembers = 1
            let capped = try #require(ArchiveFixture.list(bytes, limits: limits))
            #expect(capped.members.count == 1)
            #expect(capped.truncated)
            let cut = try #require(ArchiveFixture.list(Array(bytes.dropLast(20))))
            #expect(cut.truncated)
            #expect(cut.members.count >= 2)
        }

        @Test func vintDecoding() {
            var encoded: [UInt8] = []
            for value: UInt64 in [0, 1, 127, 128, 300, 1 << 35, .max] { encoded.appendVInt(value) }
            encoded.withUnsafeBytes { raw in
                var cursor = ArchiveCursor(raw)
                #expect(cursor.vint() == 0)
                #expect(cursor.vint() == 1)
                #expect(cursor.vint() == 127)
                #expect(cursor.vint() == 128)
                #expect(cursor.vint() == 300)
                #expect(cursor.vint() == 1 << 35)
                #expect(cursor.vint() == .max)
                #expect(cursor.vint() == nil)
            }
            let endless = [UInt8](repeating: 0xFF, count: 20)
            endless.withUnsafeBytes { raw in
                var cursor = ArchiveCursor(raw)
                #expect(cursor.vint() == nil)
            }
        }
    }
}
