import CloudModel

/// What one invocation is billed, projected at both architectures' prices: Init plus Duration, rounded up to the
/// billing granularity (1 ms), at the function's memory (`LambdaBill`), plus the request fee.
struct InvocationBill: Sendable, Equatable {
    /// Billed Duration, ms: the same at both architectures.
    var billedMilliseconds: Int
    /// USD by architecture (`x86_64`, `arm64`).
    var costUSD: [String: Double]

    init(durationMs: Double, initMs: Double?, memoryMB: Int, prices: PriceCatalog) {
        var costs: [String: Double] = [:]
        var billed = 0
        for architecture in Architecture.allCases {
            let bill = LambdaBill(
                durationMs: durationMs, initMs: initMs ?? 0, memoryMB: memoryMB, architecture: architecture,
                prices: prices)
            costs[architecture.rawValue] = bill.total
            billed = bill.billedMilliseconds
        }
        billedMilliseconds = billed
        costUSD = costs
    }

    private init(billedMilliseconds: Int, costUSD: [String: Double]) {
        self.billedMilliseconds = billedMilliseconds
        self.costUSD = costUSD
    }

    /// A request that never reached an environment (throttled, too large): nothing billed.
    static let unbilled = InvocationBill(billedMilliseconds: 0, costUSD: ["x86_64": 0, "arm64": 0])
}
