import Foundation

// The AWS Batch API's members, named and typed as botocore's `batch/2016-08-10/service-2.json` names them (the
// service's REST-JSON protocol): requests decode into these, responses encode from them. Every member is optional,
// so that a missing one is refused by the service with Batch's own words rather than by the decoder, and an absent
// one is left out of a response. Members capsize does not emulate (EKS, ECS, multi-node) are not decoded.

/// `KeyValuePair`: an environment variable.
struct KeyValuePair: Codable, Sendable, Equatable {
    var name: String?
    var value: String?
}

/// `ResourceRequirement`: `VCPU`, `MEMORY` (MiB) or `GPU`, its value as text.
struct ResourceRequirementShape: Codable, Sendable, Equatable {
    var type: String?
    var value: String?
}

/// `EvaluateOnExit`.
struct EvaluateOnExitShape: Codable, Sendable, Equatable {
    var action: String?
    var onExitCode: String?
    var onReason: String?
    var onStatusReason: String?
}

/// `RetryStrategy`.
struct RetryStrategyShape: Codable, Sendable, Equatable {
    var attempts: Int?
    var evaluateOnExit: [EvaluateOnExitShape]?
}

/// `JobTimeout`.
struct JobTimeoutShape: Codable, Sendable, Equatable {
    var attemptDurationSeconds: Int?
}

/// `ContainerProperties` (a job definition's) and the members of `ContainerDetail` (a job's) capsize fills.
struct ContainerShape: Codable, Sendable, Equatable {
    var image: String?
    /// Deprecated in Batch for `resourceRequirements`, still accepted.
    var vcpus: Int?
    var memory: Int?
    var command: [String]?
    var environment: [KeyValuePair]?
    var resourceRequirements: [ResourceRequirementShape]?
    var jobRoleArn: String?
    var executionRoleArn: String?
    var user: String?
    var instanceType: String?
    // A job's container (`ContainerDetail`) only.
    var exitCode: Int?
    var reason: String?
    var logStreamName: String?
}

/// `ContainerOverrides`.
struct ContainerOverridesShape: Codable, Sendable, Equatable {
    var vcpus: Int?
    var memory: Int?
    var command: [String]?
    var environment: [KeyValuePair]?
    var resourceRequirements: [ResourceRequirementShape]?
    var instanceType: String?
}

/// `JobDefinition`: what RegisterJobDefinition stores and DescribeJobDefinitions lists.
struct JobDefinitionShape: Codable, Sendable, Equatable {
    var jobDefinitionName: String
    var jobDefinitionArn: String
    var revision: Int
    /// ACTIVE, or INACTIVE once deregistered.
    var status: String
    var type: String
    var parameters: [String: String]?
    var retryStrategy: RetryStrategyShape?
    var containerProperties: ContainerShape?
    var timeout: JobTimeoutShape?
    var platformCapabilities: [String]?
    var tags: [String: String]?
    var propagateTags: Bool?
    var schedulingPriority: Int?
    var containerOrchestrationType: String?
}

/// `RegisterJobDefinitionRequest`.
struct RegisterJobDefinitionInput: Decodable, Sendable {
    var jobDefinitionName: String?
    var type: String?
    var parameters: [String: String]?
    var containerProperties: ContainerShape?
    var retryStrategy: RetryStrategyShape?
    var timeout: JobTimeoutShape?
    var platformCapabilities: [String]?
    var tags: [String: String]?
    var propagateTags: Bool?
    var schedulingPriority: Int?
    /// Decoded only to refuse it: capsize runs container jobs.
    var nodeProperties: [String: JSONValue]?
}

/// `RegisterJobDefinitionResponse`.
struct RegisterJobDefinitionOutput: Encodable {
    var jobDefinitionName: String
    var jobDefinitionArn: String
    var revision: Int
}

/// `DescribeJobDefinitionsRequest`.
struct DescribeJobDefinitionsInput: Decodable {
    var jobDefinitions: [String]?
    var maxResults: Int?
    var jobDefinitionName: String?
    var status: String?
    var nextToken: String?
}

/// `DescribeJobDefinitionsResponse`.
struct DescribeJobDefinitionsOutput: Encodable {
    var jobDefinitions: [JobDefinitionShape]
    var nextToken: String?
}

/// `DeregisterJobDefinitionRequest`.
struct DeregisterJobDefinitionInput: Decodable {
    var jobDefinition: String?
}

/// `ArrayProperties`.
struct ArrayPropertiesShape: Codable, Sendable {
    var size: Int?
}

/// `JobDependency`.
struct JobDependencyShape: Codable, Sendable, Equatable {
    var jobId: String?
    var type: String?
}

/// `SubmitJobRequest`.
struct SubmitJobInput: Decodable, Sendable {
    var jobName: String?
    var jobQueue: String?
    var jobDefinition: String?
    var shareIdentifier: String?
    var schedulingPriorityOverride: Int?
    var arrayProperties: ArrayPropertiesShape?
    var dependsOn: [JobDependencyShape]?
    var parameters: [String: String]?
    var containerOverrides: ContainerOverridesShape?
    var retryStrategy: RetryStrategyShape?
    var propagateTags: Bool?
    var timeout: JobTimeoutShape?
    var tags: [String: String]?
    /// Decoded only to refuse them: capsize runs container jobs.
    var nodeOverrides: [String: JSONValue]?
    var eksPropertiesOverride: [String: JSONValue]?
    var ecsPropertiesOverride: [String: JSONValue]?
}

