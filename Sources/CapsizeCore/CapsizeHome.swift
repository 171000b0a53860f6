import Foundation

/// Where capsize keeps what it measured (the run store, calibrations, job outputs).
public enum CapsizeHome {
    /// `CAPSIZE_HOME`, else `$XDG_DATA_HOME/capsize`, else `~/.local/share/capsize`.
    /// - Parameter environment: the variables to read; nil for this process's environment.
    public static func directory(environment: [String: String]? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let home = environment["CAPSIZE_HOME"], !home.isEmpty { return home }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty {
            return URL(fileURLWithPath: data).appendingPathComponent("capsize").path
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/capsize").path
    }
}
