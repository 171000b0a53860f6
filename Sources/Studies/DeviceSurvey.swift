public import Compute
import Foundation

/// The host, its BLAS, the OpenCL devices and their calibrated peaks (what `capsize devices --json` prints).
public struct DevicesReport: Encodable, Sendable {
    public struct BLASInfo: Encodable, Sendable {
        public var configuration: String
        /// The kernels OpenBLAS runs (`openblas_get_corename`).
        public var coreType: String
        /// Who chose them: `cpuid` (capsize, from the CPU's features), `environment` (the user's
        /// `OPENBLAS_CORETYPE`) or `openblas` (OpenBLAS's own detection, where there is no CPUID).
        public var coreTypeSource: OpenBLASCoreSelection.Source
        /// The value OpenBLAS was given in `OPENBLAS_CORETYPE` (capsize's choice or the user's), nil when none.
        public var coreTypeRequested: String?
        /// For `cpuid`: the CPUID features the choice rests on.
        public var coreTypeFeatures: [String]
        /// One line: who chose the kernels and why.
        public var coreTypeReason: String
        /// What is wrong with the kernels in use, if anything (an unknown name, features this CPU lacks).
        public var coreTypeNotes: [String]
        public var threads: Int

        public static func current() -> BLASInfo {
            let selection = OpenBLASCoreType.selection
            let inUse = BLAS.coreType
            return BLASInfo(
                configuration: BLAS.configuration, coreType: inUse, coreTypeSource: selection.source,
                coreTypeRequested: selection.requested, coreTypeFeatures: selection.features,
                coreTypeReason: selection.reason,
                coreTypeNotes: OpenBLASCoreType.notes(selection: selection, inUse: inUse), threads: BLAS.threads)
        }
    }
    public var host: HostInfo
    public var blas: BLASInfo
    public var openCL: [DeviceInfo]
    public var openCLNotice: String?
    public var calibrationStore: String
    public var calibratedNow: Bool
    public var hostCalibration: HostCalibration?
    public var deviceCalibrations: [DeviceCalibration] = []
    public var calibrationErrors: [String] = []
}

/// Surveys the machine's devices, calibrating them on request.
public enum DeviceSurvey {
    /// The devices with their stored peaks, or with peaks measured now (and stored) when `calibrate` is set.
    /// - Parameters:
    ///   - progress: called before each measurement, with what it measures.
    /// - Throws: `CalibrationStoreError` when the stored calibrations cannot be read or written. A device whose
    ///   calibration fails is listed in `calibrationErrors` instead.
    public static func run(
        calibrate: Bool, quick: Bool, store: CalibrationStore = CalibrationStore(),
        progress: (@Sendable (String) -> Void)?
    ) throws -> DevicesReport {
        let (devices, openCLNotice) = discoverDevices()
        var report = DevicesReport(
            host: HostInfo.current(), blas: .current(), openCL: devices.map(\.info), openCLNotice: openCLNotice,
            calibrationStore: store.path, calibratedNow: calibrate)
        guard calibrate else {
            report.hostCalibration = try store.host()
            report.deviceCalibrations = try devices.compactMap { try store.device($0) }
            return report
        }
        let options = CalibrationOptions(quick: quick, progress: progress)
        let host = Calibrator.calibrateHost(options)
        try store.save(host)
        report.hostCalibration = host
        for device in devices {
            do {
                let calibration = try Calibrator.calibrate(device, options)
                try store.save(calibration)
                report.deviceCalibrations.append(calibration)
            } catch {
                report.calibrationErrors.append("opencl:\(device.info.index) \(device.info.name): \(error)")
            }
        }
        return report
    }
}

/// The OpenCL devices, or none with a notice saying why; CPU paths work either way.
/// `CAPSIZE_HIDE_GPUS=1` hides GPU devices (inside a Lambda-model function, which has no GPU).
public func discoverDevices() -> (devices: [OpenCLDevice], notice: String?) {
    do {
        var devices = try OpenCL.devices()
        if ProcessInfo.processInfo.environment["CAPSIZE_HIDE_GPUS"] == "1" {
            devices.removeAll { $0.info.kind == .gpu }
        }
        if devices.isEmpty {
            return (
                [],
                "no OpenCL platform found: OpenCL devices are unavailable; the CPU paths (OpenBLAS, native "
                    + "renderer) still work. Install an ICD such as pocl-opencl-icd for an OpenCL CPU device."
            )
        }
        return (devices, nil)
    } catch {
        return ([], "OpenCL unavailable (\(error)); the CPU paths still work.")
    }
}
