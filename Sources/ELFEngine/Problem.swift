// The one vocabulary of problems binfmt-reg reports (binfmt-reg(8), PROBLEM CODES): the libraries
// return these codes with their errors and findings; the JSON documents carry them as they are.
import SystemPackage

/// A problem's kind, stable across releases: scripts match on it, never on the message.
public enum ProblemCode: String, Sendable, Codable, CaseIterable {
    // Files and ELF images (seal, unseal, relocate, inspect, bottle).
    case notFound = "not-found"
    case permissionDenied = "permission-denied"
    case systemError = "system-error"
    case notRegularFile = "not-regular-file"
    case notELF = "not-elf"
    case truncated
    case corruptELF = "corrupt-elf"
    case foreignMachine = "foreign-machine"
    case staticExecutable = "static-executable"
    case sharedLibrary = "shared-library"
    case notExecutable = "not-executable"
    case unsupportedLayout = "unsupported-layout"
    case loaderNotFound = "loader-not-found"
    case badLoaderPath = "bad-loader-path"
    case badInterpreter = "bad-interpreter"
    case alreadySealed = "already-sealed"
    case notSealed = "not-sealed"
    case damagedSeal = "damaged-seal"
    case hardLinks = "hard-links"
    case changedMeanwhile = "changed-meanwhile"
    case verificationFailed = "verification-failed"
    case staleSlot = "stale-slot"
    case bottleFailed = "bottle-failed"
    // binfmt_misc, the entries and their files (install, uninstall, enable, disable, status).
    case binfmtMiscNotAvailable = "binfmt-misc-not-available"
    case binfmtMiscNotMounted = "binfmt-misc-not-mounted"
    case binfmtMiscDisabled = "binfmt-misc-disabled"
    case invalidRegistration = "invalid-registration"
    case entryNotOurs = "entry-not-ours"
    case entryNotRegistered = "entry-not-registered"
    case entryDisabled = "entry-disabled"
    case entryWrongMatch = "entry-wrong-match"
    case entryWrongFlags = "entry-wrong-flags"
    case interpreterMissing = "interpreter-missing"
    case interpreterCapability = "interpreter-capability"
    case persistenceMissing = "persistence-missing"
    case persistenceMasked = "persistence-masked"
    case persistenceDiffers = "persistence-differs"
    case conflictingEntry = "conflicting-entry"
    case canaryFailed = "canary-failed"
    case notRestored = "not-restored"
    case operationFailed = "operation-failed"
}

extension ProblemCode {
    /// A failed system call's code: the two errors a person can act on, then the rest.
    public init(errno: Errno) {
        switch errno {
        case .noSuchFileOrDirectory: self = .notFound
        case .permissionDenied, .notPermitted: self = .permissionDenied
        default: self = .systemError
        }
    }
}

/// One problem: its code, the sentence binfmt-reg prints for it, and the file it concerns. The
/// libraries never make one: binfmt-reg words their errors and findings into these.
public struct Problem: Sendable, Codable, Equatable {
    public var code: ProblemCode
    public var message: String
    public var path: String?

    public init(_ code: ProblemCode, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }
}

/// An error that knows its problem code: every error type the libraries throw. Its words are
/// binfmt-reg's.
public protocol ProblemError: Error {
    var code: ProblemCode { get }
}

extension ELFError: ProblemError {
    public var code: ProblemCode { reason.code }
}

extension ELFError.Reason {
    public var code: ProblemCode {
        switch self {
        case .system(_, let errno): return ProblemCode(errno: errno)
        case .notRegularFile: return .notRegularFile
        case .notELF: return .notELF
        case .truncated: return .truncated
        case .corrupt: return .corruptELF
        case .foreign, .noPort: return .foreignMachine
        case .staticExecutable: return .staticExecutable
        case .sharedLibrary: return .sharedLibrary
        case .notExecutable: return .notExecutable
        case .unsupportedLayout, .noteDoesNotFit: return .unsupportedLayout
        case .loaderNotFound: return .loaderNotFound
        case .badLoaderPath, .unusableLoader: return .badLoaderPath
        case .badInterpreter: return .badInterpreter
        case .alreadySealed: return .alreadySealed
        case .notSealed: return .notSealed
        case .damagedSeal: return .damagedSeal
        case .hardLinks: return .hardLinks
        case .changedMeanwhile: return .changedMeanwhile
        case .verificationFailed, .resultDoesNotParse: return .verificationFailed
        }
    }
}

/// An optional that JSON documents carry as null rather than leave out: every key of a document
/// is present in every state, so a consumer tells "unknown" from a key it misspelled.
@propertyWrapper
public struct NullIfAbsent<Value: Codable>: Codable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }
}

extension NullIfAbsent: Sendable where Value: Sendable {}
extension NullIfAbsent: Equatable where Value: Equatable {}
extension NullIfAbsent: Hashable where Value: Hashable {}

extension KeyedDecodingContainer {
    /// A document written before the key existed decodes as nil.
    public func decode<Value>(_ type: NullIfAbsent<Value>.Type, forKey key: Key) throws -> NullIfAbsent<Value> {
        try decodeIfPresent(type, forKey: key) ?? NullIfAbsent(wrappedValue: nil)
    }
}
