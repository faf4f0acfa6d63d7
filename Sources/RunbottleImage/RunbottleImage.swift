// The runbottle interpreter, built freestanding by the BuildRunbottle plugin and carried inside
// binfmt-reg, so that one file is all a container image needs.
import FoundationEssentials

public enum RunbottleImage {
    /// The bytes of the runbottle executable built with this package.
    public static let bytes: [UInt8] = decode(runbottleImageBase64)

    /// The other ports' runbottle, cross-built beside it for their trampolines only (bottle(5)).
    public static let otherPorts: [[UInt8]] = runbottleOtherPortsBase64.map(decode)

    private static func decode(_ text: String) -> [UInt8] {
        guard let data = Data(base64Encoded: text) else {
            preconditionFailure("the generated runbottle image is not valid base64")
        }
        return [UInt8](data)
    }
}
