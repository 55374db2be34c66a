import Foundation
import TestFixtures
import Testing

@testable import Archives

extension ArchiveTests {
    @Suite("SevenZipReader")
    struct SevenZipReaderTests {
        static let files = [
            ("sub/a.exe", "MZ not really an executable"),
            ("b.txt", String(repeating: "text ", count: 100)),
            ("empty.txt", ""),
        ]

        static func sevenZip(_ options: [String], files: [(String, String)] = files) throws -> [UInt8] {
            try ArchiveFixture.archive(
                ArchiveFixture.sevenZipTool,
                ["a", "-bd", "-y"] + options + ["x.7z"] + files.map { $0.0.split(separator: "/").first.map(String.init)! },
                output: "x.7z",
                files: files
            )
        }

        @Test(arguments: [[], ["-mhc=off"], ["-m0=LZMA"], ["-ms=off"]])
        func plainArchiveListsEveryFile(options: [String]) throws {
            let bytes = try Self.sevenZip(options)
            #expect(ArchiveReader.format(of: bytes) == .sevenZip)
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.format == .sevenZip)
            #expect(!listing.isEncrypted)
            #expect(!listing.truncated)
            #expect(listing.members.map(\.name).sorted() == ["b.txt", "empty.txt", "sub", "sub/a.exe"])
            let exe = try #require(ArchiveFixture.member(listing, "sub/a.exe"))
            #expect(exe.size == 27)
            #expect(!exe.isDirectory)
            #expect(ArchiveFixture.member(listing, "b.txt")?.size == 500)
            #expect(ArchiveFixture.member(listing, "empty.txt")?.size == 0)
            #expect(ArchiveFixture.member(listing, "empty.txt")?.isDirectory == false)
            #expect(ArchiveFixture.member(listing, "sub")?.isDirectory == true)
        }

        @Test func passwordMarksFilesButNotHeaders() throws {
            let bytes = try Self.sevenZip(["-psecret"])
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.isEncrypted)
            #expect(!listing.headersEncrypted)
            #expect(listing.headerEncryption == nil)
            let exe = try #require(ArchiveFixture.member(listing, "sub/a.exe"))
            #expect(exe.encryption == "7zAES")
            #expect(exe.size == 27)
            // Files without data have nothing to encrypt.
            #expect(ArchiveFixture.member(listing, "empty.txt")?.encryption == nil)
            #expect(ArchiveFixture.member(listing, "sub")?.encryption == nil)
        }

        @Test func encryptedHeadersHideTheFileList() throws {
            let bytes = try Self.sevenZip(["-psecret", "-mhe=on"])
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.headersEncrypted)
            #expect(listing.headerEncryption == "7zAES")
            #expect(listing.members.isEmpty)
            #expect(listing.isEncrypted)
        }

        @Test func manyFilesAndTheMemberLimit() throws {
            let files = (0..<300).map { ("f\($0).txt", "content of file \($0)") }
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.sevenZipTool,
                ["a", "-bd", "-y", "many.7z", "-i!*.txt"],
                output: "many.7z",
                files: files
            )
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.members.count == 300)
            #expect(!listing.truncated)
            #expect(ArchiveFixture.member(listing, "f123.txt")?.size == 19)

            var limits = ArchiveLimits()
            limits.maxMembers = 100
            let capped = try #require(ArchiveFixture.list(bytes, limits: limits))
            #expect(capped.members.count == 100)
            #expect(capped.truncated)

            // Non-solid: one folder per file, so the folder count itself exceeds the limit.
            let nonSolid = try ArchiveFixture.archive(
                ArchiveFixture.sevenZipTool,
                ["a", "-bd", "-y", "-ms=off", "many.7z", "-i!*.txt"],
                output: "many.7z",
                files: files
            )
            let cappedNonSolid = try #require(ArchiveFixture.list(nonSolid, limits: limits))
            #expect(cappedNonSolid.truncated)
            #expect(cappedNonSolid.members.count <= 100)
            let full = try #require(ArchiveFixture.list(nonSolid))
            #expect(full.members.count == 300)
            #expect(full.members.allSatisfy { $0.compressedSize != nil })
        }

        @Test func headerCapStopsInflation() throws {
            let files = (0..<300).map { ("a-rather-long-file-name-\($0).txt", "x") }
            let bytes = try ArchiveFixture.archive(
                ArchiveFixture.sevenZipTool,
                ["a", "-bd", "-y", "many.7z", "-i!*.txt"],
                output: "many.7z",
                files: files
            )
            var limits = ArchiveLimits()
            limits.maxHeaderBytes = 256
            let listing = try #require(ArchiveFixture.list(bytes, limits: limits))
            #expect(listing.truncated)
            #expect(listing.members.count < 300)
        }

        @Test func emptyArchive() throws {
            var bytes = SevenZipReader.signature + [0, 4]
            bytes += [UInt8](repeating: 0, count: 24)
            let listing = try #require(ArchiveFixture.list(bytes))
            #expect(listing.members.isEmpty)
            #expect(!listing.isEncrypted)
        }
    }
}

extension ArchiveTests {
    @Suite("LZMARawDecoder")
    struct LZMARawDecoderTests {
        static let text = (0..<400).map { "line \($0) of a header-like text\n" }.joined()

        static func xz(_ arguments: [String]) throws -> [UInt8] {
            try ArchiveFixture.withDirectory { directory in
                try ArchiveFixture.write(text, "in.txt", in: directory)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "/usr/bin/xz " + arguments.joined(separator: " ") + " -c in.txt > out"]
                process.currentDirectoryURL = directory
                try process.run()
                process.waitUntilExit()
                return try ArchiveFixture.bytes("out", in: directory)
            }
        }

