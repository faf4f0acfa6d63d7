// libFuzzer target: every ELF engine parser on an arbitrary file (FuzzHarness.elf).
import FuzzHarness
import LibFuzzerDriver
import Glibc

nonisolated(unsafe) private let scratch = FuzzHarness.scratchFile()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzELF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarness.elf(UnsafeBufferPointer(start: data, count: size), scratch: scratch)
    return 0
}

exit(runLibFuzzer(fuzzELF))
