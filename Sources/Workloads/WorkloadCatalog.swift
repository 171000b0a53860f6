public import CapsizeCore

/// The built-in workloads, by the name users type.
public enum WorkloadCatalog {
    public static let all: [any Workload.Type] = [TrainMLP.self, RenderFrames.self, CommandWorkload.self]

    /// The names in words, for help texts: `train-mlp, render-frames or command`.
    public static var namesInWords: String {
        let names = all.map { $0.name }
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// The workload called `name` with its parameters parsed from `arguments` (`--name value`…, then `-- argv`
    /// for a workload that takes a program).
    /// - Throws: `InputError` naming an unknown workload, a bad parameter, or words after `--` that it does not take.
    public static func parse(_ name: String, arguments: [String]) throws(InputError) -> (
        type: any Workload.Type, values: ParameterValues
    ) {
        let type = try named(name)
        let values = try ParameterValues(arguments: arguments, specs: type.parameters)
        if !values.trailing.isEmpty && !type.takesProgram {
            throw InputError(
                field: "words after --", value: values.trailing.joined(separator: " "),
                allowed: "none: only " + programTakers + " takes a program")
        }
        return (type, values)
    }

    /// The names of the workloads that take a program after `--`.
    static var programTakers: String {
        var names: [String] = []
        for workload in all where workload.takesProgram { names.append(workload.name) }
        return names.joined(separator: ", ")
    }

    /// The workload called `name`.
    /// - Throws: `InputError` listing the workloads that exist.
    public static func named(_ name: String) throws(InputError) -> any Workload.Type {
        var names: [String] = []
        for workload in all {
            if workload.name == name { return workload }
            names.append(workload.name)
        }
        throw InputError(field: "WORKLOAD", value: name, allowed: names.joined(separator: ", "))
    }
}
