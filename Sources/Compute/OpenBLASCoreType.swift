internal import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// A CPU feature that decides which OpenBLAS kernels can run here, read with CPUID (and XGETBV for the OS part).
public enum CPUFeature: String, CaseIterable, Sendable, Codable, Comparable {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The features' names as /proc/cpuinfo and OpenBLAS write them.
    case sse3, ssse3, sse4_2, avx, fma, avx2
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case avx512f, avx512dq, avx512cd, avx512bw, avx512vl, avx512_bf16
    /// The OS saves the xmm and ymm registers on a context switch (XCR0 bits 1 and 2): AVX may be used.
    case osYMM = "os-ymm"
    /// The OS also saves the opmask and zmm registers (XCR0 bits 5, 6 and 7): AVX-512 may be used.
    case osZMM = "os-zmm"

    public static func < (lhs: CPUFeature, rhs: CPUFeature) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The CPU's vendor and the features in `CPUFeature`, as CPUID reports them.
public struct CPUFeatures: Sendable, Equatable {
    /// The CPUID vendor string (`GenuineIntel`, `AuthenticAMD`, `HygonGenuine`), empty where there is no CPUID.
    public var vendor: String
    public var features: Set<CPUFeature>

    public init(vendor: String, features: Set<CPUFeature>) {
        self.vendor = vendor
        self.features = features
    }

    /// This CPU's, read once with CPUID and XGETBV.
    public static let current: CPUFeatures = {
        var words = capsize_cpu_words()
        capsize_read_cpu_words(&words)
        let vendorWords = [words.vendor.0, words.vendor.1, words.vendor.2]
        let vendorBytes = vendorWords.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
        return decode(
            vendor: String(decoding: vendorBytes.prefix { $0 != 0 }, as: UTF8.self), leaf1ECX: words.leaf1_ecx,
            leaf7EBX: words.leaf7_ebx, leaf7Subleaf1EAX: words.leaf7_1_eax, xcr0: words.xcr0)
    }()

    /// The features in CPUID's words: leaf 1 ECX, leaf 7 subleaf 0 EBX, leaf 7 subleaf 1 EAX, and XCR0 (0 when the
    /// OS did not set OSXSAVE).
    static func decode(vendor: String, leaf1ECX: UInt32, leaf7EBX: UInt32, leaf7Subleaf1EAX: UInt32, xcr0: UInt64)
        -> CPUFeatures
    {
        let bits: [(CPUFeature, UInt32, Int)] = [
            (.sse3, leaf1ECX, 0), (.ssse3, leaf1ECX, 9), (.fma, leaf1ECX, 12), (.sse4_2, leaf1ECX, 20),
            (.avx, leaf1ECX, 28), (.avx2, leaf7EBX, 5), (.avx512f, leaf7EBX, 16), (.avx512dq, leaf7EBX, 17),
            (.avx512cd, leaf7EBX, 28), (.avx512bw, leaf7EBX, 30), (.avx512vl, leaf7EBX, 31),
            (.avx512_bf16, leaf7Subleaf1EAX, 5),
        ]
        var features = Set(bits.filter { $0.1 & (1 << UInt32($0.2)) != 0 }.map(\.0))
        let osxsave = leaf1ECX & (1 << 27) != 0
        if osxsave && xcr0 & 0b110 == 0b110 { features.insert(.osYMM) }
        if osxsave && xcr0 & 0b1110_0110 == 0b1110_0110 { features.insert(.osZMM) }
        return CPUFeatures(vendor: vendor, features: features)
    }
}

/// Which OpenBLAS kernels capsize runs, and why: OpenBLAS 0.3.21 (Debian 12) picks its kernels by CPU model
/// number and falls back to Prescott (SSE3) on a model it does not know, such as a Sapphire Rapids Xeon
/// (family 6, model 207), where SGEMM then runs at about a quarter of numpy's speed. So capsize picks the kernels
/// itself, from the CPU's features rather than its model, and hands them to OpenBLAS as `OPENBLAS_CORETYPE`
/// before the library is loaded (OpenBLAS reads the variable once, when it loads: see `BLAS`).
///
/// A value the user set is kept as it is. An empty value counts as unset.
public enum OpenBLASCoreType {
    /// The variable OpenBLAS reads.
    public static let variable = "OPENBLAS_CORETYPE"
    /// Set next to `OPENBLAS_CORETYPE` when capsize chose the value, to the same value: processes capsize starts
    /// (workers, jobs) then tell an inherited choice from one the user made.
    public static let chosenMarker = "CAPSIZE_OPENBLAS_CORETYPE_FROM_CPUID"

