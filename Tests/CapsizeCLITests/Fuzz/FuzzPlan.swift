import Foundation
import TestSupport
import Workloads

/// capsize's command line as the binary describes it (`--experimental-dump-help`, `capsize workloads`), so that an
/// option added tomorrow is fuzzed without a change here.
struct CLISurface: Sendable {
    /// An option, a flag or a positional argument of a subcommand.
    struct Argument: Sendable {
        /// `--memory` for an option or a flag; `<workload>` for a positional.
        var name: String
        var isFlag: Bool
        var isPositional: Bool
        var valueName: String?
        var defaultValue: String?
        var abstract: String
        var allValues: [String]
    }

    /// A subcommand (`runs show` is `["runs", "show"]`) and its arguments.
    struct Command: Sendable {
        var path: [String]
        var arguments: [Argument]
        var name: String { path.joined(separator: " ") }
    }

    /// A workload's parameter (`--batch`) and what it takes.
    struct Parameter: Sendable {
        var workload: String
        var name: String
        var kind: FuzzValueKind
    }

    var commands: [Command] = []
    var parameters: [Parameter] = []

    /// Reads the surface of the `capsize` at `binary`.
    init(binary: String) throws {
        let help = try run(binary, ["--experimental-dump-help"])
        let root = try JSONSerialization.jsonObject(with: Data(help.stdout.utf8)) as? [String: Any]
        func walk(_ command: [String: Any], path: [String]) {
            let subcommands = command["subcommands"] as? [[String: Any]] ?? []
            if subcommands.isEmpty {
                commands.append(Command(path: path, arguments: Self.arguments(of: command)))
            }
            for sub in subcommands {
                guard let name = sub["commandName"] as? String, name != "help" else { continue }
                walk(sub, path: path + [name])
            }
        }
        walk(root?["command"] as? [String: Any] ?? [:], path: [])
        var workload = ""
        for line in try run(binary, ["workloads"]).stdout.split(separator: "\n") {
            if !line.hasPrefix(" "), !line.hasPrefix("--"), let colon = line.firstIndex(of: ":") {
                workload = String(line[..<colon])
            } else if line.hasPrefix("--") {
                let columns = line.split(separator: "  ", omittingEmptySubsequences: true).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                guard columns.count >= 3 else { continue }
                let allowed = columns[2]
                let kind: FuzzValueKind =
                    allowed.hasPrefix("an integer") ? .integer : allowed.hasPrefix("a number") ? .number : .choice
                parameters.append(Parameter(workload: workload, name: columns[0], kind: kind))
            }
        }
    }

    private static func arguments(of command: [String: Any]) -> [Argument] {
        var found: [Argument] = []
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            let kind = argument["kind"] as? String ?? ""
            let names = (argument["names"] as? [[String: Any]] ?? []).compactMap { name -> String? in
                name["kind"] as? String == "long" ? "--" + (name["name"] as? String ?? "") : nil
            }
            let valueName = argument["valueName"] as? String
            let name = kind == "positional" ? "<\(valueName ?? "")>" : names.first ?? ""
            guard !name.isEmpty, name != "--help", name != "--version" else { continue }
            found.append(
                Argument(
                    name: name, isFlag: kind == "flag", isPositional: kind == "positional", valueName: valueName,
                    defaultValue: argument["defaultValue"] as? String, abstract: argument["abstract"] as? String ?? "",
                    allValues: argument["allValues"] as? [String] ?? []))
        }
        return found
    }
}

/// A command line cheap to run when every value in it is valid: `capsize` + `path` + `head` + `options` + `tail`.
/// A case puts its hostile value in place of one of the options (or adds it), of the positional `head`, of a
/// workload parameter in `tail`, or of the program after `--` in `tail`.
struct FuzzBase: Sendable {
    var head: [String] = []
    var options: [String] = []
    var tail: [String] = []
    /// What the cases of this base are known as instead of the subcommand (`submit --backend slurm`).
    var label: String?

    /// The command line with `option` set to `value` (added, or in place of the base's own), as `--option=value`
    /// when `attached`.
    func setting(_ option: String, to value: String?, attached: Bool = false) -> [String] {
        var kept: [String] = []
        var index = 0
        while index < options.count {
            if options[index] == option {
                index += value == nil ? 1 : 2
                continue
            }
            kept.append(options[index])
            index += 1
        }
        let words = value.map { attached ? [option + "=" + $0] : [option, $0] } ?? [option]
        return head + kept + words + tail
    }

    /// The command line with the workload parameter `name` in `tail` set to `value` (as `name=value` when
    /// `attached`).
    func parameter(_ name: String, _ value: String, attached: Bool = false) -> [String] {
        var words = tail
        let end = words.firstIndex(of: "--") ?? words.endIndex
        if let at = words[..<end].firstIndex(of: name) { words.removeSubrange(at...at + 1) }
        words.insert(
            contentsOf: attached ? [name + "=" + value] : [name, value],
            at: words.firstIndex(of: "--") ?? words.endIndex)
        return head + options + words
    }

