import Foundation
public import CapsizeCore

/// Prices and instance facts, from `data/prices.json` (compiled in) or a user's `--prices FILE`.
/// Every figure computed from it is **projected**, never measured.
public struct PriceCatalog: Codable, Sendable, Equatable {
    public struct PerArchitecture: Codable, Sendable, Equatable {
        public var x86_64: Double
        public var arm64: Double

        public subscript(architecture: Architecture) -> Double {
            architecture == .x86_64 ? x86_64 : arm64
        }
    }

    public struct Lambda: Codable, Sendable, Equatable {
        public struct FreeTier: Codable, Sendable, Equatable {
            public var requests: Double
            public var gbSeconds: Double
            public var appliedByDefault: Bool
        }
        public var source: String
        public var gbSecond: PerArchitecture
        public var perRequest: Double
        public var billingGranularityMs: Int
        public var freeTier: FreeTier
    }

    public struct Fargate: Codable, Sendable, Equatable {
        public var source: String
        public var vcpuHour: PerArchitecture
        public var gbHour: PerArchitecture
        public var minimumSeconds: Double
    }

    public struct GPU: Codable, Sendable, Equatable {
        public var model: String
        public var count: Int
        public var memoryGiB: Double
        public var fp32TFLOPS: Double
    }

    public struct Instance: Codable, Sendable, Equatable {
        public var name: String
        public var vcpus: Int
        public var memoryGiB: Double
        public var hourly: Double
        public var gpu: GPU?
        public var note: String?
    }

    public struct EC2: Codable, Sendable, Equatable {
        public var source: String
        public var minimumSeconds: Double
        public var instances: [Instance]
    }

    public var version: String
    public var currency: String
    public var region: String
    public var notes: String?
    public var lambda: Lambda
    public var fargate: Fargate
    public var ec2: EC2

    /// The catalog compiled into capsize (`data/prices.json`).
    public static let embedded: PriceCatalog = {
        // The embedded file is validated by the tests; a failure here is a build defect.
        try! decode(Data(EmbeddedData.sources["prices.json"]!.utf8), source: "data/prices.json")
    }()

    /// Reads and validates a catalog file.
    /// - Throws: `InputError` naming the file and the missing, malformed or negative item.
    public static func load(path: String) throws(InputError) -> PriceCatalog {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(field: "--prices", value: path, allowed: "a readable JSON price file")
        }
        return try decode(data, source: path)
    }

    static func decode(_ data: Data, source: String) throws(InputError) -> PriceCatalog {
        let catalog: PriceCatalog
        do {
            catalog = try JSONDecoder().decode(PriceCatalog.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw InputError(field: "\(source): \(path)", value: "(missing)", allowed: "a price for every item")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw InputError(field: "\(source): \(path)", value: "(wrong type)", allowed: "a number")
        } catch {
            throw InputError(field: "--prices", value: source, allowed: "valid JSON (\(error))")
        }
        try catalog.validate(source: source)
        return catalog
    }

    /// Every price and size must be finite and non-negative, and every instance have vCPUs and memory.
    func validate(source: String) throws(InputError) {
        var checks: [(String, Double)] = [
            ("lambda.gbSecond.x86_64", lambda.gbSecond.x86_64), ("lambda.gbSecond.arm64", lambda.gbSecond.arm64),
            ("lambda.perRequest", lambda.perRequest), ("fargate.vcpuHour.x86_64", fargate.vcpuHour.x86_64),
            ("fargate.vcpuHour.arm64", fargate.vcpuHour.arm64), ("fargate.gbHour.x86_64", fargate.gbHour.x86_64),
            ("fargate.gbHour.arm64", fargate.gbHour.arm64), ("fargate.minimumSeconds", fargate.minimumSeconds),
            ("ec2.minimumSeconds", ec2.minimumSeconds),
        ]
        for instance in ec2.instances {
            checks.append(("ec2.\(instance.name).hourly", instance.hourly))
            checks.append(("ec2.\(instance.name).vcpus", instance.vcpus > 0 ? Double(instance.vcpus) : -1))
            checks.append(("ec2.\(instance.name).memoryGiB", instance.memoryGiB > 0 ? instance.memoryGiB : -1))
        }
        for (item, value) in checks where !value.isFinite || value < 0 {
            throw InputError(field: "\(source): \(item)", value: "\(value)", allowed: "a finite, non-negative number")
        }
        if lambda.billingGranularityMs < 1 {
            throw InputError(
                field: "\(source): lambda.billingGranularityMs", value: "\(lambda.billingGranularityMs)",
                allowed: "an integer ≥ 1")
        }
    }
}

/// A Lambda (or Fargate) CPU architecture.
public enum Architecture: String, Codable, Sendable, CaseIterable {
    case x86_64, arm64
}
