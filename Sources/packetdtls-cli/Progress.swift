// Progress.swift — "done of total" on stderr while a long bench runs, for a person watching.
//
// Only when stderr is a terminal: a script reading the output (scripts/bench) gets the result
// lines alone. The line is redrawn in place at most four times a second and erased at the end.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct Progress {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private let startedMs: UInt64
    private var shownMs: UInt64 = 0
    private var shown = false

    init(_ label: String, total: Int) {
        self.label = label
        self.total = total
        enabled = isatty(2) == 1
        startedMs = Clock.nowMs()
    }

    /// Redraws the line with `done` of `total`, unless it was drawn less than 250 ms ago.
    mutating func update(_ done: Int) {
        guard enabled else { return }
        let now = Clock.nowMs()
        guard now - startedMs >= 250, now - shownMs >= 250 else { return }
        shownMs = now
        shown = true
        let elapsed = Double(now - startedMs) / 1000
        var line = "\r\(label): \(done) of \(total) (\(done * 100 / max(total, 1))%), \(BenchLine.fixed(elapsed, 1)) s"
        if done > 0, done < total {
            line += ", about \(BenchLine.fixed(elapsed / Double(done) * Double(total - done), 0)) s left"
        }
        Self.write(line + "\u{1B}[K")
    }

    /// Erases the line, so the result that follows stands alone.
    func finish() {
        if shown { Self.write("\r\u{1B}[K") }
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}
