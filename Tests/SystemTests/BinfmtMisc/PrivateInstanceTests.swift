// The test harness's private binfmt_misc instance really is private and empty.
import TestSupport
import Testing

@Test func privateInstanceStartsEmptyAndEnabled() throws {
    let result = try inPrivateBinfmt("cat /proc/sys/fs/binfmt_misc/status; ls /proc/sys/fs/binfmt_misc")
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout == "enabled\nregister\nstatus\n")
}
