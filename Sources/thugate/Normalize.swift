import ArgumentParser
import Foundation
import GatewayServer
import MIMECore
import Policy

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
        let normalizer = config.text.normalizer ?? TCVNNormalizer(dkimSigned: config.text.dkimSigned,
                                                                  internalDomains: config.text.internalDomains)
        let outcome = normalizer.normalize(message)
        for finding in outcome.findings {
            printError("thugate normalize: \(finding)")
        }
        let output = outcome.bytes ?? bytes.asArray
        FileHandle.standardOutput.write(Data(output))
    }
}
