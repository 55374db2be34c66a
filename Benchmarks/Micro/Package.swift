// swift-tools-version:6.1
import Foundation
import PackageDescription

/// The gateway's package is the checkout two levels up; SwiftPM names a path dependency by its
/// folder (`main`, `thugate`, …), so the products are asked for under that name.
let root = URL(fileURLWithPath: Context.packageDirectory).appendingPathComponent("../..").standardizedFileURL
let gateway = root.lastPathComponent

/// Micro-benchmarks of the content path (ordo-one/benchmark), a package of its own so that the
/// gateway's build and CI never compile the benchmark tooling:
///
///     swift package --package-path Benchmarks/Micro --disable-sandbox benchmark
///     swift package --package-path Benchmarks/Micro --disable-sandbox benchmark baseline update main
///     swift package --package-path Benchmarks/Micro --disable-sandbox benchmark baseline check main
let package = Package(
    name: "ThuGateMicro",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ContentPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MIMECore", package: gateway),
                .product(name: "VietText", package: gateway),
                .product(name: "Archives", package: gateway),
                .product(name: "DocumentText", package: gateway),
                .product(name: "SecrecyMarks", package: gateway),
            ],
            path: "Benchmarks/ContentPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
