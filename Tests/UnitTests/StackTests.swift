// The C core's initial-stack parser and rewriters, on synthetic stacks built in a buffer.
import RunbottleCore
import Foundation
import Testing

private let AT_NULL: UInt64 = 0, AT_PHDR: UInt64 = 3, AT_PHENT: UInt64 = 4, AT_PHNUM: UInt64 = 5
private let AT_BASE: UInt64 = 7, AT_FLAGS: UInt64 = 8, AT_ENTRY: UInt64 = 9, AT_EXECFD: UInt64 = 2
private let AT_SECURE: UInt64 = 23, AT_EXECFN: UInt64 = 31, AT_RANDOM: UInt64 = 25

/// An initial stack as the kernel lays it out, with strings kept alive by the caller.
final class SyntheticStack {
    var words: [UInt64]
    let strings: [UnsafeMutablePointer<CChar>]

    init(argv: [String], envp: [String], auxv: [(UInt64, UInt64)], padding: Int = 0) {
        strings = (argv + envp).map { strdup($0)! }
        words = [UInt64](repeating: 0, count: padding)
        words.append(UInt64(argv.count))
        for i in argv.indices { words.append(UInt64(UInt(bitPattern: strings[i]))) }
        words.append(0)
        for i in envp.indices { words.append(UInt64(UInt(bitPattern: strings[argv.count + i]))) }
        words.append(0)
        for (t, v) in auxv { words += [t, v] }
        words += [AT_NULL, 0]
    }

    deinit { strings.forEach { free($0) } }

    func string(_ word: UInt64) -> String {
        String(cString: UnsafePointer<CChar>(bitPattern: UInt(word))!)
    }
}

private let kernelAuxv: [(UInt64, UInt64)] = [
    (AT_PHDR, 0x1040), (AT_PHENT, 56), (AT_PHNUM, 6), (AT_BASE, 0), (AT_FLAGS, 1),
    (AT_ENTRY, 0x1000), (AT_EXECFD, 3), (AT_SECURE, 1), (AT_RANDOM, 0x7ffd0000), (AT_EXECFN, 0),
]

@Test func parsesTheKernelsLayout() throws {
    let s = SyntheticStack(argv: ["runbottle", "./prog", "prog", "a"], envp: ["A=1", "B=2"],
                           auxv: kernelAuxv)
    var st = rb_stack()
    let rc = s.words.withUnsafeMutableBufferPointer { b in
        rb_stack_parse(b.baseAddress, b.baseAddress! + b.count, &st)
    }
    try #require(rc == RB_OK.rawValue)
    #expect(st.argc == 4)
    #expect(st.envc == 2)
    #expect(st.auxc == UInt64(kernelAuxv.count + 1))
    #expect(rb_auxv_get(&st, AT_EXECFD, 99) == 3)
    #expect(rb_auxv_get(&st, 12345, 99) == 99)
}

@Test func refusesAStackWithoutTerminators() {
    let s = SyntheticStack(argv: ["a"], envp: ["E=1"], auxv: kernelAuxv)
    var st = rb_stack()
    for cut in [1, 2, 3, 5, s.words.count - 1] {
        let rc = s.words.withUnsafeMutableBufferPointer { b in
            rb_stack_parse(b.baseAddress, b.baseAddress! + cut, &st)
        }
        #expect(rc == RB_ESTACK.rawValue, "cut at \(cut)")
    }
    var huge = s.words
    huge[0] = UInt64.max
    let rc = huge.withUnsafeMutableBufferPointer { b in
        rb_stack_parse(b.baseAddress, b.baseAddress! + b.count, &st)
    }
    #expect(rc == RB_ESTACK.rawValue)
}

@Test func rewritesTheAuxvInPlace() throws {
    let s = SyntheticStack(argv: ["rb", "p", "p"], envp: [], auxv: kernelAuxv)
    var st = rb_stack()
    try s.words.withUnsafeMutableBufferPointer { b in
        try #require(rb_stack_parse(b.baseAddress, b.baseAddress! + b.count, &st) == RB_OK.rawValue)
        var fix = rb_auxv_fix(phdr: 0x5555_0040, phent: 56, phnum: 13, entry: 0x5555_1000,
                              base: 0x7f00_0000, secure: 0, execfn: 0x1234)
        let left = rb_auxv_rewrite(st.auxv, st.auxc, &fix)
        #expect(left == st.auxc - 1)
        var seen: [UInt64: UInt64] = [:]
        for i in 0..<Int(st.auxc) { seen[st.auxv[2 * i]] = seen[st.auxv[2 * i]] ?? st.auxv[2 * i + 1] }
        #expect(seen[AT_EXECFD] == nil)
        #expect(seen[AT_PHDR] == 0x5555_0040 && seen[AT_PHNUM] == 13 && seen[AT_ENTRY] == 0x5555_1000)
        #expect(seen[AT_BASE] == 0x7f00_0000 && seen[AT_SECURE] == 0 && seen[AT_FLAGS] == 0)
        #expect(seen[AT_EXECFN] == 0x1234)
        #expect(seen[AT_RANDOM] == 0x7ffd0000)
        // The freed pair is AT_NULL, so the vector still ends where it did.
        #expect(st.auxv[2 * Int(st.auxc - 1)] == AT_NULL && st.auxv[2 * Int(st.auxc - 2)] == AT_NULL)
    }
}