    /// OpenBLAS 0.3.21's x86_64 DYNAMIC_ARCH core names that capsize chooses from, fastest first, each with the
    /// features its kernels use (and the OS state they need). A name is correct on any CPU that has its features.
    static let candidates: [(name: String, needs: Set<CPUFeature>, vendors: Set<String>?)] = [
        ("Cooperlake", avx512.union([.avx512_bf16]), nil),
        ("SkylakeX", avx512, nil),
        // Zen: the Haswell kernels with AMD's cache sizes.
        ("Zen", [.avx, .avx2, .fma, .osYMM], ["AuthenticAMD", "HygonGenuine"]),
        ("Haswell", [.avx, .avx2, .fma, .osYMM], nil),
        ("Sandybridge", [.avx, .osYMM], nil),
        ("Nehalem", [.sse3, .ssse3, .sse4_2], nil),
        // Every x86_64 CPU: OpenBLAS's own floor.
        ("Prescott", [], nil),
    ]
    private static let avx512: Set<CPUFeature> = [
        .avx, .avx2, .fma, .avx512f, .avx512dq, .avx512cd, .avx512bw, .avx512vl, .osYMM, .osZMM,
    ]

    /// Every core name OpenBLAS 0.3.21 accepts in `OPENBLAS_CORETYPE` on x86_64 (case-insensitive; 32-bit ones
    /// become Prescott on a 64-bit build). Newer releases accept more (SapphireRapids from 0.3.22).
    public static let knownNames = [
        "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington",
        "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Sandybridge", "Bobcat", "Bulldozer",
        "Piledriver", "Haswell", "Steamroller", "Excavator", "Zen", "SkylakeX", "Cooperlake",
    ]

    /// The fastest core name whose kernels are correct on a CPU with `cpu`'s features, with the features that
    /// decided it; nil without CPUID (not x86), where capsize leaves the choice to OpenBLAS.
    public static func choose(for cpu: CPUFeatures) -> (name: String, features: [CPUFeature])? {
        guard !cpu.vendor.isEmpty else { return nil }
        let pick = candidates.first { candidate in
            candidate.needs.isSubset(of: cpu.features) && (candidate.vendors?.contains(cpu.vendor) ?? true)
        }!
        return (pick.name, pick.needs.sorted())
    }

    /// The features a core name's kernels need that `cpu` lacks (empty for a name capsize does not choose from).
    public static func missingFeatures(for name: String, on cpu: CPUFeatures) -> [CPUFeature] {
        guard let candidate = candidates.first(where: { $0.name.lowercased() == name.lowercased() }) else { return [] }
        return candidate.needs.subtracting(cpu.features).sorted()
    }

    /// The choice for this process, made once: the user's `OPENBLAS_CORETYPE` if set, else capsize's choice from
    /// CPUID, which is then set in this process's environment (with `chosenMarker`) for OpenBLAS and for the
    /// processes capsize starts. `capsize` makes it first thing in `main`, while it has one thread; any other
    /// process (tests, benchmarks) when it first uses BLAS.
    public static let selection: OpenBLASCoreSelection = select(
        environment: getenv(variable).map { String(cString: $0) },
        marker: getenv(chosenMarker).map { String(cString: $0) },
        cpu: .current,
        export: { name in
            setenv(variable, name, 1)
            setenv(chosenMarker, name, 1)
        })

