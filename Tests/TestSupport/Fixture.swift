// The test programs: real C files under Tests/Fixtures/c, compiled by the tests that run them,
// rather than sources written inside Swift strings.
import Foundation

public enum Fixture {
    /// The text of Tests/Fixtures/c/`name`. A missing fixture is a broken checkout: its text is
    /// then an #error naming the file, so the tests compiling it fail saying why, and only they.
    public static func source(_ name: String) -> String {
        let file = path(name)
        return (try? String(contentsOfFile: file, encoding: .utf8)) ?? "#error missing test fixture \(file)\n"
    }

    /// The path of Tests/Fixtures/c/`name`, for a compiler to read where it is.
    public static func path(_ name: String) -> String { Repository.path("Tests/Fixtures/c/" + name) }
}
