import CapsizeCore
import CloudModel
import Foundation
import TestSupport
import Testing

@testable import Execution

/// The Slurm batch script with hostile values: run through `bash -n` and `bash` here (the job's part of it runs the
/// same on a node), the injected commands never run. (SlurmQuotingTests submits to a real Slurm.)
struct SlurmScriptQuotingTests {
    let scratch: Scratch
    var directory: String { scratch.path }
    var marker: String { scratch.marker }

    init() throws { scratch = try Scratch("slurm-script") }

    func definition(
        name: String = "job", argv: [String] = ["/bin/true"], stdin: String? = nil, environment: [String: String] = [:]
    ) throws -> JobDefinition {
        var definition = JobDefinition(
            name: name, argv: argv, stdin: stdin, resources: try ResourceRequirements(vcpus: 1, memoryMiB: 64),
            timeoutSeconds: 60, retryStrategy: try RetryStrategy())
        definition.environment = environment
        return definition
    }

    /// The `#SBATCH` lines come first and every line up to the body is a comment to the shell.
    func expectHeader(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let header = script.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("index=") }
        #expect(header.allSatisfy { $0.isEmpty || $0.hasPrefix("#") }, "\(script)", sourceLocation: sourceLocation)
    }

    @Test(
        "hostile job names, arguments, stdin and variables reach the program as they are; nothing injected runs"
    )
    func words() throws {
        for value in hostileValues(marker: marker) {
            let job = try definition(
                name: value, argv: ["/bin/sh", "-c", #"printf '%s|' "$HOSTILE" "$1"; cat"#, "sh", value],
                stdin: value + "\n", environment: ["HOSTILE": value])
            let script = try SlurmBackend(outputRoot: directory + "/jobs").script(for: job, id: "ID", arraySize: nil)
            expectHeader(script)
            let result = try runScript(script, in: directory, marker: marker)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "\(value)|\(value)|\(value)\n", "\(script)")
        }
    }

    @Test(
        "a jobs folder with spaces, quotes, $(…), backticks, unicode or % is quoted; a control character is refused"
    )
    func folder() throws {
        for value in hostileValues(marker: marker) {
            // Three levels down, so that `../../` stays inside the test's folder.
            let root = JobLaunch.Layout.absoluteRoot(directory + "/a/b/c/" + value)
            let backend = SlurmBackend(outputRoot: root)
            if value.unicodeScalars.contains(where: Shell.isLineBreakingOrControl) || value.contains("\\") {
                let error = try #require(throws: InputError.self) {
                    try backend.script(for: try definition(), id: "ID", arraySize: nil)
                }
                #expect(error.field == "jobs folder" && !error.isSetting && error.value == root)
                #expect(!error.description.contains("\n"))
                continue
            }
            let script = try backend.script(for: try definition(), id: "ID", arraySize: 2)
            expectHeader(script)
            // sbatch reads the #SBATCH value back as the path, `%` doubled (a literal one), `%a` the array index.
            let output = try #require(script.split(separator: "\n").first { $0.hasPrefix("#SBATCH --output=") })
            let pattern = root.replacingOccurrences(of: "%", with: "%%")
            #expect(sbatchArgument(output.dropFirst("#SBATCH ".count)) == "--output=\(pattern)/ID:%a/attempt-1.log")
            let result = try runScript(script, in: directory, marker: marker)
            #expect(result.status == 0, "\(result.stderr)\n\(script)")
            #expect(FileManager.default.fileExists(atPath: root + "/ID:0/output"), "\(script)")
        }
    }

    @Test(
        "a partition or variable name an #SBATCH line or the shell would misread is refused, naming the setting")
    func refused() throws {
        for value in hostileValues(marker: marker) {
            let error = try #require(throws: InputError.self) {
                try SlurmBackend(outputRoot: directory, partition: value).script(
                    for: try definition(), id: "ID", arraySize: nil)
            }
            #expect(error.isSetting && error.field == "queue" && error.value == value)
            #expect(error.allowed.contains("A-Z a-z 0-9 . _ -"))
            let variable = try #require(throws: InputError.self) {
                try SlurmBackend(outputRoot: directory).script(
                    for: try definition(environment: ["A=1;" + value: "x"]), id: "ID", arraySize: nil)
            }
            #expect(variable.isSetting && variable.field == "env")
        }
        let partitions = try SlurmBackend(outputRoot: directory, partition: "gpu-1.a_b,cpu").script(
            for: try definition(), id: "ID", arraySize: nil)
        #expect(partitions.contains("#SBATCH --partition=gpu-1.a_b,cpu\n"))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}

/// The argument of an `#SBATCH` line as sbatch reads it (Slurm 22.05, `_get_argument` in src/sbatch/opt.c):
/// whitespace ends it outside quotes, `"` and `'` quote, `\` takes the next character as it is, an unquoted `#`
/// ends the line.
func sbatchArgument(_ line: Substring) -> String {
    var argument = ""
    var quote: Character?
    var escaped = false
    for character in line.drop(while: \.isWhitespace) {
        if escaped {
            escaped = false
        } else if character == "\\" {
            escaped = true
            continue
        } else if let open = quote {
            if character == open {
                quote = nil
                continue
            }
        } else if character == "\"" || character == "'" {
            quote = character
            continue
        } else if character == "#" || character.isWhitespace {
            break
        }
        argument.append(character)
    }
    return argument
}
