// The test programs: real C files under Tests/Fixtures/c, compiled by the tests that run them,
// rather than sources written inside Swift strings.
import Foundation

public enum Fixture {
    /// The text of Tests/Fixtures/c/`name`. A missing fixture is a broken checkout: its text is
    /// then an #error naming the file, so the tests compiling it fail saying why, and only they.
    public static func source(_ name: String) -> String {
        let path = Repository.path("Tests/Fixtures/c/" + name)
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? "#error missing test fixture \(path)\n"
    }
}
