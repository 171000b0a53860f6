/// SplitMix64: a small, fast, seedable generator whose stream is the same on every platform,
/// so a seed names the same data set and weights everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A float uniform in [-1, 1) with 24 bits of precision.
    public mutating func nextSignedUnit() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 23)) - 1
    }
}

/// FNV-1a over bytes: a stable digest for checksums of outputs.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
    }

    public mutating func add<T: BitwiseCopyable>(_ value: T) {
        withUnsafeBytes(of: value) { add($0) }
    }

    /// The digest as 16 hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
