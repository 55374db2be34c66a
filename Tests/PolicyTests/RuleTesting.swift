import MIMECore

@testable import Policy

/// Hand-built rule inputs: a parsed message (RFC 5322 text, CRLF line ends) and a content report.
enum RuleFixture {
    static func message(_ lines: [String]) -> ParsedMessage {
        MIMEParser.parse(Array(lines.joined(separator: "\r\n").utf8))
    }

    static let plain = message(["Subject: công văn", "", "Nội dung.", ""])

    static func input(_ message: ParsedMessage = plain, content: ContentReport? = nil) -> RuleInput {
        RuleInput(envelope: nil, message: message, content: content)
    }

    static func input(content: ContentReport) -> RuleInput { input(plain, content: content) }
}
