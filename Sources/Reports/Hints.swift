/// How a front end names what the texts point the user to: how to calibrate this machine, to run functions and jobs
/// at its full speed, to continue a bench, to see every record. The CLI gives its commands and flags.
public protocol Hints: Sendable {
    /// The command that measures this machine's peaks, e.g. `capsize devices --calibrate`.
    var calibrate: String { get }
    /// The option that runs functions and jobs at this machine's full speed, e.g. `--no-cpu-share`.
    var fullSpeed: String { get }
    /// The command that continues an interrupted bench, before the run's id, e.g. `capsize bench --resume`.
    var resumeBench: String { get }
    /// The option that prints every record, e.g. `--json`.
    var allRecords: String { get }
    /// The option that lists every option of a recommendation, not only the best of each kind, e.g. `--all`.
    var allOptions: String { get }
}

extension Hints {
    /// What every time measured without the CPU share says.
    var ungoverned: String {
        "at this machine's full speed (\(fullSpeed)), not held to the vCPU share: faster than the service"
    }
}
