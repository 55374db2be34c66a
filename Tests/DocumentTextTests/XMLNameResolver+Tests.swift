import Testing

@testable import DocumentText

/// The resolver's caches stay small whatever a part declares: a megabyte-long namespace URI is
/// resolved every time and never remembered (its names would carry it into every cache slot).
@Suite struct XMLNameResolverTests {
    func resolve(_ resolver: XMLNameResolver, _ expanded: String) -> String {
        expanded.withCString { resolver.resolve($0) }
    }

    @Test func knownNamespacesResolveToTheirPrefixAgainAndAgain() {
        let resolver = XMLNameResolver()
        let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        for _ in 0..<3 { #expect(resolve(resolver, "\(w) p") == "w:p") }
        #expect(resolve(resolver, "noNamespace") == "noNamespace")
    }

    @Test func aHugeNamespaceURIIsResolvedButNotRemembered() {
        let resolver = XMLNameResolver()
        let uri = "urn:x:" + String(repeating: "a", count: 1 << 20)
        for i in 0..<200 {
            #expect(resolve(resolver, "\(uri) e\(i)") == "{\(uri)}e\(i)")
        }
        #expect(resolver.rememberedBytes < 64 * 1024, "\(resolver.rememberedBytes)")
        // A short unknown namespace is remembered as before.
        #expect(resolve(resolver, "urn:short e1") == "{urn:short}e1")
        #expect(resolver.rememberedBytes > 0)
    }
}
