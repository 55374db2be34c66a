import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The bench's progress on standard error: a bar redrawn in place on a terminal, a line every
/// few seconds otherwise (a log file, CI), so a long run shows it is alive.
final class BenchProgress: Sendable {
    private let task: Task<Void, Never>
    private let isTerminal: Bool
    private let line: @Sendable () -> String

    /// `done` is read from another task while the run goes on; `total` nil: no bar, a count.
    init(label: String, total: Int?, unit: String = "messages", done: @escaping @Sendable () -> Int) {
        let isTerminal = isatty(STDERR_FILENO) == 1
        let started = ContinuousClock.now
        let line: @Sendable () -> String = {
            let count = done()
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let rate = seconds > 0 ? Double(count) / seconds : 0
            var text = "\(label): "
            if let total, total > 0 {
                let width = 30
                let filled = min(width, count * width / total)
                if isTerminal { text += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] " }
                text += "\(count)/\(total) \(unit)"
            } else {
                text += "\(count) \(unit)"
            }
            return text + String(format: ", %.1f/s, %.0f s", rate, seconds)
        }
        self.isTerminal = isTerminal
        self.line = line
        task = Task {
            let interval: Duration = isTerminal ? .milliseconds(250) : .seconds(5)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { break }
                Self.write(isTerminal ? "\r" + line() + "\u{1B}[K" : line() + "\n")
            }
        }
    }

    /// Stops the updates; on a terminal the last state stays on its line.
    func stop() {
        task.cancel()
        if isTerminal { Self.write("\r" + line() + "\u{1B}[K\n") }
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
