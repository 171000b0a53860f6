import CapsizeCore
import Foundation

/// Stored calibrations: one JSON file, `calibrations.json`, with host and device peaks per machine.
///
/// The directory is `CAPSIZE_HOME` when set, else `$XDG_DATA_HOME/capsize`, else
/// `~/.local/share/capsize`. Saving merges into what is there under a lock and replaces the file
/// atomically; a file that cannot be read as calibrations is reported and never overwritten. A quick
/// calibration is stored only where no full one is.
public struct CalibrationStore: Sendable {
    /// The JSON file's path.
    public let path: String

    /// - Parameter directory: where `calibrations.json` lives; nil for `CapsizeHome.directory()`.
    public init(directory: String? = nil) {
        let directory = directory ?? CapsizeHome.directory()
        path = URL(fileURLWithPath: directory).appendingPathComponent("calibrations.json").path
    }

    // MARK: Saving

    /// Stores `host` under its machine and BLAS keys, replacing an older entry with the same keys,
    /// except that a quick calibration never replaces a full one (a full one is the better peak).
    /// - Returns: false when a stored full calibration was kept instead.
    /// - Throws: `CalibrationStoreError` when the file is corrupt or cannot be written.
    @discardableResult
    public func save(_ host: HostCalibration) throws -> Bool {
        try update { file in Self.replace(&file[machine: host.machineKey].host[host.blasKey], with: host) }
    }

    /// Stores `device` under its machine and device keys, as `save(_:)` stores a host calibration.
    @discardableResult
    public func save(_ device: DeviceCalibration) throws -> Bool {
        try update { file in Self.replace(&file[machine: device.machineKey].devices[device.deviceKey], with: device) }
    }

    /// Puts `calibration` in `entry` unless it is quick and `entry` holds a full one (the better peak).
    /// - Returns: whether `entry` changed.
    private static func replace<Calibration: QuickOrFull>(_ entry: inout Calibration?, with calibration: Calibration)
        -> Bool
    {
        if calibration.quick && entry?.quick == false { return false }
        entry = calibration
        return true
    }

    // MARK: Reading

    /// The host calibration of this machine for OpenBLAS's current core type and threads.
    /// - Returns: nil when none is stored.
    /// - Throws: `CalibrationStoreError.corrupt` naming the file.
    public func host() throws -> HostCalibration? {
        try host(machine: CalibrationKey.machine(), blas: CalibrationKey.blas())
    }

    /// The host calibration stored under the given keys (see `CalibrationKey`).
    public func host(machine: String, blas: String) throws -> HostCalibration? {
        try load().machines[machine]?.host[blas]
    }

    /// The calibration of `device` on this machine.
    /// - Returns: nil when none is stored.
    /// - Throws: `CalibrationStoreError.corrupt` naming the file.
    public func device(_ device: OpenCLDevice) throws -> DeviceCalibration? {
        try self.device(machine: CalibrationKey.machine(), device: CalibrationKey.device(device.info))
    }

    /// The device calibration stored under the given keys (see `CalibrationKey`).
    public func device(machine: String, device: String) throws -> DeviceCalibration? {
        try load().machines[machine]?.devices[device]
    }

    /// Every stored calibration of every machine, keyed by machine key.
    public func all() throws -> [String: StoredCalibrations] {
        try load().machines
    }

    // MARK: File

    private func load() throws -> CalibrationFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch CocoaError.fileReadNoSuchFile {
            return CalibrationFile()
        } catch {
            throw CalibrationStoreError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        let file: CalibrationFile
        do {
            file = try Self.decoder.decode(CalibrationFile.self, from: data)
        } catch {
            throw CalibrationStoreError.corrupt(path: path, reason: Self.describe(error))
        }
        guard file.version <= CalibrationFile.currentVersion else {
            throw CalibrationStoreError.corrupt(
                path: path,
                reason: "it has format version \(file.version), newer than this capsize reads "
                    + "(\(CalibrationFile.currentVersion))")
        }
        return file
    }

