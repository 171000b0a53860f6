import CapsizeCore
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
    ///   - arrayIndices: only these children (`--array=1,4,7`: a resumed array's unfinished ones); nil: all.
    ///   - extra: further `#SBATCH` options, e.g. `--output=PATH`, written as given: make their values with
    ///     `directiveValue`, `filenamePattern` and `isPartitionName`.
    ///   - comments: `# ` lines after the options; control characters and line breaks become spaces
    ///     (`Shell.commentText`), so no text can end a comment and start a command.
    public static func header(
        jobName: String, vcpus: Double, memoryMiB: Int, gpus: Int, timeSeconds: Double?, arraySize: Int? = nil,
        arrayIndices: [Int]? = nil, extra: [String] = [], comments: [String] = []
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
        if let arrayIndices {
            lines.append("#SBATCH --array=" + arrayIndices.map(String.init).joined(separator: ","))
        } else if let arraySize {
            lines.append("#SBATCH --array=0-\(arraySize - 1)")
        }
        lines += extra.map { "#SBATCH \($0)" }
        lines += comments.map { "# \(Shell.commentText($0))" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as the value of an `#SBATCH` option. sbatch reads these lines itself, not through a shell: it splits
    /// at whitespace, ends the value at an unquoted `#`, and takes `"…"` with `\` escapes. Plain text is written as
    /// it is, other text in double quotes; nil for text no `#SBATCH` line can hold: a control character (a newline
    /// would end the line, and the next one is a command of the script).
    public static func directiveValue(_ text: String) -> String? {
        guard !text.unicodeScalars.contains(where: Shell.isLineBreakingOrControl) else { return nil }
        let plain = text.unicodeScalars.allSatisfy { $0.isASCII && !" \"'\\#".unicodeScalars.contains($0) }
        if plain && !text.isEmpty { return text }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            + "\""
    }

    /// `path` as the literal part of an `--output` or `--error` filename pattern: `%` doubled (Slurm expands `%j`,
    /// `%a`…); nil when it holds a backslash (which turns every pattern of the name off) or a control character.
    public static func filenamePattern(literal path: String) -> String? {
        guard !path.contains("\\"), !path.unicodeScalars.contains(where: Shell.isLineBreakingOrControl) else {
            return nil
        }
        return path.replacingOccurrences(of: "%", with: "%%")
    }

    /// What `filenamePattern` takes, in words.
    public static let pathRule = "a path without control characters or backslashes (an #SBATCH line holds it)"

    /// Whether `name` is a partition (or a comma-separated list of them) an `#SBATCH --partition` line can hold:
    /// letters, digits and `. _ -`.
    public static func isPartitionName(_ name: String) -> Bool {
        !name.isEmpty
            && name.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { part in
                !part.isEmpty
                    && part.unicodeScalars.allSatisfy { $0.isASCIILetterOrDigit || "._-".unicodeScalars.contains($0) }
            }
    }

    /// What `isPartitionName` takes, in words.
    public static let partitionRule = "a Slurm partition: A-Z a-z 0-9 . _ - (several: comma-separated)"

    /// Slurm's `--time` for a duration: whole minutes rounded up (at least one), as D-HH:MM:00.
    public static func time(seconds: Double) -> String {
        let minutes = max(1, Int((seconds / 60).rounded(.up)))
        return String(format: "%d-%02d:%02d:00", minutes / 1440, minutes / 60 % 24, minutes % 60)
    }
}
