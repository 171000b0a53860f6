import CapsizeCore
import CloudModel
import Foundation
import Store

/// The jobs of a Batch-model run and what each waits for, without processes: submissions become records (array
/// parents with their children, `N_TO_N` and `SEQUENTIAL` pairings), and each change of state gives the jobs it
/// moves (their records stamped with the time of the change). SUBMITTED jobs are admitted to PENDING (unmet dependencies) or RUNNABLE; when a job
/// ends, its dependents become RUNNABLE (or FAILED, when it failed) and an array parent ends with its last child.
struct JobGraph {
    /// One job's plan: its definition, queue, array place and what it waits for.
    struct Plan {
        /// nil for a job adopted from an earlier submission (it never runs here).
        var definition: JobDefinition?
        var waitsFor: [String]
        var children: [String] = []
        /// Index of its queue in the executor's queues.
        var queue = 0
    }

    /// What a change of state did: the records changed (in order) and the jobs that became RUNNABLE (in order).
    struct Changes {
        var changed: [JobRecord] = []
        var runnable: [String] = []
    }

    /// Every job's record, by id.
    private(set) var jobs: [String: JobRecord] = [:]
    private(set) var plans: [String: Plan] = [:]
    /// Job ids in submission order (parents before their children).
    private(set) var order: [String] = []
    private var dependents: [String: [String]] = [:]
    private var unmet: [String: Int] = [:]
    /// Children of each array parent not yet SUCCEEDED or FAILED.
    private var unfinishedChildren: [String: Int] = [:]

    subscript(id: String) -> JobRecord? { jobs[id] }

    /// Changes job `id`'s record in place; returns the record after (nil for an unknown id).
    @discardableResult
    mutating func update(_ id: String, _ change: (inout JobRecord) -> Void) -> JobRecord? {
        guard let index = jobs.index(forKey: id) else { return nil }
        change(&jobs.values[index])
        return jobs.values[index]
    }

    /// Adds a submission: a job, or an array parent `id` with children `id:0`...`id:(arraySize - 1)`.
    /// - Parameters:
    ///   - newRecord: a SUBMITTED record for an id and the jobs it waits for.
    ///   - kept: records of this submission from an interrupted run that already ended: they replace new ones.
    /// - Returns: the submission's records, parent first.
    /// - Throws: `InputError` naming `--depends-on` for an unknown job, an `N_TO_N` dependency on an array of
    ///   another size, or a dependency cycle; nothing is added then.
    mutating func add(
        id: String, definition: JobDefinition, queue: Int, arraySize: Int?, dependsOn: [JobDependency],
        sequential: Bool, kept: [String: JobRecord], newRecord: (String, [String]) -> JobRecord
    ) throws(InputError) -> [JobRecord] {
        try BatchLimits.checkDependencies(dependsOn, known: Set(jobs.keys))
        let parentWaits = dependsOn.filter { $0.type != .nToN }.map(\.jobId)
        var parent = newRecord(id, parentWaits)
        var records = [parent]
        var parentPlan = Plan(definition: definition, waitsFor: parentWaits, queue: queue)
        var childPlans: [(String, Plan)] = []
        if let arraySize {
            var children: [String] = []
            for index in 0..<arraySize {
                var waits = parentWaits
                for dependency in dependsOn where dependency.type == .nToN {
                    let other = plans[dependency.jobId]?.children ?? []
                    guard other.count == arraySize else {
                        throw InputError(
                            setting: "dependsOn", value: "\(dependency.jobId):N_TO_N",
                            allowed: "an array job of the same size (\(arraySize))")
                    }
                    waits.append(other[index])
                }
                if sequential && index > 0 { waits.append(children[index - 1]) }
                let childID = "\(id):\(index)"
                var child = newRecord(childID, waits)
                child.arrayParentID = id
                child.arrayIndex = index
                records.append(kept[childID] ?? child)
                childPlans.append((childID, Plan(definition: definition, waitsFor: waits, queue: queue)))
                children.append(childID)
            }
            parentPlan.children = children
            // The parent does not run: it ends when its children end.
            parentPlan.waitsFor = []
            parent.dependsOn = parentWaits
        }
        records[0] = kept[id] ?? parent
        var waits = plans.mapValues(\.waitsFor)
        waits[id] = parentPlan.waitsFor
        for (childID, plan) in childPlans { waits[childID] = plan.waitsFor }
        if let cycle = dependencyCycle(waits) {
            throw InputError(
                setting: "dependsOn", value: cycle.joined(separator: " → "), allowed: "dependencies without a cycle")
        }
        plans[id] = parentPlan
        for (childID, plan) in childPlans { plans[childID] = plan }
        for record in records { jobs[record.id] = record }
        order.append(contentsOf: records.map(\.id))
        return records
    }

