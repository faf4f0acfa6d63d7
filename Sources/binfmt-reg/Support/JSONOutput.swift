// The JSON document every command prints under --json (binfmt-reg(8), JSON OUTPUT; its schema is
// man/binfmt-reg.schema.json), and the one place that ends a command: document, exit status.
import ArgumentParser
import ELFEngine
import FoundationEssentials

/// The envelope: schemaVersion, command, ok and problems beside the command's own keys.
struct JSONDocument<Body: Encodable>: Encodable {
    /// Bumped when a key changes meaning or goes away; new keys keep it.
    static var schemaVersion: Int { 1 }

    var command: String
    var problems: [Problem]
    var body: Body

    private enum Key: String, CodingKey { case schemaVersion, command, ok, problems }

    /// The body's keys and the envelope's share one object.
    func encode(to encoder: Encoder) throws {
        try body.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(Self.schemaVersion, forKey: .schemaVersion)
        try container.encode(command, forKey: .command)
        try container.encode(problems.isEmpty, forKey: .ok)
        try container.encode(problems, forKey: .problems)
    }
}

/// How one command run ends: under --json its document on stdout (and nothing on stderr), and
/// exit status 1 whenever it found a problem.
struct CommandEnd {
    var command: String
    var json: Bool

    /// Prints the document under --json; a problem makes the exit status 1.
    func finish<Body: Encodable>(_ body: Body, problems: [Problem] = []) throws {
        if json { print(try Self.encode(JSONDocument(command: command, problems: problems, body: body))) }
        if !problems.isEmpty { throw ExitCode(1) }
    }

    /// Runs `work` and finishes with what it returns. An error it throws is one problem: a line
    /// `binfmt-reg: <message>` on stderr, or under --json the document with `failed` as the body.
    func run<Body: Encodable>(failed: Body, _ work: () throws -> (Body, [Problem])) throws {
        let outcome: (body: Body, problems: [Problem])
        do {
            outcome = try work()
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            let problem = Problem(for: error)
            if !json { Output.errorLine("binfmt-reg: \(problem.message)") }
            outcome = (failed, [problem])
        }
        try finish(outcome.body, problems: outcome.problems)
    }

    /// Pretty, keys sorted, slashes as they are.
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// --json: one flag, one help text, on every command.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print one JSON document on stdout (binfmt-reg(8), JSON OUTPUT); nothing on stderr.")
    var json = false
}

/// The body of the commands that report what they changed (uninstall, enable, disable).
struct ChangeList: Encodable {
    var changes: [String]
}
