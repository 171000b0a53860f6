import CapsizeCore
public import Compute
public import Foundation
public import Workloads

/// What an executor and `capsize worker` say to each other: a `WorkerRequest` (the workload, its parameters,
/// device and payload) and a `WorkerReply.answer` for each. Every message carries `version`; one without is
/// version 1, the shape spoken before the field existed.
///
/// The Lambda model carries them over the Lambda Runtime API, as it does a user's runtime: each request is the
/// event of a `GET /runtime/invocation/next`, each answer the body posted to `…/response`, or to `…/error` when it
/// failed (its `errorType` and `errorMessage` are Lambda's fields). A Batch job is a command: the worker reads its
/// single request as a line on stdin, writes a `ready` line and then its answer as the last line of its stdout, by
/// which the job is judged.
public enum WorkerProtocol {
    /// The version this capsize writes and the only one it reads.
    public static let version = 1

    /// The subcommand of capsize that runs the worker.
    public static let subcommand = "worker"

    /// The worker's command line: `executable worker`.
    public static func command(executable: String = WorkerProtocol.currentExecutable()) -> [String] {
        [executable, subcommand]
    }

    /// This executable's path (`/proc/self/exe`): the capsize that starts workers is the one they run.
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first ?? "capsize"
    }

    /// The switch that tells a worker not to load OpenCL at Init: PoCL alone adds ~30 ms to Init and ~60 MB to
    /// the memory an environment is charged for, so a workload that never needs OpenCL goes without.
    public static let openCLVariable = "CAPSIZE_WORKER_OPENCL"

    /// The variables that set the switch for a worker: none when its workload may use OpenCL.
    public static func environment(usesOpenCL: Bool) -> [String: String] {
        usesOpenCL ? [:] : [openCLVariable: "off"]
    }

    /// Whether a worker started with `environment` loads OpenCL at Init.
    public static func loadsOpenCL(_ environment: [String: String]) -> Bool {
        environment[openCLVariable] != "off"
    }

    /// Writes a line: keys sorted (the same request is the same bytes), slashes unescaped, infinities and NaN
    /// as strings.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static func decode<Message: Decodable>(
        _ type: Message.Type, from line: Data, kind: String, userInfo: [CodingUserInfoKey: any Sendable] = [:]
    ) throws(WorkerProtocolError) -> Message {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        decoder.userInfo = userInfo
        do {
            return try decoder.decode(type, from: line)
        } catch let mismatch as VersionMismatch {
            throw WorkerProtocolError(kind: kind, problem: .version(mismatch.version), received: line)
        } catch let error as DecodingError {
            throw WorkerProtocolError(kind: kind, problem: .shape(Self.describe(error)), received: line)
        } catch {
            throw WorkerProtocolError(kind: kind, problem: .shape("\(error)"), received: line)
        }
    }

    /// What a decoding error says, in a few words: the missing key or the field of the wrong type.
    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "no \"\(error.field)\""
        case .dataCorrupted where error.field.isEmpty: "not JSON"
        case _ where error.field.isEmpty: "not a JSON object"
        default: "\"\(error.field)\" has the wrong type or value"
        }
    }

    /// Reads `version` (absent: 1) and refuses any other than ours.
    static func checkVersion<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, key: Key) throws {
        let version = try container.decodeIfPresent(Int.self, forKey: key) ?? 1
        guard version == Self.version else { throw VersionMismatch(version: version) }
    }

    struct VersionMismatch: Error { var version: Int }
}

/// A line the other side wrote that is not a message of this protocol.
public struct WorkerProtocolError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Sendable, Equatable {
        /// The line says another version of the protocol.
        case version(Int)
        /// The line is not JSON, or lacks a field, or has one of the wrong type (the words say which).
        case shape(String)
    }

    /// `request` or `reply`.
    public var kind: String
    public var problem: Problem
    /// The line as received, cut to 300 bytes.
    public var received: String

    init(kind: String, problem: Problem, received line: Data) {
        self.kind = kind
        self.problem = problem
        let text = String(decoding: line.prefix(300), as: UTF8.self)
        received = line.count > 300 ? text + "…" : text
    }

    public var description: String {
        switch problem {
        case .version(let version):
            "a capsize worker \(kind) of protocol version \(version); this capsize speaks version "
                + "\(WorkerProtocol.version) (is the worker another capsize?): \(received)"
        case .shape(let words):
            "not a capsize worker \(kind) (\(words)): \(received)"
        }
    }
}

