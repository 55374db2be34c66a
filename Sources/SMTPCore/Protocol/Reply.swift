public import NIOCore

/// An RFC 3463 enhanced status code, e.g. `5.3.4`.
///
/// - SeeAlso: RFC 2034, RFC 3463.
public struct EnhancedStatus: Hashable, Sendable, CustomStringConvertible {
    public var klass: Int
    public var subject: Int
    public var detail: Int

    public init(_ klass: Int, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    /// Parses `x.y.z` at the start of `text`; returns the status and the text after it.
    public static func parse(prefixOf text: String) -> (EnhancedStatus, String)? {
        var fields = [0, 0, 0]
        var field = 0
        var digits = 0
        var index = text.utf8.startIndex
        let end = text.utf8.endIndex
        while index < end {
            let byte = text.utf8[index]
            if byte == UInt8(ascii: " ") { break }
            if byte == UInt8(ascii: ".") {
                guard digits > 0, field < 2 else { return nil }
                field += 1
                digits = 0
            } else {
                let digit = byte &- UInt8(ascii: "0")
                guard digit <= 9, digits < 3 else { return nil }
                fields[field] = fields[field] * 10 + Int(digit)
                digits += 1
            }
            index = text.utf8.index(after: index)
        }
        guard field == 2, digits > 0, [2, 4, 5].contains(fields[0]) else { return nil }
        while index < end && text.utf8[index] == UInt8(ascii: " ") { index = text.utf8.index(after: index) }
        return (EnhancedStatus(fields[0], fields[1], fields[2]), String(text[index...]))
    }

    public var description: String { "\(klass).\(subject).\(detail)" }
}

/// One SMTP reply: a code, an enhanced status and text lines.
///
/// ThuGate's own replies carry Vietnamese and English text ("vi / en"); replies relayed from
/// the upstream server keep the upstream's text.
/// - SeeAlso: RFC 5321 4.2.
public struct Reply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var status: EnhancedStatus?
    public var lines: [String]