    /// The command line with the program after `--` replaced by `value` (its arguments dropped).
    func program(_ value: String) -> [String] {
        let end = tail.firstIndex(of: "--") ?? tail.endIndex
        return head + options + tail[..<end] + ["--", value]
    }

    /// The command line with the first positional in `head` replaced by `value`.
    func positional(_ value: String) -> [String] {
        (head.isEmpty ? [value] : [value] + head.dropFirst()) + options + tail
    }

    /// The workload this base runs (its first word), if it is one of `workloads`.
    func workload(among workloads: Set<String>) -> String? {
        head.first.flatMap { workloads.contains($0) ? $0 : nil }
            ?? tail.first { workloads.contains($0) }
    }
}

/// An input file fuzzed field by field: the command that reads it (`FILE` stands for its path), and a valid file.
struct FuzzInputFile: Sendable {
    var command: String
    /// The option that names the file (`--queues`), or a word for it (`<FILE>`, `stdin`).
    var option: String
    /// The file's name in the case's `files/` folder.
    var name: String
    var document: String
    var arguments: [String]
    /// The file is given as stdin (the worker) rather than by path.
    var isStdin = false
    /// Whether a line naming a refusal must name the field; false where refusals are answers, not exits.
    var namesFields = true
    /// Whether every field is read (so that a value of the wrong type must be refused), not only some.
    var strict = true
    /// The keys of the fields that hold whole numbers.
    var integers: Set<String> = []
    /// Fields left out (their paths with `[*]` start with one of these): copies of fields fuzzed elsewhere.
    var skipping: [String] = []
    /// What a refusal may name instead of the field: an option the file's contents decide on (`--option ID`).
    var alsoNamed: [String] = []
}

/// Every fuzz case of a surface, grouped by where the hostile value goes, and the order a seed puts them in.
struct FuzzPlan: Sendable {
    /// The cases that put values in one place (one option of one subcommand, one field of one file).
    struct Group: Sendable {
        var target: String
        var cases: [FuzzCase]
    }

    var groups: [Group] = []

    /// Cases for every option, flag, positional and workload parameter of `surface`'s commands that `bases` has a
    /// base command line for; `kind` says what an option takes (nil: leave it out). The bases of a command take the
    /// values by turns, but one with a label (another backend) gets every value of its own.
    mutating func addOptions(
        surface: CLISurface, bases: [String: [FuzzBase]],
        kind: (CLISurface.Command, CLISurface.Argument) -> FuzzValueKind?,
        extras: [String: [HostileValue]]
    ) {
        let workloads = Set(surface.parameters.map(\.workload))
        for command in surface.commands {
            let all = bases[command.name] ?? []
            var labels: [String?] = []
            for base in all where !labels.contains(base.label) { labels.append(base.label) }
            for label in labels {
                let variants = all.filter { $0.label == label }
                let name = label ?? command.name
                for argument in command.arguments {
                    guard let valueKind = kind(command, argument) else { continue }
                    let cases =
                        argument.isFlag
                        ? variants.map {
                            FuzzCase(
                                command: name, target: argument.name, valueClass: "flag",
                                arguments: command.path + $0.setting(argument.name, to: nil))
                        }
                        : optionCases(
                            command, argument, valueKind, variants: variants, name: name,
                            values: HostileValues.values(for: valueKind) + (extras[argument.name] ?? []))
                    groups.append(Group(target: "\(name) \(argument.name)", cases: cases))
                }
                for base in variants {
                    guard let workload = base.workload(among: workloads) else { continue }
                    for parameter in surface.parameters where parameter.workload == workload {
                        let cases = HostileValues.values(for: parameter.kind).map { value in
                            FuzzCase(
                                command: name, target: "\(workload) \(parameter.name)", valueClass: value.valueClass,
                                arguments: command.path
                                    + base.parameter(parameter.name, value.text, attached: value.attached),
                                mustRefuse: value.mustRefuse, mentions: [parameter.name],
                                negativeNumber: value.isNegativeNumber)
                        }
                        groups.append(Group(target: "\(name) \(workload) \(parameter.name)", cases: cases))
                    }
                }
            }
        }
    }

    /// A case per value of `values` for `argument` (an option or a positional), on `variants` by turns.
    private func optionCases(
        _ command: CLISurface.Command, _ argument: CLISurface.Argument, _ valueKind: FuzzValueKind,
        variants: [FuzzBase], name: String, values: [HostileValue]
    ) -> [FuzzCase] {
        values.enumerated().map { index, value in
            let base = variants[index % variants.count]
            var fuzzCase = FuzzCase(
                command: name, target: argument.name, valueClass: value.valueClass,
                arguments: command.path
                    + (argument.isPositional
                        ? (argument.valueName == "command" ? base.program(value.text) : base.positional(value.text))
                        : base.setting(argument.name, to: value.text, attached: value.attached)),
                mustRefuse: value.mustRefuse, mentions: argument.isPositional ? [] : [argument.name],
                negativeNumber: value.isNegativeNumber)
            // A path may be named by the refusal instead of the option, unless it holds what a message escapes
            // (then the line cannot hold it as given); a message shows the first 200 characters of a value.
            if valueKind == .directory || valueKind == .inputFile, !value.text.isEmpty,
                !value.text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            {
                fuzzCase.mentions.append(String(String.UnicodeScalarView(value.text.unicodeScalars.prefix(200))))
            }
            if valueKind == .directory { fuzzCase.outputs = [value.text] }
            return fuzzCase
        }
    }

