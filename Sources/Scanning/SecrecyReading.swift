public import DocumentText
import Foundation
import MIMECore
public import Policy
import SecrecyMarks

/// What one message's documents may cost the secrecy reading (hostile input: a message of many
/// documents must not hold a scan thread for long).
public struct SecrecyLimits: Sendable, Equatable {
    /// Bounds for each document.
    public var document = ExtractionLimits()
    /// Wall time for reading every document of one message; the documents met after it are not
    /// read and are "not fully checked".
    public var budget: Duration = .seconds(20)
    /// UTF-8 bytes of text extracted from all documents of one message.
    public var maxTextBytes = 16 << 20

    public init() {}
}

/// The secrecy reading of one message while it is scanned: time and text spent so far. Used by
/// one scan on one thread.
final class SecrecyBudget {
    let limits: SecrecyLimits
    let started = ContinuousClock.now
    var textBytes = 0

    init(limits: SecrecyLimits) {
        self.limits = limits
    }

    /// Why nothing more may be read, or nil.
    var exhausted: String? {
        if ContinuousClock.now - started > limits.budget { return "time-budget: over \(limits.budget) reading this message's documents" }
        if textBytes >= limits.maxTextBytes { return "text-cap: over \(limits.maxTextBytes) bytes of text from this message" }
        return nil
    }

    /// The bounds for the next document: what is left of the message's text allowance.
    var documentLimits: ExtractionLimits {
        var limits = limits.document
        limits.maxTextBytes = max(1, min(limits.maxTextBytes, self.limits.maxTextBytes - textBytes))
        return limits
    }

    func spent(_ text: ExtractedText) {
        textBytes += text.units.reduce(0) { $0 + $1.text.utf8.count }
    }
}

/// Reads the text of documents and of a message's own Subject and bodies for the secrecy matcher:
/// the dispatch from a real type to its extractor.
struct SecrecyReader: Sendable {
    var pdf: (any PDFTextReading)?

    /// The document's text and what the matcher found, or nil when no extractor reads its type.
    func document(
        _ bytes: UnsafeRawBufferPointer,
        mimeType: String?,
        part: String,
        name: String,
        budget: SecrecyBudget
    ) -> ContentReport.SecrecyDocument? {
        guard let format = DocumentFormat.of(mimeType: mimeType) else { return nil }
        // Until the PDF helper pool is wired in, PDFs are not read here.
        if format == .pdf && pdf == nil { return nil }
        if let exhausted = budget.exhausted {
            return .init(part: part, name: name, format: format.rawValue, report: SecrecyMatcher.match([]), problems: [exhausted])
        }
        let limits = budget.documentLimits
        let text: ExtractedText
        switch format {
        case .rtf:
            let result = RTFText.units(bytes, limits: RTFLimits(limits))
            text = ExtractedText(units: result.units, problems: result.problems.map(\.rawValue))
        case .pdf:
            text = pdf?.read(bytes, limits: limits) ?? ExtractedText(problems: ["pdf-reader: no PDF reader is configured"])
        default:
            return nil
        }
        budget.spent(text)
        return .init(part: part, name: name, format: format.rawValue, report: SecrecyMatcher.match(text.units), problems: text.problems)
    }

    /// A message's own text: every Subject field (a reader may show any of them), the names of its
    /// attachments, and its text bodies (text/plain and text/html parts that are no attachment).
    func messageText(of message: ParsedMessage, part: String, name: String, budget: SecrecyBudget) -> ContentReport.SecrecyDocument {
        var units: [TextUnit] = []
        var problems: [String] = []
        if let root = message.parts.first {
            message.bytes.withUnsafeBytes { bytes in
                for field in root.header.fields(named: "Subject") {
                    let value = EncodedWords.decode(String(decoding: field.unfoldedValue(in: bytes), as: UTF8.self))
                    units.append(TextUnit(value, container: .subject))
                }
            }
        }
        for candidate in message.parts where candidate.children.isEmpty {
            if let filename = candidate.filename { units.append(TextUnit(filename, container: .attachmentName)) }
        }
        let text = ExtractedText(units: units, problems: problems)
        budget.spent(text)
        problems = text.problems
        return .init(part: part, name: name, format: "mail", report: SecrecyMatcher.match(units), problems: problems)
    }
}

extension RTFLimits {
    init(_ limits: ExtractionLimits) {
        self.init()
        maxInputBytes = limits.maxInputBytes
        maxTextBytes = limits.maxTextBytes
        maxUnits = limits.maxUnits
    }
}
