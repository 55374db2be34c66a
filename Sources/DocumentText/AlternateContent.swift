/// `mc:AlternateContent` (ECMA-376 Part 3, Markup Compatibility, 10.2): a reader takes one of its
/// branches. The first (`mc:Choice`, DrawingML) is read and the others skipped: they hold the same
/// content for older readers, and a text box's VML fallback would otherwise be read twice.
struct AlternateContent {
    /// One per open `mc:AlternateContent`: whether a branch of it was taken.
    private var taken: [Bool] = []

    /// Called for every element that starts outside a skipped subtree: true when it is a branch to
    /// skip, with everything inside it.
    mutating func skips(_ name: String) -> Bool {
        switch name {
        case "mc:AlternateContent": taken.append(false)
        case "mc:Choice", "mc:Fallback":
            if taken.last == true { return true }
            if !taken.isEmpty { taken[taken.count - 1] = true }
        default: break
        }
        return false
    }

    /// Called for every element that ends outside a skipped subtree.
    mutating func ends(_ name: String) {
        if name == "mc:AlternateContent" { _ = taken.popLast() }
    }
}
