// A sealed program against its native exec in every context runbottle(8) CONTEXTS lists: the
// probe, sealed and relocated (PT_INTERP naming the bottle's loader: the kernel's own exec), run
// by Tests/SystemTests/Contexts/suite/run.sh under real setpriv, capsh-style ambient capabilities, seccomp, MDWE,
// private mounts, gdb, strace, bubblewrap, user namespaces and a real Docker daemon.
import Foundation
import Testing
import TestSupport

@Suite struct ContextTests {
    static var script: String {
        Repository.path("Tests/SystemTests/Contexts/suite/run.sh")
    }

    @Test func everyContextBehavesAsTheNativeExecOrAsDocumented() throws {
        let result = try run(["bash", Self.script, try BuiltTools.binfmtReg()])
        // One line per context and the total, in the test log.
        print(result.stdout, terminator: "")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("context ") }
        let failures = lines.filter { $0.contains(": FAILED: ") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(result.stderr)")
        #expect(result.succeeded, "\(result)")
        // Every context the man page's table names ran: none is skipped silently.
        let page = try String(contentsOfFile: Repository.path("man/runbottle.8"), encoding: .utf8)
        let documented = Set(page.split(separator: "\n").compactMap { line -> Substring? in
            guard line.hasPrefix(".\\\" context ") else { return nil }
            return line.dropFirst(".\\\" context ".count)
        })
        let ran = Set(lines.compactMap { $0.dropFirst("context ".count).split(separator: " ").first })
        #expect(!documented.isEmpty && documented == ran,
                "man page contexts \(documented.sorted()) against those run \(ran.sorted())")
        #expect(result.stdout.contains("contexts: \(lines.count) passed, 0 failed"), "\(result.stdout)")
    }
}

/// A context the host's kernel cannot give runs in the instance VM, a newer kernel with this
/// machine's files, and its line says so: BINFMT_BOTTLE_MDWE=refused takes the path of a kernel
/// before 6.3 (no PR_SET_MDWE) for the two contexts that set it, whatever this kernel.
@Test func theContextsAKernelLacksRunInTheInstanceVM() throws {
    let result = try run(
        ["bash", ContextTests.script, try BuiltTools.binfmtReg(), "mdwe-prctl"],
        environment: ProcessInfo.processInfo.environment.merging(["BINFMT_BOTTLE_MDWE": "refused"]) { $1 })
    let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("context ") }
    #expect(lines.count == 2 && lines.allSatisfy { line in
        !line.contains(": FAILED: ") && line.hasSuffix("(in the instance VM: BINFMT_BOTTLE_MDWE=refused)")
    }, "\(result)")
    #expect(lines.first?.hasPrefix("context user-mdwe-prctl [interp]: same as the native exec") == true, "\(result)")
    #expect(lines.last?.hasPrefix("context root-binfmt-mdwe-prctl [binfmt]: as documented") == true, "\(result)")
    #expect(result.succeeded && result.stdout.hasSuffix("contexts: 2 passed, 0 failed\n"), "\(result)")
}