    /// Registers jobs of an earlier submission, already final, so that new jobs can depend on them.
    mutating func adopt(_ records: [JobRecord]) {
        for record in records where jobs[record.id] == nil {
            jobs[record.id] = record
            plans[record.id] = Plan(definition: nil, waitsFor: [])
            if let parent = record.arrayParentID { plans[parent]?.children.append(record.id) }
        }
    }

    /// SUBMITTED → PENDING (unmet dependencies), RUNNABLE, or FAILED (a dependency failed); array parents → PENDING.
    mutating func admit(_ ids: [String]) -> Changes {
        var changes = Changes()
        for id in ids where jobs[id]?.state == .submitted {
            guard let plan = plans[id] else { continue }
            if !plan.children.isEmpty {
                enter(id, .pending, in: &changes)
                continue
            }
            var waiting = 0
            for dependency in plan.waitsFor {
                let state = jobs[dependency]?.state
                if state == .failed {
                    waiting = -1
                    break
                }
                if state != .succeeded {
                    waiting += 1
                    dependents[dependency, default: []].append(id)
                }
            }
            if waiting < 0 {
                enter(id, .failed, reason: StatusReason.dependencyFailed, in: &changes)
            } else if waiting > 0 {
                unmet[id] = waiting
                enter(id, .pending, in: &changes)
            } else {
                enter(id, .runnable, in: &changes)
                changes.runnable.append(id)
            }
        }
        return changes
    }

    /// After `id` ended: its dependents may become RUNNABLE (or fail), and its array parent may end.
    mutating func settle(_ id: String) -> Changes {
        var changes = Changes()
        var work = [id]
        while let done = work.popLast() {
            let failed = jobs[done]?.state == .failed
            for dependent in dependents.removeValue(forKey: done) ?? [] where jobs[dependent]?.state == .pending {
                if failed {
                    enter(dependent, .failed, reason: StatusReason.dependencyFailed, in: &changes)
                    work.append(dependent)
                    continue
                }
                let left = (unmet[dependent] ?? 1) - 1
                unmet[dependent] = left
                if left == 0 {
                    enter(dependent, .runnable, in: &changes)
                    changes.runnable.append(dependent)
                }
            }
            guard let parent = jobs[done]?.arrayParentID, let parentState = jobs[parent]?.state, !parentState.isFinal
            else { continue }
            let children = plans[parent]?.children ?? []
            let left = (unfinishedChildren[parent] ?? children.filter { jobs[$0]?.state.isFinal != true }.count + 1) - 1
            unfinishedChildren[parent] = left
            if left == 0 {
                let anyFailed = children.contains { jobs[$0]?.state == .failed }
                enter(
                    parent, anyFailed ? .failed : .succeeded, reason: anyFailed ? StatusReason.arrayChildFailed : nil,
                    in: &changes)
                work.append(parent)
            }
        }
        return changes
    }

    /// Array parents not yet ended whose children have (some of them) ended: after a resume, settling the last
    /// of those ends the parent when every child has ended.
    func lastEndedChildren() -> [String] {
        order.compactMap { id in
            guard let children = plans[id]?.children, !children.isEmpty, jobs[id]?.state.isFinal == false else {
                return nil
            }
            return children.last { jobs[$0]?.state.isFinal == true }
        }
    }

    /// The records in submission order.
    var records: [JobRecord] { order.compactMap { jobs[$0] } }

    /// Job `id` enters `state`, a change noted in `changes`.
    private mutating func enter(
        _ id: String, _ state: JobRecord.State, reason: String? = nil, in changes: inout Changes
    ) {
        if let record = update(id, { $0.enter(state, reason: reason) }) { changes.changed.append(record) }
    }
}
