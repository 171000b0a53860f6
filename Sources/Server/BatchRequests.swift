import CapsizeCore
import CloudModel
import Execution
import Foundation

// Batch's request members turned into capsize's Batch model (`ResourceRequirements`, `RetryStrategy`, a
// `JobDefinition`), each refusal a `ClientException` naming the member.

extension ContainerShape {
    /// The container with `overrides` applied as SubmitJob applies them: a command replaces the command, variables
    /// are added or replace those of the same name, a resource requirement replaces that of its type.
    func overridden(by overrides: ContainerOverridesShape?) -> ContainerShape {
        guard let overrides else { return self }
        var container = self
        if let command = overrides.command { container.command = command }
        if let variables = overrides.environment {
            container.environment = Self.replacing(environment, with: variables, sameKey: \.name)
        }
        if let requirements = overrides.resourceRequirements {
            container.resourceRequirements = Self.replacing(resourceRequirements, with: requirements, sameKey: \.type)
        }
        if let vcpus = overrides.vcpus { container.vcpus = vcpus }
        if let memory = overrides.memory { container.memory = memory }
        if let instanceType = overrides.instanceType { container.instanceType = instanceType }
        return container
    }

    /// `items` with each of `overrides` added, replacing the item with the same key.
    private static func replacing<Item, Key: Equatable>(
        _ items: [Item]?, with overrides: [Item], sameKey key: (Item) -> Key
    ) -> [Item] {
        var merged = items ?? []
        for item in overrides {
            merged.removeAll { key($0) == key(item) }
            merged.append(item)
        }
        return merged
    }

    /// The job's vCPUs, memory and GPUs: `resourceRequirements` (VCPU, MEMORY in MiB, GPU), else the deprecated
    /// `vcpus` and `memory`. Both VCPU and MEMORY are needed, as on Batch.
    func resources() throws(BatchAPIError) -> ResourceRequirements {
        var vcpus = self.vcpus.map(Double.init)
        var memory = self.memory
        var gpus = 0
        for (index, requirement) in (resourceRequirements ?? []).enumerated() {
            let member = "resourceRequirements[\(index)]"
            guard let value = requirement.value, let number = Double(value), number.isFinite else {
                throw .client("\(member).value '\(requirement.value ?? "")' is not a number")
            }
            switch requirement.type {
            case "VCPU": vcpus = number
            case "MEMORY":
                guard let whole = Int(value) else { throw .client("\(member).value '\(value)' is not a whole MiB") }
                memory = whole
            case "GPU":
                guard let whole = Int(value) else { throw .client("\(member).value '\(value)' is not a whole GPU") }
                gpus = whole
            default:
                throw .client("\(member).type '\(requirement.type ?? "")' is not one of VCPU, MEMORY, GPU")
            }
        }
        guard let vcpus, let memory else {
            throw .client(
                "the job needs resourceRequirements of type VCPU and MEMORY (in containerProperties or "
                    + "containerOverrides)")
        }
        do {
            return try ResourceRequirements(vcpus: vcpus, memoryMiB: memory, gpus: gpus)
        } catch {
            throw .refused(error)
        }
    }

    /// The variables, by name. - Throws: for a nameless one, or one named `AWS_BATCH…` (Batch reserves them).
    func variables() throws(BatchAPIError) -> [String: String] {
        var variables: [String: String] = [:]
        for variable in environment ?? [] {
            guard let name = variable.name, !name.isEmpty else { throw .client("environment: a variable has no name") }
            guard !name.hasPrefix("AWS_BATCH") else {
                throw .client("environment variable \(name): names starting with AWS_BATCH are reserved by Batch")
            }
            variables[name] = variable.value ?? ""
        }
        return variables
    }
}

extension RetryStrategyShape {
    /// capsize's retry strategy: 1...10 attempts (1 when absent), up to 5 `evaluateOnExit` rules.
    func strategy() throws(BatchAPIError) -> RetryStrategy {
        var rules: [EvaluateOnExit] = []
        for (index, rule) in (evaluateOnExit ?? []).enumerated() {
            // Batch: "The values aren't case sensitive."
            guard let action = EvaluateOnExit.Action(rawValue: (rule.action ?? "").uppercased()) else {
                throw .client(
                    "retryStrategy.evaluateOnExit[\(index)].action '\(rule.action ?? "")' is not RETRY or EXIT")
            }
            do {
                rules.append(
                    try EvaluateOnExit(
                        action: action, onExitCode: rule.onExitCode, onReason: rule.onReason,
                        onStatusReason: rule.onStatusReason))
            } catch {
                let place = error.field.dropFirst("evaluateOnExit".count)
                throw .refused(error, member: "retryStrategy.evaluateOnExit[\(index)]\(place)")
            }
        }
        do {
            return try RetryStrategy(attempts: attempts ?? 1, evaluateOnExit: rules)
        } catch {
            throw .refused(error)
        }
    }
}

extension JobTimeoutShape {
    /// The attempt duration in seconds (nil: none). capsize takes less than Batch's 60 s minimum, to test with.
    func seconds() throws(BatchAPIError) -> Double? {
        guard let attemptDurationSeconds else { return nil }
        do {
            try BatchLimits.checkTimeout(Double(attemptDurationSeconds))
        } catch {
            throw .refused(error)
        }
        return Double(attemptDurationSeconds)
    }
}

/// Batch's parameter substitution: a command word `Ref::NAME` becomes the parameter NAME's value (SubmitJob's
/// parameters over the job definition's defaults); a word naming no parameter is left as it is.
func substitutingParameters(_ command: [String], _ parameters: [String: String]) -> [String] {
    command.map { word in
        guard word.hasPrefix("Ref::"), let value = parameters[String(word.dropFirst(5))] else { return word }
        return value
    }
}

/// Whether `name` is a job definition name Batch takes: 1 to 128 letters, digits, hyphens and underscores.
func isJobDefinitionName(_ name: String) -> Bool {
    (1...128).contains(name.unicodeScalars.count)
        && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
        }
}
