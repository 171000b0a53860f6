public import Foundation

/// A user's own Lambda function as `capsize function create` records it: what AWS's CreateFunction takes for a
/// zip-packaged function (name, runtime, handler, code, memory, timeout, ephemeral storage, architecture,
/// variables), with the code copied at create time as a deployment package is.
public struct FunctionDefinition: Codable, Sendable, Equatable {
    /// How the function's code is run.
    public enum Runtime: String, Codable, Sendable, CaseIterable {
        /// A Python handler (`module.function`) run through awslambdaric, AWS's runtime interface client.
        case python311 = "python3.11"
        case python312 = "python3.12"
        case python313 = "python3.13"
        /// A custom runtime: the code directory's executable `bootstrap` speaks the Runtime API itself.
        case providedAL2023 = "provided.al2023"
        case providedAL2 = "provided.al2"

        /// Whether the code's `bootstrap` is the runtime (a custom runtime).
        public var isCustom: Bool { self == .providedAL2023 || self == .providedAL2 }
    }

    /// 1–64 letters, digits, `-` and `_` (Lambda's rule for a function name).
    public var name: String
    public var runtime: Runtime
    /// `module.function` for Python; for a custom runtime, passed to `bootstrap` as `_HANDLER`.
    public var handler: String
    /// The function's copy of its code (capsize's home, `functions/NAME/code`): what runs.
    public var codeDirectory: String
    /// The directory the code was copied from (what an export names as `CodeUri`).
    public var sourceDirectory: String
    public var configuration: FunctionConfiguration
    /// The function's environment variables (checked as Lambda checks them).
    public var variables: [String: String]
    public var createdAt: Date

    public init(
        name: String, runtime: Runtime, handler: String, codeDirectory: String, sourceDirectory: String,
        configuration: FunctionConfiguration, variables: [String: String] = [:], createdAt: Date = Date()
    ) {
        self.name = name
        self.runtime = runtime
        self.handler = handler
        self.codeDirectory = codeDirectory
        self.sourceDirectory = sourceDirectory
        self.configuration = configuration
        self.variables = variables
        self.createdAt = createdAt
    }

    /// The ARN AWS would give it, in capsize's made-up account (`Lambda-Runtime-Invoked-Function-Arn`).
    public var arn: String { Self.arn(of: name) }

    /// The ARN AWS would give a function named `name`, in capsize's made-up account.
    public static func arn(of name: String) -> String { "arn:aws:lambda:us-east-1:000000000000:function:\(name)" }
}
