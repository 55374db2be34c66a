import Foundation
import MIMECore

/// Parses every message in a directory and decodes every leaf part, on one thread, and prints
/// the throughput as JSON. The files are read into memory first: this measures the parser.
@main
enum MIMEBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(Data("usage: thugate-mimebench DIR [ROUNDS]\n".utf8))
            exit(2)
        }
        let directory = URL(fileURLWithPath: arguments[1])
        let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".eml") }.sorted()
        let messages = try names.map { Array(try Data(contentsOf: directory.appendingPathComponent($0))) }
        let bytes = messages.reduce(0) { $0 + $1.count }
        var decoded = 0
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            decoded = 0
            for message in messages {
                let parsed = MIMEParser.parse(message)
                for part in parsed.leaves { decoded += parsed.decodedBody(of: part).bytes.count }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let report: [String: Any] = [
            "messages": messages.count, "bytes": bytes, "decoded_bytes": decoded, "seconds": best,
            "mb_per_second": Double(bytes) / 1e6 / best, "messages_per_second": Double(messages.count) / best,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}
