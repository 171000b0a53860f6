import CloudModel
import Foundation
import Studies

// The Lambda API's members for ListFunctions and GetFunction, named as botocore's
// `lambda/2015-03-31/service-2.json` names them (`FunctionConfiguration`, `FunctionCodeLocation`): in PascalCase,
// which `Routes.lambdaEncoder` writes from these lowerCamelCase names.

/// `FunctionConfiguration`.
struct LambdaFunctionConfiguration: Encodable {
    struct Variables: Encodable {
        var variables: [String: String]
    }
    struct Storage: Encodable {
        var size: Int
    }

    var functionName: String
    var functionArn: String
    var runtime: String
    var role: String
    var handler: String
    var codeSize: Int
    var description: String
    var timeout: Int
    var memorySize: Int
    var lastModified: String
    var codeSha256: String
    var version: String
    var environment: Variables?
    var packageType: String
    var architectures: [String]
    var ephemeralStorage: Storage
    var state: String
    var lastUpdateStatus: String

    init(_ function: FunctionDefinition) {
        functionName = function.name
        functionArn = function.arn
        runtime = function.runtime.rawValue
        role = "arn:aws:iam::000000000000:role/capsize"
        handler = function.handler
        codeSize = 0
        description = "code in \(function.codeDirectory), copied from \(function.sourceDirectory)"
        timeout = function.configuration.timeoutSeconds
        memorySize = function.configuration.memoryMB
        lastModified = Self.timestamp(function.createdAt)
        codeSha256 = ""
        version = "$LATEST"
        environment = function.variables.isEmpty ? nil : Variables(variables: function.variables)
        packageType = "Zip"
        architectures = [function.configuration.architecture.rawValue]
        ephemeralStorage = Storage(size: function.configuration.ephemeralStorageMB)
        state = "Active"
        lastUpdateStatus = "Successful"
    }

    /// Lambda's `LastModified`: `2024-05-01T12:00:00.000+0000`.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.string(from: date)
    }
}

/// `ListFunctionsResponse`.
struct LambdaListFunctionsOutput: Encodable {
    var functions: [LambdaFunctionConfiguration]
}

/// `GetFunctionResponse`: the configuration and where the code is (here: the function's copy of it).
struct LambdaGetFunctionOutput: Encodable {
    struct CodeLocation: Encodable {
        var repositoryType: String
        var location: String
    }

    /// `Concurrency`: the function's reserved concurrency, when it has one.
    struct Concurrency: Encodable {
        var reservedConcurrentExecutions: Int
    }

    var configuration: LambdaFunctionConfiguration
    var code: CodeLocation
    var concurrency: Concurrency?

    init(_ function: FunctionDefinition) {
        configuration = LambdaFunctionConfiguration(function)
        code = CodeLocation(repositoryType: "S3", location: URL(fileURLWithPath: function.codeDirectory).absoluteString)
        concurrency = function.configuration.reservedConcurrency.map { Concurrency(reservedConcurrentExecutions: $0) }
    }
}