/// The event a function receives: which workload to run, with which parameters, on which device.
/// It travels to the worker inside a request; the request's encoded size is the payload Lambda limits.
public struct FunctionEvent: Codable, Sendable, Equatable {
    public var workload: String
    /// The workload's parameters as command-line words (`--batch 64`, or `-- argv` for `command`).
    public var arguments: [String]
    /// `auto`, `cpu`, `native` or `opencl:N`.
    public var device: String
    /// The event's payload (it counts towards the payload limit): a `command` reads it on its stdin, the other
    /// workloads ignore it.
    public var payload: String?

    public init(workload: String, arguments: [String] = [], device: String = "auto", payload: String? = nil) {
        self.workload = workload
        self.arguments = arguments
        self.device = device
        self.payload = payload
    }

    private enum CodingKeys: String, CodingKey { case workload, arguments, device, payload }

    /// An event without arguments has none; one without a device runs on `auto`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workload = try c.decode(String.self, forKey: .workload)
        arguments = try c.decodeIfPresent([String].self, forKey: .arguments) ?? []
        device = try c.decodeIfPresent(String.self, forKey: .device) ?? "auto"
        payload = try c.decodeIfPresent(String.self, forKey: .payload)
    }
}

/// A line an executor writes to a worker.
public enum WorkerRequest: Codable, Sendable, Equatable {
    /// Run `event` once and answer it under `requestId` (for a Batch job's request the id may hold
    /// `{index}` and `{attempt}`, replaced in the job's stdin).
    case invoke(requestId: String, event: FunctionEvent)

    private enum CodingKeys: String, CodingKey { case version, requestId, workload, arguments, device, payload }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try WorkerProtocol.checkVersion(c, key: .version)
        self = .invoke(
            requestId: try c.decode(String.self, forKey: .requestId), event: try FunctionEvent(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .invoke(let requestId, let event):
            try c.encode(WorkerProtocol.version, forKey: .version)
            try c.encode(requestId, forKey: .requestId)
            try c.encode(event.workload, forKey: .workload)
            try c.encode(event.arguments, forKey: .arguments)
            try c.encode(event.device, forKey: .device)
            try c.encodeIfPresent(event.payload, forKey: .payload)
        }
    }

    /// The request as the worker reads it: one JSON object (keys sorted), without the newline.
    public func encoded() -> Data {
        // Strings, arrays and an integer only: encoding cannot fail.
        (try? WorkerProtocol.encoder().encode(self)) ?? Data()
    }

    /// The request as a job's stdin: the JSON object and a newline.
    public var line: String { String(decoding: encoded(), as: UTF8.self) + "\n" }

    /// Reads one line an executor wrote.
    /// - Throws: `WorkerProtocolError` saying what was received: another version, or not a request.
    public static func decode(_ line: Data) throws(WorkerProtocolError) -> WorkerRequest {
        try WorkerProtocol.decode(WorkerRequest.self, from: line, kind: "request")
    }
}

/// A line a worker writes.
public enum WorkerReply: Codable, Sendable {
    /// Init is done (`"event":"init"`), the worker's first line.
    case ready(Ready)
    /// The answer to one request (`"event":"result"`).
    case answer(Answer)

    public struct Ready: Codable, Sendable, Equatable {
        /// Seconds from the worker's start to ready (a stand-in worker may leave it out).
        public var initSeconds: Double?
        /// The OpenCL devices Init found (none when it did not load OpenCL).
        public var devices: [DeviceInfo]
        /// Why devices are missing, when discovery failed.
        public var notice: String?

        public init(initSeconds: Double?, devices: [DeviceInfo] = [], notice: String? = nil) {
            self.initSeconds = initSeconds
            self.devices = devices
            self.notice = notice
        }

        private enum CodingKeys: String, CodingKey { case initSeconds, devices, notice }

