public import NIOCore

/// Who the client of a transaction is, as a proxy passes it on to the next MTA.
public struct ClientOrigin: Sendable, Equatable {
    /// The IP address, as text (IPv6 without brackets); the PROXY header's client behind a load balancer.
    public var address: String
    public var port: Int?
    /// The client's verified reverse name; nil when unknown (ThuGate does no DNS lookups).
    public var name: String?
    public init(address: String, port: Int?, name: String? = nil) {
        self.address = address
        self.port = port
        self.name = name
    }
}

/// Postfix's XFORWARD extension: before MAIL, a content filter tells the MTA behind it the
/// client's name, address, port, HELO name and protocol, so that MTA logs (and judges) the real
/// client instead of the filter. Only attributes the server named after `XFORWARD` in its EHLO
/// reply are sent; values are xtext; a command line stays within 512 bytes.
///
/// - SeeAlso: https://www.postfix.org/XFORWARD_README.html, RFC 3461 4 (xtext).
public enum XForward {
    public struct Attribute: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The value of an attribute that is not known.
    public static let unavailable = "[UNAVAILABLE]"
    /// Longest command line, CRLF included (Postfix's smtpd reads at most `line_length_limit`,
    /// but XFORWARD_README asks clients to stay within the 512 of RFC 5321 4.5.3.1.4).
    public static let maxLineLength = 512
    /// A HELO or client name is cut to this many bytes once xtext-encoded (a DNS name has at most
    /// 255), so two of them and the rest still fit in two lines.
    static let maxValueBytes = 255

    /// The XFORWARD commands that carry `origin` and the envelope's HELO name and protocol,
    /// restricted to the `offered` attributes; none when nothing offered is known.
    public static func commands(origin: ClientOrigin, envelope: Envelope, offered: Set<String>) -> [SMTPCommand] {
        let address: String
        if origin.address.isEmpty || origin.address == "unknown" {
            address = unavailable
        } else {
            address = origin.address.contains(":") ? "IPV6:" + origin.address : origin.address
        }
        let helo = truncated(envelope.heloName)
        let all = [
            Attribute("NAME", origin.name.map(truncated) ?? unavailable),
            Attribute("ADDR", address),
            Attribute("PORT", origin.port.map(String.init) ?? unavailable),
            Attribute("PROTO", envelope.esmtp ? "ESMTP" : "SMTP"),
            Attribute("HELO", helo.isEmpty ? unavailable : helo),
            Attribute("SOURCE", "REMOTE"),
        ]
        var commands: [SMTPCommand] = []
        var line: [Attribute] = []
        var length = "XFORWARD\r\n".utf8.count
        for attribute in all where offered.contains(attribute.name) {
            let size = 1 + attribute.name.utf8.count + 1 + xtextLength(attribute.value)
            if !line.isEmpty && length + size > maxLineLength {
                commands.append(.xforward(line))
                line = []
                length = "XFORWARD\r\n".utf8.count
            }
            line.append(attribute)
            length += size
        }
        if !line.isEmpty { commands.append(.xforward(line)) }
        return commands
    }

    /// RFC 3461 xtext: `+` and `=`, controls, space and bytes above 126 as `+HH`.
    public static func writeXText(_ value: String, into buffer: inout ByteBuffer) {
        for byte in value.utf8 {
            if needsEncoding(byte) {
                buffer.writeInteger(UInt8(ascii: "+"))
                buffer.writeInteger(hexDigits[Int(byte >> 4)])
                buffer.writeInteger(hexDigits[Int(byte & 0x0F)])
            } else {
                buffer.writeInteger(byte)
            }
        }
    }

    static func xtextLength(_ value: String) -> Int {
        value.utf8.reduce(0) { $0 + (needsEncoding($1) ? 3 : 1) }
    }

    @inline(__always)
    private static func needsEncoding(_ byte: UInt8) -> Bool {
        byte < 33 || byte > 126 || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "=")
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// `text` cut at a character boundary so that its xtext has at most ``maxValueBytes`` bytes.
    private static func truncated(_ text: String) -> String {
        guard xtextLength(text) > maxValueBytes else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = xtextLength(String(character))
            guard used + size <= maxValueBytes else { break }
            result.append(character)
            used += size
        }
        return result
    }
}
