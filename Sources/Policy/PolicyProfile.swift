/// The provinces whose regulations ThuGate ships ready-made settings for (`[policy] profile`).
/// What a profile sets is declared by each rule's parameters (``RuleParameter/profiles``); keys
/// set explicitly in `[policy]` override it.
public enum PolicyProfile: String, Sendable, CaseIterable {
    /// QĐ 40/2022/QĐ-UBND Quảng Ninh.
    case quangNinh = "quang-ninh"
    /// QĐ 03/2013/QĐ-UBND Quận 4.
    case quan4 = "quan-4"
}
