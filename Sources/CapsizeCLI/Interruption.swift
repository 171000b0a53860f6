import ArgumentParser
import Dispatch
import Foundation
import Studies
import Synchronization

/// A command that stops cleanly when its task is cancelled: its run is marked interrupted, resumable, and it ends
/// with `StudyFailure.interrupted`. Other commands (a calibration, a recommendation) end at a signal as any program
/// does: a half-made profile must not become a recommendation.
protocol InterruptibleCommand: AsyncParsableCommand {}

/// SIGINT, SIGTERM and SIGHUP stop an `InterruptibleCommand` without losing what it finished: the first one cancels the command's
/// task, so that no new work starts and the work in flight ends as interrupted (its run stays resumable); a second
/// one ends capsize at once. A SIGINT ignored when capsize started (a script's `capsize … &`) stays ignored, as a
/// shell leaves it.
enum Interruption {
    /// The signal that interrupted the command; 0 while none has.
    private static let received = Atomic<Int32>(0)

    static var signal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// The exit code of an interrupted command, whichever signal it was (the README lists it).
    static let exitCode: Int32 = 130

    /// Runs `body` in a task of its own that the three signals cancel.
    static func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task { try await body() }
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            if number == SIGINT && isIgnored(SIGINT) { continue }
            Foundation.signal(number, SIG_IGN)  // delivered to the source, not acted on by the default handler
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { interrupt(by: number, task) }
            source.resume()
            sources.append(source)
        }
        defer { for source in sources { source.cancel() } }
        try await task.value
    }

    private static func interrupt(by number: Int32, _ task: Task<Void, any Error>) {
        let (first, _) = received.compareExchange(expected: 0, desired: number, ordering: .relaxed)
        guard first else {
            FileHandle.standardError.write(Data("capsize: \(name(number)) again: stopping at once\n".utf8))
            exit(exitCode)
        }
        FileHandle.standardError.write(
            Data(
                ("capsize: \(name(number)): stopping; work in flight ends as interrupted, finished work is kept "
                    + "(send it again to stop at once)\n").utf8))
        task.cancel()
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(number)"
        }
    }

    private static func isIgnored(_ number: Int32) -> Bool {
        var current = sigaction()
        sigaction(number, nil, &current)
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1  // SIG_IGN is (handler) 1
    }
}
