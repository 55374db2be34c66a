// swift-tools-version:6.1
import PackageDescription

/// Every binary that links libclamav exports none of its own symbols (see the map file).
let privateSymbols = "\(Context.packageDirectory)/Scripts/linker/private-symbols.map"

let package = Package(
    name: "ThuGate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "thugate", targets: ["thugate"]),
        .executable(name: "thugate-pdftext", targets: ["thugate-pdftext"]),
        .library(name: "SMTPCore", targets: ["SMTPCore"]),
        .library(name: "MilterCore", targets: ["MilterCore"]),
        .library(name: "ProxyProtocol", targets: ["ProxyProtocol"]),
        .library(name: "GatewayServer", targets: ["GatewayServer"]),
        .library(name: "MIMECore", targets: ["MIMECore"]),
        // For the micro-benchmarks (Benchmarks/Micro, a package of its own).
        .library(name: "VietText", targets: ["VietText"]),
        .library(name: "Archives", targets: ["Archives"]),
        .library(name: "DocumentText", targets: ["DocumentText"]),
        .library(name: "SecrecyMarks", targets: ["SecrecyMarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Pure protocol core: grammar, framing, the session machine. No I/O.
        .target(
            name: "SMTPCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // MIME engine: headers, RFC 2047/2231, multipart structure, transfer decoding. No I/O.
        .target(name: "MIMECore"),
        // What every fuzz executable shares: the libFuzzer driver or the replay loop, SplitMix64, drip-feed chunks.
        .target(name: "FuzzSupport"),
        // libFuzzer target for the MIME parser (Scripts/fuzz mime).
        .executableTarget(name: "MIMEFuzzer", dependencies: ["MIMECore", "FuzzSupport"]),
        // libFuzzer target for content scanning: libclamav, libmagic, archive readers (Scripts/fuzz scan).
        .executableTarget(name: "ScanFuzzer", dependencies: ["Scanning", "MIMECore", "FuzzSupport"]),
        // libFuzzer targets for the SMTP command parser, the DATA decoder and the reply decoder (Scripts/fuzz).
        .executableTarget(
            name: "SMTPFuzzer",
            dependencies: ["SMTPCore", "FuzzSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // libFuzzer target for the milter frame decoder and session machine (Scripts/fuzz milter).
        .executableTarget(name: "MilterFuzzer", dependencies: ["MilterCore", "SMTPCore", "FuzzSupport"]),
        // libFuzzer target for the PROXY protocol header decoder (Scripts/fuzz proxy).
        .executableTarget(name: "ProxyProtocolFuzzer", dependencies: ["ProxyProtocol", "FuzzSupport"]),
        // libFuzzer targets for the zip, 7z and RAR header readers (Scripts/fuzz); built normally it replays.
        .executableTarget(name: "ArchiveFuzzer", dependencies: ["Archives", "FuzzSupport"]),
        // libFuzzer target for the RTF text reader (Scripts/fuzz rtf); built normally it replays.
        .executableTarget(name: "DocumentTextFuzzer", dependencies: ["DocumentText", "SecrecyMarks", "FuzzSupport"]),
        // TCVN 6909:2001 text: exact legacy Vietnamese encoding converters and a detector. No I/O.
        .target(name: "VietText"),
        // State-secret markings (issue 12): the matcher that tells a secrecy stamp (TUYỆT MẬT, TỐI MẬT, MẬT)
        // from the many words containing "mật", on text units an extractor gives it. No I/O.
        .target(name: "SecrecyMarks", dependencies: ["VietText"]),
        // Text units (paragraphs, cells, text boxes, headers, with style and font) from document formats, for
        // the secrecy matcher (issue 12): RTF by a small bounded tokenizer; OOXML and ODF packages by a
        // bounded zip reader on zlib (inflated bytes counted from real output) and expat (DTDs refused). No I/O.
        .target(name: "DocumentText", dependencies: ["SecrecyMarks", "VietText", "CExpat", "CZlib"]),
        // The milter protocol (issue 15), pure: the frame codec, the command and response packets, option
        // negotiation and the filter's session machine (packets in, actions out). No I/O.
        .target(name: "MilterCore", dependencies: ["SMTPCore"]),
        // The PROXY protocol header (HAProxy's, versions 1 and 2) at the start of a connection from a load
        // balancer (issue 16), pure: a decoder fed bytes as they come. No I/O.
        .target(name: "ProxyProtocol"),
        // Rules, findings and verdicts: what later issues plug content checks into. One file per rule in
        // Rules/; RuleRegistryPlugin generates the catalog of them at build time.
        .target(name: "Policy", dependencies: ["SMTPCore", "MIMECore", "VietText", "SecrecyMarks"], plugins: ["RuleRegistryPlugin"]),
        // Build-tool plugin on Policy: runs RuleRegistry over Policy's Swift files, which writes
        // `RuleCatalog.registered` (every `static let declaration = RuleDeclaration(` in Rules/). So adding a
        // rule touches its own file, its tests and Config/thugate.toml, no list. Under Sources/ like every target.
        .plugin(
            name: "RuleRegistryPlugin",
            capability: .buildTool(),
            dependencies: ["RuleRegistry"],
            path: "Sources/RuleRegistryPlugin"
        ),
        // The plugin's tool, built for the host: a small Swift tokenizer (comments and strings ignored) that
        // finds the rule declarations and fails the build (file:line) on a rule without one, or on two rules
        // with one id or one order. `-Xswiftc` reaches host tools too, so builds with flags only the targets
        // may get (libFuzzer's -sanitize=fuzzer in Scripts/fuzz) pass them in a `--toolset` file.
        .executableTarget(name: "RuleRegistry", path: "Sources/RuleRegistry"),
        // System libraries: one module map and shim header each.
        .systemLibrary(name: "CClamAV", pkgConfig: "libclamav", providers: [.apt(["libclamav-dev"])]),
        .systemLibrary(name: "CMagic", pkgConfig: "libmagic", providers: [.apt(["libmagic-dev"])]),
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        .systemLibrary(name: "CExpat", pkgConfig: "expat", providers: [.apt(["libexpat1-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // poppler's GLib API: linked by the PDF helper (thugate-pdftext) ONLY, never by the gateway.
        .systemLibrary(name: "CPoppler", pkgConfig: "poppler-glib", providers: [.apt(["libpoppler-glib-dev"])]),
        // The PDF text helper (issue 12): a child process of the gateway with its own resource limits that
        // answers framed requests (DocumentText/PDFTextFrames.swift) on stdin/stdout. The only poppler user.
        .executableTarget(name: "thugate-pdftext", dependencies: ["CPoppler", "DocumentText", "SecrecyMarks"]),
        // Pure readers of zip, 7z and RAR 4/5 headers and of PDF/OOXML encryption: bounded, no libclamav.
        .target(name: "Archives", dependencies: ["CLZMA"]),
        // Content inspection: owns the libclamav engine and libmagic cookies, reads archive headers.
        .target(
            name: "Scanning",
            dependencies: [
                "CClamAV", "CMagic", "Archives", "MIMECore", "Policy", "DocumentText", "SecrecyMarks",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(privateSymbols)"])]
        ),
        // Transforms run after the verdict (TCVN 6909 text): each reports its edits (headers added or
        // changed, parts replaced) as well as the rewritten message. No I/O.
        .target(name: "Transforms", dependencies: ["Policy", "MIMECore", "VietText"]),
        // The inspection path the proxy and `thugate scan` share: parse, content scan, rules, transforms,
        // one InspectionResult. No SMTP server, no TLS, no configuration file.
        .target(
            name: "Inspection",
            dependencies: [
                "Policy", "Scanning", "MIMECore", "Transforms", "SMTPCore", "DocumentText",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The TOML configuration file: GatewayConfig, its paths, IPNetwork; what `serve`, `scan` and
        // `check-config` read.
        .target(
            name: "Configuration",
            dependencies: [
                "Inspection", "Policy", "Scanning", "MIMECore", "Transforms", "SMTPCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The quarantine store: the `QuarantineStore` protocol and its value types (no SQLite in them, so a
        // PostgreSQL store can pass the same contract tests), and `SQLiteQuarantineStore` on GRDB: one
        // transaction per held message (rows, chunks of the original bytes, findings, chained audit row).
        .target(
            name: "Quarantine",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The same store protocol on PostgreSQL through PostgresNIO's `PostgresClient` (issue 16): one quarantine,
        // verdict log, audit chain and outbox that several gateway nodes share.
        .target(
            name: "PostgresStore",
            dependencies: [
                "Quarantine",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The periodic usage reports the regulations ask for: periods in local days (Asia/Ho_Chi_Minh), the
        // report built from the verdict log's roll-up rows, and its table, CSV, JSON and HTML forms. Pure: no I/O,
        // no SQLite, no Foundation; `thugate report` reads the store and hands it the rows.
        .target(name: "Reports"),
        // NIO handlers, upstream client, delivery, the server service.
        .target(
            name: "GatewayServer",
            dependencies: [
                "SMTPCore", "MilterCore", "ProxyProtocol", "Policy", "MIMECore", "Scanning", "Inspection", "Configuration", "Quarantine",
                "Reports",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "thugate",
            dependencies: [
                "GatewayServer", "Configuration", "Inspection", "Transforms", "MIMECore", "Policy", "Scanning", "VietText",
                "Quarantine", "PostgresStore", "Reports", "Corpus",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // MIME parse benchmark (Benchmarks/mime_parse.py runs it beside Python's email package).
        .executableTarget(name: "thugate-mimebench", dependencies: ["MIMECore"], path: "Benchmarks/MIMEBench"),
        // Per-stage content-inspection benchmark (Benchmarks/content_scan.py runs it).
        .executableTarget(
            name: "thugate-scanbench",
            dependencies: ["Scanning", "Archives", "Inspection", "MIMECore"],
            path: "Benchmarks/ScanBench"
        ),
        // Vietnamese detection accuracy and conversion speed (Benchmarks/viet_detect.py runs it).
        .executableTarget(name: "thugate-vietbench", dependencies: ["VietText"], path: "Benchmarks/VietText"),
        // Speed of the secrecy matcher on the regulations and on stamped documents, and of the OOXML / ODF
        // readers on the package fixtures (Benchmarks/RESULTS.md).
        .executableTarget(
            name: "thugate-secrecybench",
            dependencies: ["SecrecyMarks", "DocumentText"],
            path: "Benchmarks/SecrecyMarks"
        ),
        // PDF text through the helper pool: helper start, ms per page, helper RSS (Benchmarks/pdf_helper.py runs it).
        .executableTarget(
            name: "thugate-pdfbench",
            dependencies: ["Scanning", "DocumentText", "SecrecyMarks"],
            path: "Benchmarks/PDFBench"
        ),
        // Usage report build and render times on a year of synthetic roll-ups (Benchmarks/report_year.py runs the CLI).
        .executableTarget(name: "thugate-reportbench", dependencies: ["Reports", "Quarantine"], path: "Benchmarks/ReportBench"),
        .executableTarget(
            name: "thugate-storebench",
            dependencies: ["Quarantine", .product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Benchmarks/StoreBench"
        ),
        // The benchmark corpus of issue 14 (`thugate corpus generate`): provincial mail with its expected
        // verdicts, from a seed. Faithful writers of zip (ZipCrypto too), OOXML, PDF, PNG and PE32. No I/O.
        .target(name: "Corpus", dependencies: ["FuzzSupport", "VietText", "CZlib"]),
        // Helpers the test targets share: a scratch directory and the real tools fixtures are made with.
        .target(name: "TestFixtures"),
        .testTarget(name: "VietTextTests", dependencies: ["VietText", "FuzzSupport"]),
        // The regulations' own texts (Regulations/) must give no finding: they name the levels in running text.
        .testTarget(
            name: "SecrecyMarksTests",
            dependencies: ["SecrecyMarks", "VietText", "FuzzSupport"],
            resources: [.copy("Regulations")]
        ),
        // RTF fixtures made by LibreOffice from python-docx files (Fixtures/make.py), and hand-written RTF.
        .testTarget(
            name: "DocumentTextTests",
            dependencies: ["DocumentText", "SecrecyMarks", "VietText"],
            exclude: ["FuzzRegressions"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "MIMECore", "VietText", "SecrecyMarks", "SMTPCore"]),
        .testTarget(name: "RuleRegistryTests", dependencies: ["RuleRegistry"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "DocumentText", "SecrecyMarks", "Archives", "VietText"]),
        .testTarget(name: "SMTPCoreTests", dependencies: ["SMTPCore"]),
        .testTarget(name: "ProxyProtocolTests", dependencies: ["ProxyProtocol"], exclude: ["FuzzSeeds", "FuzzRegressions"]),
        .testTarget(name: "MilterCoreTests", dependencies: ["MilterCore", "SMTPCore"], exclude: ["FuzzSeeds", "FuzzRegressions"]),
        .testTarget(name: "MIMECoreTests", dependencies: ["MIMECore"]),
        .testTarget(
            name: "ScanningTests",
            dependencies: ["Scanning", "MIMECore", "Policy", "FuzzSupport", "TestFixtures", "DocumentText", "SecrecyMarks"],
            resources: [.copy("PDFFixtures")]
        ),
        .testTarget(name: "ArchivesTests", dependencies: ["Archives", "FuzzSupport", "TestFixtures"]),
        .testTarget(
            name: "GatewayServerTests",
            dependencies: [
                "GatewayServer", "Configuration", "Inspection", "SMTPCore", "Policy", "MIMECore", "Quarantine", "ProxyProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Contract tests of `QuarantineStore`, run on the SQLite store and on the PostgreSQL store (a throw-away
        // cluster the tests start with initdb/pg_ctl on a Unix socket).
        .testTarget(
            name: "QuarantineTests",
            dependencies: [
                "Quarantine", "PostgresStore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // Reports on hand-made rows, and golden files (Golden/) made from entries recorded through the SQLite verdict log.
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "Quarantine", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Golden"]
        ),
        .testTarget(name: "TransformsTests", dependencies: ["Transforms", "Policy", "MIMECore", "VietText"]),
        .testTarget(
            name: "InspectionTests",
            dependencies: ["Inspection", "Transforms", "Policy", "MIMECore", "Scanning", "SMTPCore", "VietText"]
        ),
        // `thugate bench`: argument checks, the corpus manifest, the tallies, the load client against its sink.
        .testTarget(
            name: "thugateTests",
            dependencies: [
                "thugate", "Configuration", "Inspection", "GatewayServer", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "ConfigurationTests",
            dependencies: [
                "Configuration", "Inspection", "Transforms", "Policy", "MIMECore",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)

// House settings for every Swift target: existentials are spelled `any`, a file sees only the
// members of the modules it imports, and an import is internal unless it says `public import`, so
// a target's public API names exactly the modules it exposes. A plugin takes no settings (SwiftPM refuses
// them); its code is written to the same rules.
let houseSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
for target in package.targets where ![.system, .binary, .plugin].contains(target.type) {
    target.swiftSettings = (target.swiftSettings ?? []) + houseSettings
}
