// The fuzzing entry for the MIME parser. Scripts/fuzz builds this target with
// `-sanitize=fuzzer,address -DFUZZING`; built normally it replays files through the same code
// (FuzzSupport's `FuzzMain`).
import FuzzSupport
import MIMECore

enum MIMEFuzzTarget: String, FuzzTarget {
    case mime

    func run(_ input: UnsafeRawBufferPointer) {
        parseForFuzzing(Array(input))
    }
}

/// Parses one input and touches everything a rule would: decoded bodies, header values, names.
func parseForFuzzing(_ input: [UInt8]) {
    let size = input.count
    var limits = MIMELimits()
    limits.maxParts = 2_000
    let message = MIMEParser.parse(input, limits: limits)
    for part in message.parts {
        precondition(part.range.lowerBound <= part.bodyRange.lowerBound && part.bodyRange.upperBound <= size)
        _ = message.decodedBody(of: part)
        _ = message.headerValue("Subject", of: part)
        _ = message.addresses("From", of: part)
        _ = message.addresses("To", of: part)
        _ = message.uuencodedFiles(in: part)
        _ = part.filename
        _ = message.lenientBase64Body(of: part)
        _ = message.lastFieldReading(of: part)
        for segment in part.segments { precondition(part.bodyRange.contains(segment.range.lowerBound) || segment.range.isEmpty) }
    }
    _ = SignedData.content(of: input)
    // Property: every byte is in a header section, a leaf body or a segment (nothing hidden
    // from the scanner).
    precondition(message.uncoveredRanges().isEmpty)
    // Properties: no edit gives the input back; an added header changes nothing else.
    var editor = MessageEditor(message)
    precondition(editor.serialized() == input)
    try? editor.addHeader("X-ThuGate-Test", "value")
    precondition(editor.serialized().count > input.count)
}