    /// Cases that put each of `programs` after `--` of `base`, a command line of `command` that runs a program.
    mutating func addPrograms(_ programs: [HostileValue], command: String, base: FuzzBase) {
        let cases = programs.map { value in
            FuzzCase(
                command: command, target: "-- PROGRAM", valueClass: value.valueClass,
                arguments: command.split(separator: " ").map(String.init) + base.program(value.text),
                mustRefuse: value.mustRefuse)
        }
        groups.append(Group(target: "\(command) -- PROGRAM", cases: cases))
    }

    /// Cases that change one field of `file` at a time (every element of an array at once), and that replace the
    /// whole file with documents of no input's shape.
    mutating func addFile(_ file: FuzzInputFile) {
        guard let document = FuzzJSON(parsing: file.document) else { return }
        var seen: Set<String> = []
        let path = "@CASE@/files/" + file.name
        let arguments = file.arguments.map { $0 == "FILE" ? path : $0 }
        func fuzzCase(_ target: String, _ valueClass: String, _ content: FuzzFile, refuse: Bool, mentions: String)
            -> FuzzCase
        {
            FuzzCase(
                command: file.command, target: "\(file.option) \(target)", valueClass: valueClass,
                arguments: arguments, files: [file.name: content], stdin: file.isStdin ? file.name : nil,
                mustRefuse: refuse && file.namesFields && file.strict,
                mentions: file.namesFields ? [mentions] + file.alsoNamed : [])
        }
        for (path, value) in document.leaves where !path.isEmpty {
            let shape = FuzzJSON.describe(path, wildcard: true)
            guard !file.skipping.contains(where: shape.hasPrefix), seen.insert(shape).inserted else { continue }
            let everywhere = document.leaves.map(\.path).filter { FuzzJSON.describe($0, wildcard: true) == shape }
            var key = ""
            for step in path.reversed() {
                if case .key(let name) = step {
                    key = name
                    break
                }
            }
            var cases = HostileValues.json(replacing: value, integer: file.integers.contains(key)).map { hostile in
                fuzzCase(
                    shape, hostile.valueClass, .edited(document, places: everywhere, token: hostile.token),
                    refuse: hostile.mustRefuse, mentions: hostile.breaksDocument ? file.name : key)
            }
            if case .key = path.last {
                cases.append(
                    fuzzCase(
                        shape, "missing", .edited(document, places: everywhere, token: nil), refuse: false,
                        mentions: key))
            }
            groups.append(Group(target: "\(file.command) \(file.option) \(shape)", cases: cases))
        }
        let cases = HostileValues.documents.map { document in
            let content: FuzzFile =
                document.bytes.allSatisfy { $0 < 0x80 }
                ? .text(String(decoding: document.bytes, as: UTF8.self))
                : .bytes(document.bytes)
            var fuzzCase = fuzzCase("<document>", document.valueClass, content, refuse: true, mentions: file.name)
            fuzzCase.mustRefuse = file.namesFields
            return fuzzCase
        }
        groups.append(Group(target: "\(file.command) \(file.option) <document>", cases: cases))
    }

    /// Cases that give `file` (read by `arguments`, `FILE` its path) each of `contents`.
    mutating func addContents(
        command: String, option: String, name: String, arguments: [String], contents: [HostileValue], refuse: Bool
    ) {
        let path = "@CASE@/files/" + name
        let cases = contents.map { value in
            FuzzCase(
                command: command, target: "\(option) <content>", valueClass: value.valueClass,
                arguments: arguments.map { $0 == "FILE" ? path : $0 }, files: [name: .text(value.text)],
                mustRefuse: refuse && value.mustRefuse, mentions: refuse ? [name, option] : [])
        }
        groups.append(Group(target: "\(command) \(option) <content>", cases: cases))
    }

    /// The first `count` cases in the order `seed` gives: groups shuffled, each group's cases shuffled, then one case
    /// of each group in turn, so that a few hundred cases reach every group and more cases only add to them.
    func cases(count: Int, seed: UInt64) -> [FuzzCase] {
        // Workloads' SplitMix64: the same stream on every platform, so a seed names the same cases everywhere.
        var generator = SplitMix64(seed: seed)
        let shuffled = groups.shuffled(using: &generator).map { $0.cases.shuffled(using: &generator) }
        var picked: [FuzzCase] = []
        var round = 0
        while picked.count < count {
            var any = false
            for cases in shuffled where round < cases.count && picked.count < count {
                picked.append(cases[round])
                any = true
            }
            if !any { break }
            round += 1
        }
        return picked
    }

    var total: Int { groups.reduce(0) { $0 + $1.cases.count } }
}
