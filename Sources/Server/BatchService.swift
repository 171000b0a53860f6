import CapsizeCore
import CloudModel
import Execution
import Foundation
import Store
import Synchronization

/// The AWS Batch API over one long-lived `BatchExecutor` (`serve`): job definitions registered (kept across runs in
/// `JobDefinitionFiles`), jobs submitted to its queues and run in the sandbox on this host, every state change stored
/// in the server's run (so `capsize jobs` and `capsize logs` show them).
actor BatchService {
    /// What SubmitJob was given for a job (an array parent's children share their parent's).
    struct Submission {
        var jobName: String
        var queue: String
        var jobDefinitionArn: String
        var parameters: [String: String]
        /// The container as it runs: the definition's, overridden, its command substituted.
        var container: ContainerShape
        var arraySize: Int?
        var dependsOn: [JobDependencyShape]
        var retryStrategy: RetryStrategyShape?
        var timeout: JobTimeoutShape?
        var tags: [String: String]?
        var propagateTags: Bool?
        var platformCapabilities: [String]
        var shareIdentifier: String?
        var isCancelled = false
        var isTerminated = false
    }

    /// Every job's latest record, as the executor's observer hands them over.
    private final class Records: Sendable {
        let latest = Mutex<[String: JobRecord]>([:])
    }

    let executor: BatchExecutor
    /// The queues, highest priority first.
    let queues: [JobQueue]
    private let records = Records()
    /// Revisions by job definition name, oldest first; and the names in the order they were first registered.
    private var definitions: [String: [JobDefinitionShape]] = [:]
    private var definitionNames: [String] = []
    /// Where they are kept; nil: only while the server runs.
    private let files: JobDefinitionFiles?
    /// Names whose file could not be read, with why: refused until the file is fixed or removed.
    private var unreadable: [String: String] = [:]
    /// Submissions by job id (array parents and single jobs), and those ids in submission order.
    private var submissions: [String: Submission] = [:]
    private var order: [String] = []

    init(executor: BatchExecutor, definitions files: JobDefinitionFiles? = nil) async {
        self.executor = executor
        self.files = files
        if let loaded = files?.load() {
            definitions = loaded.revisions
            definitionNames = loaded.revisions.keys.sorted()
            unreadable = loaded.unreadable
        }
        queues = await executor.queues
        let records = self.records
        await executor.observe { record in records.latest.withLock { $0[record.id] = record } }
    }

    private func record(_ id: String) -> JobRecord? { records.latest.withLock { $0[id] } }

    // MARK: Job definitions

    func register(_ input: RegisterJobDefinitionInput) throws(BatchAPIError) -> RegisterJobDefinitionOutput {
        guard let name = input.jobDefinitionName else { throw .client("jobDefinitionName is required") }
        guard isJobDefinitionName(name) else {
            throw .client(
                "jobDefinitionName '\(InputError.oneLine(name))' is not allowed: 1 to 128 letters, digits, hyphens "
                    + "and underscores")
        }
        guard let type = input.type else { throw .client("type is required: container") }
        guard type == "container", input.nodeProperties == nil else {
            throw .client("type '\(InputError.oneLine(type))' is not supported: capsize runs container job definitions")
        }
        guard let container = input.containerProperties else {
            throw .client("containerProperties is required for a container job definition")
        }
        // Checked now, as Batch checks them at registration; a missing VCPU or MEMORY may come with SubmitJob.
        let declares = { (type: String) in container.resourceRequirements?.contains { $0.type == type } == true }
        if (container.vcpus != nil || declares("VCPU")) && (container.memory != nil || declares("MEMORY")) {
            _ = try container.resources()
        }
        _ = try container.variables()
        _ = try input.retryStrategy?.strategy()
        _ = try input.timeout?.seconds()
        if let why = unreadable[name] { throw .server("job definition \(name) cannot be registered: \(why)") }
        let revision = (definitions[name]?.count ?? 0) + 1
        let definition = JobDefinitionShape(
            jobDefinitionName: name, jobDefinitionArn: BatchARN.jobDefinition(name, revision), revision: revision,
            status: "ACTIVE", type: type, parameters: input.parameters, retryStrategy: input.retryStrategy,
            containerProperties: container, timeout: input.timeout,
            platformCapabilities: input.platformCapabilities ?? ["EC2"], tags: input.tags,
            propagateTags: input.propagateTags, schedulingPriority: input.schedulingPriority,
            containerOrchestrationType: "ECS")
        try save(name, (definitions[name] ?? []) + [definition])
        if definitions[name] == nil { definitionNames.append(name) }
        definitions[name, default: []].append(definition)
        return RegisterJobDefinitionOutput(
            jobDefinitionName: name, jobDefinitionArn: definition.jobDefinitionArn, revision: revision)
    }

    func describeDefinitions(_ input: DescribeJobDefinitionsInput) throws(BatchAPIError)
        -> DescribeJobDefinitionsOutput
    {
        var found = definitionNames.flatMap { definitions[$0] ?? [] }
        if let wanted = input.jobDefinitions {
            guard wanted.count <= 100 else { throw .client("jobDefinitions: at most 100 may be named") }
            found = wanted.compactMap { try? definition($0, activeOnly: false) }
        }
        if let name = input.jobDefinitionName { found = found.filter { $0.jobDefinitionName == name } }
        if let status = input.status { found = found.filter { $0.status == status } }
        let (page, next) = try paginate(found, maxResults: input.maxResults, nextToken: input.nextToken)
        return DescribeJobDefinitionsOutput(jobDefinitions: page, nextToken: next)
    }

    func deregister(_ input: DeregisterJobDefinitionInput) throws(BatchAPIError) {
        guard let text = input.jobDefinition else { throw .client("jobDefinition is required") }
        let definition = try definition(text, activeOnly: false)
        guard
            let index = definitions[definition.jobDefinitionName]?.firstIndex(where: {
                $0.revision == definition.revision
            })
        else { return }
        var revisions = definitions[definition.jobDefinitionName] ?? []
        revisions[index].status = "INACTIVE"
        try save(definition.jobDefinitionName, revisions)
        definitions[definition.jobDefinitionName] = revisions
    }

    /// Keeps a name's revisions on disk before the API says they changed.
    private func save(_ name: String, _ revisions: [JobDefinitionShape]) throws(BatchAPIError) {
        do { try files?.save(revisions, name: name) } catch {
            throw .server("job definition \(name) could not be saved: \(error.localizedDescription)")
        }
    }

    /// The job definition `text` names: `name` (its latest ACTIVE revision), `name:revision` or an ARN.
    private func definition(_ text: String, activeOnly: Bool) throws(BatchAPIError) -> JobDefinitionShape {
        let reference = BatchARN.name(text, kind: "job-definition")
        let parts = reference.split(separator: ":", maxSplits: 1).map(String.init)
        if let why = unreadable[parts.first ?? ""] { throw .server("job definition \(text) cannot be read: \(why)") }
        let revisions = definitions[parts.first ?? ""] ?? []
        let found: JobDefinitionShape?
        if parts.count == 2 {
            guard let revision = Int(parts[1]) else {
                throw .client("jobDefinition '\(InputError.oneLine(text))': the revision is not a number")
            }
            found = revisions.first { $0.revision == revision && (!activeOnly || $0.status == "ACTIVE") }
        } else {
            found = revisions.last { !activeOnly || $0.status == "ACTIVE" }
        }
        guard let found else {
            throw .client(
                "Job definition \(InputError.oneLine(text)) not found (register it with RegisterJobDefinition)")
        }
        return found
    }

    // MARK: Jobs

    func submit(_ input: SubmitJobInput) async throws(BatchAPIError) -> SubmitJobOutput {
        guard let jobName = input.jobName else { throw .client("jobName is required") }
        do {
            try BatchLimits.checkJobName(jobName)
        } catch {
            throw .refused(error)
        }
        guard let queueText = input.jobQueue else { throw .client("jobQueue is required") }
        let queue = BatchARN.name(queueText, kind: "job-queue")
        guard queues.contains(where: { $0.name == queue }) else {
            throw .client(
                "JobQueue \(InputError.oneLine(queueText)) not found: the queues are "
                    + queues.map(\.name).joined(separator: ", "))
        }
        guard let definitionText = input.jobDefinition else { throw .client("jobDefinition is required") }
        let definition = try definition(definitionText, activeOnly: true)
        if input.nodeOverrides != nil || input.eksPropertiesOverride != nil || input.ecsPropertiesOverride != nil {
            throw .client("nodeOverrides, eksPropertiesOverride and ecsPropertiesOverride are not supported by capsize")
        }
        let parameters = (definition.parameters ?? [:]).merging(input.parameters ?? [:]) { _, submitted in submitted }
        var container = (definition.containerProperties ?? ContainerShape()).overridden(by: input.containerOverrides)
        container.command = substitutingParameters(container.command ?? [], parameters)
        guard let argv = container.command, !argv.isEmpty else {
            throw .client("the job has no command: give one in containerProperties or containerOverrides")
        }
        let retryShape = input.retryStrategy ?? definition.retryStrategy
        let timeoutShape = input.timeout ?? definition.timeout
        let job = JobDefinition(
            name: jobName, argv: argv, resources: try container.resources(),
            timeoutSeconds: try timeoutShape?.seconds(),
            retryStrategy: try (retryShape ?? RetryStrategyShape()).strategy(),
            environment: try container.variables(), shareIdentifier: input.shareIdentifier)
        let arraySize = input.arrayProperties?.size
        var dependencies: [JobDependency] = []
        var sequential = false
        for (index, dependency) in (input.dependsOn ?? []).enumerated() {
            let type = try dependency.type.map { text throws(BatchAPIError) in
                guard let type = DependencyType(rawValue: text) else {
                    throw .client("dependsOn[\(index)].type '\(InputError.oneLine(text))' is not N_TO_N or SEQUENTIAL")
                }
                return type
            }
            if type == .sequential && dependency.jobId == nil {
                // Batch: an array job's SEQUENTIAL dependency names no job: its children run one after another.
                guard arraySize != nil else { throw .client("dependsOn[\(index)]: SEQUENTIAL is for array jobs") }
                sequential = true
                continue
            }
            guard let jobId = dependency.jobId else { throw .client("dependsOn[\(index)].jobId is required") }
            dependencies.append(JobDependency(jobId: BatchARN.name(jobId, kind: "job"), type: type))
        }
        let id: String
        do {
            id = try await executor.submit(
                job, queue: queue, arraySize: arraySize, dependsOn: dependencies, sequential: sequential)
        } catch {
            throw .refused(error)
        }
        submissions[id] = Submission(
            jobName: jobName, queue: queue, jobDefinitionArn: definition.jobDefinitionArn, parameters: parameters,
            container: container, arraySize: arraySize, dependsOn: input.dependsOn ?? [], retryStrategy: retryShape,
            timeout: timeoutShape, tags: input.tags, propagateTags: input.propagateTags,
            platformCapabilities: definition.platformCapabilities ?? ["EC2"], shareIdentifier: input.shareIdentifier)
        order.append(id)
        return SubmitJobOutput(jobArn: BatchARN.job(id), jobName: jobName, jobId: id)
    }

    func describe(_ input: DescribeJobsInput) throws(BatchAPIError) -> DescribeJobsOutput {
        guard let ids = input.jobs else { throw .client("jobs is required") }
        guard ids.count <= 100 else { throw .client("jobs: at most 100 job ids at a time") }
        // Batch leaves out ids it does not know.
        return DescribeJobsOutput(jobs: ids.compactMap { detail(BatchARN.name($0, kind: "job")) })
    }

    /// The submission a job belongs to (its own, or its array parent's), with the parent's id.
    private func submission(of record: JobRecord) -> (String, Submission)? {
        let id = record.arrayParentID ?? record.id
        return submissions[id].map { (id, $0) }
    }

    private func detail(_ id: String) -> JobDetailShape? {
        guard let record = record(id), let (_, submission) = submission(of: record) else { return nil }
        var container = submission.container
        container.exitCode = record.exitCode
        container.reason = record.reason
        var attempts: [AttemptDetailShape] = []
        if record.state.isFinal, let started = record.runningAt {
            attempts.append(
                AttemptDetailShape(
                    container: AttemptContainerShape(exitCode: record.exitCode, reason: record.reason),
                    startedAt: milliseconds(started), stoppedAt: record.stoppedAt.map(milliseconds),
                    statusReason: record.statusReason))
        }
        return JobDetailShape(
            jobArn: BatchARN.job(record.id), jobName: submission.jobName, jobId: record.id,
            jobQueue: BatchARN.jobQueue(submission.queue), status: record.state.rawValue,
            shareIdentifier: submission.shareIdentifier, attempts: attempts, statusReason: record.statusReason,
            createdAt: milliseconds(record.submittedAt), retryStrategy: submission.retryStrategy,
            startedAt: record.runningAt.map(milliseconds), stoppedAt: record.stoppedAt.map(milliseconds),
            dependsOn: submission.dependsOn, jobDefinition: submission.jobDefinitionArn,
            parameters: submission.parameters, container: container, arrayProperties: arrayProperties(record),
            timeout: submission.timeout, tags: submission.tags, propagateTags: submission.propagateTags,
            platformCapabilities: submission.platformCapabilities, isCancelled: submission.isCancelled,
            isTerminated: submission.isTerminated)
    }

    /// An array parent's size and its children's states counted; a child's index; nil for a single job.
    private func arrayProperties(_ record: JobRecord) -> ArrayPropertiesDetailShape? {
        if let index = record.arrayIndex { return ArrayPropertiesDetailShape(index: index) }
        guard let size = submissions[record.id]?.arraySize else { return nil }
        var summary: [String: Int] = [:]
        for state in JobRecord.State.allCases { summary[state.rawValue] = 0 }
        for index in 0..<size {
            if let child = self.record("\(record.id):\(index)") { summary[child.state.rawValue, default: 0] += 1 }
        }
        return ArrayPropertiesDetailShape(statusSummary: summary, size: size)
    }

    func list(_ input: ListJobsInput) throws(BatchAPIError) -> ListJobsOutput {
        let scopes = [input.jobQueue, input.arrayJobId, input.multiNodeJobId].compactMap { $0 }
        guard scopes.count == 1 else {
            throw .client("give exactly one of jobQueue, arrayJobId and multiNodeJobId")
        }
        if input.multiNodeJobId != nil { throw .client("multiNodeJobId: capsize runs no multi-node parallel jobs") }
        var candidates: [JobRecord]
        if let arrayJobId = input.arrayJobId {
            let parent = BatchARN.name(arrayJobId, kind: "job")
            guard let size = submissions[parent]?.arraySize else {
                throw .client("arrayJobId \(InputError.oneLine(arrayJobId)) is not an array job of this server")
            }
            candidates = (0..<size).compactMap { record("\(parent):\($0)") }
        } else {
            let queue = BatchARN.name(input.jobQueue ?? "", kind: "job-queue")
            guard queues.contains(where: { $0.name == queue }) else {
                throw .client("JobQueue \(InputError.oneLine(input.jobQueue ?? "")) not found")
            }
            candidates = order.filter { submissions[$0]?.queue == queue }.compactMap { record($0) }
        }
        if let filters = input.filters, !filters.isEmpty {
            // Batch: with filters, jobs of every status are listed.
            for filter in filters { candidates = try self.filter(candidates, by: filter) }
        } else {
            let status = input.jobStatus ?? "RUNNING"  // Batch lists RUNNING jobs when no status is given.
            guard JobRecord.State(rawValue: status) != nil else {
                throw .client(
                    "jobStatus '\(InputError.oneLine(status))' is not one of "
                        + JobRecord.State.allCases.map(\.rawValue).joined(separator: ", "))
            }
            candidates = candidates.filter { $0.state.rawValue == status }
        }
        let summaries = candidates.compactMap(summary)
        let (page, next) = try paginate(summaries, maxResults: input.maxResults, nextToken: input.nextToken)
        return ListJobsOutput(jobSummaryList: page, nextToken: next)
    }

    /// The jobs `filter` (ListJobs's `JOB_NAME`, `JOB_DEFINITION`, `BEFORE_CREATED_AT`, `AFTER_CREATED_AT`) keeps.
    private func filter(_ jobs: [JobRecord], by filter: KeyValuesPair) throws(BatchAPIError) -> [JobRecord] {
        guard let value = filter.values?.first, filter.values?.count == 1 else {
            throw .client("filters \(filter.name ?? ""): give exactly one value")
        }
        func matches(_ text: String, caseInsensitive: Bool = false) -> Bool {
            let (text, value) = caseInsensitive ? (text.lowercased(), value.lowercased()) : (text, value)
            return value.hasSuffix("*") ? text.hasPrefix(String(value.dropLast())) : text == value
        }
        switch filter.name {
        // Batch: "a case-insensitive match for the job name".
        case "JOB_NAME": return jobs.filter { matches($0.name, caseInsensitive: true) }
        case "JOB_DEFINITION":
            return jobs.filter { job in
                guard let arn = submission(of: job)?.1.jobDefinitionArn else { return false }
                let reference = BatchARN.name(arn, kind: "job-definition")
                return matches(arn) || matches(reference) || matches(String(reference.prefix { $0 != ":" }))
            }
        case "BEFORE_CREATED_AT", "AFTER_CREATED_AT":
            guard let limit = Int64(value) else {
                throw .client("filters \(filter.name ?? ""): '\(InputError.oneLine(value))' is not milliseconds")
            }
            let before = filter.name == "BEFORE_CREATED_AT"
            return jobs.filter {
                let created = milliseconds($0.submittedAt)
                return before ? created < limit : created > limit
            }
        default:
            throw .client(
                "filters name '\(InputError.oneLine(filter.name ?? ""))' is not one of JOB_NAME, JOB_DEFINITION, "
                    + "BEFORE_CREATED_AT, AFTER_CREATED_AT")
        }
    }

    private func summary(_ record: JobRecord) -> JobSummaryShape? {
        guard let (_, submission) = submission(of: record) else { return nil }
        let array = arrayProperties(record)
        return JobSummaryShape(
            jobArn: BatchARN.job(record.id), jobId: record.id, jobName: submission.jobName,
            createdAt: milliseconds(record.submittedAt), status: record.state.rawValue,
            statusReason: record.statusReason, startedAt: record.runningAt.map(milliseconds),
            stoppedAt: record.stoppedAt.map(milliseconds),
            container: record.exitCode == nil && record.reason == nil
                ? nil : ContainerSummaryShape(exitCode: record.exitCode, reason: record.reason),
            arrayProperties: array.map { ArrayPropertiesDetailShape(size: $0.size, index: $0.index) },
            jobDefinition: submission.jobDefinitionArn, shareIdentifier: submission.shareIdentifier)
    }

    /// CancelJob (`terminate` false): a job not yet STARTING fails with `reason`; one STARTING or RUNNING is left
    /// to run, and the call still succeeds, as on Batch. TerminateJob: a STARTING or RUNNING job is stopped too.
    func stop(_ input: StopJobInput, terminate: Bool) async throws(BatchAPIError) {
        guard let text = input.jobId else { throw .client("jobId is required") }
        guard let reason = input.reason else { throw .client("reason is required") }
        let id = BatchARN.name(text, kind: "job")
        guard let record = record(id), let (parent, _) = submission(of: record) else {
            throw .client("Job \(InputError.oneLine(text)) not found")
        }
        let stopped =
            terminate ? await executor.terminate(id, reason: reason) : await executor.cancel(id, reason: reason)
        if stopped && parent == id {
            if terminate { submissions[id]?.isTerminated = true } else { submissions[id]?.isCancelled = true }
        }
    }
}
