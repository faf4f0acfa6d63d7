// swift-tools-version:6.1
// The package: binfmt-reg (Swift) and runbottle (freestanding C, built by the BuildRunbottle plugin).
import PackageDescription

let package = Package(
    name: "binfmt-bottle",
    products: [
        .executable(name: "binfmt-reg", targets: ["binfmt-reg"]),
        // What the fuzz targets in Fuzz/swift run on each input.
        .library(name: "FuzzHarness", targets: ["FuzzHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The CLI: one command per file; parses arguments, calls the libraries, renders output.
        .executableTarget(
            name: "binfmt-reg",
            dependencies: [
                "ELFEngine", "Bottling", "BinfmtMisc", "RunbottleImage", "LinuxOS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // The ELF engine: bounds-checked reading, the seal transformation, verifier, atomic writer.
        .target(
            name: "ELFEngine",
            dependencies: [
                "RunbottleCore", "RunbottleImage", "LinuxOS",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // The OS layer every module uses, each system call wrapped once: reads, writes, copies,
        // status, paths, metadata, xattrs, mounts, identity, the terminal, processes.
        .target(
            name: "LinuxOS",
            dependencies: ["CLinuxIO", .product(name: "SystemPackage", package: "swift-system")]),
        // Packing installed programs into bottles: the bottle command's workflow on the engine.
        .target(
            name: "Bottling",
            dependencies: ["ELFEngine", "LinuxOS", .product(name: "SystemPackage", package: "swift-system")]),
        // Linux calls Swift's Glibc module hides (copy_file_range, syncfs, O_TMPFILE, xattrs, argv),
        // for LinuxOS alone.
        .target(name: "CLinuxIO"),
        // The registration model: binfmt_misc lines, entries, binfmt.d files, file capabilities.
        .target(
            name: "BinfmtMisc",
            dependencies: [
                "ELFEngine", "CLibcap", "LinuxOS",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        // The C core's pure parts (seal format, ELF validation, load plan, stack fix-up), compiled
        // as an ordinary C target so Swift tests call them in-process. The shipped runbottle is the
        // same sources plus the syscall layer, linked freestanding static-pie by the plugin.
        .target(
            name: "RunbottleCore",
            path: "Sources/runbottle",
            exclude: ["os", "build.sh", "cflags.sh"],
            sources: ["core"],
            publicHeadersPath: "include"),
        // runbottle's bytes, embedded in binfmt-reg so one file is all an image needs.
        .target(name: "RunbottleImage", plugins: ["BuildRunbottle"]),
        .plugin(name: "BuildRunbottle", capability: .buildTool()),

        // Fuzzing (Fuzz/run.sh): the properties each fuzz target checks, shared with the
        // regression tests that replay every crash found.
        .target(name: "FuzzChecks", dependencies: ["RunbottleCore"], path: "Fuzz/checks"),
        .target(name: "FuzzHarness", dependencies: ["ELFEngine", "BinfmtMisc"], path: "Fuzz/harness"),

        // The test layers, one folder each under Tests/ (README, What is tested).
        // Unit (Tests/UnitTests, make check-unit): in-process, no process spawned, seconds.
        .testTarget(
            name: "UnitTests",
            dependencies: ["ELFEngine", "BinfmtMisc", "RunbottleCore", "RunbottleImage", "TestSupport"],
            exclude: ["FuzzRegression"]),
        .testTarget(
            name: "FuzzRegressionTests", dependencies: ["FuzzChecks", "FuzzHarness", "TestSupport"],
            path: "Tests/UnitTests/FuzzRegression"),
        // The tests' one kit: fixture bottles and rigs, the ELF byte editor, the checkout's paths.
        .target(name: "TestSupport", dependencies: ["ELFEngine", "RunbottleImage"], path: "Tests/TestSupport"),
        // Tool (Tests/ToolTests, make check-tool): the built binfmt-reg and runbottle run on files
        // the tests compile; no namespace, tracer, container or virtual machine.
        layerTests("Tool", "ELFEngine", ["ELFEngine"]),
        layerTests("Tool", "BinfmtMisc", ["BinfmtMisc", "ELFEngine"]),
        layerTests("Tool", "Runbottle", ["RunbottleCore", "ELFEngine"]),
        layerTests("Tool", "Bottle", ["ELFEngine", "Bottling"]),
        // System (Tests/SystemTests, make check-system): user namespaces with binfmt_misc instances
        // of their own, chroots, strace and gdb, containers, virtual machines, packages.
        layerTests("System", "ELFEngine", ["ELFEngine"]),
        layerTests("System", "BinfmtMisc", ["BinfmtMisc"]),
        layerTests("System", "Runbottle", ["RunbottleCore", "ELFEngine"]),
        layerTests("System", "Bottle", ["ELFEngine", "Bottling"]),
        // seal, relocate, bottle and install killed by strace at every write step.
        layerTests("System", "CrashSafety"),
        // Every dynamically linked program of /usr/bin and /usr/sbin sealed.
        layerTests("System", "Corpus"),
        // Real Debian programs bottled, moved, run on the host, in a chroot and under Docker
        // against their own runs (Tests/SystemTests/Programs/suite/run.sh).
        layerTests("System", "Programs", scripts: true),
        // The probe against its native exec in every context (Tests/SystemTests/Contexts/suite/run.sh).
        layerTests("System", "Contexts", scripts: true),
        // Debian's 5.10, 6.1 and 6.12 kernels and arm64's 6.12 under qemu (Tests/SystemTests/VM/suite/run.sh).
        layerTests("System", "VM", scripts: true),
        // The .deb (make deb) installed with dpkg in a debootstrap'd root (Tests/SystemTests/Package/suite/run.sh).
        layerTests("System", "Package", scripts: true),
        // The installer image and the DaemonSet under dockerd (deploy/test.sh).
        layerTests("System", "Deploy"),
    ]
)

/// The tests of `area` in `layer` (Tool or System): Tests/<layer>Tests/<area>, target
/// <area><layer>Tests, so that `swift test --filter <layer>Tests` runs the layer. `scripts`: the
/// area's shell suite and its C programs sit in suite/, beside the test that runs it.
func layerTests(_ layer: String, _ area: String, _ modules: [Target.Dependency] = [],
                scripts: Bool = false) -> Target {
    .testTarget(name: area + layer + "Tests", dependencies: modules + ["TestSupport"],
                path: "Tests/\(layer)Tests/\(area)", exclude: scripts ? ["suite"] : [])
}
