// binfmt-reg's registration lines on files alone: the repository's binfmt.d file is what binfmt-reg
// generates, and an architecture runbottle is not built for is refused.
import Foundation
import TestSupport
import Testing

@Test func theRepositoryBinfmtDFileIsWhatBinfmtRegGenerates() throws {
    let generated = try run([try BuiltTools.binfmtReg(), "line", "--arch", "x86_64"])
    #expect(generated.succeeded, "\(generated)")
    let file = try String(contentsOfFile: Repository.path("binfmt.d/bottle.conf"), encoding: .utf8)
    #expect(file == generated.stdout)
    #expect(file.split(separator: "\n").count == 2)
}

@Suite struct RegistrationLineTests {
    /// Only the architectures runbottle is built for get an entry: one for i686 or armv7l would
    /// hand 32-bit binaries to an interpreter that does not exist. A usage error, nothing written.
    @Test(arguments: ["install --no-persist --root /nonexistent", "line"], ["i686", "armv7l", "riscv64"])
    func anArchitectureWithoutRunbottleIsRefused(command: String, arch: String) throws {
        let result = try run([try BuiltTools.binfmtReg()] + command.split(separator: " ").map(String.init)
                             + ["--arch", arch])
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("binfmt-reg: unknown architecture \(arch) (known: x86_64, aarch64)\n"), "\(result)")
    }
}
