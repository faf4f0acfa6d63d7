// A one-line progress display on stderr, shown only when stderr is a terminal.
import Glibc

struct ProgressLine {
    private let enabled: Bool
    private let total: Int
    private var lastDraw: timespec = timespec()
    private var visible = false

    /// Shows progress for `total` items when stderr is a terminal and there are at least
    /// `minimum` of them.
    init(total: Int, minimum: Int = 20) {
        self.total = total
        enabled = !Output.quiet && isatty(STDERR_FILENO) == 1 && total >= minimum
    }

    /// Redraws "[done/total] label", at most ten times a second.
    mutating func update(done: Int, label: String) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let elapsed = Double(now.tv_sec - lastDraw.tv_sec) + Double(now.tv_nsec - lastDraw.tv_nsec) / 1e9
        guard elapsed >= 0.1 || done == total else { return }
        lastDraw = now
        var columns = winsize()
        let width = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &columns) == 0 && columns.ws_col > 20 ? Int(columns.ws_col) : 80
        var line = "[\(done)/\(total)] \(label)"
        if line.count >= width { line = String(line.prefix(width - 2)) + "…" }
        write("\r\u{1B}[K" + line)
        visible = true
    }

    /// Erases the line, before other output and at the end.
    mutating func clear() {
        guard visible else { return }
        write("\r\u{1B}[K")
        visible = false
    }

    private func write(_ text: String) { Output.standardError(text) }
}
