import ArgumentParser
import Reports
import Workloads

/// `capsize workloads`: every workload with its parameters, defaults and ranges.
struct WorkloadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workloads", abstract: "List the workloads and their parameters.")

    func run() throws {
        for workload in WorkloadCatalog.all {
            say("\(workload.name): \(workload.summary)")
            let rows = workload.parameters.map { spec in
                ["  --\(spec.name)", spec.defaultValue ?? "(required)", spec.allowed, spec.help]
            }
            say(table(["  parameter", "default", "allowed", "meaning"], rows))
            say()
        }
    }
}