    public init(code: Int, status: EnhancedStatus?, lines: [String]) {
        self.code = code
        self.status = status
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// A reply of ThuGate's own, with the same meaning in Vietnamese and English.
    public init(_ code: Int, _ status: EnhancedStatus, vi: String, en: String) {
        self.init(code: code, status: status, lines: ["\(vi) / \(en)"])
    }

    public static func custom(_ code: Int, _ status: EnhancedStatus, _ text: String) -> Reply {
        Reply(code: code, status: status, lines: [text])
    }

    public var isPositive: Bool { (200..<400).contains(code) }
    public var isTransientFailure: Bool { (400..<500).contains(code) }

    /// The reply as sent on the wire: every line carries the code and, when present, the
    /// enhanced status (RFC 2034 3), lines end in CRLF.
    public func write(into buffer: inout ByteBuffer) {
        for (index, line) in lines.enumerated() {
            buffer.writeString(String(code))
            buffer.writeInteger(index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let status {
                buffer.writeString(status.description)
                if !line.isEmpty { buffer.writeInteger(UInt8(ascii: " ")) }
            }
            // A reply line never carries CR or LF of its own: that would forge extra replies.
            for byte in line.utf8 where byte != 13 && byte != 10 { buffer.writeInteger(byte) }
            buffer.writeStaticString("\r\n")
        }
    }

    public var wireText: String {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        write(into: &buffer)
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }

    /// The reply in one line for logs: `250 2.0.0 text`.
    public var description: String {
        var text = ""
        appendDescription(to: &text)
        return text
    }

    /// Appends ``description`` to `text` (a log line), building no string of its own.
    public func appendDescription(to text: inout String) {
        text += String(code)
        if let status {
            text += " "
            text += String(status.klass)
            text += "."
            text += String(status.subject)
            text += "."
            text += String(status.detail)
        }
        text += " "
        for (index, line) in lines.enumerated() {
            if index > 0 { text += " " }
            text += line
        }
    }
}

extension Reply {
    public static let ok = Reply(250, EnhancedStatus(2, 0, 0), vi: "Đồng ý", en: "OK")
    public static let senderOK = Reply(250, EnhancedStatus(2, 1, 0), vi: "Người gửi hợp lệ", en: "Sender OK")
    public static let recipientOK = Reply(250, EnhancedStatus(2, 1, 5), vi: "Người nhận hợp lệ", en: "Recipient OK")
    public static let resetOK = Reply(250, EnhancedStatus(2, 0, 0), vi: "Đã đặt lại", en: "Reset OK")
    public static let startData = Reply(
        code: 354,
        status: nil,
        lines: ["Gửi nội dung, kết thúc bằng <CRLF>.<CRLF> / End data with <CR><LF>.<CR><LF>"]
    )
    public static let readyToStartTLS = Reply(220, EnhancedStatus(2, 0, 0), vi: "Sẵn sàng bắt đầu TLS", en: "Ready to start TLS")
    public static let closing = Reply(221, EnhancedStatus(2, 0, 0), vi: "Tạm biệt", en: "Bye")
    public static let cannotVerify = Reply(
        252,
        EnhancedStatus(2, 0, 0),
        vi: "Không kiểm tra địa chỉ, hãy thử gửi",
        en: "Cannot VRFY user, but will accept message and attempt delivery"
    )
    public static let expandNotSupported = Reply(502, EnhancedStatus(5, 5, 1), vi: "Không hỗ trợ EXPN", en: "EXPN not supported")
    public static let help = Reply(
        214,
        EnhancedStatus(2, 0, 0),
        vi: "Lệnh: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY STARTTLS",
        en: "See RFC 5321"
    )

    public static let syntaxError = Reply(500, EnhancedStatus(5, 5, 2), vi: "Lỗi cú pháp", en: "Syntax error")
    public static let unknownCommand = Reply(500, EnhancedStatus(5, 5, 1), vi: "Lệnh không được hỗ trợ", en: "Command unrecognized")
    public static let lineTooLong = Reply(500, EnhancedStatus(5, 5, 2), vi: "Dòng lệnh quá dài", en: "Line too long")
    public static let bareLineEnding = Reply(
        550,
        EnhancedStatus(5, 5, 2),
        vi: "Dòng kết thúc bằng LF hoặc CR đơn lẻ bị từ chối (RFC 5321 2.3.8)",
        en: "Bare <LF> or <CR> received, use <CR><LF>"
    )
    public static let parameterSyntax = Reply(
        501,
        EnhancedStatus(5, 5, 4),
        vi: "Tham số không hợp lệ",
        en: "Syntax error in parameters or arguments"
    )
    public static let unknownParameter = Reply(
        555,
        EnhancedStatus(5, 5, 4),
        vi: "Tham số MAIL/RCPT không được hỗ trợ",
        en: "MAIL FROM/RCPT TO parameter not recognized or not implemented"
    )
    public static let needHelo = Reply(503, EnhancedStatus(5, 5, 1), vi: "Hãy gửi EHLO/HELO trước", en: "Send EHLO/HELO first")
    public static let needMail = Reply(503, EnhancedStatus(5, 5, 1), vi: "Hãy gửi MAIL trước", en: "Need MAIL command")
    public static let nestedMail = Reply(503, EnhancedStatus(5, 5, 1), vi: "Đã có lệnh MAIL", en: "Sender already specified")
    public static let needRecipient = Reply(503, EnhancedStatus(5, 5, 1), vi: "Chưa có người nhận hợp lệ", en: "Need RCPT command")
    public static let noValidRecipients = Reply(554, EnhancedStatus(5, 5, 1), vi: "Không có người nhận hợp lệ", en: "No valid recipients")
    public static let tooManyRecipients = Reply(452, EnhancedStatus(4, 5, 3), vi: "Quá nhiều người nhận", en: "Too many recipients")
    public static let messageTooBig = Reply(
        552,
        EnhancedStatus(5, 3, 4),
        vi: "Thư vượt quá kích thước cho phép",
        en: "Message size exceeds fixed maximum message size"
    )
    public static let dataLineTooLong = Reply(
        550,
        EnhancedStatus(5, 6, 0),
        vi: "Thư có dòng dài quá giới hạn cho phép",
        en: "Message line too long"
    )
    public static let smtpUTF8Required = Reply(
        553,
        EnhancedStatus(5, 6, 7),
        vi: "Địa chỉ không phải ASCII cần SMTPUTF8",
        en: "Non-ASCII address requires SMTPUTF8"
    )
    public static let tlsNotAvailable = Reply(502, EnhancedStatus(5, 5, 1), vi: "Không hỗ trợ STARTTLS", en: "STARTTLS not available")
    public static let tlsAlreadyActive = Reply(503, EnhancedStatus(5, 5, 1), vi: "TLS đã được bật", en: "TLS already active")
    public static let tooManyErrors = Reply(
        421,
        EnhancedStatus(4, 7, 0),
        vi: "Quá nhiều lỗi, đóng kết nối",
        en: "Too many errors, closing connection"
    )
    public static let tooManyConnections = Reply(
        421,
        EnhancedStatus(4, 7, 0),
        vi: "Quá nhiều kết nối, hãy thử lại sau",
        en: "Too many connections, try again later"
    )
    public static let commandTimeout = Reply(
        421,
        EnhancedStatus(4, 4, 2),
        vi: "Hết thời gian chờ, đóng kết nối",
        en: "Timeout exceeded, closing connection"
    )
    public static let shuttingDown = Reply(
        421,
        EnhancedStatus(4, 3, 2),
        vi: "Hệ thống đang dừng, hãy thử lại sau",
        en: "Service shutting down, try again later"
    )
    public static let upstreamUnavailable = Reply(
        451,
        EnhancedStatus(4, 4, 1),
        vi: "Máy chủ thư chính tạm thời không phản hồi, hãy thử lại sau",
        en: "Upstream server unavailable, try again later"
    )
    public static let localError = Reply(
        451,
        EnhancedStatus(4, 3, 0),
        vi: "Lỗi cục bộ, hãy thử lại sau",
        en: "Local error in processing, try again later"
    )
    public static let badSequence = Reply(503, EnhancedStatus(5, 5, 1), vi: "Sai thứ tự lệnh", en: "Bad sequence of commands")
}
