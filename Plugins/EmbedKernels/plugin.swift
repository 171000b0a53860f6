import Foundation
import PackagePlugin

/// Compiles data files of the package into a target as string literals, so that one binary
/// carries them and runs from any directory: `kernels/*.cl` into Compute (`EmbeddedKernels`),
/// `data/*.json` into CloudModel (`EmbeddedData`).
@main
struct EmbedKernels: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let (folder, suffix, enumName) =
            target.name == "CloudModel" ? ("data", ".json", "EmbeddedData") : ("kernels", ".cl", "EmbeddedKernels")
        let directory = context.package.directoryURL.appending(path: folder)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: directory.path())
            .filter { $0.hasSuffix(suffix) }
            .sorted()
            .map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "\(enumName).swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) files of \(folder)/ into \(target.name)",
                executable: try context.tool(named: "EmbedKernelsTool").url,
                arguments: [enumName, output.path()] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
