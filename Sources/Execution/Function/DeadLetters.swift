public import CapsizeCore
import Foundation

/// Lambda's asynchronous retries: after a failed attempt, wait and try again, or give the event up (to the
/// dead-letter directory) when the retries or the event's maximum age run out.
struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt, 0...2.
    var retries: Int
    /// Delays before the first and the second retry; the last one repeats, none means no wait.
    var delays: [Double]
    var maximumEventAgeSeconds: Double

    enum Next: Equatable {
        case retry(afterSeconds: Double)
        /// `RetriesExhausted` or `EventAgeExceeded`, as Lambda's dead-letter condition says.
        case giveUp(condition: String)
    }

    /// What follows the failed attempt number `attempts` (from 1), `elapsed` seconds after the event was accepted.
    func next(afterAttempt attempts: Int, elapsed: Double) -> Next {
        if attempts > retries { return .giveUp(condition: "RetriesExhausted") }
        let delay = delays.isEmpty ? 0 : delays[min(attempts - 1, delays.count - 1)]
        if elapsed + delay > maximumEventAgeSeconds { return .giveUp(condition: "EventAgeExceeded") }
        return .retry(afterSeconds: delay)
    }
}

/// Failed asynchronous events, written as JSON, one file per request, to a directory.
public struct DeadLetters: Sendable {
    var directory: String

    private struct Letter: Encodable {
        var requestId: String
        var condition: String
        var approximateInvokeCount: Int
        var errorType: String?
        var errorMessage: String?
        var event: FunctionEvent
        var acceptedAt: Date
        var lastAttemptAt: Date
    }

    /// Writes the event's last outcome; returns the file's path.
    /// - Throws: the file system's error when the directory or the file cannot be written.
    func write(_ outcome: InvocationOutcome, event: FunctionEvent, condition: String, accepted: Date) throws -> String {
        let letter = Letter(
            requestId: outcome.requestId, condition: condition, approximateInvokeCount: outcome.attempts,
            errorType: outcome.errorType, errorMessage: outcome.errorMessage, event: event, acceptedAt: accepted,
            lastAttemptAt: outcome.endedAt)
        let encoder = JSONEncoder.pretty()
        let path = URL(fileURLWithPath: directory).appendingPathComponent("\(outcome.requestId).json").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try encoder.encode(letter).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    /// Refuses a directory that dead letters could not be written to: it (or the folders to make for it) cannot
    /// be created, or a file cannot be created in it. Tried by making the folders and a file, then removing the
    /// file.
    /// - Throws: `InputError` naming the setting `deadLetterDir`.
    public static func checkWritable(_ directory: String) throws(InputError) {
        let probe = URL(fileURLWithPath: directory).appendingPathComponent(".capsize-probe-\(getpid())").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: probe, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            try FileManager.default.removeItem(atPath: probe)
        } catch {
            throw InputError(
                setting: "deadLetterDir", value: directory,
                allowed: "a directory where files can be written (\(error.localizedDescription))")
        }
    }
}
