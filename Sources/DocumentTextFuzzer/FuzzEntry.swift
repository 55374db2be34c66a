// The fuzzing entry for the RTF text reader. Scripts/fuzz builds this target with
// `-sanitize=fuzzer,address -DFUZZING`; built normally it replays files through the same code
// (FuzzSupport's `FuzzMain`).
import DocumentText
import FuzzSupport
import SecrecyMarks

enum DocumentTextFuzzTarget: String, FuzzTarget {
    case rtf

    /// Reads the input with the default limits and with tight ones (so the limit paths run too),
    /// and hands the units to the matcher. Properties: never more units or text than the limits
    /// allow (a cap reached is said), a second read is the same, a complete read has balanced groups.
    func run(_ input: UnsafeRawBufferPointer) {
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
}
