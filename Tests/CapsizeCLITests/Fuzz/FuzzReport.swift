import Foundation
import Testing

/// What a fuzz run found: each failure known (listed in `knownFailures`) or new; new ones are test failures, each with
/// the seed and a filter that replays it, and a line to paste into the table once it is understood.
struct FuzzReport {
    let cases: [FuzzCase]
    let outcomes: [FuzzOutcome]
    let known: [KnownFailure]
    let settings: FuzzSettings

    /// One kind of failure of one target, over the value classes it was seen with.
    struct Finding {
        var command: String
        var target: String
        var kind: FuzzFailure.Kind
        var classes: [String] = []
        var example: FuzzCase
        var outcome: FuzzOutcome
        var detail: String
    }

    /// Prints the summary, records an issue per new finding, and writes the Markdown report when asked to.
    func finish(sourceLocation: SourceLocation = #_sourceLocation) {
        var new: [Finding] = []
        var all: [Finding] = []
        var seen = Set<Int>()
        var exercised = Set<Int>()
        for (fuzzCase, outcome) in zip(cases, outcomes) {
            for (index, entry) in known.enumerated() where entry.covers(fuzzCase) { exercised.insert(index) }
            for failure in outcome.failures {
                Self.add(failure, fuzzCase, outcome, to: &all)
                if let index = known.firstIndex(where: { $0.matches(fuzzCase, failure) }) {
                    seen.insert(index)
                } else {
                    Self.add(failure, fuzzCase, outcome, to: &new)
                }
            }
        }
        // Hangs as one ending, whatever their seconds.
        let endings = Dictionary(grouping: outcomes) { $0.timedOut ? "timed out" : $0.ending }.mapValues(\.count)
        print(
            "fuzz: \(cases.count) cases, seed \(settings.seed): "
                + endings.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                + "; \(all.count) findings, \(new.count) new")
        // An entry for one target that none of its cases failed in this run may be fixed (one for many targets, `*`,
        // is only seen when the run happens to try a failing one).
        for index in exercised.subtracting(seen).sorted() where !known[index].target.hasSuffix("*") {
            let entry = known[index]
            print(
                "fuzz: fixed? `\(entry.command) \(entry.target)` \(entry.classes) did not fail with \(entry.kind)"
                    + " in this run: if no case of it fails any more, remove its line from knownFailures")
        }
        for finding in new {
            let filter = "\(finding.command) \(finding.target) \(finding.classes[0])"
            Issue.record(
                """
                new fuzz finding (\(finding.kind.rawValue)): \(finding.example.commandLine)
                  \(finding.outcome.ending): \(finding.detail)
                  value classes: \(finding.classes.joined(separator: ", "))
                  replay: CAPSIZE_FUZZ_SEED=\(settings.seed) CAPSIZE_FUZZ_FILTER='\(filter)' \
                swift test --skip-build --filter FuzzTests
                  known, once understood: \(Self.tableLine(finding))
                """, sourceLocation: sourceLocation)
        }
        if let path = settings.report {
            let text = all.map(Self.markdown).joined(separator: "\n") + "\n"
            let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            try? (existing + text).write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    private static func add(
        _ failure: FuzzFailure, _ fuzzCase: FuzzCase, _ outcome: FuzzOutcome, to list: inout [Finding]
    ) {
        if let at = list.firstIndex(where: {
            $0.command == fuzzCase.command && $0.target == fuzzCase.target && $0.kind == failure.kind
        }) {
            if !list[at].classes.contains(fuzzCase.valueClass) { list[at].classes.append(fuzzCase.valueClass) }
            return
        }
        list.append(
            Finding(
                command: fuzzCase.command, target: fuzzCase.target, kind: failure.kind, classes: [fuzzCase.valueClass],
                example: fuzzCase, outcome: outcome, detail: failure.detail))
    }

    /// The finding as a line of `knownFailures`.
    static func tableLine(_ finding: Finding) -> String {
        let classes = finding.classes.map { "\"\($0)\"" }.joined(separator: ", ")
        let observed = "\(finding.outcome.ending): \(finding.detail)".prefix(100)
            .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return
            #"KnownFailure("\#(finding.command)", "\#(finding.target)", [\#(classes)], .\#(finding.kind), "\#(observed)"),"#
    }

    /// The finding as a Markdown list item: the command line, how it ended, its first stderr line, what is wrong.
    static func markdown(_ finding: Finding) -> String {
        let clean = { (text: String) in
            text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "\n", with: "⏎")
                .replacingOccurrences(of: "\r", with: "␍")
        }
        return "- **\(finding.kind.rawValue)** `\(clean(finding.example.commandLine))`"
            + " (\(finding.command) \(finding.target); classes: \(finding.classes.joined(separator: ", "))): "
            + "\(finding.outcome.ending), stderr `\(clean(finding.outcome.firstLine))`; \(clean(finding.detail))"
    }
}
