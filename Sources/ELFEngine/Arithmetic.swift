// Overflow-checked arithmetic on file offsets and addresses, which come from untrusted input.

/// `a + b`, or nil on overflow.
func checkedAdd(_ a: UInt64, _ b: UInt64) -> UInt64? {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? nil : sum
}

/// `value` rounded up to a multiple of `alignment` (a power of two), or nil on overflow.
func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64? {
    checkedAdd(value, alignment - 1).map { $0 & ~(alignment - 1) }
}
