import Foundation

/// A user's own Lambda runtime, in place of `capsize worker` (both speak the Lambda Runtime API): a custom runtime's
/// `bootstrap`, or `python3 -m awslambdaric HANDLER` for a Python handler. It runs with Lambda's
/// defined variables, its own and the function's, and nothing of capsize's environment.
public struct UserRuntime: Sendable, Equatable {
    /// The runtime's program and arguments.
    public var argv: [String]
    /// The function's code (`LAMBDA_TASK_ROOT`), where the runtime starts.
    public var taskRoot: String
    /// `LAMBDA_RUNTIME_DIR`: where the runtime's own files are.
    public var runtimeDirectory: String
    /// `_HANDLER`.
    public var handler: String
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    public var functionARN: String
    /// `AWS_EXECUTION_ENV`, e.g. `AWS_Lambda_python3.11` (nil for a custom runtime, which Lambda leaves unset).
    public var executionEnvironment: String?
    /// The runtime's own variables (e.g. `PYTHONPATH`), under the function's.
    public var variables: [String: String]

    public init(
        argv: [String], taskRoot: String, runtimeDirectory: String, handler: String, functionARN: String,
        executionEnvironment: String? = nil, variables: [String: String] = [:]
    ) {
        self.argv = argv
        self.taskRoot = taskRoot
        self.runtimeDirectory = runtimeDirectory
        self.handler = handler
        self.functionARN = functionARN
        self.executionEnvironment = executionEnvironment
        self.variables = variables
    }
}
