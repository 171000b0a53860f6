public import CapsizeCore
public import Foundation

/// A Lambda function's environment variables: the ones a user configures (checked as Lambda checks them) and the
/// ones Lambda defines at run time (AWS Lambda developer guide, "Working with Lambda environment variables",
/// "Defined runtime environment variables").
public enum LambdaEnvironment {
    /// Lambda's limit on a function's environment variables: 4 KB, the user-configured variables together
    /// (the runtime-defined ones do not count), measured as Lambda measures them: the variables as a JSON object.
    public static let limitBytes = 4_096

    /// Names Lambda reserves: a configuration that sets one is refused.
    public static let reserved: Set<String> = [
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
    ]

    /// The region a function runs in here (the price table's).
    public static let region = "us-east-1"

    /// The size Lambda counts for `variables`: the bytes of `{"K":"V",...}`.
    public static func size(of variables: [String: String]) -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(variables))?.count ?? 0
    }

    /// Checks a function's configured variables as Lambda does when the configuration is saved.
    /// - Throws: `InputError` naming the setting `env` and the variable (a reserved name, a name that is not letters,
    ///   digits and underscores starting with a letter) or the 4 KB limit with the size.
    public static func validate(_ variables: [String: String]) throws(InputError) {
        for name in variables.keys.sorted() {
            if reserved.contains(name) {
                throw InputError(
                    setting: "env", value: name,
                    allowed: "a name Lambda does not reserve (reserved: \(reserved.sorted().joined(separator: ", ")))")
            }
            if !isValidName(name) {
                throw InputError(
                    setting: "env", value: name,
                    allowed: "a name of letters, digits and underscores starting with a letter")
            }
        }
        let size = size(of: variables)
        if size > limitBytes {
            let largest = variables.max {
                $0.key.utf8.count + $0.value.utf8.count < $1.key.utf8.count + $1.value.utf8.count
            }
            throw InputError(
                setting: "env", value: "\(variables.count) variable(s), \(size) bytes (largest \(largest?.key ?? ""))",
                allowed:
                    "at most \(limitBytes) bytes together (Lambda's 4 KB limit on a function's environment variables)")
        }
    }

    /// Lambda's rule for a variable name: `[a-zA-Z]([a-zA-Z0-9_])*`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }

    /// The variables Lambda defines in a function's execution environment, with values for this machine where
    /// they are paths: `LAMBDA_TASK_ROOT` (Lambda: `/var/task`, the function's code) is the directory capsize was
    /// started in, where a command's relative paths resolve; `LAMBDA_RUNTIME_DIR` (Lambda: `/var/runtime`) the
    /// directory of the runtime, `capsize worker`'s executable; `PATH` and `LD_LIBRARY_PATH` this machine's system
    /// directories (Lambda's name `/var/lang` and `/var/runtime`, which do not exist here). `TMPDIR` and `HOME`,
    /// which Lambda leaves to `/tmp`, are the environment's private temporary folder (set by the sandbox).
    /// - Parameters:
    ///   - functionName: the function's name (capsize uses the workload's).
    ///   - memoryMB: its memory size.
    ///   - logStream: the environment's log stream id (32 hex digits in Lambda).
    ///   - runtimeDirectory: where the runtime's executable is.
    ///   - taskRoot: the function's code directory.
    public static func defined(
        functionName: String, memoryMB: Int, logStream: String, runtimeDirectory: String, taskRoot: String,
        date: Date = Date()
    ) -> [String: String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let day = calendar.dateComponents([.year, .month, .day], from: date)
        let stamp = String(format: "%04d/%02d/%02d", day.year ?? 1970, day.month ?? 1, day.day ?? 1)
        return [
            "_HANDLER": functionName,
            "AWS_EXECUTION_ENV": "AWS_Lambda_capsize",
            "AWS_LAMBDA_FUNCTION_NAME": functionName,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "\(memoryMB)",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(functionName)",
            "AWS_LAMBDA_LOG_STREAM_NAME": "\(stamp)/[$LATEST]\(logStream)",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin:/opt/bin",
            "LD_LIBRARY_PATH": "/lib64:/usr/lib64:/usr/local/lib:/usr/lib:/lib:\(runtimeDirectory)",
            "LAMBDA_TASK_ROOT": taskRoot,
            "LAMBDA_RUNTIME_DIR": runtimeDirectory,
        ]
    }
}
