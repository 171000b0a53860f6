import CapsizeCore
import Foundation

/// An error the Batch API answers with, as AWS Batch does: `ClientException` (400) for a request at fault,
/// `ServerException` (500) for capsize's own failure; sent as the `x-amzn-ErrorType` header and the body
/// `{"__type": …, "message": …}`, which botocore's REST-JSON parser reads.
struct BatchAPIError: Error, Equatable, CustomStringConvertible {
    var type: String
    var statusCode: Int
    var message: String

    static func client(_ message: String) -> BatchAPIError {
        BatchAPIError(type: "ClientException", statusCode: 400, message: message)
    }

    static func server(_ message: String) -> BatchAPIError {
        BatchAPIError(type: "ServerException", statusCode: 500, message: message)
    }

    /// A value capsize's Batch model refuses, in the API's words: the member at fault, its value, what is allowed.
    /// - Parameter member: the request member the error's setting comes from (nil: the setting's own name).
    static func refused(_ error: InputError, member: String? = nil) -> BatchAPIError {
        let named = error.namingSetting { Self.members[$0] ?? $0 }
        let field = member ?? named.field
        return .client("\(field) '\(InputError.oneLine(named.value))' is not allowed: \(named.allowed)")
    }

    /// capsize's setting names and the request members they come from.
    static let members = [
        "vcpus": "resourceRequirements VCPU", "memory": "resourceRequirements MEMORY",
        "gpus": "resourceRequirements GPU", "attempts": "retryStrategy.attempts", "array": "arrayProperties.size",
        "dependsOn": "dependsOn", "queue": "jobQueue", "name": "jobName", "timeout": "timeout.attemptDurationSeconds",
        "shareIdentifier": "shareIdentifier",
    ]

    var description: String { "\(type): \(message)" }
}

/// ARNs in capsize's made-up account and Region (the same as its Lambda functions').
enum BatchARN {
    static let prefix = "arn:aws:batch:us-east-1:000000000000:"

    static func job(_ id: String) -> String { prefix + "job/" + id }
    static func jobDefinition(_ name: String, _ revision: Int) -> String {
        prefix + "job-definition/\(name):\(revision)"
    }
    static func jobQueue(_ name: String) -> String { prefix + "job-queue/" + name }
    static func computeEnvironment(_ name: String) -> String { prefix + "compute-environment/" + name }

    /// The name in `text`, an ARN of `kind` (`job-queue`, `job-definition`) or the name itself.
    static func name(_ text: String, kind: String) -> String {
        let marker = ":\(kind)/"
        guard text.hasPrefix("arn:"), let range = text.range(of: marker) else { return text }
        return String(text[range.upperBound...])
    }
}
