import CloudModel
import Foundation
import Store

/// Writes a function's invocations and environments to the store as they end; without a store and a run it
/// writes nothing. A record that cannot be written is skipped: the invocation's outcome stands without it.
struct FunctionRecorder: Sendable {
    var store: CapsizeStore?
    var runID: String?
    /// Put before every invocation's item key (a sweep's point).
    var itemKeyPrefix: String
    var configuration: FunctionConfiguration

    /// An invocation (or one attempt of an asynchronous one, under its own `id`).
    func record(_ outcome: InvocationOutcome, itemKey: String, id: String? = nil) {
        guard let store, let runID else { return }
        try? store.record(
            InvocationRecord(
                id: id ?? outcome.requestId, runID: runID,
                itemKey: itemKeyPrefix + itemKey, environmentID: outcome.environmentID, cold: outcome.cold,
                memoryMB: outcome.memoryMB, timeoutSeconds: Double(configuration.timeoutSeconds),
                architecture: configuration.architecture.rawValue, initDurationMs: outcome.initDurationMs,
                durationMs: outcome.durationMs, billedDurationMs: outcome.billedDurationMs,
                maxMemoryUsedMB: outcome.maxMemoryUsedMB, status: outcome.status, errorType: outcome.errorType,
                errorMessage: outcome.errorMessage, report: outcome.report ?? "",
                costUSD: outcome.costUSD[configuration.architecture.rawValue] ?? 0, startedAt: outcome.startedAt,
                endedAt: outcome.endedAt))
    }

    /// An environment that finished Init, with Init's measured length (past the limit too).
    func started(_ environment: FunctionEnvironment, initMs: Double) {
        guard let store, let runID else { return }
        try? store.record(
            EnvironmentRecord(
                id: environment.id, runID: runID, kind: .function, createdAt: environment.createdAt,
                initDurationMs: initMs))
    }

    /// An environment reaped now, with the invocations it served.
    func reaped(_ environment: FunctionEnvironment) {
        guard let store, let runID else { return }
        try? store.record(
            EnvironmentRecord(
                id: environment.id, runID: runID, kind: .function, createdAt: environment.createdAt,
                reapedAt: Date(), invocationsServed: environment.served, initDurationMs: environment.initDurationMs))
    }
}
