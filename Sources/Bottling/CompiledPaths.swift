// The absolute paths compiled into a bottle's programs and libraries (helpers, data, configuration:
// /usr/lib/git-core, /usr/share/perl/5.36, /etc/ssl/certs) that exist here and that the bottle
// does not hold at that path: what a program may miss in a chroot or an image of the bottle.
import ELFEngine
import Glibc
import LinuxOS

/// One compiled-in path the bottle does not hold.
public struct CompiledPath: Sendable, Equatable {
    /// The bottle file whose read-only data names it (bin/git, lib/libperl.so.5.36).
    public var file: String
    /// The path, absolute, a directory or file that exists on this machine.
    public var path: String
}

enum CompiledPaths {
    /// The trees whose paths a program's data and configuration live under.
    static let prefixes = ["usr/", "etc/", "var/", "opt/"].map { Array($0.utf8) }

    /// Paths that name no program's own files, or that a bottle should take from wherever it runs:
    /// - the loader's cache and configuration: the bottle's loader finds every library through
    ///   DT_RPATH;
    /// - the system's identity, users and name service, which the host, a container runtime or
    ///   the image's maker provides (libc names them all);
    /// - locales, translations, character sets and time zones: the C locale and UTC are built
    ///   into libc, and a program that needs more says so by its own path;
    /// - separate debug information (gdb and binutils name /usr/lib/debug): never needed to run.
    /// A pattern matches the path and everything below it (fnmatch, `*` within one name).
    static let ignored = [
        "/etc/ld.so.*",
        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/.pwd.lock", "/etc/hosts",
        "/etc/hostname", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
        "/etc/services", "/etc/protocols", "/etc/networks", "/etc/rpc", "/etc/ethers", "/etc/netgroup",
        "/etc/localtime", "/etc/timezone", "/etc/mtab", "/etc/fstab", "/etc/shells", "/var/log/*tmp",
        "/var/log/lastlog", "/var/run/*", "/var/mail/*", "/var/spool/mail",
        "/usr/lib/locale", "/usr/share/locale", "/usr/share/i18n", "/usr/lib/*/gconv", "/usr/share/zoneinfo",
        "/usr/lib/debug",
    ]

    /// The compiled-in paths of the bottle's programs and libraries (not of --include trees, which
    /// may hold thousands of files) that exist here and that no entry of `plan` holds, one per
    /// path: the first file naming it, and only the outermost of nested paths.
    static func unheld(in plan: BottlePlan) -> [CompiledPath] {
        let held = Set(plan.entries.map(\.path))
        var found: [CompiledPath] = []
        var seen = Set<String>()
        for entry in plan.entries where entry.tree == nil {
            guard let source = entry.source, scanned(entry) else { continue }
            for path in Self.paths(in: source) where !seen.contains(path) {
                seen.insert(path)
                if isLayout(path) || isIgnored(path) || isHeld(path, held) || !exists(path) { continue }
                found.append(CompiledPath(file: entry.path, path: path))
            }
        }
        let paths = Set(found.map(\.path))
        return found.filter { item in !paths.contains { item.path.hasPrefix($0 + "/") } }
    }

    /// Programs (a statically linked one is a plain file in bin/) and libraries; not the loader,
    /// whose only paths are its own cache and configuration.
    private static func scanned(_ entry: BottleEntry) -> Bool {
        switch entry.kind {
        case .program, .library: return true
        case .file: return entry.path.hasPrefix("bin/")
        default: return false
        }
    }

    /// A directory of the file system's own layout, never one program's data: /usr/bin, /usr/lib,
    /// /usr/local/share, /usr/lib/x86_64-linux-gnu, /var/tmp (the loader's and PATH's directories,
    /// which no bottle includes whole).
    static func isLayout(_ path: String) -> Bool {
        let names = path.split(separator: "/")
        guard let top = names.first, names.count > 1 else { return true }
        if top == "usr" && names.count == 3 && (names[1] == "local" || names[2].contains("-linux-")) { return true }
        if top == "usr" && names.count == 4 && names[1] == "local" && names[3].contains("-linux-") { return true }
        return names.count == 2 && (top == "usr" || top == "var")
    }

