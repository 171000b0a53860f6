public import CloudModel
public import Foundation

/// How the Invoke API names an invocation type (`X-Amz-Invocation-Type`).
public enum InvokeAPIType: String, Sendable, CaseIterable {
    /// Synchronous: the caller waits for the response (200).
    case requestResponse = "RequestResponse"
    /// Asynchronous: queued, retried on failure (202, empty body).
    case event = "Event"
    /// Checks the request and the caller's permission without running anything (204).
    case dryRun = "DryRun"
}

/// What an Invoke API call answers (AWS's Invoke response: status, payload and the `X-Amz-*` headers).
public struct LambdaInvokeResult: Sendable, Equatable {
    /// 200 (RequestResponse), 202 (Event) or 204 (DryRun).
    public var statusCode: Int
    /// The function's response, or the error document `{"errorMessage": …, "errorType": …}` when it failed.
    public var payload: Data
    /// `Unhandled` when the function failed (`X-Amz-Function-Error`); nil otherwise.
    public var functionError: String?
    /// The last 4 KB of the invocation's log, REPORT line included, when the caller asked for `Tail`
    /// (the server sends it base64-encoded in `X-Amz-Log-Result`).
    public var logTail: String?
    public var requestId: String
    public var executedVersion: String

    public init(
        statusCode: Int, payload: Data, functionError: String? = nil, logTail: String? = nil, requestId: String,
        executedVersion: String = "$LATEST"
    ) {
        self.statusCode = statusCode
        self.payload = payload
        self.functionError = functionError
        self.logTail = logTail
        self.requestId = requestId
        self.executedVersion = executedVersion
    }
}

/// An error the Lambda API answers with, in AWS's shape: the HTTP status, `X-Amzn-ErrorType` and a message.
public struct LambdaAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// e.g. `ResourceNotFoundException` (404), `TooManyRequestsException` (429), `RequestTooLargeException` (413),
    /// `InvalidRequestContentException` (400), `ResourceConflictException` (409), `ServiceException` (500).
    public var type: String
    public var statusCode: Int
    public var message: String

    public init(type: String, statusCode: Int, message: String) {
        self.type = type
        self.statusCode = statusCode
        self.message = message
    }

    public static func notFound(function name: String) -> LambdaAPIError {
        LambdaAPIError(
            type: "ResourceNotFoundException", statusCode: 404,
            message: "Function not found: \(FunctionDefinition.arn(of: name))")
    }

    public var description: String { "\(type): \(message)" }
}

/// The functions `capsize function create` defined, as the Invoke API and the event sources reach them.
public protocol LambdaFunctions: Sendable {
    /// Every defined function, by name.
    func functions() async throws -> [FunctionDefinition]
    /// One function; nil when none has that name.
    func function(named name: String) async throws -> FunctionDefinition?
    /// Invokes `name` with `payload` as the Invoke API does: under its caps, in a warm environment when one is
    /// idle, recorded in the store.
    /// - Throws: `LambdaAPIError` (unknown function, throttled, payload too large, …).
    func invoke(_ name: String, payload: Data, type: InvokeAPIType, logTail: Bool) async throws -> LambdaInvokeResult
}
