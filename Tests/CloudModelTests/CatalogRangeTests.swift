import CapsizeCore
import Foundation
import Testing

@testable import CloudModel

/// A price catalog's numbers are bounded where it is read, so that nothing computed from them traps or loops.
@Suite struct CatalogRangeTests {
    /// The embedded catalog with one edit, as a file's text.
    static func text(_ edit: (inout [String: Any]) -> Void) throws -> String {
        var json = try #require(
            try JSONSerialization.jsonObject(with: Data(EmbeddedData.sources["prices.json"]!.utf8)) as? [String: Any])
        edit(&json)
        return String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
    }

    static func load(_ text: String) -> InputError? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("prices-\(UUID()).json")
        FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try PriceCatalog.load(path: file.path)
            return nil
        } catch {
            return error
        }
    }

    static func editing(_ section: String, _ edit: @escaping (inout [String: Any]) -> Void) -> (inout [String: Any])
        -> Void
    {
        { json in
            var value = json[section] as! [String: Any]
            edit(&value)
            json[section] = value
        }
    }

    nonisolated(unsafe) static let cases: [(edit: (inout [String: Any]) -> Void, field: String)] = [
        (editing("ec2") { $0["instances"] = [] as [Any] }, "ec2.instances"),
        (editing("lambda") { $0["billingGranularityMs"] = 1e18 }, "lambda.billingGranularityMs"),
        (editing("lambda") { $0["billingGranularityMs"] = 0 }, "lambda.billingGranularityMs"),
        (
            editing("fargate") { fargate in
                var sizes = fargate["taskSizes"] as! [String: Any]
                var combinations = sizes["combinations"] as! [[String: Any]]
                combinations[0] = ["vcpu": 1, "minimumGB": 1, "maximumGB": 8, "stepGB": 1e-7]
                sizes["combinations"] = combinations
                fargate["taskSizes"] = sizes
            }, "fargate.taskSizes.combinations[0].stepGB"
        ),
        (
            editing("ec2") { ec2 in
                var instances = ec2["instances"] as! [[String: Any]]
                instances[0]["memoryGiB"] = 1e300
                ec2["instances"] = instances
            }, ".memoryGiB"
        ),
        (editing("lambda") { $0["perRequest"] = 1e300 }, "lambda.perRequest"),
    ]

    @Test(
        "a catalog without instances, or with a number beyond what capsize computes with, names the item",
        arguments: 0..<6)
    func outOfRange(index: Int) throws {
        let error = try #require(Self.load(try Self.text(Self.cases[index].edit)))
        #expect(error.field.hasSuffix(Self.cases[index].field), "\(error)")
        #expect(error.field.contains(".json: "), "\(error)")
    }
}
