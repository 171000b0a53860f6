import CapsizeCore
/// The built-in workloads, by the name users type.
public enum WorkloadCatalog {
    public static let all: [any Workload.Type] = [TrainMLP.self, RenderFrames.self, CommandWorkload.self]

    /// The workload called `name`.
    /// - Throws: `InputError` listing the workloads that exist.
    public static func named(_ name: String) throws -> any Workload.Type {
        var names: [String] = []
        for workload in all {
            if workload.name == name { return workload }
            names.append(workload.name)
        }
        throw InputError(field: "WORKLOAD", value: name, allowed: names.joined(separator: ", "))
    }
}
