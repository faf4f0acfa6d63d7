// The C core's privilege rules: file capabilities decoded from the xattr, and trusted owners.
import RunbottleCore
import Testing

private func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

@Test func decodesFileCapabilityRevisions() {
    // cap_checkpoint_restore (40) is bit 8 of the second half.
    let rev2 = le32(0x0200_0001) + le32(0x0020_0000) + le32(0) + le32(1 << 8) + le32(0)
    #expect(rb_vfs_cap_permitted(rev2, rev2.count) == (1 << 21) | (1 << 40))
    let rev3 = le32(0x0300_0000) + le32(1) + le32(0) + le32(0) + le32(0) + le32(1000)
    #expect(rb_vfs_cap_permitted(rev3, rev3.count) == 1)
    let rev1 = le32(0x0100_0000) + le32(0x40) + le32(0)
    #expect(rb_vfs_cap_permitted(rev1, rev1.count) == 0x40)
    #expect(rb_vfs_cap_permitted(rev2, rev2.count - 1) == 0)
    #expect(rb_vfs_cap_permitted(le32(0x0400_0000) + le32(1) + le32(0) + le32(0) + le32(0), 20) == 0)
    #expect(rb_vfs_cap_permitted([1, 2], 2) == 0)
}

@Test func trustsOnlyRootOwnedUnwritableFiles() {
    #expect(rb_trusted_owner_mode(0, 0o40755) == 1)
    #expect(rb_trusted_owner_mode(0, 0o100755) == 1)
    #expect(rb_trusted_owner_mode(1000, 0o100755) == 0)
    #expect(rb_trusted_owner_mode(0, 0o40775) == 0)
    #expect(rb_trusted_owner_mode(0, 0o41777) == 0)
}
