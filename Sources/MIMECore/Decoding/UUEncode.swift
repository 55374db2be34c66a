/// A file uuencoded inside a text body (`begin 644 name` ... `end`), which older mail clients
/// and scripts still send in place of a MIME attachment. Rules treat it as an attachment.
public struct UUEncodedFile: Sendable, Equatable {
    public var name: String
    public var mode: String
    public var content: [UInt8]
    /// False when a line did not decode as written (its bytes were still taken).
    public var clean: Bool
}

public enum UUDecoder {
    /// The `begin` lines' names in `text`, found without decoding (for the parser).
    static func names(in text: UnsafeRawBufferPointer) -> [String] {
        files(in: text, decode: false).map(\.name)
    }

    /// Every uuencoded file in `text`.
    public static func files(in text: UnsafeRawBufferPointer) -> [UUEncodedFile] {
        files(in: text, decode: true)
    }

    private static func files(in text: UnsafeRawBufferPointer, decode: Bool) -> [UUEncodedFile] {
        var result: [UUEncodedFile] = []
        var index = 0
        let n = text.count
        var current: UUEncodedFile? = nil
        while index < n {
            let lineEnd = MIMEBytes.lineEnd(text, from: index, to: n)
            let contentEnd = MIMEBytes.contentEnd(text, lineStart: index, lineEnd: lineEnd)
            let line = UnsafeRawBufferPointer(rebasing: text[index..<contentEnd])
            index = lineEnd
            if var file = current {
                if line.elementsEqual("end".utf8) {
                    result.append(file)
                    current = nil
                } else if decode {
                    file.clean = decodeLine(line, into: &file.content) && file.clean
                    current = file
                }
                continue
            }
            // `begin MODE NAME`, MODE three or four octal digits.
            guard line.count > 10, line.starts(with: "begin ".utf8) else { continue }
            let rest = Array(line.dropFirst(6))
            guard let space = rest.firstIndex(of: 0x20), (3...4).contains(space),
                rest[..<space].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") })
            else { continue }
            let name = lenientText(rest[(space + 1)...])
            guard !name.isEmpty else { continue }
            current = UUEncodedFile(name: name, mode: String(decoding: rest[..<space], as: UTF8.self), content: [], clean: true)
        }
        // A `begin` without `end`: still a file (truncated), and not clean.
        if var file = current {
            file.clean = false
            result.append(file)
        }
        return result
    }

    /// One uuencoded line: a length character, then groups of four characters for three bytes.
    private static func decodeLine(_ line: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        guard let first = line.first else { return true }
        let length = Int((first &- 32) & 63)
        if length == 0 { return true }
        var produced = 0
        var i = 1
        var clean = true
        while produced < length {
            var quad: UInt32 = 0
            for k in 0..<4 {
                let c: UInt8 = i + k < line.count ? line[i + k] : UInt8(ascii: "`")
                if c < 32 || c > 96 { clean = false }
                quad = quad << 6 | UInt32((c &- 32) & 63)
            }
            for shift in [16, 8, 0] where produced < length {
                out.append(UInt8(truncatingIfNeeded: quad >> UInt32(shift)))
                produced += 1
            }
            i += 4
        }
        return clean && i - 4 < line.count
    }
}

extension ParsedMessage {
    /// The uuencoded files in a text part's decoded body.
    public func uuencodedFiles(in part: MIMEPart) -> [UUEncodedFile] {
        guard !part.uuencodedNames.isEmpty else { return [] }
        return decodedBody(of: part).bytes.withUnsafeBytes { UUDecoder.files(in: $0) }
    }

    /// The mailboxes in an address header of a part (From, To, Cc, ...), all fields of that name.
    public func addresses(_ name: String, of part: MIMEPart) -> [EmailAddress] {
        bytes.withUnsafeBytes { raw in
            part.header.fields(named: name).flatMap { AddressList.parse(lenientText($0.unfoldedValue(in: raw))) }
        }
    }
}