    static func isIgnored(_ path: String) -> Bool {
        ignored.contains { fnmatch($0, path, FNM_PATHNAME) == 0 || fnmatch($0 + "/*", path, 0) == 0 }
    }

    /// Held when the bottle has an entry at the path (inside DIR, where a chroot or an image of the
    /// bottle finds it) or below it (part of a directory brought in on purpose).
    private static func isHeld(_ path: String, _ held: Set<String>) -> Bool {
        let relative = String(path.dropFirst())
        return held.contains(relative) || held.contains { $0.hasPrefix(relative + "/") }
    }

    private static func exists(_ path: String) -> Bool {
        (try? FileSystem.status(of: path)) != nil
    }

    /// The absolute paths under /usr, /etc, /var and /opt that begin a string in the read-only
    /// data of the ELF file at `path` (its PT_LOADs that are neither writable nor executable, or
    /// where the linker made none, the ones that are not writable), normalized: no trailing
    /// slash, no `.`, `..` or empty names. An unreadable file has none: the scan only informs.
    static func paths(in path: String) -> [String] {
        guard let file = try? ELFFile(path: path), let image = try? ELFImage.parse(file) else { return [] }
        let loads = image.loads.filter { $0.p_flags & ELF.PF_W == 0 }
        let data = loads.filter { $0.p_flags & ELF.PF_X == 0 }
        var found: [String] = []
        var seen = Set<String>()
        for segment in data.isEmpty ? loads : data {
            for string in strings(file, from: segment.p_offset, count: segment.p_filesz) where seen.insert(string).inserted {
                found.append(string)
            }
        }
        return found
    }

    /// The longest path a string may be (PATH_MAX): also how far chunks overlap, so that a string
    /// across a chunk boundary is read whole.
    private static let longest = 4096

    /// The candidate paths among the bytes [offset, offset + count) of `file`, read 1 MiB at a time.
    private static func strings(_ file: ELFFile, from offset: UInt64, count: UInt64) -> [String] {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, end <= file.size else { return [] }
        let chunk = UInt64(ELFFile.maxRead - longest)
        var found: [String] = []
        var start = offset
        // Strings begin after a NUL; the byte before a chunk is the previous chunk's last.
        var before: UInt8 = 0
        while start < end {
            let length = Int(min(end - start, chunk + UInt64(longest)))
            guard let bytes = try? file.read(at: start, count: length, .readOnlySegment) else { return found }
            let scanned = min(Int(min(end - start, chunk)), bytes.count)
            // memchr finds the slashes: a segment may be tens of megabytes (libnode, libjvm).
            let slashes: [Int] = bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return [] }
                var at: [Int] = [], i = 0
                while i < scanned, let hit = memchr(base + i, Int32(UInt8(ascii: "/")), scanned - i) {
                    let index = base.distance(to: UnsafeRawPointer(hit))
                    if (index == 0 ? before : raw[index - 1]) == 0 { at.append(index) }
                    i = index + 1
                }
                return at
            }
            found += slashes.compactMap { candidate(bytes, at: $0) }
            if scanned > 0 { before = bytes[scanned - 1] }
            start += chunk
        }
        return found
    }

    /// The path beginning at `bytes[at]` (a slash), if it is under one of the prefixes: the
    /// longest run of path characters, normalized.
    private static func candidate(_ bytes: [UInt8], at: Int) -> String? {
        let rest = bytes[(at + 1)...]
        guard prefixes.contains(where: { rest.starts(with: $0) }) else { return nil }
        var end = at + 1
        while end < bytes.count, end - at < longest, isPathByte(bytes[end]) { end += 1 }
        let names = String(decoding: bytes[at..<end], as: UTF8.self).split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let kept = names.reversed().drop { $0.isEmpty }.reversed()
        guard kept.count >= 2, !kept.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return nil }
        return "/" + kept.joined(separator: "/")
    }

    private static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }
}
