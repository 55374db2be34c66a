import Testing

@testable import Corpus

@Suite struct CorpusGeneratorTests {
    @Test func placeholder() { #expect(CorpusGenerator.fileName(0) == "000001.eml") }
}
