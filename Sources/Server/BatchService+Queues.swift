import CapsizeCore
import CloudModel
import Execution
import Foundation
import Store
import Synchronization

extension BatchService {
    // MARK: Queues and compute environments

    func describeQueues(_ input: DescribeNamedInput) throws(BatchAPIError) -> DescribeJobQueuesOutput {
        var found = queues
        if let names = input.jobQueues {
            let wanted = Set(names.map { BatchARN.name($0, kind: "job-queue") })
            found = found.filter { wanted.contains($0.name) }
        }
        let details = found.map { queue in
            JobQueueDetailShape(
                jobQueueName: queue.name, jobQueueArn: BatchARN.jobQueue(queue.name), state: "ENABLED",
                status: "VALID", statusReason: "JobQueue Healthy", priority: queue.priority,
                computeEnvironmentOrder: queue.environments.enumerated().map {
                    ComputeEnvironmentOrderShape(
                        order: $0.offset + 1, computeEnvironment: BatchARN.computeEnvironment($0.element.name))
                },
                schedulingPolicyArn: queue.fairShare == nil
                    ? nil : BatchARN.prefix + "scheduling-policy/" + queue.name)
        }
        let (page, next) = try paginate(details, maxResults: input.maxResults, nextToken: input.nextToken)
        return DescribeJobQueuesOutput(jobQueues: page, nextToken: next)
    }

    func describeEnvironments(_ input: DescribeNamedInput) async throws(BatchAPIError)
        -> DescribeComputeEnvironmentsOutput
    {
        var found = await executor.environments
        if let names = input.computeEnvironments {
            let wanted = Set(names.map { BatchARN.name($0, kind: "compute-environment") })
            found = found.filter { wanted.contains($0.name) }
        }
        let details = found.map { environment in
            ComputeEnvironmentDetailShape(
                computeEnvironmentName: environment.name,
                computeEnvironmentArn: BatchARN.computeEnvironment(environment.name), type: "MANAGED",
                state: "ENABLED", status: "VALID", statusReason: "ComputeEnvironment Healthy",
                computeResources: ComputeResourceShape(
                    type: "EC2", minvCpus: Int(environment.minVCPUs), maxvCpus: Int(environment.maxVCPUs),
                    desiredvCpus: Int(environment.minVCPUs), instanceTypes: ["this-host"], subnets: []),
                containerOrchestrationType: "ECS",
                // What Batch's shape has no member for: the host's memory and GPUs jobs are placed into.
                tags: [
                    "capsize:memoryMiB": "\(environment.memoryMiB)", "capsize:gpus": "\(environment.gpuDevices.count)",
                    "capsize:provisioningSeconds": "\(environment.provisioningSeconds) (modeled)",
                ])
        }
        let (page, next) = try paginate(details, maxResults: input.maxResults, nextToken: input.nextToken)
        return DescribeComputeEnvironmentsOutput(computeEnvironments: page, nextToken: next)
    }
}

/// A page of `items`: `maxResults` (1...1000; all when absent) from the offset `nextToken` gives, and the token of
/// the next page (nil: none).
func paginate<Item>(_ items: [Item], maxResults: Int?, nextToken: String?) throws(BatchAPIError) -> ([Item], String?) {
    let start =
        try nextToken.map { token throws(BatchAPIError) in
            guard let offset = Int(token), (0...items.count).contains(offset) else {
                throw .client("nextToken '\(InputError.oneLine(token))' is not one this server gave")
            }
            return offset
        } ?? 0
    if let maxResults, !(1...1000).contains(maxResults) { throw .client("maxResults \(maxResults): allowed 1...1000") }
    let end = maxResults.map { min(items.count, start + $0) } ?? items.count
    return (Array(items[start..<end]), end < items.count ? String(end) : nil)
}

/// Batch's timestamps: milliseconds since 1970.
func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
