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
                "RunbottleCore", "LinuxOS",
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
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzChecks", "FuzzHarness", "TestSupport"]),

        // The test layers. Unit: in-process, no process spawned, seconds (make check-unit).
        .testTarget(name: "UnitTests", dependencies: ["ELFEngine", "BinfmtMisc", "RunbottleCore"]),
        // Tool and system tests: they run binfmt-reg, runbottle and compilers, in namespaces,
        // under strace and gdb, in containers and virtual machines.
        .target(name: "TestSupport", dependencies: ["RunbottleImage"], path: "Tests/TestSupport"),
        .testTarget(name: "ELFEngineTests", dependencies: ["ELFEngine", "TestSupport"]),
        .testTarget(name: "BinfmtMiscTests", dependencies: ["BinfmtMisc", "TestSupport"]),
        .testTarget(name: "RunbottleTests", dependencies: ["RunbottleCore", "ELFEngine", "TestSupport"]),
        .testTarget(name: "CrashSafetyTests", dependencies: ["TestSupport"]),
        .testTarget(name: "HardeningTests", dependencies: ["TestSupport"]),
        .testTarget(name: "BottleTests", dependencies: ["ELFEngine", "Bottling", "TestSupport"]),
        .testTarget(name: "CorpusTests", dependencies: ["TestSupport"]),
        // Real Debian programs bottled, moved, run on the host, in a chroot and under Docker
        // against their own runs (Tests/Programs/run.sh).
        .testTarget(name: "ProgramTests", dependencies: ["TestSupport"]),
        // The probe against its native exec in every context (Tests/Contexts/run.sh).
        .testTarget(name: "ContextTests", dependencies: ["TestSupport"]),
        // Debian's 5.10, 6.1 and 6.12 kernels and arm64's 6.12 under qemu (Tests/VM/run.sh).
        .testTarget(name: "VMTests", dependencies: ["TestSupport"]),
        // The .deb (make deb) installed with dpkg in a debootstrap'd root (Tests/Package/run.sh).
        .testTarget(name: "PackageTests", dependencies: ["TestSupport"]),
        // The installer image and the DaemonSet under dockerd (deploy/test.sh).
        .testTarget(name: "DeployTests", dependencies: ["TestSupport"]),
    ]
)