@Test func dropsRunbottlesTwoArgvSlotsInPlace() throws {
    let s = SyntheticStack(argv: ["runbottle", "./link", "argv0", "x", "y"], envp: ["E=1"],
                           auxv: kernelAuxv, padding: 2)
    var st = rb_stack()
    try s.words.withUnsafeMutableBufferPointer { b in
        let sp = b.baseAddress! + 2
        try #require(rb_stack_parse(sp, b.baseAddress! + b.count, &st) == RB_OK.rawValue)
        let words = rb_stack_words(&st, 0, 2)
        let written = rb_stack_build(&st, nil, 0, 2, sp + 2, words)
        #expect(written == Int64(words))
        var moved = rb_stack()
        try #require(rb_stack_parse(sp + 2, b.baseAddress! + b.count, &moved) == RB_OK.rawValue)
        #expect(moved.argc == 3)
        #expect(s.string(UInt64(UInt(bitPattern: moved.argv[0]))) == "argv0")
        #expect(s.string(UInt64(UInt(bitPattern: moved.argv[2]))) == "y")
        #expect(moved.envc == 1 && moved.auxc == st.auxc)
        // The vectors did not move: only argc was written over argv[1].
        #expect(moved.envp == st.envp && moved.auxv == st.auxv)
    }
}

@Test func buildsTheExplicitLoaderCommandLine() throws {
    let s = SyntheticStack(argv: ["runbottle", "/b/bin/p", "p", "arg"], envp: ["E=1", "F=2"],
                           auxv: kernelAuxv)
    var st = rb_stack()
    let prefix: [UnsafeMutablePointer<CChar>?] =
        ["/b/lib/ld.so", "--argv0", "p", "/b/bin/p"].map { (s: String) in strdup(s) }
    defer { prefix.forEach { free($0) } }
    try s.words.withUnsafeMutableBufferPointer { b in
        try #require(rb_stack_parse(b.baseAddress, b.baseAddress! + b.count, &st) == RB_OK.rawValue)
        let words = rb_stack_words(&st, 4, 3)
        var dst = [UInt64](repeating: 0xdead, count: Int(words))
        try dst.withUnsafeMutableBufferPointer { d in
            #expect(rb_stack_build(&st, prefix, 4, 3, d.baseAddress, words - 1) == -Int64(ENOSPC))
            #expect(rb_stack_build(&st, prefix, 4, 3, d.baseAddress, words) == Int64(words))
            var built = rb_stack()
            try #require(rb_stack_parse(d.baseAddress, d.baseAddress! + d.count, &built) == RB_OK.rawValue)
            let argv = (0..<Int(built.argc)).map { String(cString: built.argv[$0]!) }
            #expect(argv == ["/b/lib/ld.so", "--argv0", "p", "/b/bin/p", "arg"])
            #expect(built.envc == 2 && built.auxc == st.auxc)
        }
    }
}

@Test func anUnrandomizedLayoutIsToldByWhereExecfnEnds() {
    let top: UInt64 = 0x7fff_ffff_f000
    let tops: [UInt64] = [1 << 39, top]
    let name = "/bin/prog"
    let len = UInt64(name.utf8.count)
    // setup_arg_pages() without randomization: the string and its NUL end one pointer below STACK_TOP.
    let unrandomized = top - 8 - (len + 1)
    #expect(rb_layout_randomized(unrandomized, len, tops, tops.count) == 0)
    // Randomized tops are page multiples below STACK_TOP, never one of the listed values.
    for shift: UInt64 in [1, 2, 0x3fffff] {
        #expect(rb_layout_randomized(unrandomized - shift * 4096, len, tops, tops.count) == 1)
    }
    #expect(rb_layout_randomized(unrandomized + 1, len, tops, tops.count) == 1)
    // No AT_EXECFN, or a length that would wrap: randomize, as before.
    #expect(rb_layout_randomized(0, 0, tops, tops.count) == 1)
    #expect(rb_layout_randomized(unrandomized, UInt64.max - 4, tops, tops.count) == 1)
}
