import ArgumentParser
import CapsizeCore
import CloudModel
import Foundation
import Reports
import Studies

/// `capsize function create|list|get|delete`: the user's own Lambda functions, run through the Lambda Runtime API.
struct FunctionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "function",
        abstract: "Define your own Lambda functions (a Python handler or a custom runtime) to invoke under the caps.",
        discussion: """
            A function is a copy of your code directory, run unchanged through the Lambda Runtime API: a Python handler \
            through awslambdaric (AWS's runtime interface client), or a directory with an executable `bootstrap` (a \
            custom runtime). `capsize invoke NAME --payload FILE` invokes it like any workload.
              capsize function create hello --code ./hello --handler app.handler --memory 256 --timeout 5
              capsize invoke hello --payload event.json
            """,
        subcommands: [Create.self, List.self, Get.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Define a function: its code is copied (at most 250 MB unzipped), its settings checked.")

        @Argument(help: "The function's name: 1-64 letters, digits, - and _.") var name: String
        @Option(help: ArgumentHelp("The directory holding the function's code.", valueName: "DIR")) var code: String
        @Option(help: "The handler: module.function for Python; passed to bootstrap as _HANDLER for a custom runtime.")
        var handler: String
        @Option(
            help: ArgumentHelp(
                "python3.11, python3.12, python3.13, provided.al2023 or provided.al2 (default: provided.al2023 when "
                    + "DIR has an executable bootstrap, else python3.11).", valueName: "RUNTIME"))
        var runtime: String?
        @Option(parsing: .unconditional, help: "Memory Size in MB (128...10240).") var memory = 128
        @Option(parsing: .unconditional, help: "Timeout in seconds (1...900).") var timeout = 3
        @Option(name: .customLong("ephemeral-storage"), parsing: .unconditional, help: "/tmp size in MB (512...10240).")
        var ephemeralStorage = 512
        @Option(help: "x86_64 or arm64.") var architecture = "x86_64"
        @Option(
            name: .customLong("reserved-concurrency"), parsing: .unconditional,
            help: "Environments that may run at once (0...1000); more synchronous invokes are throttled (429).")
        var reservedConcurrency: Int?
        @OptionGroup var environment: EnvironmentOptions
        @Flag(help: "Replace a function of the same name.") var replace = false

        func run() async throws {
            if let reservedConcurrency {
                try InputError.check(reservedConcurrency, setting: "reservedConcurrency", in: 0...1_000)
            }
            let definition = try FunctionStore().create(
                .init(
                    name: name, code: code, handler: handler, runtime: runtime, memoryMB: memory,
                    timeoutSeconds: timeout, ephemeralStorageMB: ephemeralStorage, architecture: architecture,
                    variables: try environment.variables.forFunction(), reservedConcurrency: reservedConcurrency,
                    replace: replace))
            say(FunctionText.line(definition))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the defined functions.")
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let functions = try FunctionStore().list()
            if json { return try printJSON(functions) }
            if functions.isEmpty { return say("no functions defined (capsize function create NAME --code DIR ...)") }
            for definition in functions { say(FunctionText.line(definition)) }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a function's definition as JSON.")
        @Argument(help: "The function's name.") var name: String

        func run() async throws {
            guard let definition = try FunctionStore().function(named: name) else {
                throw FunctionStore.notFound(name)
            }
            try printJSON(definition)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a function and its copy of the code.")
        @Argument(help: "The function's name.") var name: String

        func run() async throws {
            try FunctionStore().delete(name)
            say("deleted function \(name)")
        }
    }
}

/// A function in one line.
enum FunctionText {
    static func line(_ definition: FunctionDefinition) -> String {
        let configuration = definition.configuration
        return "\(definition.name): \(definition.runtime.rawValue), handler \(definition.handler), "
            + "\(configuration.memoryMB) MB, timeout \(configuration.timeoutSeconds) s, "
            + "/tmp \(configuration.ephemeralStorageMB) MB, \(configuration.architecture.rawValue), "
            + (configuration.reservedConcurrency.map { "reserved concurrency \($0), " } ?? "")
            + "\(definition.variables.count) variable(s), code \(definition.codeDirectory)"
    }
}
