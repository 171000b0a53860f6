import CapsizeCore
import Foundation
import Hummingbird
import Studies

/// The routes of `capsize serve`: Batch's REST-JSON operations (`POST /v1/…`) and Lambda's Invoke, ListFunctions and
/// GetFunction. The Authorization header (a SigV4 signature) is not checked.
struct Routes: Sendable {
    /// A header's name (HTTPTypes' `HTTPField.Name`, reached through what Hummingbird exports).
    typealias FieldName = HTTPFields.Element.Name

    let batch: BatchService
    let functions: (any LambdaFunctions)?

    /// The largest request body taken (Batch's requests are small; Lambda's synchronous payload limit is 6 MB).
    static let bodyLimit = 6 * 1_024 * 1_024
    /// Lambda's payload limits: 6 MB synchronous, 1 MB asynchronous (Event).
    static let syncPayloadLimit = 6 * 1_024 * 1_024
    static let asyncPayloadLimit = 1_024 * 1_024

    func add(to router: Router<BasicRequestContext>) {
        addBatch(to: router)
        addLambda(to: router)
    }

    // MARK: Batch

    private func addBatch(to router: Router<BasicRequestContext>) {
        let batch = self.batch
        batchOperation(router, "registerjobdefinition") { (input: RegisterJobDefinitionInput) in
            try await batch.register(input)
        }
        batchOperation(router, "describejobdefinitions") { (input: DescribeJobDefinitionsInput) in
            try await batch.describeDefinitions(input)
        }
        batchOperation(router, "deregisterjobdefinition") { (input: DeregisterJobDefinitionInput) in
            try await batch.deregister(input)
            return Empty()
        }
        batchOperation(router, "submitjob") { (input: SubmitJobInput) in try await batch.submit(input) }
        batchOperation(router, "describejobs") { (input: DescribeJobsInput) in try await batch.describe(input) }
        batchOperation(router, "listjobs") { (input: ListJobsInput) in try await batch.list(input) }
        batchOperation(router, "canceljob") { (input: StopJobInput) in
            try await batch.stop(input, terminate: false)
            return Empty()
        }
        batchOperation(router, "terminatejob") { (input: StopJobInput) in
            try await batch.stop(input, terminate: true)
            return Empty()
        }
        batchOperation(router, "describejobqueues") { (input: DescribeNamedInput) in
            try await batch.describeQueues(input)
        }
        batchOperation(router, "describecomputeenvironments") { (input: DescribeNamedInput) in
            try await batch.describeEnvironments(input)
        }
    }

    /// An empty response (`{}`).
    private struct Empty: Encodable {}

    /// `POST /v1/NAME`: the body decoded as `Input`, `body` answered as JSON; a refusal as Batch's error shape.
    private func batchOperation<Input: Decodable & Sendable, Output: Encodable & Sendable>(
        _ router: Router<BasicRequestContext>, _ name: String,
        _ body: @escaping @Sendable (Input) async throws -> Output
    ) {
        router.post("/v1/\(name)") { request, _ -> Response in
            do {
                let data = try await Self.collect(request)
                let input: Input = try Self.decode(data.isEmpty ? Data("{}".utf8) : data)
                return Self.json(.ok, try await body(input))
            } catch let error as BatchAPIError {
                return Self.batchError(error)
            } catch {
                return Self.batchError(.server("capsize failed: \(error)"))
            }
        }
    }

