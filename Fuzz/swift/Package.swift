// swift-tools-version:6.1
// libFuzzer targets for the Swift parsers. Built by Fuzz/run.sh with -sanitize=fuzzer,address;
// not part of the main build.
import PackageDescription

let package = Package(
    name: "binfmt-bottle-fuzz",
    dependencies: [.package(name: "binfmt-bottle", path: "../..")],
    targets: [
        .target(name: "LibFuzzerDriver"),
        .executableTarget(
            name: "FuzzELF",
            dependencies: ["LibFuzzerDriver", .product(name: "FuzzHarness", package: "binfmt-bottle")]),
        .executableTarget(
            name: "FuzzRegistration",
            dependencies: ["LibFuzzerDriver", .product(name: "FuzzHarness", package: "binfmt-bottle")]),
    ]
)
