// The C core's path logic: the loader beside the binary, and symlink resolution without /proc,
// driven by a fake file system of symlinks.
import Foundation
import RunbottleCore
import Testing

private func sibling(_ path: String, _ rel: String, size: Int = 4096) -> String? {
    var out = [CChar](repeating: 0, count: size)
    let n = rb_path_sibling(path, rel, &out, size)
    return n < 0 ? nil : String(cString: out)
}

@Test func placesTheLoaderBesideTheBinary() {
    #expect(sibling("/b/bin/prog", "../lib/ld.so") == "/b/bin/../lib/ld.so")
    #expect(sibling("/prog", "ld.so") == "/ld.so")
    #expect(sibling("prog", "ld.so") == "./ld.so")
    #expect(sibling("/b/bin/prog", "../lib/ld.so", size: 19) == nil)
}

/// A file system of symlinks: path -> target; "missing" paths give ENOENT; others are files.
private final class FakeLinks {
    var links: [String: String]
    var missing: Set<String>
    var calls = 0
    init(_ links: [String: String], missing: Set<String> = []) { self.links = links; self.missing = missing }
}

private func resolve(_ path: String, cwd: String = "/home/u", _ fs: FakeLinks) -> (Int64, String) {
    var out = [CChar](repeating: 0, count: 4096)
    let ctx = Unmanaged.passUnretained(fs).toOpaque()
    let n = rb_path_resolve(cwd, path, { ctx, path, buf, size in
        let fs = Unmanaged<FakeLinks>.fromOpaque(ctx!).takeUnretainedValue()
        fs.calls += 1
        let p = String(cString: path!)
        if fs.missing.contains(p) { return -Int64(ENOENT) }
        guard let target = fs.links[p] else { return -Int64(EINVAL) }
        let bytes = Array(target.utf8)
        for (i, b) in bytes.prefix(size).enumerated() { buf![i] = CChar(bitPattern: b) }
        return Int64(bytes.count)
    }, ctx, &out)
    return (n, n < 0 ? "" : String(cString: out))
}

@Test func resolvesRelativePathsAgainstTheWorkingDirectory() {
    let fs = FakeLinks([:])
    #expect(resolve("./b/../bin//prog", fs) == (16, "/home/u/bin/prog"))
    #expect(resolve("../../../x", fs).1 == "/x")
    #expect(resolve("/", fs).1 == "/")
}

@Test func followsSymlinksComponentByComponent() {
    let fs = FakeLinks([
        "/home/u/link": "bottle/bin/prog",          // relative to the link's directory
        "/home/u/bottle": "/opt/bottle",            // absolute
        "/opt/bottle/bin/prog": "../libexec/prog",  // a link to a link's sibling
    ])
    #expect(resolve("link", fs).1 == "/opt/bottle/libexec/prog")
    #expect(resolve("/home/u/bottle/bin/../lib", fs).1 == "/opt/bottle/lib")
}

@Test func stopsOnSymlinkCyclesAndMissingFiles() {
    let cycle = FakeLinks(["/a": "/b", "/b": "/a"])
    #expect(resolve("/a", cycle).0 == -Int64(ELOOP))
    #expect(cycle.calls <= 42)
    let missing = FakeLinks([:], missing: ["/home/u/nope"])
    #expect(resolve("nope/prog", missing).0 == -Int64(ENOENT))
    #expect(resolve("", missing).0 == -Int64(ENOENT))
    #expect(resolve("x", cwd: "relative", missing).0 == -Int64(ENOENT))
}

@Test func refusesPathsThatGrowTooLong() {
    let long = String(repeating: "d/", count: 2100)
    #expect(resolve(long, FakeLinks([:])).0 == -Int64(ENAMETOOLONG))
    let bomb = FakeLinks(["/x": String(repeating: "y", count: 4000)])
    #expect(resolve("/x/" + String(repeating: "z", count: 4000), bomb).0 == -Int64(ENAMETOOLONG))
}
