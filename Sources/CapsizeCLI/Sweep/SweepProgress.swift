public import ArgumentParser
import Foundation
import Reports
public import Studies

/// A sweep's progress on the terminal: a bar on standard error while a point runs (when it is a terminal), and its
/// lines on standard output (unless the output is JSON): the header, each memory setting, each finished sample.
final class SweepProgress {
    let request: SweepRequest
    let quiet: Bool
    private var done = 0
    private let terminal = isatty(2) == 1

    init(_ request: SweepRequest, quiet: Bool) {
        self.request = request
        self.quiet = quiet
    }

    func show(_ event: SweepEvent) {
        switch event {
        case .starting(let memoryMB, let size, let repetition, let repeats):
            guard terminal else { return }
            let filled = min(20, done % 21)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
            FileHandle.standardError.write(
                Data(
                    "\r[\(bar)] \(done) sample(s) · \(memoryMB) MB · size \(size) · rep \(repetition + 1)/\(repeats) running\u{1B}[K"
                        .utf8))
        case .sample:
            done += 1
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        case .started, .series:
            break
        }
        if !quiet, let line = SweepText.line(event, request: request, hints: .commandLine) { say(line) }
    }
}

extension SweepExecutor: ExpressibleByArgument {}
