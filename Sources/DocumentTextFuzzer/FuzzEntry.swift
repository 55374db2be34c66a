// The fuzzing entries for the RTF and OLE2 (.doc, .xls) text readers. Scripts/fuzz builds this target with
// `-sanitize=fuzzer,address -DFUZZING`; built normally it replays files through the same code
// (FuzzSupport's `FuzzMain`).
import DocumentText
import FuzzSupport
import SecrecyMarks

enum DocumentTextFuzzTarget: String, FuzzTarget {
    case rtf
    case ole2

    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .rtf: runRTF(input)
        case .ole2: runOLE2(input)
        }
    }

    /// Reads the input with the default limits and with tight ones (so the limit paths run too),
    /// and hands the units to the matcher. Properties: never more units or text than the limits
    /// allow (a cap reached is said), a second read is the same, a complete read has balanced groups.
    func runRTF(_ input: UnsafeRawBufferPointer) {
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

    /// Reads the input as a compound file with the default limits and with tight ones, and hands
    /// the units to the matcher. Properties: never more units or text than the limits allow, a
    /// second read is the same, a complete read read the whole input, and a file that is not a
    /// compound file is never complete.
    func runOLE2(_ input: UnsafeRawBufferPointer) {
        // The signature in front unless it is there, so the fuzzer spends its time past the header check.
        let bytes = OLE2Text.isCompoundFile(input) ? Array(input) : [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + input
        var tight = ExtractionLimits()
        tight.maxSectors = 8
        tight.maxTextBytes = 256
        tight.maxUnits = 16
        tight.maxInputBytes = 16_384
        for limits in [ExtractionLimits(), tight] {
            let result = OLE2Text.units(bytes, limits: limits)
            precondition(result.units.count <= limits.maxUnits, "more units than the limit")
            let text = result.units.reduce(0) { $0 + $1.text.utf8.count }
            precondition(text <= limits.maxTextBytes, "more text than the limit")
            precondition(OLE2Text.units(bytes, limits: limits) == result, "a second read differs")
            if result.isComplete {
                precondition(bytes.count <= limits.maxInputBytes, "a cut input read as complete")
            }
            _ = SecrecyMatcher.match(result.units)
        }
        precondition(!OLE2Text.units(Array(bytes.dropFirst())).isComplete, "a file without the signature read as complete")
    }
}
