// Shell completions complete what a user types: file paths for path arguments and options, and
// the values --arch and --flags take. bash's script is run as bash runs it on <TAB>.
import Testing
import TestSupport

@Test(arguments: [
    ("seal ./bi", ["./binaries"]),
    ("bottle -o ./bi", ["./binaries"]),
    ("line --arch ", ["x86_64", "aarch64"]),
    ("install --flags ", ["POCF", "POC"]),
])
func bashCompletesPathsAndValues(typed: String, offered: [String]) throws {
    let dir = try TemporaryDirectory("completion")
    defer { dir.remove() }
    let script = try run([try BuiltTools.binfmtReg(), "--generate-completion-script", "bash"])
    try #require(script.succeeded, "\(script)")
    try script.stdout.write(toFile: dir.file("completion.bash"), atomically: true, encoding: .utf8)
    let result = try run(["bash", "-c", """
        cd \(dir.path) && mkdir binaries && source ./completion.bash
        COMP_LINE="binfmt-reg $1"; COMP_POINT=${#COMP_LINE}
        read -ra COMP_WORDS <<< "binfmt-reg $1"; [ "${1: -1}" = " " ] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _binfmt-reg binfmt-reg "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\\n' "${COMPREPLY[@]}" | sort -u
        """, "bash", typed])
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout.split(separator: "\n").map(String.init) == offered.sorted(), "\(result)")
}

@Test(arguments: ["zsh", "fish"])
func zshAndFishCompletePathsAndArchitectures(shell: String) throws {
    let script = try run([try BuiltTools.binfmtReg(), "--generate-completion-script", shell])
    try #require(script.succeeded, "\(script)")
    #expect(script.stdout.contains("x86_64") && script.stdout.contains("aarch64"), "\(shell): no --arch values")
    // seal's paths complete as files: zsh's _files, fish's -F on seal's positional arguments.
    let files = shell == "zsh" ? "'*:paths:_files'" : "\"binfmt-reg seal\" -ge 1' -F"
    #expect(script.stdout.contains(files), "\(shell): no file completion for seal's paths")
}