/// `SubmitJobResponse`.
struct SubmitJobOutput: Encodable {
    var jobArn: String
    var jobName: String
    var jobId: String
}

/// `DescribeJobsRequest`.
struct DescribeJobsInput: Decodable {
    var jobs: [String]?
}

/// `ArrayPropertiesDetail` (a job's) and `ArrayPropertiesSummary` (a listed job's).
struct ArrayPropertiesDetailShape: Encodable {
    var statusSummary: [String: Int]?
    var size: Int?
    var index: Int?
}

/// `AttemptContainerDetail`.
struct AttemptContainerShape: Encodable {
    var exitCode: Int?
    var reason: String?
    var logStreamName: String?
}

/// `AttemptDetail`.
struct AttemptDetailShape: Encodable {
    var container: AttemptContainerShape?
    var startedAt: Int64?
    var stoppedAt: Int64?
    var statusReason: String?
}

/// `JobDetail`.
struct JobDetailShape: Encodable {
    var jobArn: String
    var jobName: String
    var jobId: String
    var jobQueue: String
    var status: String
    var shareIdentifier: String?
    var attempts: [AttemptDetailShape]
    var statusReason: String?
    var createdAt: Int64
    var retryStrategy: RetryStrategyShape?
    var startedAt: Int64?
    var stoppedAt: Int64?
    var dependsOn: [JobDependencyShape]
    var jobDefinition: String
    var parameters: [String: String]
    var container: ContainerShape
    var arrayProperties: ArrayPropertiesDetailShape?
    var timeout: JobTimeoutShape?
    var tags: [String: String]?
    var propagateTags: Bool?
    var platformCapabilities: [String]
    var isCancelled: Bool
    var isTerminated: Bool
}

/// `DescribeJobsResponse`.
struct DescribeJobsOutput: Encodable {
    var jobs: [JobDetailShape]
}

/// `KeyValuesPair`: a ListJobs filter.
struct KeyValuesPair: Decodable {
    var name: String?
    var values: [String]?
}

/// `ListJobsRequest`.
struct ListJobsInput: Decodable {
    var jobQueue: String?
    var arrayJobId: String?
    var multiNodeJobId: String?
    var jobStatus: String?
    var maxResults: Int?
    var nextToken: String?
    var filters: [KeyValuesPair]?
}

/// `ContainerSummary`.
struct ContainerSummaryShape: Encodable {
    var exitCode: Int?
    var reason: String?
}

/// `JobSummary`.
struct JobSummaryShape: Encodable {
    var jobArn: String
    var jobId: String
    var jobName: String
    var createdAt: Int64
    var status: String
    var statusReason: String?
    var startedAt: Int64?
    var stoppedAt: Int64?
    var container: ContainerSummaryShape?
    var arrayProperties: ArrayPropertiesDetailShape?
    var jobDefinition: String
    var shareIdentifier: String?
}

/// `ListJobsResponse`.
struct ListJobsOutput: Encodable {
    var jobSummaryList: [JobSummaryShape]
    var nextToken: String?
}

/// `CancelJobRequest` and `TerminateJobRequest`.
struct StopJobInput: Decodable {
    var jobId: String?
    var reason: String?
}

/// `DescribeJobQueuesRequest` and `DescribeComputeEnvironmentsRequest` (which name their list differently).
struct DescribeNamedInput: Decodable {
    var jobQueues: [String]?
    var computeEnvironments: [String]?
    var maxResults: Int?
    var nextToken: String?
}

/// `ComputeEnvironmentOrder`.
struct ComputeEnvironmentOrderShape: Encodable {
    var order: Int
    var computeEnvironment: String
}

/// `JobQueueDetail`.
struct JobQueueDetailShape: Encodable {
    var jobQueueName: String
    var jobQueueArn: String
    var state: String
    var status: String
    var statusReason: String
    var priority: Int
    var computeEnvironmentOrder: [ComputeEnvironmentOrderShape]
    var schedulingPolicyArn: String?
    var tags: [String: String]?
}

/// `DescribeJobQueuesResponse`.
struct DescribeJobQueuesOutput: Encodable {
    var jobQueues: [JobQueueDetailShape]
    var nextToken: String?
}

/// `ComputeResource`.
struct ComputeResourceShape: Encodable {
    var type: String
    var minvCpus: Int
    var maxvCpus: Int
    var desiredvCpus: Int
    var instanceTypes: [String]
    var subnets: [String]
}

/// `ComputeEnvironmentDetail`.
struct ComputeEnvironmentDetailShape: Encodable {
    var computeEnvironmentName: String
    var computeEnvironmentArn: String
    var type: String
    var state: String
    var status: String
    var statusReason: String
    var computeResources: ComputeResourceShape
    var containerOrchestrationType: String
    var tags: [String: String]
}

/// `DescribeComputeEnvironmentsResponse`.
struct DescribeComputeEnvironmentsOutput: Encodable {
    var computeEnvironments: [ComputeEnvironmentDetailShape]
    var nextToken: String?
}

/// Any JSON value: a member decoded only to be refused.
enum JSONValue: Codable, Sendable {
    case value

    init(from decoder: any Decoder) throws { self = .value }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
}
