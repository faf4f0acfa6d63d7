// The runbottle interpreter, built freestanding by the BuildRunbottle plugin and carried inside
// binfmt-reg, so that one file is all a container image needs.
import FoundationEssentials

public enum RunbottleImage {
    /// The bytes of the runbottle executable built with this package.
    public static let bytes: [UInt8] = {
        guard let data = Data(base64Encoded: runbottleImageBase64) else {
            preconditionFailure("the generated runbottle image is not valid base64")
        }
        return [UInt8](data)
    }()
}
