// The C core's privilege rule: which owners and modes a privileged program's loader may have.
import RunbottleCore
import Testing

@Test func trustsOnlyRootOwnedUnwritableFiles() {
    #expect(rb_trusted_owner_mode(0, 0o40755) == 1)
    #expect(rb_trusted_owner_mode(0, 0o100755) == 1)
    #expect(rb_trusted_owner_mode(1000, 0o100755) == 0)
    #expect(rb_trusted_owner_mode(0, 0o40775) == 0)
    #expect(rb_trusted_owner_mode(0, 0o41777) == 0)
}
