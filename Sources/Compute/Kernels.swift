import Foundation

/// The OpenCL C sources of `kernels/`, compiled into the binary by the EmbedKernels plugin.
public enum Kernels {
    /// The source of `name` (e.g. `mlp.cl`): from `overrideDirectory` when given, else embedded.
    /// - Returns: nil when the file does not exist there.
    public static func source(_ name: String, overrideDirectory: String? = nil) -> String? {
        if let directory = overrideDirectory {
            return try? String(
                contentsOfFile: URL(fileURLWithPath: directory).appendingPathComponent(name).path, encoding: .utf8)
        }
        return EmbeddedKernels.sources[name]
    }
}
