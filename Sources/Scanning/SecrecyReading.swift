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
    /// Whether documents are read at all: off when every rule that reads them is off.
    public var enabled = true

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

    /// At least this much of every document's text is read, whatever the message's documents
    /// read before it took: page 1 and the first lines, where stamps stand, are never starved by
    /// filler in an earlier attachment.
    static let headBytes = 256 << 10

    /// Why nothing more may be read (the wall budget is spent), or nil.
    var exhausted: String? {
        if ContinuousClock.now - started > limits.budget { return "time-budget: over \(limits.budget) reading this message's documents" }
        return nil
    }

    /// The bounds for the next document: what is left of the message's text allowance, and never
    /// less than its head.
    var documentLimits: ExtractionLimits {
        var limits = limits.document
        limits.maxTextBytes = min(limits.maxTextBytes, max(Self.headBytes, self.limits.maxTextBytes - textBytes))
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
        charset: String? = nil,
        budget: SecrecyBudget
    ) -> ContentReport.SecrecyDocument? {
        ContentStageTimes.time(\.textExtraction) {
            readDocument(bytes, mimeType: mimeType, part: part, name: name, charset: charset, budget: budget)
        }
    }

    private func readDocument(
        _ bytes: UnsafeRawBufferPointer,
        mimeType: String?,
        part: String,
        name: String,
        charset: String?,
        budget: SecrecyBudget
    ) -> ContentReport.SecrecyDocument? {
        // libmagic's type, and a zip's entries when it calls an OOXML or ODF package a zip.
        guard budget.limits.enabled, let format = DocumentFormat.of(mimeType: mimeType, bytes: bytes) else { return nil }
        if let exhausted = budget.exhausted {
            return .init(part: part, name: name, format: format.rawValue, report: SecrecyMatcher.match([]), problems: [exhausted])
        }
        let limits = budget.documentLimits
        let text: ExtractedText
        switch format {
        case .rtf:
            text = RTFText.extracted(bytes, limits: limits)
        case .pdf:
            var read = pdf?.read(bytes, limits: limits) ?? ExtractedText(problems: ["pdf-reader: no PDF reader is configured"])
            // A scanned page is a picture: its stamp is not read (unless OCR is on), as in an image
            // attachment; said in the README, not held as "not fully checked".
            read.problems.removeAll { $0.hasPrefix("pdf-no-text") }
            text = read
        case .docx, .xlsx, .pptx:
            text = OOXMLText.units(bytes, format: format, limits: limits)
        case .odt, .ods, .odp:
            text = ODFText.units(bytes, format: format, limits: limits)
        case .doc, .xls:
            text = OLE2Text.units(bytes, limits: limits)
        case .ole2:
            // A compound file of another application (an .msi, a .ppt, an Outlook .msg) holds no
            // text this reads: not a document here, as a picture is not.
            let read = OLE2Text.units(bytes, limits: limits)
            if read.units.isEmpty && read.problems.contains(where: { $0.hasPrefix("ole2-unknown") }) { return nil }
            text = read
        case .text:
            text = PlainText.units(TextDecoding.string(from: bytes, charset: charset), container: .documentBody, limits: limits)
        case .csv:
            text = CSVText.units(TextDecoding.string(from: bytes, charset: charset), limits: limits)
        case .html:
            let declared = charset ?? TextDecoding.htmlCharset(bytes)
            text = HTMLText.units(TextDecoding.string(from: bytes, charset: declared), container: .documentBody, limits: limits)
        default:
            // A format the extractors know by type but no reader is wired for: not fully checked.
            text = ExtractedText(problems: ["no-reader: \(format.rawValue) documents are not read"])
        }
        budget.spent(text)
        let report = ContentStageTimes.time(\.secrecyMatcher) { SecrecyMatcher.match(text.units) }
        return .init(part: part, name: name, format: format.rawValue, report: report, problems: text.problems)
    }

    /// A message's own text, one document per message (the message and each message attached
    /// inline as message/rfc822): every Subject field (a reader may show any of them), the names of
    /// its attachments, and its text bodies (text/plain and text/html parts that are no
    /// attachment), each read from the start so that "one of the first lines" holds.
    func messageTexts(of message: ParsedMessage, part: String?, name: String?, budget: SecrecyBudget) -> [ContentReport.SecrecyDocument] {
        ContentStageTimes.time(\.textExtraction) { readMessageTexts(of: message, part: part, name: name, budget: budget) }
    }

    private func readMessageTexts(
        of message: ParsedMessage,
        part: String?,
        name: String?,
        budget: SecrecyBudget
    ) -> [ContentReport.SecrecyDocument] {
        guard budget.limits.enabled, !message.parts.isEmpty else { return [] }
        // The part whose header section is each message's own: the root, and the child of every
        // message/rfc822 part.
        func owner(of index: Int) -> Int {
            var at = index
            while let parent = message.parts[at].parent {
                if message.parts[parent].isMessage { return at }
                at = parent
            }
            return 0
        }
        var owners: [Int] = [0]
        var units: [Int: [TextUnit]] = [0: []]
        var problems: [Int: [String]] = [:]
        var bodies: [(owner: Int, text: ExtractedText)] = []
        message.bytes.withUnsafeBytes { bytes in
            for (index, candidate) in message.parts.enumerated() {
                let own = index == 0 || candidate.parent.map { message.parts[$0].isMessage } == true
                if own {
                    if units[index] == nil {
                        owners.append(index)
                        units[index] = []
                    }
                    for field in candidate.header.fields(named: "Subject") {
                        let value = EncodedWords.decode(String(decoding: field.unfoldedValue(in: bytes), as: UTF8.self))
                        units[index, default: []].append(TextUnit(value, container: .subject))
                    }
                    // Labels a classification tool wrote (Microsoft Purview's `msip_labels`, Titus and
                    // others' `X-*-Classification`): evidence, never a stamp position of their own.
                    for field in candidate.header.fields where Self.isClassificationHeader(field.name) {
                        let value = EncodedWords.decode(String(decoding: field.unfoldedValue(in: bytes), as: UTF8.self))
                        units[index, default: []].append(TextUnit(value, container: .metadata))
                    }
                }
            }
        }
        for (index, candidate) in message.parts.enumerated() where candidate.children.isEmpty {
            let key = owner(of: index)
            if let filename = candidate.filename { units[key, default: []].append(TextUnit(filename, container: .attachmentName)) }
            guard ContentScanner.isTextBody(candidate) || candidate.isUnsplitMultipart else { continue }
            if let exhausted = budget.exhausted {
                problems[key, default: []].append(exhausted)
                continue
            }
            let text =
                message.decodedText(of: candidate)
                ?? TextDecoding.string(from: message.decodedBody(of: candidate).bytes, charset: candidate.charset)
            let limits = budget.documentLimits
            var read: ExtractedText
            switch candidate.mediaType {
            case "text/html":
                read = HTMLText.units(text, container: .mailBody, limits: limits)
            case "text/enriched", "text/richtext":
                // RFC 1896 formatting commands are tags as HTML's are; a line break is two newlines.
                let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n\n", with: "<br>")
                read = HTMLText.units(lines, container: .mailBody, limits: limits)
            case "text/rtf":
                read = RTFText.extracted(message.decodedBody(of: candidate).bytes, limits: limits)
                for index in read.units.indices where read.units[index].container == .documentBody {
                    read.units[index].container = .mailBody
                }
            default:
                read = PlainText.units(text, container: .mailBody, limits: limits)
            }
            budget.spent(read)
            // Each body is matched on its own: a GIẢI MẬT line in one alternative (which the
            // reader may never see) withdraws nothing of the other's stamp or the Subject's.
            bodies.append((key, read))
        }
        // Text outside the parts (a preamble, an epilogue, text after base64): most readers do not
        // show it, some do; read without a place in the body, so a level there is evidence only.
        for (index, candidate) in message.parts.enumerated() {
            for segment in message.scannedSegments(of: candidate) {
                guard budget.exhausted == nil else { break }
                let text = TextDecoding.string(from: message.bytes[segment.range], charset: nil)
                var read = PlainText.units(text, container: .mailBody, limits: budget.documentLimits)
                for unit in read.units.indices { read.units[unit].index = nil }
                budget.spent(read)
                units[owner(of: index), default: []] += read.units
            }
        }
        func document(_ key: Int, _ units: [TextUnit], _ problems: [String]) -> ContentReport.SecrecyDocument {
            let partName = key == 0 ? (part ?? "") : (part ?? message.partNumber(of: message.parts[key]))
            let documentName = key == 0 ? (name ?? "(message)") : name.map { "\($0)/(attached message)" } ?? "(attached message)"
            let report = ContentStageTimes.time(\.secrecyMatcher) { SecrecyMatcher.match(units) }
            return .init(part: partName, name: documentName, format: "mail", report: report, problems: problems)
        }
        return owners.map { document($0, units[$0] ?? [], problems[$0] ?? []) }
            + bodies.map { document($0.owner, $0.text.units, $0.text.problems) }
    }
}

extension SecrecyReader {
    /// `msip_labels` (Microsoft Purview sensitivity labels), `X-Classification`,
    /// `X-Security-Classification`, `X-Titus-Classification` and the like.
    static func isClassificationHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "msip_labels" || (lower.hasPrefix("x-") && lower.hasSuffix("classification"))
    }
}

extension RTFText {
    /// The RTF reader in the shape every other extractor answers in, under the shared bounds.
    static func extracted(_ bytes: some Collection<UInt8>, limits: ExtractionLimits) -> ExtractedText {
        var rtf = RTFLimits()
        rtf.maxInputBytes = limits.maxInputBytes
        rtf.maxTextBytes = limits.maxTextBytes
        rtf.maxUnits = limits.maxUnits
        let result = units(bytes, limits: rtf)
        return ExtractedText(units: result.units, problems: result.problems.map(\.rawValue))
    }
}
