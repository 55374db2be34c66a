/// The report as one JSON object (RFC 8259), indented, with stable field names in a fixed order:
///
/// ```
/// {"period": {"label", "kind", "first", "last", "days", "utc_offset"}, "generated", "by",
///  "totals": {counts}, "directions": [{"direction", counts}], "breakdown": [{"key", "name", counts}],
///  "conversions": {counts}, "top_refused_senders": [{"sender", "messages"}],
///  "decisions": {"recipients", "released", "deleted", "failed", "pending",
///                "median_seconds_to_decision", "median_seconds_to_release", "median_seconds_to_delete"}}
/// ```
///
/// where counts are `"handled", "delivered", "refused", "tempfailed", "held", "bytes"`. `breakdown`
/// is the main table `by` names (day, agency or rule); `name` is null but for a configured agency;
/// the agency key `""` is the mail of no configured agency;
/// a median with no decision is null.
public enum JSONRenderer {
    /// `text` as a JSON string (RFC 8259), for other writers of small JSON bodies (`/readyz`).
    public static func quoted(_ text: String) -> String {
        var out = ""
        JSON.quote(text, into: &out)
        return out
    }

    public static func render(_ report: UsageReport) -> String {
        let p = report.period
        let d = report.decisions
        let value: JSON = .object([
            (
                "period",
                .object([
                    ("label", .string(p.label)), ("kind", .string(p.kind.rawValue)), ("first", .string(p.first.description)),
                    ("last", .string(p.last.description)), ("days", .int(Int64(p.dayCount))), ("utc_offset", .string("+07:00")),
                ])
            ),
            ("generated", .string(ReportText.rfc3339(report.generatedAt))),
            ("by", .string(report.by.rawValue)),
            ("totals", .object(counts(report.totals))),
            ("directions", .array(report.directions.map { .object([("direction", .string($0.key))] + counts($0.counts)) })),
            (
                "breakdown",
                .array(
                    report.breakdown.map {
                        .object([("key", .string($0.key)), ("name", $0.name.map(JSON.string) ?? .null)] + counts($0.counts))
                    }
                )
            ),
            ("conversions", .object(counts(report.conversions))),
            (
                "top_refused_senders",
                .array(report.topRefusedSenders.map { .object([("sender", .string($0.sender)), ("messages", .int(Int64($0.messages)))]) })
            ),
            (
                "decisions",
                .object([
                    ("recipients", .int(Int64(d.recipients))), ("released", .int(Int64(d.released))), ("deleted", .int(Int64(d.deleted))),
                    ("failed", .int(Int64(d.failed))), ("pending", .int(Int64(d.pending))),
                    ("median_seconds_to_decision", seconds(d.medianToDecision)),
                    ("median_seconds_to_release", seconds(d.medianToRelease)),
                    ("median_seconds_to_delete", seconds(d.medianToDelete)),
                ])
            ),
        ])
        var out = ""
        value.write(to: &out, indent: 0)
        return out + "\n"
    }

    static func counts(_ c: OutcomeCounts) -> [(String, JSON)] {
        [
            ("handled", .int(Int64(c.handled))), ("delivered", .int(Int64(c.delivered))), ("refused", .int(Int64(c.refused))),
            ("tempfailed", .int(Int64(c.tempfailed))), ("held", .int(Int64(c.held))), ("bytes", .int(c.bytes)),
        ]
    }

    static func seconds(_ milliseconds: Int64?) -> JSON { milliseconds.map { .int(($0 + 500) / 1000) } ?? .null }
}

/// A JSON value whose objects keep their fields in the order given (so the output is stable).
indirect enum JSON {
    case string(String)
    case int(Int64)
    case null
    case array([JSON])
    case object([(String, JSON)])

    func write(to out: inout String, indent: Int) {
        let inner = String(repeating: "  ", count: indent + 1)
        switch self {
        case .string(let text): Self.quote(text, into: &out)
        case .int(let n): out += String(n)
        case .null: out += "null"
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += inner
                item.write(to: &out, indent: indent + 1)
                out += index == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "]"
        case .object(let fields):
            guard !fields.isEmpty else {
                out += "{}"
                return
            }
            out += "{\n"
            for (index, (key, value)) in fields.enumerated() {
                out += inner
                Self.quote(key, into: &out)
                out += ": "
                value.write(to: &out, indent: indent + 1)
                out += index == fields.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "}"
        }
    }

    /// RFC 8259 string: quote, backslash and control characters escaped (U+2028/2029 too, for
    /// JavaScript readers).
    static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let v = scalar.value
                if v < 0x20 || (0x7F..<0xA0).contains(v) || v == 0x2028 || v == 0x2029 {
                    let hex = String(v, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
