/// The encodings Vietnamese text arrives in. TCVN 6909:2001 (Unicode, precomposed: NFC) is the
/// target; everything else is converted to it.
///
/// - SeeAlso: TCVN 5712:1993 (VN1, VN2, VN3), RFC 1456 (VISCII, VIQR), Microsoft code page 1258.
public enum VietEncoding: String, CaseIterable, Sendable {
    /// UTF-8 (possibly decomposed): converted to its NFC.
    case unicode = "utf-8"
    /// TCVN 5712:1993 VN3, the lowercase ".Vn" fonts (.VnTime, ABC). Has no toned capitals.
    case tcvn3 = "tcvn3"
    /// TCVN3 uppercase fonts (.VnTimeH): the lowercase code positions show capitals.
    case tcvn3Upper = "tcvn3-upper"
    /// TCVN 5712:1993 VN1 (glibc's TCVN5712-1): VN3's letters plus toned capitals in C0 and
    /// 0x80–0x9F and combining tone marks. Also reads VN2, its subset without the C0 capitals.
    case vn1 = "tcvn5712-1"
    /// VNI-Windows: base letter followed by a mark byte.
    case vni = "vni"
    /// VISCII 1.1 (RFC 1456).
    case viscii = "viscii"
    /// VPS (Vietnamese Professionals Society).
    case vps = "vps"
    /// Windows-1258: base letters plus combining tone marks.
    case cp1258 = "cp1258"
    /// VIQR (RFC 1456): ASCII with marks, `Vie^.t Nam`.
    case viqr = "viqr"
    /// Decomposed Unicode (Unicode tổ hợp), UTF-8 bytes.
    case nfd = "nfd"

    public var displayName: String {
        switch self {
        case .unicode: "UTF-8"
        case .tcvn3: "TCVN3"
        case .tcvn3Upper: "TCVN3 (uppercase font)"
        case .vn1: "TCVN 5712 VN1"
        case .vni: "VNI-Windows"
        case .viscii: "VISCII"
        case .vps: "VPS"
        case .cp1258: "Windows-1258"
        case .viqr: "VIQR"
        case .nfd: "Unicode NFD"
        }
    }
}
