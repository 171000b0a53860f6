import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a job or a function starts with: never capsize's own environment, only what its service would set,
/// the variables a user configures (`--env`, `--env-file`, `--pass-env`), and the few of capsize's own that its
/// workloads need, each passed by name (`passedByName`, the one list; README "What a job or function sees").
public enum WorkloadEnvironment {
    /// capsize's variables that reach every job and function when capsize has them, by name and nothing else:
    /// - `OCL_ICD_VENDORS`, `OCL_ICD_FILENAMES`: which OpenCL drivers the ICD loader opens;
    /// - `POCL_DEVICES`, `POCL_KERNEL_CACHE`, `POCL_DEBUG`: PoCL's device choice, its kernel cache switch and
    ///   its logging (`POCL_CACHE_DIR` is set by the sandbox to a folder the job's user can write, see
    ///   `SandboxUser`);
    /// - `OPENBLAS_CORETYPE`: the OpenBLAS kernel set capsize chose (the worker must use the same), and
    ///   `CAPSIZE_OPENBLAS_CORETYPE_FROM_CPUID`, which says capsize chose it (a worker on another CPU chooses again);
    /// - `CUDA_VISIBLE_DEVICES`: the GPUs this machine gives capsize;
    /// - `CAPSIZE_WORKER_OPENCL`, `CAPSIZE_HIDE_GPUS`, `CAPSIZE_FAST_MATH`: the worker's own switches
    ///   (no OpenCL at Init, no GPU, fast render math); the executors set the first two themselves too;
    /// - `LD_LIBRARY_PATH`: where the runtime (`capsize worker`) finds its libraries when they are not in the
    ///   system's paths.
    /// `CAPSIZE_HOME` is never passed, not even with `--pass-env` (`neverPassed`).
    public static let passedByName = [
        "OCL_ICD_VENDORS", "OCL_ICD_FILENAMES", "POCL_DEVICES", "POCL_KERNEL_CACHE", "POCL_DEBUG",
        "OPENBLAS_CORETYPE", "CAPSIZE_OPENBLAS_CORETYPE_FROM_CPUID", "CUDA_VISIBLE_DEVICES",
        "CAPSIZE_WORKER_OPENCL", "CAPSIZE_HIDE_GPUS", "CAPSIZE_FAST_MATH",
        "LD_LIBRARY_PATH",
    ]

    /// Variables that never reach a job or a function: the store's location.
    public static let neverPassed: Set<String> = ["CAPSIZE_HOME"]

    /// The search path of a job or a function: the system's directories (Lambda's is
    /// `/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin`; this machine has no `/var/lang`).
    public static let systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin"

    /// `passedByName` and `names` with the values capsize was started with (`launchEnvironment()`, which carries
    /// the OpenBLAS core type capsize chose at start-up too), those it has.
    /// - Parameters:
    ///   - names: more names (a user's `--pass-env`); `neverPassed` ones are left out.
    ///   - source: the variables to read; by default capsize's launch environment.
    public static func passed(_ names: [String] = [], from source: [String: String]? = nil) -> [String: String] {
        let values = source ?? launchEnvironment()
        var result: [String: String] = [:]
        for name in passedByName + names where !neverPassed.contains(name) { result[name] = values[name] }
        return result
    }

    /// The base of a Batch job's environment: what a container gets from its image (`PATH`, `LANG`) and
    /// capsize's `passedByName` variables. `HOME` and `TMPDIR` are the job's private temporary folder (set by
    /// the sandbox).
    public static func batchBase(from source: [String: String]? = nil) -> [String: String] {
        var environment = passed(from: source)
        environment["PATH"] = systemPath
        environment["LANG"] = "C.UTF-8"
        return environment
    }
}
