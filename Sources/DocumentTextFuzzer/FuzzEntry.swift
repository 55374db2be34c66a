// The fuzzing entry for the RTF text reader. Scripts/fuzz builds this target with
// `-sanitize=fuzzer,address -DFUZZING`; built normally it replays files through the same code
// (FuzzSupport's `FuzzMain`).
import DocumentText
import FuzzSupport
import SecrecyMarks

enum DocumentTextFuzzTarget: String, FuzzTarget {
    case rtf
    /// The PDF helper's framed responses as the gateway reads them (DocumentText/PDFTextFrames.swift).
    case pdfframes

    /// Reads the input with the default limits and with tight ones (so the limit paths run too),
    /// and hands the units to the matcher. Properties: never more units or text than the limits
    /// allow (a cap reached is said), a second read is the same, a complete read has balanced groups.
    func run(_ input: UnsafeRawBufferPointer) {
        if self == .pdfframes { return Self.frames(input) }
        // The RTF signature in front unless it is there, so the fuzzer spends its time in the tokenizer.
        let bytes = input.starts(with: "{\\rtf".utf8) ? Array(input) : Array("{\\rtf1 ".utf8) + input
        var tight = RTFLimits()
        tight.maxDepth = 8
        tight.maxTextBytes = 256
        tight.maxUnits = 16
        tight.maxInputBytes = 4_096
        for limits in [RTFLimits(), tight] {
            let result = RTFText.units(bytes, limits: limits)
            precondition(result.units.count <= limits.maxUnits, "more units than the limit")
            let text = result.units.reduce(0) { $0 + $1.text.utf8.count }
            precondition(text <= limits.maxTextBytes, "more text than the limit")
            precondition(RTFText.units(bytes, limits: limits) == result, "a second read differs")
            if result.isComplete {
                precondition(bytes.count <= limits.maxInputBytes, "a cut input read as complete")
            }
            _ = SecrecyMatcher.match(result.units)
        }
    }

    /// The input as a stream from a helper, cut into reads by its first byte. Properties: no payload above the
    /// cap is returned; whatever decodes as a response encodes to bytes that decode to the same encoding.
    static func frames(_ input: UnsafeRawBufferPointer) {
        guard let first = input.first else { return }
        let chunk = Int(first % 64) + 1
        let stream = Array(input.dropFirst())
        var reader = PDFFrameReader(maxPayload: 1 << 16)
        var offset = 0
        while offset < stream.count {
            reader.append(stream[offset..<min(stream.count, offset + chunk)])
            offset += chunk
            do {
                while let payload = try reader.next() {
                    precondition(payload.count <= 1 << 16, "a payload above the cap")
                    _ = try? PDFTextRequest(decoding: payload)
                    guard let response = try? PDFTextResponse(decoding: payload) else { continue }
                    let once = response.encoded()
                    guard let again = try? PDFTextResponse(decoding: once) else { preconditionFailure("an encoded response does not decode") }
                    precondition(again.encoded() == once, "a response does not survive a second round")
                    _ = SecrecyMatcher.match(response.text.units)
                }
            } catch {
                return
            }
        }
    }
}
