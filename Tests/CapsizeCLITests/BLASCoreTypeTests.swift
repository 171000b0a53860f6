import Compute
import Foundation
import TestSupport
import Testing

/// `capsize` started as a user would, without or with `OPENBLAS_CORETYPE`: which kernels it runs, what `devices`
/// says about them, and what the programs it starts get.
@Suite struct BLASCoreTypeTests {
    /// Runs capsize with `OPENBLAS_CORETYPE` (and capsize's marker) removed from this test process's environment,
    /// then `set` added.
    static func run(_ arguments: [String], set: [String: String] = [:]) throws -> ProcessOutput {
        try capsize(arguments, environment: set, unsetting: [OpenBLASCoreType.variable, OpenBLASCoreType.chosenMarker])
    }

    static func blas(set: [String: String] = [:]) throws -> [String: Any] {
        let result = try run(["devices", "--json"], set: set)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try json(result.stdout)["blas"] as? [String: Any])
    }

    @Test("unset: capsize runs the kernels it chose from CPUID, and devices says so")
    func chosenFromCPUID() throws {
        let expected = try #require(OpenBLASCoreType.choose(for: .current)?.name)
        let blas = try Self.blas()
        #expect(blas["coreType"] as? String == expected)
        #expect(blas["coreTypeRequested"] as? String == expected)
        #expect(blas["coreTypeSource"] as? String == "cpuid")
        #expect((blas["coreTypeReason"] as? String ?? "").hasPrefix("chosen by capsize from CPUID"))
        #expect((blas["coreTypeNotes"] as? [String])?.isEmpty == true)
        #expect((blas["configuration"] as? String ?? "").contains(expected))
    }

    @Test("unset: a batch job capsize runs gets the chosen OPENBLAS_CORETYPE and the marker")
    func reachesJobs() throws {
        let expected = try #require(OpenBLASCoreType.choose(for: .current)?.name)
        let check =
            "test \"$OPENBLAS_CORETYPE\" = \(expected) && test \"$\(OpenBLASCoreType.chosenMarker)\" = \(expected)"
        let result = try Self.run(["submit", "--", "/bin/sh", "-c", check])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
    }

    @Test("the user's OPENBLAS_CORETYPE is honoured and shown; an unknown one is shown with what OpenBLAS runs instead")
    func userValue() throws {
        let haswell = try Self.blas(set: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(haswell["coreType"] as? String == "Haswell")
        #expect(haswell["coreTypeSource"] as? String == "environment")
        #expect(haswell["coreTypeReason"] as? String == "set by OPENBLAS_CORETYPE=Haswell")
        let bogus = try Self.blas(set: ["OPENBLAS_CORETYPE": "NoSuchCore"])
        #expect(bogus["coreTypeSource"] as? String == "environment")
        #expect(bogus["coreTypeRequested"] as? String == "NoSuchCore")
        let notes = try #require(bogus["coreTypeNotes"] as? [String])
        #expect(notes.contains { $0.contains("not a core name OpenBLAS 0.3.21 knows") }, "\(notes)")
    }
}
