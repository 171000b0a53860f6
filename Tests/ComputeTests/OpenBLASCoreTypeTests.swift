import Testing

@testable import Compute

/// capsize's choice of OpenBLAS kernels from CPU features, as a pure function.
@Suite struct OpenBLASCoreTypeTests {
    private static let sse: Set<CPUFeature> = [.sse3, .ssse3, .sse4_2]
    private static let avx2: Set<CPUFeature> = sse.union([.avx, .avx2, .fma, .osYMM])
    private static let avx512: Set<CPUFeature> = avx2.union([
        .avx512f, .avx512dq, .avx512cd, .avx512bw, .avx512vl, .osZMM,
    ])

    private static func choice(_ features: Set<CPUFeature>, vendor: String = "GenuineIntel") -> String? {
        OpenBLASCoreType.choose(for: CPUFeatures(vendor: vendor, features: features))?.name
    }

    @Test("features map to the fastest OpenBLAS 0.3.21 core name whose kernels they can run")
    func mapping() {
        // Sapphire Rapids (family 6 model 207, unknown to 0.3.21): AVX-512 with BF16.
        #expect(Self.choice(Self.avx512.union([.avx512_bf16])) == "Cooperlake")
        #expect(Self.choice(Self.avx512) == "SkylakeX")
        // Zen 4 has AVX-512 with BF16: the vendor does not matter there.
        #expect(Self.choice(Self.avx512.union([.avx512_bf16]), vendor: "AuthenticAMD") == "Cooperlake")
        #expect(Self.choice(Self.avx2) == "Haswell")
        #expect(Self.choice(Self.avx2, vendor: "AuthenticAMD") == "Zen")
        #expect(Self.choice(Self.avx2, vendor: "HygonGenuine") == "Zen")
        #expect(Self.choice(Self.sse.union([.avx, .osYMM])) == "Sandybridge")
        #expect(Self.choice(Self.sse) == "Nehalem")
        #expect(Self.choice([.sse3]) == "Prescott")
        #expect(Self.choice([]) == "Prescott")
        // No CPUID (not x86): OpenBLAS decides.
        #expect(Self.choice(Self.avx512, vendor: "") == nil)
    }

    @Test("features the OS does not save (XGETBV) do not count: AVX-512 without zmm state, AVX without ymm state")
    func osSupport() {
        #expect(Self.choice(Self.avx512.union([.avx512_bf16]).subtracting([.osZMM])) == "Haswell")
        #expect(Self.choice(Self.avx512.subtracting([.osZMM, .osYMM])) == "Nehalem")
        // One AVX-512 subset missing (Knights Landing has no BW/DQ/VL) is not SkylakeX.
        #expect(Self.choice(Self.avx512.subtracting([.avx512bw])) == "Haswell")
        // BF16 alone does not make Cooperlake.
        #expect(Self.choice(Self.avx2.union([.avx512_bf16])) == "Haswell")
    }

    @Test("CPUID and XGETBV words decode to features")
    func decode() {
        let cpu = CPUFeatures.decode(
            vendor: "GenuineIntel",
            leaf1ECX: 1 << 0 | 1 << 9 | 1 << 12 | 1 << 20 | 1 << 27 | 1 << 28,
            leaf7EBX: 1 << 5 | 1 << 16 | 1 << 17 | 1 << 28 | 1 << 30 | 1 << 31,
            leaf7Subleaf1EAX: 1 << 5, xcr0: 0b1110_0111)
        #expect(cpu.features == Set(CPUFeature.allCases))
        // Without OSXSAVE, XCR0 says nothing: no OS state.
        let noXsave = CPUFeatures.decode(
            vendor: "GenuineIntel", leaf1ECX: 1 << 28, leaf7EBX: 0, leaf7Subleaf1EAX: 0, xcr0: 0b1110_0111)
        #expect(noXsave.features == [.avx])
        // ymm saved, zmm not.
        let ymmOnly = CPUFeatures.decode(
            vendor: "GenuineIntel", leaf1ECX: 1 << 27 | 1 << 28, leaf7EBX: 1 << 16, leaf7Subleaf1EAX: 0, xcr0: 0b111)
        #expect(ymmOnly.features == [.avx, .avx512f, .osYMM])
    }

    @Test(
        "the user's OPENBLAS_CORETYPE is kept; an inherited choice of capsize's is made again; unset is chosen and set")
    func selection() {
        let cpu = CPUFeatures(vendor: "GenuineIntel", features: Self.avx2)
        var exported: [String] = []
        let user = OpenBLASCoreType.select(environment: "SkylakeX", marker: nil, cpu: cpu) { exported.append($0) }
        #expect(user.source == .environment && user.requested == "SkylakeX" && exported.isEmpty)
        #expect(user.reason == "set by OPENBLAS_CORETYPE=SkylakeX")
        // The user's value differs from the marker a parent capsize left: still the user's.
        let changed = OpenBLASCoreType.select(environment: "Nehalem", marker: "Haswell", cpu: cpu) {
            exported.append($0)
        }
        #expect(changed.source == .environment && exported.isEmpty)

        let chosen = OpenBLASCoreType.select(environment: nil, marker: nil, cpu: cpu) { exported.append($0) }
        #expect(chosen.source == .cpuid && chosen.requested == "Haswell" && exported == ["Haswell"])
        #expect(chosen.reason == "chosen by capsize from CPUID features avx fma avx2 os-ymm")
        exported = []
        let empty = OpenBLASCoreType.select(environment: "", marker: nil, cpu: cpu) { exported.append($0) }
        #expect(empty.source == .cpuid && exported == ["Haswell"])
        exported = []
        let inherited = OpenBLASCoreType.select(environment: "Haswell", marker: "Haswell", cpu: cpu) {
            exported.append($0)
        }
        #expect(inherited.source == .cpuid && inherited.requested == "Haswell" && exported.isEmpty)
        // Inherited from a capsize on a faster CPU (another Slurm node): chosen again for this one.
        let moved = OpenBLASCoreType.select(environment: "Cooperlake", marker: "Cooperlake", cpu: cpu) {
            exported.append($0)
        }
        #expect(moved.requested == "Haswell" && exported == ["Haswell"])
    }

    @Test("notes: a name OpenBLAS does not know, and kernels needing features this CPU lacks")
    func notes() {
        let cpu = CPUFeatures(vendor: "GenuineIntel", features: Self.avx2)
        let bogus = OpenBLASCoreSelection(requested: "bogus", source: .environment, features: [])
        let unknown = OpenBLASCoreType.notes(selection: bogus, inUse: "Haswell", cpu: cpu)
        #expect(unknown.count == 1 && unknown[0].contains("not a core name OpenBLAS 0.3.21 knows"))
        let skylake = OpenBLASCoreSelection(requested: "skylakex", source: .environment, features: [])
        let missing = OpenBLASCoreType.notes(selection: skylake, inUse: "SkylakeX", cpu: cpu)
        #expect(missing.count == 1 && missing[0].contains("avx512f") && missing[0].contains("illegal instruction"))
        let fine = OpenBLASCoreSelection(requested: "Haswell", source: .cpuid, features: [])
        #expect(OpenBLASCoreType.notes(selection: fine, inUse: "Haswell", cpu: cpu).isEmpty)
    }
}
