public import CapsizeCore
import Foundation
public import Workloads

/// The sizes a sweep steps through: `NAME=a,b,c` (listed), `NAME=a..b*F` (geometric, ×F each
/// step) or `NAME=a..b+S` (arithmetic). Sizes are strictly increasing and inside the parameter's range.
public struct SizeList: Equatable, Sendable {
    public var parameter: String
    public var sizes: [Double]
    /// Integer parameters are stepped in whole numbers (a geometric step is rounded, duplicates dropped).
    public var integral: Bool

    /// Parses `text` for `workload`; `NAME=` may be left out, meaning the workload's size parameter.
    /// - Throws: `InputError` naming the setting `param` (`param NAME` for a value of NAME) and the offending item: an unknown parameter, an empty or
    ///   non-increasing list, a value outside the parameter's range, a step that does not grow.
    public init(parsing text: String, workload: any Workload.Type) throws(InputError) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        let name = parts.count == 2 ? parts[0] : workload.sizeParameter
        let list = parts.count == 2 ? parts[1] : text
        guard let spec = workload.parameters.first(where: { $0.name == name }) else {
            throw InputError(
                setting: "param", value: name,
                allowed: "a parameter of \(workload.name): " + workload.parameters.map(\.name).joined(separator: ", "))
        }
        let range: ClosedRange<Double>
        let integral: Bool
        switch spec.kind {
        case .integer(let r): (range, integral) = (Double(r.lowerBound)...Double(r.upperBound), true)
        case .real(let r): (range, integral) = (r, false)
        default:
            throw InputError(setting: "param", value: name, allowed: "a numeric parameter (\(name) is \(spec.allowed))")
        }
        parameter = name
        self.integral = integral
        func number(_ word: Substring) throws(InputError) -> Double {
            let cleaned = word.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
            guard let value = Double(cleaned), value.isFinite else {
                throw InputError(setting: "param \(name)", value: String(word), allowed: "a number")
            }
            guard range.contains(value) else {
                throw InputError(setting: "param \(name)", value: String(word), allowed: spec.allowed)
            }
            if integral && value.rounded() != value {
                throw InputError(setting: "param \(name)", value: String(word), allowed: spec.allowed)
            }
            return value
        }
        if let dots = list.range(of: "..") {
            let from = try number(list[list.startIndex..<dots.lowerBound])
            let rest = list[dots.upperBound...]
            guard let op = rest.firstIndex(where: { $0 == "*" || $0 == "+" }) else {
                throw InputError(
                    setting: "param \(name)", value: list, allowed: "a..b*F (geometric) or a..b+S (arithmetic)")
            }
            let to = try number(rest[rest.startIndex..<op])
            guard let step = Double(rest[rest.index(after: op)...]), step.isFinite else {
                throw InputError(setting: "param \(name)", value: list, allowed: "a numeric step after * or +")
            }
            let geometric = rest[op] == "*"
            guard geometric ? step > 1 : step > 0 else {
                throw InputError(
                    setting: "param \(name)", value: list,
                    allowed: geometric ? "a factor above 1 after *" : "a step above 0 after +")
            }
            guard to >= from else {
                throw InputError(setting: "param \(name)", value: list, allowed: "a..b with b ≥ a")
            }
            // Steps the list would take (before rounding merges sizes): a step too small to move a size, or to reach
            // b in a million steps, is refused rather than walked.
            let steps = geometric ? log(to / from) / log(step) : (to - from) / step
            guard steps <= 1_000_000, geometric || from + step > from else {
                throw InputError(setting: "param \(name)", value: list, allowed: "at most 1000 sizes")
            }
            var values: [Double] = []
            var x = from
            while x <= to * (1 + 1e-12) {
                let value = integral ? x.rounded() : x
                if value > (values.last ?? -.infinity) { values.append(value) }
                x = geometric ? x * step : x + step
                if values.count > 10_000 { break }
            }
            guard values.count <= 1_000 else {
                throw InputError(setting: "param \(name)", value: list, allowed: "at most 1000 sizes")
            }
            sizes = values
        } else {
            let words = list.split(separator: ",", omittingEmptySubsequences: false)
            guard !list.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw InputError(setting: "param \(name)", value: "(empty)", allowed: "a list of sizes a,b,c or a..b*F")
            }
            var values: [Double] = []
            for word in words {
                let value = try number(word)
                if let last = values.last, value <= last {
                    throw InputError(
                        setting: "param \(name)", value: list,
                        allowed:
                            "strictly increasing sizes (\(SizeList.text(value, integral)) follows \(SizeList.text(last, integral)))"
                    )
                }
                values.append(value)
            }
            sizes = values
        }
    }

    /// A size as the workload's parameter takes it (`1024`, not `1024.0`).
    public static func text(_ size: Double, _ integral: Bool) -> String {
        integral ? String(Int(size)) : String(size)
    }

    public func text(_ size: Double) -> String { Self.text(size, integral) }

    /// `type` built from `arguments` with the parameter set to `size`.
    /// - Throws: `InputError` when the words are not valid parameters of `type`.
    public func workload(_ type: any Workload.Type, arguments: [String], size: Double) throws(InputError)
        -> any Workload
    {
        try type.init(
            parameters: try ParameterValues(arguments: self.arguments(arguments, size: size), specs: type.parameters))
    }

    /// `type`'s analytical FLOPs at `size`; nil when it cannot say (as `command`) or the words are invalid.
    public func flops(_ type: any Workload.Type, arguments: [String], size: Double) -> Double? {
        guard let flops = try? workload(type, arguments: arguments, size: size).estimate.flops, flops > 0 else {
            return nil
        }
        return flops
    }

    /// `arguments` (a workload's parameter words, maybe with `-- argv` after them) with the parameter
    /// set to `size`: an earlier value is replaced, and for `command` `{size}` in the argv is filled.
    public func arguments(_ arguments: [String], size: Double) -> [String] {
        let split = arguments.firstIndex(of: "--") ?? arguments.endIndex
        var own = Array(arguments[..<split])
        var index = 0
        while index < own.count {
            if own[index] == "--\(parameter)" {
                own.removeSubrange(index..<min(index + 2, own.count))
            } else if own[index].hasPrefix("--\(parameter)=") {
                own.remove(at: index)
            } else {
                index += 1
            }
        }
        own += ["--\(parameter)", text(size)]
        return own + arguments[split...]
    }
}
