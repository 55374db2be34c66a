/// Ready-made policy settings for the provinces whose regulations ThuGate ships
/// (`[policy] profile`); keys set explicitly in `[policy]` override them.
public enum PolicyProfile: String, Sendable, CaseIterable {
    /// QĐ 40/2022/QĐ-UBND Quảng Ninh, Đ8 k1: attachments at most 20 MB per message.
    case quangNinh = "quang-ninh"
    /// QĐ 03/2013/QĐ-UBND Quận 4, Đ4 k2: attachments at most 15 MB per message.
    case quan4 = "quan-4"

    public var maxAttachmentsSize: Int {
        switch self {
        case .quangNinh: return 20 * 1_000_000
        case .quan4: return 15 * 1_000_000
        }
    }
}
