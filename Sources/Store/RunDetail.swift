import Foundation

/// A run with its counts (as `runs list --json` prints it): the run's fields plus `summary`.
public struct RunEntry: Encodable, Sendable {
    public var run: RunRecord
    public var summary: RunSummary

    /// `23/50` (recorded of planned), or the recorded count when the plan's size is not known.
    public var items: String { "\(summary.completed)" + (summary.planned.map { "/\($0)" } ?? "") }

    enum CodingKeys: String, CodingKey { case summary, parameters }

    public func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(summary, forKey: .summary)
        // The parameters as a JSON object rather than a string holding JSON.
        if let parameters = try? StoredJSON.decode(JSONValue.self, from: run.parameters) {
            try container.encode(parameters, forKey: .parameters)
        }
    }
}

/// A run, its counts and every record (as `runs show --json` prints it).
public struct RunDetail: Encodable, Sendable {
    public var entry: RunEntry
    public var measurements: [MeasurementRecord]
    public var invocations: [InvocationRecord]
    public var jobs: [JobRecord]
    public var environments: [EnvironmentRecord]

    enum CodingKeys: String, CodingKey { case measurements, invocations, jobs, environments }

    public func encode(to encoder: any Encoder) throws {
        try entry.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(measurements, forKey: .measurements)
        try container.encode(invocations, forKey: .invocations)
        try container.encode(jobs, forKey: .jobs)
        try container.encode(environments, forKey: .environments)
    }
}

/// Any JSON value, to re-emit stored JSON text as JSON.
private enum JSONValue: Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension RunRecord {
    /// The studies stored as `sweep` runs whose stored arguments start with their name: a cap-break study and the
    /// profile of a recommendation.
    static let studiesStoredAsSweeps: Set<String> = ["caps", "recommend"]

    /// What the run is, as a list shows it: its kind, or the study that made a `sweep` run (`caps`, `recommend`),
    /// read from the arguments it stored to be resumed. (A plain sweep's arguments start with its workload.)
    public var shownKind: String {
        struct StoredArguments: Decodable { var arguments: [String] }
        guard kind == .sweep,
            let first = (try? StoredJSON.decode(StoredArguments.self, from: parameters))?.arguments.first,
            Self.studiesStoredAsSweeps.contains(first)
        else { return kind.rawValue }
        return first
    }

    /// The command line as typed, without the program's path, cut to `limit` characters.
    public func commandText(limit: Int = .max) -> String {
        let text = (["capsize"] + commandLine.dropFirst()).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(
            separator: " ")
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }
}

extension CapsizeStore {
    /// The newest `limit` runs with their counts.
    public func entries(limit: Int) throws -> [RunEntry] {
        try runs(limit: limit).map { RunEntry(run: $0, summary: try summary(run: $0.id)) }
    }

    /// Run `run` with its counts and every record.
    public func detail(of run: RunRecord) throws -> RunDetail {
        RunDetail(
            entry: RunEntry(run: run, summary: try summary(run: run.id)), measurements: try measurements(run: run.id),
            invocations: try invocations(run: run.id), jobs: try jobs(run: run.id),
            environments: try environments(run: run.id))
    }
}
