import Foundation

/// The function side of the worker protocol (`WorkerProtocol`), in one place: the request line an invocation
/// writes, and how the two lines it reads back are read (the ready reply, and the answer to an invocation).
enum WorkerLines {
    /// The error type of an answer that is not a reply of the worker protocol.
    static let invalidResponse = "Runtime.InvalidResponse"

    /// The event with its request id, as the line written to the worker (without its newline).
    static func request(_ event: FunctionEvent, requestId: String) -> Data {
        WorkerRequest.invoke(requestId: requestId, event: event).encoded()
    }

    /// Whether the worker's first line is its ready reply, and what was received, for the message when it is not:
    /// the line's start, or why it is not a reply of this protocol.
    static func readiness(_ line: Data) -> (ready: Bool, received: String) {
        do throws(WorkerProtocolError) {
            if case .ready = try WorkerReply.decode(line) { return (true, "") }
            return (false, String(decoding: line.prefix(300), as: UTF8.self))
        } catch {
            return (false, error.description)
        }
    }

    /// The error an answer reports, as the invoke response's error type and message; nil when it succeeded.
    /// A line that is not an answer is `Runtime.InvalidResponse`, saying what was wrong with it. Only the status
    /// and the error are read: the result's dictionaries are the caller's to pass on, not to decode.
    static func failure(in line: Data) -> (errorType: String, message: String)? {
        do throws(WorkerProtocolError) {
            let answer: WorkerReply.Answer? =
                switch try WorkerReply.decode(line, skippingResult: true) {
                case .answer(let answer): answer
                case .ready: nil
                }
            guard answer?.status != .success else { return nil }
            return (
                answer?.errorType ?? invalidResponse,
                answer?.errorMessage ?? String(decoding: line.prefix(300), as: UTF8.self)
            )
        } catch {
            return (invalidResponse, error.description)
        }
    }
}