    /// Loads, changes and atomically rewrites the file while holding an exclusive lock on a
    /// sibling lock file, so two capsize processes saving at once both keep their entries.
    /// - Parameter change: edits the file's contents and returns whether there is anything to write.
    private func update(_ change: (inout CalibrationFile) -> Bool) throws -> Bool {
        do {
            return try FileLock.withExclusiveLock(beside: path) {
                var file = try load()
                guard change(&file) else { return false }
                do {
                    try Self.encoder.encode(file).write(to: URL(fileURLWithPath: path), options: .atomic)
                } catch {
                    throw CalibrationStoreError.unwritable(path: path, reason: error.localizedDescription)
                }
                return true
            }
        } catch let error as FileLockError {
            throw CalibrationStoreError.unwritable(path: error.path, reason: error.reason)
        }
    }

    private static var encoder: JSONEncoder { .pretty() }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// A decoding error in words, with the JSON path of the offending field.
    private static func describe(_ error: any Error) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let field = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return field.isEmpty ? context.debugDescription : "at \(field): \(context.debugDescription)"
        }
        switch error {
        case DecodingError.dataCorrupted(let context): return at(context)
        case DecodingError.keyNotFound(let key, let context): return "\(at(context)) (missing \"\(key.stringValue)\")"
        case DecodingError.typeMismatch(_, let context): return at(context)
        case DecodingError.valueNotFound(_, let context): return at(context)
        default: return "\(error)"
        }
    }
}

/// The calibrations stored for one machine.
public struct StoredCalibrations: Codable, Sendable, Equatable {
    /// Host calibrations by BLAS key (`CalibrationKey.blas`).
    public var host: [String: HostCalibration] = [:]
    /// Device calibrations by device key (`CalibrationKey.device`).
    public var devices: [String: DeviceCalibration] = [:]
}

/// A calibration measured at quick or at full sizes.
private protocol QuickOrFull { var quick: Bool { get } }

extension HostCalibration: QuickOrFull {}
extension DeviceCalibration: QuickOrFull {}

/// The file's layout: `{"version": 1, "machines": {machine key: {"host": {...}, "devices": {...}}}}`.
private struct CalibrationFile: Codable {
    static let currentVersion = 1
    var version = currentVersion
    var machines: [String: StoredCalibrations] = [:]

    subscript(machine key: String) -> StoredCalibrations {
        get { machines[key, default: StoredCalibrations()] }
        set { machines[key] = newValue }
    }
}

/// A calibration file that cannot be read or written.
public enum CalibrationStoreError: Error, CustomStringConvertible, Equatable {
    /// The file exists but is not valid calibration JSON; it is left untouched.
    case corrupt(path: String, reason: String)
    /// The file exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// The file or its directory cannot be written.
    case unwritable(path: String, reason: String)

    /// The file concerned.
    public var path: String {
        switch self {
        case .corrupt(let path, _), .unreadable(let path, _), .unwritable(let path, _): path
        }
    }

    public var description: String { description(recalibrate: "calibrate") }

    /// The error in words, `recalibrate` saying how to calibrate again (the CLI: its command).
    public func description(recalibrate: String) -> String {
        switch self {
        case .corrupt(let path, let reason):
            "The calibration file \(path) is not valid (\(reason)); it was left as it is: fix or move it away, "
                + "then \(recalibrate) again."
        case .unreadable(let path, let reason):
            "The calibration file \(path) cannot be read (\(reason)); check its permissions."
        case .unwritable(let path, let reason):
            "The calibration file \(path) cannot be written (\(reason)); check the directory's permissions "
                + "or set CAPSIZE_HOME to a writable directory."
        }
    }
}

extension CalibrationStore {
    /// Applies the CLBlast Xgemm parameters a full calibration found for `device`, if any.
    /// - Returns: true when tuned parameters were applied.
    @discardableResult
    public func applyCLBlastTuning(_ device: OpenCLDevice) -> Bool {
        guard let parameters = (try? self.device(device))??.clblastXgemmParameters else { return false }
        return (try? CLBlast.overrideParameters(device: device, kernel: "Xgemm", parameters: parameters)) != nil
    }
}
