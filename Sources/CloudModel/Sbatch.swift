import Foundation

/// Slurm's batch-script header: what `capsize export --format sbatch` writes (Planning) and what
/// `capsize submit --backend slurm` submits (Execution), so both are the same code.
public enum Sbatch {
    /// A Slurm batch-script header (`#!/bin/bash` and `#SBATCH` lines).
    /// - Parameters:
    ///   - jobName: characters other than letters, digits and `-_.` become `_`.
    ///   - vcpus: rounded up to whole CPUs (`--cpus-per-task`, at least 1).
    ///   - timeSeconds: rounded up to whole minutes (Slurm's unit), at least one; nil: no `--time`.
    ///   - arraySize: `--array=0-(N-1)`; nil: a single job.
    ///   - extra: further `#SBATCH` options, e.g. `--output=PATH`, written as given.
    ///   - comments: `# ` lines after the options.
    public static func header(
        jobName: String, vcpus: Double, memoryMiB: Int, gpus: Int, timeSeconds: Double?, arraySize: Int? = nil,
        extra: [String] = [], comments: [String] = []
    ) -> String {
        let safeName = String(jobName.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
        var lines = [
            "#!/bin/bash",
            "#SBATCH --job-name=\(safeName.isEmpty ? "capsize" : safeName)",
            "#SBATCH --ntasks=1",
            "#SBATCH --cpus-per-task=\(max(1, Int(vcpus.rounded(.up))))",
            "#SBATCH --mem=\(memoryMiB)M",
        ]
        if let timeSeconds { lines.append("#SBATCH --time=\(time(seconds: timeSeconds))") }
        if gpus > 0 { lines.append("#SBATCH --gres=gpu:\(gpus)") }
        if let arraySize { lines.append("#SBATCH --array=0-\(arraySize - 1)") }
        lines += extra.map { "#SBATCH \($0)" }
        lines += comments.map { "# \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Slurm's `--time` for a duration: whole minutes rounded up (at least one), as D-HH:MM:00.
    public static func time(seconds: Double) -> String {
        let minutes = max(1, Int((seconds / 60).rounded(.up)))
        return String(format: "%d-%02d:%02d:00", minutes / 1440, minutes / 60 % 24, minutes % 60)
    }
}
