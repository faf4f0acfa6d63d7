// The status canary's two files, built by Sources/canary/build.sh beside runbottle: a sealed-to-be
// program and the freestanding loader that reports what runbottle handed it.
import FoundationEssentials

public enum CanaryImage {
    /// The canary loader (static-pie): prints argv, auxv, /proc/self/exe and friends, exits 0.
    public static let loader: [UInt8] = decode(canaryLoaderBase64)
    /// The canary program (a PIE with a PT_INTERP), to be sealed with loader "canary-loader".
    public static let program: [UInt8] = decode(canaryProgramBase64)

    private static func decode(_ text: String) -> [UInt8] {
        guard let data = Data(base64Encoded: text) else {
            preconditionFailure("the generated canary image is not valid base64")
        }
        return [UInt8](data)
    }
}
