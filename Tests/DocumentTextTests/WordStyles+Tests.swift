import DocumentText
import Foundation
import SecrecyMarks
import Testing

/// `python-docx-header.docx` with its `word/styles.xml` replaced by `styles`, by Info-ZIP's `zip`
/// (the entry updated in place, as a user re-zipping the package would).
private func headerLetter(styles: String) throws -> [UInt8] {
    let fixture = try #require(
        Bundle.module.url(forResource: "python-docx-header.docx", withExtension: nil, subdirectory: "Fixtures/packages")
    )
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("thugate-styles-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory.appendingPathComponent("word"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let package = directory.appendingPathComponent("letter.docx")
    try FileManager.default.copyItem(at: fixture, to: package)
    try Data(styles.utf8).write(to: directory.appendingPathComponent("word/styles.xml"))
    let zip = Process()
    zip.executableURL = URL(fileURLWithPath: "/usr/bin/zip")
    zip.arguments = ["-q", "letter.docx", "word/styles.xml"]
    zip.currentDirectoryURL = directory
    try zip.run()
    zip.waitUntilExit()
    #expect(zip.terminationStatus == 0)
    return Array(try Data(contentsOf: package))
}

private let wordNamespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

/// `WordStyles` hands latent styles and table-style properties to no one (they are most of a
/// template's styles part): what comes after them is still read, and their nesting is still bounded.
@Suite struct WordStylesTests {
    /// Defaults, a default paragraph style and a `w:basedOn` chain placed after latent styles and a
    /// table style's properties and conditional formatting are all applied; the table style's
    /// first-row bold is not a paragraph's.
    @Test func stylesAfterSkippedSubtreesAreApplied() throws {
        let styles = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <w:styles xmlns:w="\(wordNamespace)">
            <w:docDefaults><w:rPrDefault><w:rPr><w:sz w:val="30"/></w:rPr></w:rPrDefault></w:docDefaults>
            <w:latentStyles w:count="2"><w:lsdException w:name="Normal" w:qFormat="1"/><w:lsdException w:name="header"/></w:latentStyles>
            <w:style w:type="table" w:styleId="Grid"><w:tblPr><w:tblBorders><w:top w:val="single"/></w:tblBorders></w:tblPr>
            <w:tblStylePr w:type="firstRow"><w:rPr><w:b/></w:rPr><w:tcPr><w:shd w:fill="FF0000"/></w:tcPr></w:tblStylePr></w:style>
            <w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:rPr><w:caps/></w:rPr></w:style>
            <w:style w:type="paragraph" w:styleId="Header"><w:basedOn w:val="Normal"/><w:rPr><w:color w:val="C00000"/></w:rPr></w:style>
            </w:styles>
            """
        let result = OOXMLText.units(try headerLetter(styles: styles), format: .docx)
        #expect(result.isComplete, "\(result.problems)")
        let agency = try #require(result.units.first { $0.text == "UBND TỈNH QUẢNG NINH" })
        #expect(agency.container == .pageHeader)
        #expect(agency.style == [.allCaps, .red])
        #expect(agency.fontSize == 15)
        let stamp = try #require(result.units.first { $0.text == "TỐI MẬT" })
        #expect(stamp.style == [.bold, .allCaps, .red])
        #expect(SecrecyMatcher.match(result.units).findings.map(\.level) == [.secret])
    }

    /// 300 levels inside `w:latentStyles` (a subtree no reader looks into) still end the part with
    /// `xml-too-deep`, and the header, body and footer are still read.
    @Test func skippedSubtreesStillCountAgainstTheDepthBound() throws {
        let deep = String(repeating: "<w:lsdException>", count: 300) + String(repeating: "</w:lsdException>", count: 300)
        let styles = "<w:styles xmlns:w=\"\(wordNamespace)\"><w:latentStyles>\(deep)</w:latentStyles></w:styles>"
        let result = OOXMLText.units(try headerLetter(styles: styles), format: .docx)
        #expect(result.problems.contains { $0.hasPrefix("xml-too-deep: word/styles.xml") }, "\(result.problems)")
        #expect(result.units.contains { $0.container == .pageHeader && $0.text == "TỐI MẬT" })
    }

    /// A malformed table style is still expat's error: skipped subtrees are parsed, not cut out.
    @Test func malformedSkippedSubtreeIsAnError() throws {
        let styles = "<w:styles xmlns:w=\"\(wordNamespace)\"><w:style w:type=\"table\"><w:tblPr><w:x></w:tblPr></w:style></w:styles>"
        let result = OOXMLText.units(try headerLetter(styles: styles), format: .docx)
        #expect(result.problems.contains { $0.hasPrefix("xml-error: word/styles.xml: mismatched tag") }, "\(result.problems)")
    }
}
