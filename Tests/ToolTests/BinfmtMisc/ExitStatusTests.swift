// binfmt-reg(8) EXIT STATUS: output that cannot be written fails the command; usage errors exit 64.
import Testing
import TestSupport

/// stdout is buffered, so a full disk shows only when the buffer is flushed at exit: the command
/// must fail then, with one line, instead of reporting success over an empty file.
@Test(arguments: ["line", "--version", "--help", "line --arch aarch64 --no-privileged-entry"])
func outputThatCannotBeWrittenFailsTheCommand(arguments: String) throws {
    let binfmtReg = try BuiltTools.binfmtReg()
    let full = try run(["sh", "-c", "exec \"$0\" \(arguments) > /dev/full", binfmtReg])
    #expect(full.status == 1, "\(full)")
    #expect(full.stderr == "binfmt-reg: standard output: No space left on device\n", "\(full)")
    let closed = try run(["sh", "-c", "exec \"$0\" \(arguments) >&-", binfmtReg])
    #expect(closed.status == 1, "\(closed)")
    #expect(closed.stderr == "binfmt-reg: standard output: Bad file descriptor\n", "\(closed)")
    let written = try run(["sh", "-c", "exec \"$0\" \(arguments) > /dev/null", binfmtReg])
    #expect(written.status == 0 && written.stderr.isEmpty, "\(written)")
}

@Test(arguments: [
    ([], "binfmt-reg: a subcommand is needed"),
    (["help", "nosuch"], "binfmt-reg: no subcommand nosuch"),
])
func noSubcommandIsAUsageError(arguments: [String], message: String) throws {
    let result = try run([try BuiltTools.binfmtReg()] + arguments)
    #expect(result.status == 64, "\(result)")
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix(message + "\n"), "\(result)")
}

@Test func helpForASubcommandSucceeds() throws {
    let result = try run([try BuiltTools.binfmtReg(), "help", "seal"])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.contains("USAGE: binfmt-reg seal"), "\(result)")
}
