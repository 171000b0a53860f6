import CapsizeCore
import Foundation
import TestSupport
import Testing

@testable import Compute

@Suite struct CalibrationStoreTests {
    /// Each test's own calibrations folder, removed after it, and a store on it.
    let folder = TestFolder("capsize-tests")
    let store: CalibrationStore
    var directory: String { folder.path }

    init() { store = CalibrationStore(directory: folder.path) }

    @Test("saved host and device calibrations read back equal from a new store on the same directory")
    func roundTrip() throws {
        let host = Fixture.hostCalibration()
        let device = Fixture.deviceCalibration(device: "NVIDIA CUDA | NVIDIA H100 80GB HBM3 | 550.54", gflops: 65_000)
        try CalibrationStore(directory: directory).save(host)
        try CalibrationStore(directory: directory).save(device)

        let store = CalibrationStore(directory: directory)
        #expect(store.path == directory + "/calibrations.json")
        #expect(try store.host(machine: host.machineKey, blas: host.blasKey) == host)
        #expect(try store.device(machine: device.machineKey, device: device.deviceKey) == device)
        #expect(try store.host(machine: "another machine", blas: host.blasKey) == nil)
    }

    @Test("two devices are kept apart by key, and re-saving one replaces only that one")
    func devicesKeptApart() throws {
        let gpu = Fixture.deviceCalibration(device: "NVIDIA CUDA | NVIDIA H100 80GB HBM3 | 550.54", gflops: 65_000)
        let cpu = Fixture.deviceCalibration(device: "Portable Computing Language | pthread-skylake | 3.1", gflops: 350)
        try store.save(gpu)
        try store.save(cpu)
        #expect(try store.device(machine: gpu.machineKey, device: gpu.deviceKey)?.fmaPeakGFLOPS == 65_000)
        #expect(try store.device(machine: cpu.machineKey, device: cpu.deviceKey)?.fmaPeakGFLOPS == 350)

        var newer = cpu
        newer.fmaPeakGFLOPS = 360
        try store.save(newer)
        #expect(try store.device(machine: cpu.machineKey, device: cpu.deviceKey)?.fmaPeakGFLOPS == 360)
        #expect(try store.device(machine: gpu.machineKey, device: gpu.deviceKey)?.fmaPeakGFLOPS == 65_000)
        #expect(try store.all()[cpu.machineKey]?.devices.count == 2)
    }

    @Test("host calibrations of different BLAS configurations are kept apart; host() finds the current one")
    func hostKeyedByBLASConfiguration() throws {
        #expect(try store.host() == nil)
        let current = Fixture.hostCalibration(
            machine: CalibrationKey.machine(), blas: CalibrationKey.blas(), gflops: 250)
        let other = Fixture.hostCalibration(
            machine: CalibrationKey.machine(), blas: CalibrationKey.blas(coreType: "SkylakeX", threads: 1), gflops: 120)
        try store.save(current)
        try store.save(other)
        #expect(try store.host() == current)
        #expect(try store.host(machine: other.machineKey, blas: other.blasKey)?.blasSgemmGFLOPS == 120)
    }

    @Test("a quick calibration does not replace a stored full one, but a full one replaces a quick one")
    func quickNeverReplacesFull() throws {
        let full = Fixture.deviceCalibration(device: "Platform | GPU | 1.0", gflops: 1_000)
        var quick = full
        quick.quick = true
        quick.fmaPeakGFLOPS = 400
        #expect(try store.save(quick))
        #expect(try store.device(machine: full.machineKey, device: full.deviceKey) == quick)
        #expect(try store.save(full))
        #expect(try !store.save(quick))
        #expect(try store.device(machine: full.machineKey, device: full.deviceKey) == full)

        var quickHost = Fixture.hostCalibration(gflops: 90)
        quickHost.quick = true
        try store.save(Fixture.hostCalibration(gflops: 250))
        #expect(try !store.save(quickHost))
        #expect(try store.host(machine: quickHost.machineKey, blas: quickHost.blasKey)?.blasSgemmGFLOPS == 250)
    }

    @Test("a corrupt file is reported by path and left untouched, by both reads and saves")
    func corruptFileIsNotOverwritten() throws {
        let garbage = #"{"version": 1, "machines": {"m": {"host": {"b": {"blasSgemmGFLOPS": "fast"}}"#
        try garbage.write(toFile: store.path, atomically: true, encoding: .utf8)

        let saveError = try #require(throws: CalibrationStoreError.self) { try store.save(Fixture.hostCalibration()) }
        #expect(saveError.path == store.path)
        #expect(saveError.description.contains(store.path))
        guard case .corrupt = saveError else {
            Issue.record("expected .corrupt, got \(saveError)")
            return
        }
        let readError = try #require(throws: CalibrationStoreError.self) { try store.host() }
        #expect(readError.path == store.path)
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == garbage)
    }

    @Test("a file from a newer capsize is reported rather than rewritten")
    func newerVersionIsNotOverwritten() throws {
        let future = #"{"version": 99, "machines": {}}"#
        try future.write(toFile: store.path, atomically: true, encoding: .utf8)
        let error = try #require(throws: CalibrationStoreError.self) { try store.save(Fixture.hostCalibration()) }
        #expect(error.description.contains("version 99"))
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == future)
    }

    @Test("saving creates the directory when it does not exist yet")
    func createsDirectory() throws {
        let store = CalibrationStore(directory: directory + "/nested/capsize")
        try store.save(Fixture.hostCalibration())
        #expect(FileManager.default.fileExists(atPath: store.path))
    }

    @Test(
        "the default directory is CAPSIZE_HOME, else XDG_DATA_HOME/capsize, else ~/.local/share/capsize",
        arguments: [
            (["CAPSIZE_HOME": "/c", "XDG_DATA_HOME": "/x", "HOME": "/h"], "/c"),
            (["XDG_DATA_HOME": "/x", "HOME": "/h"], "/x/capsize"),
            (["CAPSIZE_HOME": "", "HOME": "/h"], "/h/.local/share/capsize"),
        ])
    func defaultDirectory(environment: [String: String], expected: String) {
        #expect(CapsizeHome.directory(environment: environment) == expected)
    }
}
