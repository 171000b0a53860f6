public import CapsizeCore
public import Compute
import Foundation

/// The type and allowed range of one workload parameter.
public enum ParameterKind: Sendable, Equatable {
    case integer(ClosedRange<Int>)
    case real(ClosedRange<Double>)
    case text
    /// A switch: `--name` alone means true.
    case flag
    /// One of a fixed set of words.
    case choice([String])
}

/// One parameter of a workload: `--name value`.
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var kind: ParameterKind
    /// The default as the user would type it; nil means required.
    public var defaultValue: String?
    public var help: String

    public init(_ name: String, _ kind: ParameterKind, default defaultValue: String?, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// The allowed values in words, e.g. `an integer in 1...65536`.
    public var allowed: String {
        switch kind {
        case .integer(let range): "an integer in \(range.lowerBound)...\(range.upperBound)"
        case .real(let range): "a number in \(range.lowerBound)...\(range.upperBound)"
        case .text: "any text"
        case .flag: "true or false"
        case .choice(let words): "one of " + words.joined(separator: ", ")
        }
    }

    /// Checks one textual value against the kind and range.
    func validate(_ text: String) throws(InputError) {
        switch kind {
        case .integer(let range):
            guard let value = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(value) else {
                throw InputError(setting: name, value: text, allowed: allowed)
            }
        case .real(let range):
            guard let value = Double(text), value.isFinite, range.contains(value) else {
                throw InputError(setting: name, value: text, allowed: allowed)
            }
        case .text: break
        case .flag:
            guard text == "true" || text == "false" else {
                throw InputError(setting: name, value: text, allowed: allowed)
            }
        case .choice(let words):
            guard words.contains(text) else { throw InputError(setting: name, value: text, allowed: allowed) }
        }
    }
}

/// Validated parameter values of one workload, defaults filled in.
public struct ParameterValues: Sendable, Equatable {
    public private(set) var values: [String: String]
    /// The words after `--` (a command's argv), verbatim.
    public private(set) var trailing: [String] = []

    /// Parses `--name value`, `--name=value` and `--flag` against `specs`; words after `--` are kept
    /// verbatim in `trailing`.
    /// - Throws: `InputError` for an unknown name, a missing value, or a value out of range.
    public init(arguments: [String], specs: [ParameterSpec]) throws(InputError) {
        var given: [String: String] = [:]
        var index = 0
        var trailing: [String] = []
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                trailing = Array(arguments[(index + 1)...])
                break
            }
            guard argument.hasPrefix("--") else {
                throw InputError(field: "argument", value: argument, allowed: Self.names(specs))
            }
            var name = String(argument.dropFirst(2))
            var value: String
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else if specs.first(where: { $0.name == name })?.kind == .flag {
                value = "true"
            } else {
                guard index + 1 < arguments.count else {
                    throw InputError(field: argument, value: "", allowed: "a value after \(argument)")
                }
                index += 1
                value = arguments[index]
            }
            guard specs.contains(where: { $0.name == name }) else {
                throw InputError(field: "parameter", value: "--\(name)", allowed: Self.names(specs))
            }
            given[name] = value
            index += 1
        }
        try self.init(given, specs: specs)
        self.trailing = trailing
    }

    /// Validates a dictionary of values against `specs`, filling defaults.
    public init(_ given: [String: String] = [:], specs: [ParameterSpec]) throws(InputError) {
        var values: [String: String] = [:]
        for spec in specs {
            guard let text = given[spec.name] ?? spec.defaultValue else {
                throw InputError(setting: spec.name, value: "", allowed: "a value (required): \(spec.allowed)")
            }
            try spec.validate(text)
            values[spec.name] = text
        }
        for name in given.keys where !specs.contains(where: { $0.name == name }) {
            throw InputError(field: "parameter", value: "--\(name)", allowed: Self.names(specs))
        }
        self.values = values
    }

    private static func names(_ specs: [ParameterSpec]) -> String {
        specs.isEmpty ? "no parameters" : "one of " + specs.map { "--\($0.name)" }.joined(separator: ", ")
    }

    /// An integer parameter (validated at init).
    public func int(_ name: String) -> Int { Int(values[name]!.replacingOccurrences(of: "_", with: ""))! }
    /// A real parameter (validated at init).
    public func double(_ name: String) -> Double { Double(values[name]!)! }
    /// A text parameter.
    public func string(_ name: String) -> String { values[name]! }
    /// A flag parameter.
    public func flag(_ name: String) -> Bool { values[name] == "true" }
}

/// What `--device` asks for.
public enum DeviceSelector: Sendable, Equatable, CustomStringConvertible {
    /// An OpenCL GPU if one exists, else the CPU.
    case auto
    /// The CPU: OpenBLAS for BLAS work; an OpenCL CPU device (PoCL) for kernels, else native code.
    case cpu
    /// Host code only, no OpenCL.
    case native
    /// The first OpenCL GPU.
    case gpu
    /// The N-th OpenCL device as `capsize devices` lists it.
    case openCL(Int)

    /// Parses `auto`, `cpu`, `native`, `gpu` or `opencl:N`.
    public init(parsing text: String) throws(InputError) {
        switch text.lowercased() {
        case "auto": self = .auto
        case "cpu": self = .cpu
        case "native": self = .native
        case "gpu": self = .gpu
        default:
            let parts = text.lowercased().split(separator: ":")
            guard parts.count == 2, parts[0] == "opencl", let index = Int(parts[1]), index >= 0 else {
                throw InputError(setting: "device", value: text, allowed: "auto, cpu, native, gpu or opencl:N")
            }
            self = .openCL(index)
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .cpu: "cpu"
        case .native: "native"
        case .gpu: "gpu"
        case .openCL(let index): "opencl:\(index)"
        }
    }

    /// The OpenCL device this selector names, for `gpu` and `opencl:N`.
    /// - Throws: `InputError` listing the devices that exist when there is no such device.
    public func openCLDevice(in devices: [OpenCLDevice]) throws(InputError) -> OpenCLDevice? {
        switch self {
        case .openCL(let index):
            guard let device = devices.first(where: { $0.info.index == index }) else {
                throw InputError(setting: "device", value: description, allowed: Self.listing(devices))
            }
            return device
        case .gpu:
            guard let device = devices.first(where: { $0.info.kind == .gpu }) else {
                throw InputError(
                    setting: "device", value: "gpu", allowed: Self.listing(devices) + " (no OpenCL GPU here)")
            }
            return device
        case .auto: return devices.first { $0.info.kind == .gpu }
        case .cpu, .native: return nil
        }
    }

    /// The devices that exist, in words: `auto, cpu, native, opencl:0 (pthread-skylake, cpu)`.
    public static func listing(_ devices: [OpenCLDevice]) -> String {
        let openCL = devices.map { "opencl:\($0.info.index) (\($0.info.name), \($0.info.kind.rawValue))" }
        return (["auto", "cpu", "native"] + (devices.contains { $0.info.kind == .gpu } ? ["gpu"] : []) + openCL)
            .joined(separator: ", ")
    }
}

extension Kernels {
    /// The source of kernel file `name` (e.g. `mlp.cl`), from `--kernels DIR` when given.
    /// - Throws: `InputError` naming the setting `kernels` when the directory lacks the file.
    public static func require(_ name: String, overrideDirectory: String?) throws(InputError) -> String {
        guard let text = source(name, overrideDirectory: overrideDirectory) else {
            throw InputError(
                setting: "kernels", value: overrideDirectory ?? "(embedded)", allowed: "a directory that holds \(name)")
        }
        return text
    }
}
