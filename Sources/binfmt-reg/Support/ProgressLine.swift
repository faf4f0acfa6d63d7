// A one-line progress display on stderr, shown only when stderr is a terminal.
import LinuxOS
import SystemPackage

struct ProgressLine {
    private let enabled: Bool
    private let total: Int
    private var lastDraw: ContinuousClock.Instant?
    private var visible = false

    /// Shows progress for `total` items when stderr is a terminal and there are at least
    /// `minimum` of them.
    init(total: Int, minimum: Int = 20) {
        self.total = total
        enabled = !Output.quiet && FileDescriptor.standardError.isTerminal && total >= minimum
    }

    /// Redraws "[done/total] label", at most ten times a second.
    mutating func update(done: Int, label: String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard lastDraw.map({ now - $0 >= .milliseconds(100) }) ?? true || done == total else { return }
        lastDraw = now
        let width = FileDescriptor.standardError.terminalColumns.flatMap { $0 > 20 ? $0 : nil } ?? 80
        var line = "[\(done)/\(total)] \(label)"
        if line.count >= width { line = String(line.prefix(width - 2)) + "…" }
        Output.standardError("\r\u{1B}[K" + line)
        visible = true
    }

    /// Erases the line, before other output and at the end.
    mutating func clear() {
        guard visible else { return }
        Output.standardError("\r\u{1B}[K")
        visible = false
    }
}
