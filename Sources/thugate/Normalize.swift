import ArgumentParser
import Configuration
import Foundation
import Inspection
import MIMECore
import Transforms

/// `thugate normalize`: one message through the TCVN 6909 transform, as the proxy applies it.
struct Normalize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a message with its legacy Vietnamese text converted to UTF-8 NFC.",
        discussion: """
            Converts text/plain and text/html bodies, Subject and display names, and attachment names \
            as the proxy does ([text] in the configuration), adds X-ThuGate-Normalized, and writes the \
            message to standard output; every other byte is unchanged. Signed parts are left alone. \
            What was converted goes to standard error. A message with nothing to convert is written \
            unchanged.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The .eml file.")
    var file: String

    func run() throws {
        let config = try options.load()
        let bytes = try Scan.read(file)
        let message = MIMEParser.parse(bytes, limits: config.mime)
        // Run whether or not `[text] normalize` is on: this command asks for it.
        let result = config.text.normalizer.transform(message)
        for finding in result.findings {
            printError("thugate normalize: \(finding)")
        }
        let output = result.rewritten(message) ?? bytes.asArray
        FileHandle.standardOutput.write(Data(output))
    }
}
