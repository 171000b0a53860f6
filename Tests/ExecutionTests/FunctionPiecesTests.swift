import CapsizeCore
import CloudModel
import Foundation
import Testing

@testable import Execution

/// Lambda's bill for one invocation, from numbers alone.
@Suite struct InvocationBillTests {
    @Test(
        "Init plus Duration is billed rounded up to the next millisecond",
        arguments: [
            (26.73, nil, 27), (26.73, 166.62, 194), (100.0, nil, 100), (0.2, nil, 1), (0.0, nil, 0), (999.5, 0.5, 1000),
        ] as [(Double, Double?, Int)])
    func rounding(durationMs: Double, initMs: Double?, billed: Int) {
        let bill = InvocationBill(durationMs: durationMs, initMs: initMs, memoryMB: 128, prices: .embedded)
        #expect(bill.billedMilliseconds == billed)
    }

    @Test("the cost is GB-seconds at each architecture's price plus the request fee")
    func cost() {
        let prices = PriceCatalog.embedded
        let bill = InvocationBill(durationMs: 999.2, initMs: nil, memoryMB: 2_048, prices: prices)
        #expect(bill.billedMilliseconds == 1_000)
        for architecture in Architecture.allCases {
            let expected = 2 * prices.lambda.gbSecond[architecture] + prices.lambda.perRequest
            #expect(abs((bill.costUSD[architecture.rawValue] ?? 0) - expected) < 1e-15)
        }
        #expect(InvocationBill.unbilled.billedMilliseconds == 0)
    }
}

/// Lambda's asynchronous retries, from numbers alone.
@Suite struct RetryPolicyTests {
    @Test("an asynchronous event is retried after Lambda's delays, then given up when the retries run out")
    func retries() {
        let policy = RetryPolicy(retries: 2, delays: [60, 120], maximumEventAgeSeconds: 21_600)
        #expect(policy.next(afterAttempt: 1, elapsed: 0) == .retry(afterSeconds: 60))
        #expect(policy.next(afterAttempt: 2, elapsed: 61) == .retry(afterSeconds: 120))
        #expect(policy.next(afterAttempt: 3, elapsed: 182) == .giveUp(condition: "RetriesExhausted"))
        #expect(
            RetryPolicy(retries: 0, delays: [], maximumEventAgeSeconds: 60).next(afterAttempt: 1, elapsed: 0)
                == .giveUp(condition: "RetriesExhausted"))
    }

    @Test("a retry that would wait past the maximum event age gives the event up as EventAgeExceeded")
    func eventAge() {
        let policy = RetryPolicy(retries: 2, delays: [60], maximumEventAgeSeconds: 100)
        #expect(policy.next(afterAttempt: 1, elapsed: 30) == .retry(afterSeconds: 60))
        #expect(policy.next(afterAttempt: 2, elapsed: 50) == .giveUp(condition: "EventAgeExceeded"))
    }

}

/// A function's settings, changed for a sweep's point or a profiler's rung.
@Suite struct FunctionSettingsTests {
    @Test("another memory size keeps the function's other settings and is checked against Lambda's range")
    func settingsAtAnotherMemory() throws {
        let configuration = try FunctionConfiguration(
            memoryMB: 512, timeoutSeconds: 30, ephemeralStorageMB: 1_024, architecture: .arm64, reservedConcurrency: 5)
        let settings = FunctionSettings(
            configuration: configuration, governsCPUShare: false, variables: ["A": "1"], functionName: "f")
        let bigger = try settings.with(memoryMB: 3_008)
        #expect(bigger.configuration.memoryMB == 3_008)
        #expect(bigger.configuration.timeoutSeconds == 30 && bigger.configuration.architecture == .arm64)
        #expect(bigger.configuration.ephemeralStorageMB == 1_024 && bigger.configuration.reservedConcurrency == 5)
        #expect(!bigger.governsCPUShare && bigger.variables == ["A": "1"] && bigger.functionName == "f")
        #expect(try settings.with(memoryMB: 1_769, timeoutSeconds: 900).configuration.timeoutSeconds == 900)
        #expect { try settings.with(memoryMB: 64) } throws: {
            ($0 as? InputError)?.allowed.hasPrefix("128...10240") == true
        }
    }
}
