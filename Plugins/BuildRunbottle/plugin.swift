// Builds runbottle as a freestanding static-pie with the system C compiler and embeds its bytes
// in the RunbottleImage module. SwiftPM would link an executable target with the Swift runtime,
// which costs every exec of a sealed binary about a millisecond; this build links nothing.
import Foundation
import PackagePlugin

@main
struct BuildRunbottle: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let source = context.package.directoryURL.appending(path: "Sources/runbottle")
        let script = source.appending(path: "build.sh")
        let output = context.pluginWorkDirectoryURL
        // The toolchain's clang cross-builds the other ports (build.sh), wherever PATH points.
        let clang = (try? context.tool(named: "clang").url.path) ?? "clang"
        return [
            .buildCommand(
                displayName: "Building runbottle (freestanding static-pie)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, source.path, output.path],
                environment: ["RUNBOTTLE_CROSS_CLANG": clang],
                inputFiles: try sourceFiles(under: source)
                    + sourceFiles(under: context.package.directoryURL.appending(path: "Sources/canary")),
                outputFiles: [output.appending(path: "RunbottleImageBytes.swift")]),
        ]
    }

    private func sourceFiles(under directory: URL) throws -> [URL] {
        let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        return (walker?.allObjects as? [URL] ?? []).filter { !$0.hasDirectoryPath }
    }
}
