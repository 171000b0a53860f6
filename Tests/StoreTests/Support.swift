import Foundation
import TestSupport
import Testing

@testable import Store

/// Shared fixtures for StoreTests: temporary stores and records with exactly storable dates.
enum Fixture {
    /// A store in a fresh directory; remove `directory` when done.
    static func store() throws -> (store: CapsizeStore, directory: String) {
        let directory = try TestSupport.temporaryDirectory("capsize-store")
        return (try CapsizeStore(path: directory + "/capsize.sqlite", machine: "test machine"), directory)
    }

    /// A date `offset` seconds after 2023-11-14 22:13:20 UTC, exact in binary so it reads back equal.
    static func date(_ offset: Double = 0) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + offset) }

    static func run(id: String = RunRecord.newID(), pid: Int32 = getpid(), machine: String = "test machine")
        -> RunRecord
    {
        RunRecord(
            id: id, kind: .invoke, commandLine: ["capsize", "invoke", "train-mlp"], parameters: #"{"memory":512}"#,
            machine: machine, pid: pid, createdAt: date(), planned: 3)
    }

    static func invocation(run: String, item: String? = nil, status: InvocationRecord.Status = .success)
        -> InvocationRecord
    {
        InvocationRecord(
            runID: run, itemKey: item, environmentID: "env-1", cold: true, memoryMB: 512, timeoutSeconds: 2,
            initDurationMs: 41.5, durationMs: 1234.56, billedDurationMs: 1235, maxMemoryUsedMB: 88, status: status,
            errorType: status == .success ? nil : "Runtime.ExitError",
            errorMessage: status == .success ? nil : "exit 3",
            report: "REPORT RequestId: x\tDuration: 1234.56 ms\tBilled Duration: 1235 ms\tMemory Size: 512 MB\t"
                + "Max Memory Used: 88 MB\tInit Duration: 41.50 ms",
            costUSD: 0.000_010_5, startedAt: date(1), endedAt: date(2.25))
    }

    static func job(run: String, id: String = "job-1", item: String? = nil) -> JobRecord {
        JobRecord(
            id: id, runID: run, itemKey: item, name: "render", queue: "default", arrayParentID: "array-1",
            arrayIndex: 7, dependsOn: ["job-0"], vcpus: 2, memoryMiB: 2048, gpus: 1, logPath: "/tmp/job-1.log",
            submittedAt: date(1))
    }

    static func measurement(run: String, item: String, seconds: Double = 0.5) -> MeasurementRecord {
        MeasurementRecord(
            runID: run, itemKey: item, metrics: ["step_seconds": 0.01, "odd": .infinity], seconds: seconds, flops: 1e9,
            checksum: "abc123", details: #"{"loss":[1,0.5]}"#, startedAt: date(3), endedAt: date(3.5))
    }
}
