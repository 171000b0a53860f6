import Foundation
import PackagePlugin

/// Compiles the package's `kernels/*.cl` into the target as `EmbeddedKernels.sources`.
@main
struct EmbedKernels: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let kernelsDirectory = context.package.directoryURL.appending(path: "kernels")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: kernelsDirectory.path())
            .filter { $0.hasSuffix(".cl") }
            .sorted()
            .map { kernelsDirectory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedKernels.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) OpenCL kernel sources",
                executable: try context.tool(named: "EmbedKernelsTool").url,
                arguments: [output.path()] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