    /// The request's body, at most `bodyLimit` bytes. - Throws: `BatchAPIError` for a larger one.
    private static func collect(_ request: Request) async throws -> Data {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: bodyLimit)
            return Data(buffer.readableBytesView)
        } catch {
            throw BatchAPIError.client("the request body is larger than \(bodyLimit) bytes or could not be read")
        }
    }

    /// `data` as `T`: malformed JSON, or a member of the wrong type, is a `ClientException` naming it.
    static func decode<T: Decodable>(_ data: Data) throws(BatchAPIError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            let field = error.field
            switch error {
            case .typeMismatch(let type, _):
                throw .client("\(field.isEmpty ? "the request" : field) must be \(Self.typeName(type))")
            case .dataCorrupted where field.isEmpty:
                throw .client("the request body is not valid JSON")
            default:
                throw .client("\(field.isEmpty ? "the request" : field): \(error.localizedDescription)")
            }
        } catch {
            throw .client("the request body is not valid JSON")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        default: type == [Any].self ? "a list" : "an object or a list as Batch's shape has it"
        }
    }

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    /// Lambda's members are PascalCase (`FunctionName`): the shapes' names with their first letter capitalized.
    static let lambdaEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        encoder.keyEncodingStrategy = .custom { path in
            let name = path.last?.stringValue ?? ""
            return PascalKey(stringValue: name.prefix(1).uppercased() + name.dropFirst())
        }
        return encoder
    }()

    private struct PascalKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static let requestIDHeader = FieldName("x-amzn-RequestId")!
    static let errorTypeHeader = FieldName("x-amzn-ErrorType")!

    /// `value` as a JSON response with `status`, and a request id as AWS gives one.
    static func json(
        _ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:],
        encoder: JSONEncoder = jsonEncoder
    ) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return respond(status, data, headers: headers)
    }

    static func respond(_ status: HTTPResponse.Status, _ data: Data, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        if fields[requestIDHeader] == nil { fields[requestIDHeader] = UUID().uuidString.lowercased() }
        return Response(
            status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func batchError(_ error: BatchAPIError) -> Response {
        json(
            HTTPResponse.Status(code: error.statusCode),
            ["__type": error.type, "message": error.message], headers: [errorTypeHeader: error.type])
    }

    // MARK: Lambda

    static let invocationTypeHeader = FieldName("X-Amz-Invocation-Type")!
    static let logTypeHeader = FieldName("X-Amz-Log-Type")!
    static let logResultHeader = FieldName("X-Amz-Log-Result")!
    static let functionErrorHeader = FieldName("X-Amz-Function-Error")!
    static let executedVersionHeader = FieldName("X-Amz-Executed-Version")!

    private func addLambda(to router: Router<BasicRequestContext>) {
        let functions = self.functions
        router.post("/2015-03-31/functions/:name/invocations") { request, context -> Response in
            let name = Self.functionName(context.parameters.get("name") ?? "")
            do {
                return try await Self.invoke(name, request: request, functions: functions)
            } catch let error as LambdaAPIError {
                return Self.lambdaError(error)
            } catch {
                return Self.lambdaError(
                    LambdaAPIError(type: "ServiceException", statusCode: 500, message: "capsize failed: \(error)"))
            }
        }
        let list: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            guard let functions else {
                return Self.lambdaError(
                    LambdaAPIError(
                        type: "ResourceNotFoundException", statusCode: 404,
                        message: "this capsize serve serves no Lambda functions"))
            }
            do {
                let all = try await functions.functions().map(LambdaFunctionConfiguration.init)
                return Self.json(.ok, LambdaListFunctionsOutput(functions: all), encoder: Self.lambdaEncoder)
            } catch let error as LambdaAPIError {
                return Self.lambdaError(error)
            }
        }
        router.get("/2015-03-31/functions", use: list)  // with or without its trailing slash
        router.get("/2015-03-31/functions/:name") { _, context -> Response in
            let name = Self.functionName(context.parameters.get("name") ?? "")
            do {
                guard let function = try await functions?.function(named: name) else {
                    throw LambdaAPIError.notFound(function: name)
                }
                return Self.json(.ok, LambdaGetFunctionOutput(function), encoder: Self.lambdaEncoder)
            } catch let error as LambdaAPIError {
                return Self.lambdaError(error)
            }
        }
    }

    /// Invoke: the payload checked against Lambda's limits, the invocation type and log type read from their headers,
    /// the result's `X-Amz-*` headers set.
    private static func invoke(_ name: String, request: Request, functions: (any LambdaFunctions)?) async throws
        -> Response
    {
        guard let functions else { throw LambdaAPIError.notFound(function: name) }
        let typeText = request.headers[invocationTypeHeader] ?? InvokeAPIType.requestResponse.rawValue
        guard let type = InvokeAPIType(rawValue: typeText) else {
            throw LambdaAPIError(
                type: "InvalidParameterValueException", statusCode: 400,
                message: "X-Amz-Invocation-Type '\(InputError.oneLine(typeText))' is not one of "
                    + InvokeAPIType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let limit = type == .event ? asyncPayloadLimit : syncPayloadLimit
        var request = request
        let payload: Data
        do {
            payload = Data(try await request.collectBody(upTo: limit).readableBytesView)
        } catch {
            throw LambdaAPIError(
                type: "RequestTooLargeException", statusCode: 413,
                message: "Request must be smaller than \(limit) bytes for the InvokeFunction operation")
        }
        let result = try await functions.invoke(
            name, payload: payload, type: type, logTail: request.headers[logTypeHeader] == "Tail")
        var headers: HTTPFields = [
            requestIDHeader: result.requestId, executedVersionHeader: result.executedVersion,
        ]
        if let error = result.functionError { headers[functionErrorHeader] = error }
        if let tail = result.logTail { headers[logResultHeader] = Data(tail.utf8).base64EncodedString() }
        return respond(HTTPResponse.Status(code: result.statusCode), result.payload, headers: headers)
    }

    /// A function named in a path: its name, or an ARN's last part (`…:function:NAME`), percent-decoded.
    static func functionName(_ text: String) -> String {
        let decoded = text.removingPercentEncoding ?? text
        guard let range = decoded.range(of: ":function:") else { return decoded }
        return String(decoded[range.upperBound...].prefix { $0 != ":" })
    }

    /// Lambda's error: `x-amzn-ErrorType` and `{"Type": "User", "message": …}` (`Service` for a 5xx).
    static func lambdaError(_ error: LambdaAPIError) -> Response {
        json(
            HTTPResponse.Status(code: error.statusCode),
            ["Type": error.statusCode >= 500 ? "Service" : "User", "message": error.message],
            headers: [errorTypeHeader: error.type])
    }
}