        /// A stand-in worker may say no more than `{"event":"init"}`.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            initSeconds = try c.decodeIfPresent(Double.self, forKey: .initSeconds)
            devices = try c.decodeIfPresent([DeviceInfo].self, forKey: .devices) ?? []
            notice = try c.decodeIfPresent(String.self, forKey: .notice)
        }
    }

    public struct Answer: Codable, Sendable {
        public enum Status: String, Codable, Sendable { case success, error }

        /// The request's id; nil when the request could not be read.
        public var requestId: String?
        public var status: Status
        /// Lambda's error type (`Runtime.ExitError`, `InvalidParameterValueException`...) when it failed.
        public var errorType: String?
        public var errorMessage: String?
        /// Seconds spent preparing the workload (0 when warm).
        public var prepareSeconds: Double?
        /// Whether the workload was already prepared by an earlier request.
        public var warm: Bool?
        /// The device it ran on.
        public var device: String?
        public var result: RunResult?

        public init(
            requestId: String?, status: Status, errorType: String? = nil, errorMessage: String? = nil,
            prepareSeconds: Double? = nil, warm: Bool? = nil, device: String? = nil, result: RunResult? = nil
        ) {
            self.requestId = requestId
            self.status = status
            self.errorType = errorType
            self.errorMessage = errorMessage
            self.prepareSeconds = prepareSeconds
            self.warm = warm
            self.device = device
            self.result = result
        }

        /// A request that failed before or while it ran.
        public static func failure(_ requestId: String?, type: String, message: String) -> Answer {
            Answer(requestId: requestId, status: .error, errorType: type, errorMessage: message)
        }

        private enum CodingKeys: String, CodingKey {
            case requestId, status, errorType, errorMessage, prepareSeconds, warm, device, result
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            requestId = try c.decodeIfPresent(String.self, forKey: .requestId)
            status = try c.decode(Status.self, forKey: .status)
            errorType = try c.decodeIfPresent(String.self, forKey: .errorType)
            errorMessage = try c.decodeIfPresent(String.self, forKey: .errorMessage)
            prepareSeconds = try c.decodeIfPresent(Double.self, forKey: .prepareSeconds)
            warm = try c.decodeIfPresent(Bool.self, forKey: .warm)
            device = try c.decodeIfPresent(String.self, forKey: .device)
            let skipped = decoder.userInfo[WorkerReply.skipsResult] as? Bool == true
            result = skipped ? nil : try c.decodeIfPresent(RunResult.self, forKey: .result)
        }
    }

    /// Set in a decoder's user info: leave `Answer.result` unread.
    static let skipsResult = CodingUserInfoKey(rawValue: "capsize.worker.skipsResult")!

    private enum CodingKeys: String, CodingKey { case version, event }
    private enum Event: String, Codable {
        case ready = "init"
        case answer = "result"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try WorkerProtocol.checkVersion(c, key: .version)
        switch try c.decode(Event.self, forKey: .event) {
        case .ready: self = .ready(try Ready(from: decoder))
        case .answer: self = .answer(try Answer(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(WorkerProtocol.version, forKey: .version)
        switch self {
        case .ready(let ready):
            try c.encode(Event.ready, forKey: .event)
            try ready.encode(to: encoder)
        case .answer(let answer):
            try c.encode(Event.answer, forKey: .event)
            try answer.encode(to: encoder)
        }
    }

    /// The reply as the worker writes it: one JSON object (keys sorted), without the newline.
    public func encoded() -> Data {
        if let data = try? WorkerProtocol.encoder().encode(self) { return data }
        return Data(#"{"errorType":"Runtime.EncodingError","event":"result","status":"error","version":1}"#.utf8)
    }

    /// Reads one line a worker wrote.
    /// - Parameter skippingResult: leave an answer's `result` nil, unread: what an executor needs to judge an
    ///   answer is its status and error, and reading a train-mlp result's dictionaries took ~50 µs of the
    ///   ~65 µs a whole reply took (the rest of the line is checked as always).
    /// - Throws: `WorkerProtocolError` saying what was received: another version, or not a reply.
    public static func decode(_ line: Data, skippingResult: Bool = false) throws(WorkerProtocolError) -> WorkerReply {
        try WorkerProtocol.decode(
            WorkerReply.self, from: line, kind: "reply", userInfo: skippingResult ? [skipsResult: true] : [:])
    }

    /// The answer in the last line of a worker's output, if that line is one (its result unread).
    public static func lastAnswer(in output: String) -> Answer? {
        guard let last = output.split(separator: "\n").last,
            case .answer(let answer)? = try? decode(Data(last.utf8), skippingResult: true)
        else { return nil }
        return answer
    }
}
