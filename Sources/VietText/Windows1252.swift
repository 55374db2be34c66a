/// Windows-1252 byte by byte: how legacy Vietnamese bytes (TCVN3, VNI) reach text when a program
/// read them as Western text, and back. The one table is VietText's (``CodePages``).
public enum Windows1252 {
    /// The character byte `byte` stands for (0x81, 0x8D, 0x8F, 0x90 and 0x9D, unassigned, stay
    /// themselves, as Windows reads them).
    public static func scalar(_ byte: UInt8) -> Unicode.Scalar {
        Unicode.Scalar(ByteTable.cp1252.scalars[Int(byte)]) ?? Unicode.Scalar(byte)
    }

    /// The byte that stands for `scalar`; nil when none does.
    public static func byte(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value < 0x80 ? UInt8(scalar.value) : ByteTable.cp1252.reverse[scalar.value]
    }
}
