// libFuzzer target: the registration line and entry status parsers (FuzzHarness.registration).
import FuzzHarness
import LibFuzzerDriver
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistration(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarness.registration(UnsafeBufferPointer(start: data, count: size))
    return 0
}

exit(runLibFuzzer(fuzzRegistration))
