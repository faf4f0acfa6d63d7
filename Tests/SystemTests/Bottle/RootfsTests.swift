// bottle --rootfs: a bottle that is a whole root file system, runbottle inside it, run as a chroot
// and as a Docker image FROM scratch with no binfmt_misc entry anywhere, against the host program.
import Bottling
import ELFEngine
import Foundation
import TestSupport
import Testing

/// Says hello with its argv[0], and whether it could make a file in /tmp (as nobody, that needs
/// the root's /tmp to be mode 1777).
private let rootProbe = Fixture.source("rootfs-probe.c")

@Suite struct RootfsTests {
    /// The default PT_INTERP dispatch: DIR holds runbottle at /usr/libexec/runbottle and a /tmp
    /// of mode 1777; a chroot of DIR alone (no /proc) and an image built FROM scratch from DIR
    /// alone run the program as nobody, as the host runs it. A second run changes nothing.
    @Test func aRootfsBottleRunsInAChrootAndFromScratchWithNoEntry() throws {
        let rig = try BottleRig("bottle-rootfs")
        defer { rig.dir.remove() }
        let program = try rig.compile("probe", rootProbe)
        let root = rig.dir.path + "/root"
        let made = try rig.bottle([program, "--rootfs", "--interpreter", SealFormat.runbottlePath, "-o", root])
        #expect(made.succeeded, "\(made)")
        #expect(made.stdout.hasPrefix("added     usr/libexec/runbottle\nadded     tmp\n"), "\(made)")
        #expect(made.stdout.hasSuffix("bottle \(root): 5 added, 0 replaced, 0 unchanged (programs: PT_INTERP dispatch through /usr/libexec/runbottle)\n"), "\(made)")
        #expect(FileManager.default.contents(atPath: root + "/usr/libexec/runbottle") == FileManager.default.contents(atPath: rig.runbottle))
        var st = stat()
        #expect(stat(root + "/usr/libexec/runbottle", &st) == 0 && st.st_mode & 0o7777 == 0o755)
        #expect(stat(root + "/tmp", &st) == 0 && st.st_mode & 0o7777 == 0o1777, "tmp mode \(String(st.st_mode, radix: 8))")
        let manifest = try String(contentsOfFile: root + "/" + Bottler.manifestName, encoding: .utf8)
        #expect(manifest.contains("usr/libexec/runbottle\t\(Bottler.builtInRunbottle)\n"), "\(manifest)")
        // The note no BOTTLE entry matches: only PT_INTERP can start it.
        let (file, elf, _) = try Sealer.open(root + "/bin/probe")
        let state = try SealedState.read(file, elf)
        #expect(state.note?.type == .interp && state.slotContents == SealFormat.runbottlePath)

        let before = try rig.snapshot(root)
        let again = try rig.bottle([program, "--rootfs", "--interpreter", SealFormat.runbottlePath, "-o", root])
        #expect(again.stdout == "bottle \(root): 0 added, 0 replaced, 5 unchanged (programs: PT_INTERP dispatch through /usr/libexec/runbottle)\n", "\(again)")
        #expect(try rig.snapshot(root) == before)

        // A binfmt-reg with another runbottle replaces it; nothing but runbottle and tmp/ is added.
        let stale = try run(["sh", "-c", "printf x >> \(root)/usr/libexec/runbottle"])
        try #require(stale.succeeded, "\(stale)")
        let replaced = try rig.bottle([program, "--rootfs", "--interpreter", SealFormat.runbottlePath, "-o", root])
        #expect(replaced.stdout.hasPrefix("replaced  usr/libexec/runbottle\nbottle \(root): 0 added, 1 replaced, 4 unchanged"), "\(replaced)")
        #expect(try rig.snapshot(root) != before)
        #expect(FileManager.default.contents(atPath: root + "/usr/libexec/runbottle") == FileManager.default.contents(atPath: rig.runbottle))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == [Bottler.manifestName, "bin", "lib", "tmp", "usr"])

        let host = try run(["bash", "-c", "exec -a /bin/probe \(program)"])
        #expect(host.stdout == "hello argv0=/bin/probe tmp=writable\n", "\(host)")
        let chrooted = try run(["chroot", "--userspec=65534:65534", root, "/bin/probe"])
        #expect(chrooted.succeeded && chrooted.stdout == host.stdout, "\(chrooted)")

        // Docker FROM scratch, the image the bottle alone; removed on every exit path.
        let image = "binfmt-bottle-rootfs-\(getpid())"
        defer { _ = try? run(["sh", "-c", "docker rm -f \(image) >/dev/null 2>&1; docker rmi -f \(image) >/dev/null 2>&1"]) }
        try "FROM scratch\nCOPY . /\n".write(toFile: rig.dir.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try run(["docker", "build", "-q", "-f", rig.dir.path + "/Dockerfile", "-t", image, root])
        try #require(built.succeeded, "docker build: \(built)")
        let contained = try run(["docker", "run", "--rm", "--name", image, "--user", "65534:65534", image, "/bin/probe"])
        #expect(contained.succeeded && contained.stdout == host.stdout, "\(contained)")
    }

    /// binfmt-reg(8)'s example of a whole root, run as it is written (binfmt-reg the built one,
    /// the image's tag made unique): jq answers from the image and from the chroot as the host's
    /// jq does.
    @Test func theManPageExampleRuns() throws {
        let work = try TemporaryDirectory("bottle-rootfs-example")
        defer { work.remove() }
        let page = try String(contentsOfFile: Repository.path("man/binfmt-reg.8"), encoding: .utf8)
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("A whole root that needs nothing from the host") })
        let ex = try #require(lines[start...].firstIndex(of: ".EX"))
        let ee = try #require(lines[ex...].firstIndex(of: ".EE"))
        let tag = "binfmt-bottle-example-\(getpid()):latest"
        defer { _ = try? run(["docker", "rmi", "-f", tag]) }
        let example = lines[(ex + 1)..<ee].joined(separator: "\n")
            .replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\(aq", with: "'")
            .replacingOccurrences(of: "\\e", with: "\\").replacingOccurrences(of: "jq:bottle", with: tag)
        try FileManager.default.createSymbolicLink(atPath: work.file("binfmt-reg"), withDestinationPath: try BuiltTools.binfmtReg())
        let ran = try run(["bash", "-ec", "cd \(work.path)\n" + example],
                          environment: ["PATH": work.path + ":/usr/sbin:/usr/bin:/sbin:/bin"])
        // What the host's jq answers to the same two questions.
        let host = try run(["bash", "-c", "echo '{\"answer\": 42}' | jq .answer && jq -n 1+1"])
        #expect(host.succeeded && host.stdout == "42\n2\n", "\(host)")
        #expect(ran.succeeded && ran.stdout.hasSuffix("\n" + host.stdout), "\(example)\n\(ran)")
    }

    /// With --dispatch binfmt the root holds runbottle too, as the PT_INTERP fallback: in a
    /// private binfmt_misc instance with no entry, the chroot still runs the program. A custom
    /// --interpreter puts runbottle at that path.
    @Test func aBinfmtRootfsBottleFallsBackToPTInterp() throws {
        let rig = try BottleRig("bottle-rootfs-binfmt")
        defer { rig.dir.remove() }
        let program = try rig.compile("probe", rootProbe)
        let root = rig.dir.path + "/root"
        let made = try rig.bottle([program, "--rootfs", "--dispatch", "binfmt", "--interpreter", "/opt/rb/runbottle", "-o", root])
        #expect(made.succeeded && made.stdout.hasPrefix("added     opt/rb/runbottle\n"), "\(made)")
        #expect(FileManager.default.contents(atPath: root + "/opt/rb/runbottle") == FileManager.default.contents(atPath: rig.runbottle))
        let ran = try inPrivateBinfmt("""
            test -z "$(ls /proc/sys/fs/binfmt_misc | grep -v -x -e register -e status)"
            chroot \(root) /bin/probe
            """)
        #expect(ran.succeeded && ran.stdout == "hello argv0=/bin/probe tmp=writable\n", "\(ran)")
    }
}
