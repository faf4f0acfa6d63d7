// File capabilities through libcap (cap_from_text, cap_set_file, cap_get_file): status reports a
// capability left on runbottle by an earlier version, and which capabilities the kernel knows.
import CLibcap
import Glibc
import SystemPackage

public enum FileCapability {
    /// CAP_CHECKPOINT_RESTORE's number; kernels whose cap_last_cap is lower lack it.
    public static let checkpointRestoreNumber = 40

    /// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
    public static func kernelLastCapability() -> Int? {
        guard let fd = try? FileDescriptor.open("/proc/sys/kernel/cap_last_cap", .readOnly) else {
            return nil
        }
        defer { try? fd.close() }
        var buffer = [UInt8](repeating: 0, count: 16)
        guard let count = try? buffer.withUnsafeMutableBytes({ try fd.read(into: $0) }) else { return nil }
        return Int(String(decoding: buffer[0..<count].filter { (0x30...0x39).contains($0) }, as: UTF8.self))
    }

    /// The file's capability in cap_to_text form ("cap_checkpoint_restore=ep"), nil if it has none.
    public static func get(_ path: String) throws(BinfmtMiscError) -> String? {
        guard let caps = cap_get_file(path) else {
            let error = Errno(rawValue: errno)
            if error == Errno(rawValue: ENODATA) { return nil }
            throw .from(error, path: path, what: .readCapability)
        }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        guard let text = cap_to_text(caps, nil) else {
            throw .failed(path: path, what: .readCapability, reason: .capabilityText)
        }
        defer { cap_free(text) }
        let result = String(cString: text)
        // libcap renders an empty set as "=" (or an empty string).
        return result == "=" || result.isEmpty ? nil : result
    }

    /// Sets the file's capability (nil removes it).
    public static func set(_ path: String, _ text: String?) throws(BinfmtMiscError) {
        guard let text else {
            // libcap removes the capability when given no set.
            if cap_set_file(path, nil) != 0 && errno != ENODATA {
                throw .from(Errno(rawValue: errno), path: path, what: .removeCapability)
            }
            return
        }
        try withCapability(text, path) { caps in cap_set_file(path, caps) }
    }

    /// Sets the capability of the file open as `fd`, named `path` in errors.
    static func set(_ fd: FileDescriptor, _ path: String, _ text: String) throws(BinfmtMiscError) {
        try withCapability(text, path) { caps in cap_set_fd(fd.rawValue, caps) }
    }

    private static func withCapability(
        _ text: String, _ path: String, _ apply: (cap_t) -> Int32
    ) throws(BinfmtMiscError) {
        guard let caps = cap_from_text(text) else {
            throw .failed(path: path, what: .setCapability(nil), reason: .capabilityUnparsable(text))
        }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        if apply(caps) != 0 {
            throw .from(Errno(rawValue: errno), path: path, what: .setCapability(text))
        }
    }
}
