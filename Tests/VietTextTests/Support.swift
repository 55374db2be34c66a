import Foundation

@testable import VietText

/// The labelled fixtures (UTF-8 files written for this project).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func read(_ path: String) -> String {
        (try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)) ?? ""
    }

    static var paragraphs: [String] {
        ["vi/cong-van.txt", "vi/quyet-dinh.txt", "vi/ten-rieng.txt", "vi/tieu-de.txt"]
            .flatMap { read($0).components(separatedBy: "\n\n") }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
    static var headings: [String] { read("vi/tieu-de.txt").split(separator: "\n").map(String.init) }
    static var subjects: [String] { read("subjects.txt").split(separator: "\n").map(String.init) }

    /// Legacy bytes as real producers (Unikey) write them: TCVN3's lowercase font has no toned
    /// capitals, so those take their lowercase letter's code.
    static func encode(_ text: String, _ encoding: VietEncoding) -> [UInt8]? {
        if let bytes = VietConverter.fromUnicode(text, to: encoding) { return bytes }
        guard encoding == .tcvn3 else { return nil }
        var out: [UInt8] = []
        for ch in text {
            guard
                let b = VietConverter.fromUnicode(String(ch), to: .tcvn3)
                    ?? VietConverter.fromUnicode(String(ch).lowercased(), to: .tcvn3)
            else { return nil }
            out += b
        }
        return out
    }
}

/// glibc iconv, the independent reference.
func iconv(_ bytes: [UInt8], from charset: String) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
    process.arguments = ["-f", charset, "-t", "UTF-8"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    input.fileHandleForWriting.write(Data(bytes))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).precomposedStringWithCanonicalMapping
}

extension String {
    /// Scalar-exact equality (Swift's == is canonical equivalence: NFD == NFC).
    func same(_ other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}

/// UTF-8 text → bytes in `charset` by glibc iconv.
func iconvEncode(_ text: String, to charset: String) -> [UInt8]? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
    process.arguments = ["-f", "UTF-8", "-t", charset]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    input.fileHandleForWriting.write(Data(text.utf8))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return [UInt8](data)
}