    /// The choice for a process started with `environment` and `marker` (the values of `OPENBLAS_CORETYPE` and
    /// `chosenMarker`) on `cpu`; `export` sets a chosen name in the environment.
    static func select(environment: String?, marker: String?, cpu: CPUFeatures, export: (String) -> Void)
        -> OpenBLASCoreSelection
    {
        // A value inherited from the capsize that started this process (the marker matches) is capsize's choice, not
        // the user's: it is made again for this CPU (a Slurm job may run on another node), usually to the same name.
        if let value = environment, !value.isEmpty, value != marker {
            return OpenBLASCoreSelection(requested: value, source: .environment, features: [])
        }
        guard let chosen = choose(for: cpu) else {
            return OpenBLASCoreSelection(requested: nil, source: .openblas, features: [])
        }
        if chosen.name != environment { export(chosen.name) }
        return OpenBLASCoreSelection(requested: chosen.name, source: .cpuid, features: chosen.features.map(\.rawValue))
    }

    /// What processes capsize starts get on top of capsize's start-up environment: `OPENBLAS_CORETYPE` and
    /// `chosenMarker` when capsize chose the value (a value the user set is in the start-up environment already).
    public static func childEnvironment() -> [String: String] {
        guard selection.source == .cpuid, let name = selection.requested else { return [:] }
        return [variable: name, chosenMarker: name]
    }

    /// What is wrong with the kernels in use, if anything: OpenBLAS running other kernels than requested (it ignores
    /// a name it does not know and falls back to its own CPU check), or requested kernels that need features this
    /// CPU lacks (they stop on an illegal instruction).
    public static func notes(selection: OpenBLASCoreSelection, inUse: String, cpu: CPUFeatures = .current) -> [String] {
        guard let requested = selection.requested else { return [] }
        var notes: [String] = []
        if requested.lowercased() != inUse.lowercased() {
            let known = knownNames.contains { $0.lowercased() == requested.lowercased() }
            notes.append(
                "OpenBLAS runs \(inUse) kernels, not the requested \(requested)"
                    + (known
                        ? ""
                        : ": \(requested) is not a core name OpenBLAS 0.3.21 knows, so it fell back to its own CPU check")
            )
        }
        let missing = missingFeatures(for: requested, on: cpu)
        if !missing.isEmpty {
            notes.append(
                "\(requested) kernels need \(missing.map(\.rawValue).joined(separator: " ")), which this CPU or its OS "
                    + "lacks: BLAS calls may stop with an illegal instruction")
        }
        return notes
    }
}

/// Where the `OPENBLAS_CORETYPE` OpenBLAS was given came from.
public struct OpenBLASCoreSelection: Sendable, Codable, Equatable {
    public enum Source: String, Sendable, Codable {
        /// Chosen by capsize from CPUID features (in this process, or in the capsize that started it).
        case cpuid
        /// Set by the user in `OPENBLAS_CORETYPE`.
        case environment
        /// No CPUID (not x86) and no variable: OpenBLAS's own detection.
        case openblas
    }
    /// The value OpenBLAS was given in `OPENBLAS_CORETYPE`, nil when none.
    public var requested: String?
    public var source: Source
    /// For `cpuid`: the features the choice rests on.
    public var features: [String]

    /// One line: what decided the kernels.
    public var reason: String {
        switch source {
        case .cpuid:
            features.isEmpty
                ? "chosen by capsize from CPUID: no feature set of a faster core type"
                : "chosen by capsize from CPUID features " + features.joined(separator: " ")
        case .environment: "set by OPENBLAS_CORETYPE=\(requested ?? "")"
        case .openblas: "OpenBLAS's own detection (no CPUID here, OPENBLAS_CORETYPE unset)"
        }
    }
}
