import Foundation

/// The function side of the worker's wire format, in one place: the request line an invocation writes, and how
/// the two lines it reads back are read (the init event, and the answer to an invocation).
enum WorkerLines {
    /// The event with its request id, as the line written to the worker (without its newline).
    static func request(_ event: FunctionEvent, requestId: String) -> Data {
        struct Line: Encodable {
            var requestId: String
            var workload: String
            var arguments: [String]
            var device: String
            var payload: String?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let line = Line(
            requestId: requestId, workload: event.workload, arguments: event.arguments, device: event.device,
            payload: event.payload)
        return (try? encoder.encode(line)) ?? Data()
    }

    /// Whether the worker's first line is its init event.
    static func isInitEvent(_ line: Data) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else { return false }
        return object["event"] as? String == "init"
    }

    /// The error an answer reports, as the invoke response's error type and message; nil when it succeeded.
    /// A line that is not an answer is `Runtime.InvalidResponse`, with the line's start as the message.
    static func failure(in line: Data) -> (errorType: String, message: String)? {
        let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] ?? [:]
        guard object["status"] as? String != "success" else { return nil }
        return (
            object["errorType"] as? String ?? "Runtime.InvalidResponse",
            object["errorMessage"] as? String ?? String(decoding: line.prefix(300), as: UTF8.self)
        )
    }
}
