import ArgumentParser
import CapsizeCore
import Compute
import Foundation
import Reports
import Store
import Studies
import Workloads

/// The root command: lists the subcommands, nothing else.
struct Capsize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capsize",
        abstract: "Benchmark heavy compute against serverless caps: measured here, projected to the cloud.",
        version: "capsize \(CapsizeVersion.current)",
        subcommands: [
            RunCommand.self, ReportCommand.self,
            DevicesCommand.self, BenchCommand.self, WorkloadsCommand.self, InvokeCommand.self, FunctionCommand.self,
            SubmitCommand.self,
            JobsCommand.self, LogsCommand.self, RunsCommand.self, CompareCommand.self, SweepCommand.self,
            CapsCommand.self,
            RecommendCommand.self, ExportCommand.self, WorkerCommand.self, ServeCommand.self,
        ]
    )
}

/// Runs capsize and maps failures to exit codes: 2 for bad input (with a one-line message naming
/// the field, the value and what is allowed), 1 for a failure while running.
public enum CapsizeMain {
    public static func main(_ arguments: [String]? = nil) async {
        // First, while capsize has one thread: choose OpenBLAS's kernels from CPUID (or keep the user's
        // OPENBLAS_CORETYPE) and set the variable, before OpenBLAS is loaded, for it and for every program started.
        _ = OpenBLASCoreType.selection
        do {
            var command = try Capsize.parseAsRoot(arguments)
            if let interruptible = command as? any InterruptibleCommand {
                nonisolated(unsafe) var command = interruptible  // moved into the task; nothing else touches it
                try await Interruption.run { try await command.run() }
            } else if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            warnOfUnreadableRows()
        } catch let error where Interruption.signal != nil && !(error is InputError) {
            let signal = Interruption.name(Interruption.signal!)
            let resume = (error as? StudyFailure)?.resumeHint.map { "; " + $0 } ?? ""
            fail("capsize: interrupted by \(signal)\(resume)", code: Interruption.exitCode)
        } catch let error as InputError {
            fail("capsize: \(error.namingFlags)", code: 2)
        } catch let error as CommandFailure {
            fail("capsize: \(error.message)", code: error.code)
        } catch let error as StudyFailure {
            fail("capsize: \(error.inWords)", code: 1)
        } catch let error as StoreError {
            fail("capsize: \(error)", code: 1)
        } catch let error as CalibrationStoreError {
            fail("capsize: \(error.description(recalibrate: "run `\(CommandLineHints().calibrate)`"))", code: 1)
        } catch {
            let code = Capsize.exitCode(for: error)
            if code == .success {
                Capsize.exit(withError: error)  // --help, --version
            }
            // Usage errors from the parser are bad input too.
            let message = Capsize.message(for: error)
            let usage =
                code == .validationFailure || error is ValidationError || message.hasPrefix("Error:")
                || Capsize.fullMessage(for: error).contains("Usage:")
            // One line, as every bad input is: the parser repeats a value as given, newlines and all.
            fail("capsize: \(usage ? InputError.oneLine(message) : message)", code: usage ? 2 : 1)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        warnOfUnreadableRows()
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}

/// Store rows a listing skipped because they cannot be read, one warning each, so that one bad row neither hides the
/// others nor goes unnoticed.
func warnOfUnreadableRows() {
    for row in UnreadableRows.take() { FileHandle.standardError.write(Data("warning: \(row)\n".utf8)) }
}

extension InputError {
    /// The error as the command line says it: a library's setting (`memory`, `dependsOn`, a workload parameter
    /// such as `hidden`) by its flag (`--memory`, `--depends-on`, `--hidden`); other fields as they are.
    var namingFlags: InputError { namingSetting(Self.flag) }

    /// `--` and the key in kebab case: `dependsOn` → `--depends-on`.
    static func flag(_ key: String) -> String {
        var flag = "--"
        for character in key {
            if character.isUppercase {
                flag += "-" + character.lowercased()
            } else {
                flag.append(character)
            }
        }
        return flag
    }
}

extension StudyFailure {
    /// How to continue an interrupted run, as a command line.
    var resumeHint: String? {
        guard case .interrupted(let run, let kind) = self else { return nil }
        return
            "finished work is kept in run \(run.prefix(8)); continue it with `capsize \(kind) --resume \(run.prefix(8))`"
    }

    /// The failure as the command line says it.
    var inWords: String {
        switch self {
        case .interrupted: "interrupted; " + (resumeHint ?? "")
        case .unrecorded(let run, let item):
            "run \(run) has no record of \(item): it did not finish; continue it with --resume"
        case .failed(let message): message
        }
    }
}

/// What capsize's texts point to, as the command line says it.
struct CommandLineHints: Hints {
    let calibrate = "capsize devices --calibrate"
    let fullSpeed = "--no-cpu-share"
    let resumeBench = "capsize bench --resume"
    let allRecords = "--json"
    let allOptions = "--all"
}

extension Hints where Self == CommandLineHints {
    static var commandLine: Self { Self() }
}

/// How a run's notes name the calibration that tuned its kernels.
let calibrationInNotes = "devices --calibrate"

/// A failure that is not bad input, with its exit code.
struct CommandFailure: Error {
    var message: String
    var code: Int32 = 1
}
