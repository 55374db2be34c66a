import Testing
import VietText

/// Windows-1252 byte by byte, as the matcher and the RTF reader use it.
@Suite struct Windows1252Tests {
    @Test func everyByteRoundTripsAndTheHighRangeIsWindows() {
        for byte in UInt8.min...UInt8.max {
            #expect(Windows1252.byte(Windows1252.scalar(byte)) == byte, "\(byte)")
        }
        #expect(Windows1252.scalar(0x80) == "€" && Windows1252.scalar(0x93) == "\u{201C}" && Windows1252.scalar(0xE9) == "é")
        #expect(Windows1252.byte("\u{0103}") == nil)  // ă is not in Windows-1252
    }
}
