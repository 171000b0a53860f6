/// Where a number comes from. capsize's honesty rule: every figure is either measured here or projected,
/// and a report says which.
public enum Provenance: String, Codable, Sendable, CaseIterable {
    /// Measured on this machine, on this device.
    case measured
    /// Projected from a fit of measurements (e.g. Amdahl's serial fraction).
    case projectedFromFit
    /// Projected from the price catalog (every amount of money).
    case projectedFromPrices
    /// Projected from hardware specifications (vCPU counts, GPU FP32 peaks).
    case projectedFromSpec

    /// The word a report prints next to the figure: "measured" or "projected".
    public var label: String { self == .measured ? "measured" : "projected" }
}

/// A projected duration in seconds, with its provenance and the basis of the projection in words.
public struct ProjectedSeconds: Codable, Sendable, Equatable {
    public var seconds: Double
    public var provenance: Provenance
    /// How the figure was obtained, in a sentence a report can print (e.g. "FP32 ratio 67/8.1 against …").
    public var basis: String
}
