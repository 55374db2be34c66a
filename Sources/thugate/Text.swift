import ArgumentParser
import Foundation
import MIMECore
import VietText

/// `thugate text`: the TCVN 6909 converters on their own, for old documents' text.
struct Text: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Detect a legacy Vietnamese encoding, or convert text to Unicode (TCVN 6909:2001, UTF-8 NFC).",
        discussion: """
            Reads standard input. --detect prints the encoding's name first on its line, then a \
            confidence between 0 and 1: utf-8, nfd, tcvn3, tcvn3-upper, tcvn5712-1 (VN1), vni, viscii, vps, cp1258, viqr, or \
            the charset of text that is not Vietnamese legacy text (e.g. windows-1252). --to-unicode \
            writes UTF-8 NFC: legacy Vietnamese is converted; other text keeps its content and is only \
            decoded from its own charset (UTF-8, else Windows-1252), so French Latin-1 comes out as the \
            same French in UTF-8.
            """
    )

    enum Source: String, ExpressibleByArgument, CaseIterable {
        case auto, tcvn3
        case tcvn3Upper = "tcvn3-upper"
        case vn1 = "tcvn5712-1"
        case vni, viscii, vps, cp1258, viqr, nfd
    }

    @Flag(help: "Print the detected encoding and a confidence.")
    var detect = false

    @Flag(name: .customLong("to-unicode"), help: "Convert standard input to UTF-8 NFC on standard output.")
    var toUnicode = false

    @Flag(help: "With --detect: also print how every candidate encoding scored.")
    var explain = false

    @Option(help: "The input's encoding (\(Source.allCases.map(\.rawValue).joined(separator: ", "))).")
    var from: Source = .auto

    @Option(help: "The charset the input claims to be in (a MIME label), as a hint for detection.")
    var declared: String?

    func validate() throws {
        guard detect != toUnicode else { throw ValidationError("give one of --detect or --to-unicode") }
    }

    func run() throws {
        let input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        let detection = VietDetector.detect(input, declaredCharset: declared)
        if detect {
            print("\(detection.encodingName) \(String(format: "%.2f", detection.confidence))")
            if explain { print(VietDetector.explain(input)) }
            return
        }
        let output: String
        if from == .auto {
            // Text that is not legacy Vietnamese is decoded from the charset it declares
            // (KOI8-R, GB2312, ... through iconv) when that works.
            if detection.kind == .notVietnamese, let declared, let text = Charset.decode(input, label: declared) {
                output = text
            } else {
                output = detection.text
            }
        } else {
            guard let encoding = VietEncoding(rawValue: from == .nfd ? "nfd" : from.rawValue) else {
                throw ValidationError("unknown encoding \(from.rawValue)")
            }
            output = VietConverter.toUnicode(input, from: encoding)
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