        @Test func lzma2() throws {
            let packed = try Self.xz(["--format=raw", "--lzma2=dict=64KiB"])
            let expected = Array(Self.text.utf8)
            // LZMA2 property byte 8: dictionary (2 | 0) << (8 / 2 + 11) = 64 KiB.
            let decoded = packed.withUnsafeBytes {
                LZMARawDecoder.decode(lzma2: true, properties: [8], input: $0, outputSize: expected.count)
            }
            #expect(decoded == expected)
            let capped = packed.withUnsafeBytes {
                LZMARawDecoder.decode(lzma2: true, properties: [8], input: $0, outputSize: 100)
            }
            #expect(capped == Array(expected.prefix(100)))
        }

        @Test func lzma1() throws {
            // .lzma ("LZMA_Alone"): 5 property bytes, an 8-byte size, then the raw LZMA stream.
            let alone = try Self.xz(["--format=lzma"])
            let expected = Array(Self.text.utf8)
            let decoded = Array(alone[13...]).withUnsafeBytes {
                LZMARawDecoder.decode(lzma2: false, properties: Array(alone[..<5]), input: $0, outputSize: expected.count)
            }
            #expect(decoded == expected)
            // A 4 GB dictionary in the properties is clamped to the output size, not allocated.
            let hugeDictionary: [UInt8] = [alone[0], 0xFF, 0xFF, 0xFF, 0xFF]
            let clamped = Array(alone[13...]).withUnsafeBytes {
                LZMARawDecoder.decode(lzma2: false, properties: hugeDictionary, input: $0, outputSize: expected.count)
            }
            #expect(clamped == expected)
            let truncated = Array(alone[13..<40]).withUnsafeBytes {
                LZMARawDecoder.decode(lzma2: false, properties: Array(alone[..<5]), input: $0, outputSize: expected.count)
            }
            #expect(truncated == nil)
        }
    }
}

extension ArchiveTests {
    /// The reader agrees with `7z l -slt` on names, sizes, directories and encryption.
    @Suite("Archives against 7z l -slt")
    struct SevenZipCrossCheckTests {
        struct Entry: Equatable, Comparable {
            var name: String
            var size: UInt64?
            var isDirectory: Bool
            var encrypted: Bool
            static func < (a: Entry, b: Entry) -> Bool { a.name < b.name }
        }

        static func sevenZipListing(_ archive: String, in directory: URL) throws -> [Entry] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ArchiveFixture.sevenZipTool)
            process.arguments = ["l", "-slt", "-ppw", archive]
            process.currentDirectoryURL = directory
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard let body = output.components(separatedBy: "----------\n").last else { return [] }
            return body.components(separatedBy: "\n\n").compactMap { block in
                var fields: [String: String] = [:]
                for line in block.split(separator: "\n") {
                    guard let range = line.range(of: " = ") else { continue }
                    fields[String(line[..<range.lowerBound])] = String(line[range.upperBound...])
                }
                guard let path = fields["Path"] else { return nil }
                return Entry(
                    name: path,
                    size: fields["Size"].flatMap { UInt64($0) },
                    isDirectory: fields["Attributes"]?.hasPrefix("D") ?? false || fields["Folder"] == "+",
                    encrypted: fields["Encrypted"] == "+"
                )
            }.sorted()
        }

        @Test(arguments: [
            ["-t7z", "-mf=BCJ2", "-ppw"], ["-t7z", "-mf=BCJ2"], ["-t7z", "-ms=off", "-ppw"], ["-t7z", "-mhc=off", "-m0=PPMd"],
            ["-t7z", "-m0=BCJ2", "-m1=LZMA", "-m2=LZMA", "-m3=LZMA", "-mb0:1", "-mb0s1:2", "-mb0s2:3"],
            ["-tzip", "-ppw"], ["-tzip", "-ppw", "-mem=AES128"], ["-tzip", "-mx=0"],
        ])
        func agreesWith7z(options: [String]) throws {
            try ArchiveFixture.withDirectory { directory in
                try Data(contentsOf: URL(fileURLWithPath: "/bin/ls")).write(to: directory.appendingPathComponent("setup.exe"))
                try Data(contentsOf: URL(fileURLWithPath: "/bin/cat")).write(to: directory.appendingPathComponent("tool.dll"))
                try ArchiveFixture.write("tệp tin", "thư mục/tài liệu.txt", in: directory)
                try ArchiveFixture.write("", "empty", in: directory)
                try ArchiveFixture.write(String(repeating: "abc", count: 5000), "sub/deeper/b.txt", in: directory)
                try ArchiveFixture.run(
                    ArchiveFixture.sevenZipTool,
                    ["a", "-bd", "-y"] + options + ["out", "setup.exe", "tool.dll", "thư mục", "empty", "sub"],
                    in: directory
                )
                let name = try FileManager.default.contentsOfDirectory(atPath: directory.path).first { $0.hasPrefix("out.") }
                let archive = try #require(name)
                let expected = try Self.sevenZipListing(archive, in: directory)
                #expect(expected.count == 8)
                let listing = try #require(ArchiveFixture.list(try ArchiveFixture.bytes(archive, in: directory)))
                #expect(!listing.truncated)
                let actual = listing.members.map {
                    Entry(
                        name: $0.name.hasSuffix("/") ? String($0.name.dropLast()) : $0.name,
                        size: $0.size,
                        isDirectory: $0.isDirectory,
                        encrypted: $0.encryption != nil
                    )
                }.sorted()
                #expect(actual == expected)
            }
        }
    }
}
